// Package guardrail holds the vocabulary every guardrail shares: the outcome
// words, the per-resource result, and which guardrail an event belongs to.
package guardrail

import "github.com/credguard/credguard/internal/event"

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
	IMDS  Name = "imds"
	Trust Name = "trust"
	None  Name = "none"
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

// For names the guardrail whose EventBridge rule matches the event.
func For(kind event.Kind) Name {
	switch kind {
	case event.KindStateChange, event.KindRunInstances, event.KindModifyMetadataOptions:
		return IMDS
	case event.KindCreatePodIdentityAssociation, event.KindUpdatePodIdentityAssociation,
		event.KindCreateRole, event.KindUpdateAssumeRolePolicy:
		return Trust
	default:
		return None
	}
}
