// Package outcome holds the words that end the handling of one resource.
// The words are a contract: replay, scan, logs, metrics and SNS message
// attributes all use them verbatim. The package is a leaf (it imports
// nothing of Credguard's) so that the pure decisions (imds, trust) and the
// result they feed (guardrail.Result) can all use it.
package outcome

// Outcome is the single word that ends the handling of one resource.
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

// All lists every outcome word in a stable order (reports, metrics).
var All = []Outcome{Remediated, Revoked, Compliant, Exempt, Warned, Gone, Ignored, DryRun, Failed}

// Changed reports whether the outcome means an AWS resource was modified.
func (o Outcome) Changed() bool { return o == Remediated || o == Revoked }
