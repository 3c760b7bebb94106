// Package guardrail holds the vocabulary every guardrail shares: the outcome
// words, the per-resource result, and whether a change was Credguard's own.
package guardrail

import "github.com/credguard/credguard/internal/ids"

// Outcome is the single word that ends the handling of one resource.
// The words are a contract: replay, scan, logs, metrics and SNS message
// attributes all use them verbatim.
type Outcome string

const (
	Remediated Outcome = "remediated" // IMDS options rewritten and applied
	Revoked    Outcome = "revoked"    // wildcard trust narrowed and old sessions cut off
	Compliant  Outcome = "compliant"  // nothing to do
	Exempt     Outcome = "exempt"     // an exemption applies; nothing written
	Warned     Outcome = "warned"     // risky but not critical: notify only
	Gone       Outcome = "gone"       // the resource no longer exists (or is terminating)
	Ignored    Outcome = "ignored"    // the event is not for us, malformed, failed, or our own change
	DryRun     Outcome = "dry-run"    // would have changed something; dry-run mode wrote nothing
	Failed     Outcome = "failed"     // could not finish; the handler returns an error
)

// Outcomes lists every outcome word in a stable order (reports, metrics).
var Outcomes = []Outcome{Remediated, Revoked, Compliant, Exempt, Warned, Gone, Ignored, DryRun, Failed}

// Changed reports whether the outcome means an AWS resource was modified.
func (o Outcome) Changed() bool { return o == Remediated || o == Revoked }

// Name identifies a guardrail.
type Name string

const (
	IMDS  Name = ids.GuardrailIMDS
	Trust Name = ids.GuardrailTrust
	None  Name = ids.GuardrailNone
)

// Result is what a guardrail reports for one resource of one event.
type Result struct {
	Guardrail Name    `json:"guardrail"`
	Account   string  `json:"account,omitempty"`
	Region    string  `json:"region,omitempty"`
	Resource  string  `json:"resource"`       // instance id or role ARN ("" when the event named none)
	Name      string  `json:"name,omitempty"` // a human label: the instance's Name tag or the role name
	Outcome   Outcome `json:"outcome"`
	Detail    string  `json:"detail"`
	// Before and After describe the change in a readable form (for example
	// "tokens=optional hop=2 → tokens=required hop=1"); empty when nothing changed.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Severity is the trust verdict ("critical", "warning", "ok") for trust results.
	Severity string `json:"severity,omitempty"`
}

// Caller is the CloudTrail caller of an event: Role finds the role behind
// an assumed-role caller (ok false for any other caller).
type Caller interface {
	Role() (ids.RoleARN, bool)
}

// Own reports whether the CloudTrail caller is one of Credguard's own roles:
// a hub function role listed in selfRoleARNs (the same account and name,
// the role path aside), or one of the member roles (memberRoleNames: the
// IMDS, trust and defaults roles and the legacy single role) in any account.
// The guardrails ignore their own changes so they can never loop.
func Own(c Caller, selfRoleARNs []string, memberRoleNames ...string) bool {
	role, ok := c.Role()
	if !ok {
		return false
	}
	for _, n := range memberRoleNames {
		if n != "" && role.Name == n {
			return true
		}
	}
	return role.In(selfRoleARNs)
}
