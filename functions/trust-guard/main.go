// Command trust-guard is the trust-policy guardrail Lambda: it narrows
// wildcard role trust named by EKS Pod Identity and IAM events and revokes
// the sessions already issued.
package main

import (
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/trustguard"
)

func main() { invoke.Main(trustguard.FromConfig) }
