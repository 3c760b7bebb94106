// Command imds-enforcer is the IMDS guardrail Lambda: it enforces IMDSv2 with
// a PUT hop limit of 1 on the instances named by EC2 events.
package main

import (
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/invoke"
)

func main() { invoke.Main(imdsguard.FromConfig) }
