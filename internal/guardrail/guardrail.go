// Package guardrail holds the vocabulary every guardrail shares: the guardrail
// names, the per-resource result with its change typed, and whether a change
// was Credguard's own.
package guardrail

import (
	"encoding/json"
	"fmt"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

// Name identifies a guardrail.
type Name string

const (
	IMDS  Name = ids.GuardrailIMDS
	Trust Name = ids.GuardrailTrust
	None  Name = ids.GuardrailNone
)

// Result is what a guardrail reports for one resource of one event.
type Result struct {
	Guardrail Name            `json:"guardrail"`
	Account   string          `json:"account,omitempty"`
	Region    string          `json:"region,omitempty"`
	Resource  string          `json:"resource"`       // instance id or role ARN ("" when the event named none)
	Name      string          `json:"name,omitempty"` // a human label: the instance's Name tag or the role name
	Outcome   outcome.Outcome `json:"outcome"`
	Detail    string          `json:"detail"`
	// The change, typed, for whoever renders it (notify, logs, the CLI):
	// IMDS for an instance, Trust for a role; nil when the guardrail never
	// read the resource (ignored, gone before it was read, failed to read).
	IMDS  *IMDSChange  `json:"imds,omitempty"`
	Trust *TrustChange `json:"trust,omitempty"`
}

// IMDSChange is an instance's metadata options as read, and as the
// guardrail set them (or would, or meant to). After equals Before when
// nothing was to be written.
type IMDSChange struct {
	Before imds.Options `json:"before"`
	After  imds.Options `json:"after"`
}

// Changes reports whether the guardrail meant to write new options.
func (c *IMDSChange) Changes() bool { return c != nil && c.After != c.Before }

// TrustChange is a role's trust policy as read (decoded once, in trust),
// what the analyzer found in it, and the narrowed policy when the guardrail
// wrote one (or would, or meant to).
type TrustChange struct {
	Before trust.Policy `json:"-"`
	Report trust.Report `json:"report"` // the findings and the verdict of Before
	// Verdict is the verdict behind the action: Report's, or critical when
	// sessions issued under a critical policy since narrowed were cut off.
	Verdict trust.Severity `json:"verdict"`
	After   *trust.Policy  `json:"-"` // nil when nothing was to be written
	Changes trust.Changes  `json:"changes,omitempty"`
	// Written: After is the role's trust policy now (the rewrite was
	// written, even if what was to follow it failed).
	Written bool `json:"written,omitempty"`
}

// MarshalJSON writes the result with its change as text too ("before" and
// "after", as ChangeText gives them) and the trust verdict ("severity"): the
// shape a direct invocation has always answered with.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	before, after := r.ChangeText()
	var verdict string
	if r.Trust != nil {
		verdict = string(r.Trust.Verdict)
	}
	return json.Marshal(struct {
		plain
		Before   string `json:"before,omitempty"`
		After    string `json:"after,omitempty"`
		Severity string `json:"severity,omitempty"`
	}{plain(r), before, after, verdict})
}

// Severity is how urgently a person should look at a result.
type Severity string

const (
	Critical Severity = "critical" // a person must act, or a workload may break
	Warning  Severity = "warning"  // worth reading: something was enforced, is risky, or is exempt
	Info     Severity = "info"     // nothing to do
)

// Rank orders severities: info < warning < critical.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 2
	case Warning:
		return 1
	default:
		return 0
	}
}

// Severity says how urgent the result is. Failures and revoked wildcard
// trust are critical (a person must act, or a workload may break), and so is
// a dry run that would revoke critical trust; enforced IMDS settings,
// warnings and exemptions (which leave a resource at risk on purpose) are
// warnings; everything else is info.
func (r Result) Severity() Severity {
	switch r.Outcome {
	case outcome.Failed, outcome.Revoked:
		return Critical
	case outcome.DryRun:
		if r.Guardrail == Trust && (r.Trust == nil || r.Trust.Verdict != trust.Warning) {
			return Critical
		}
		return Warning
	case outcome.Remediated, outcome.Warned, outcome.Exempt:
		return Warning
	default:
		return Info
	}
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

// ChangeText renders the change for logs and the CLI: IMDS options as
// "tokens=… hop=… endpoint=…", trust policies as compact JSON (untouched
// statements as written; a compliant role's policy is left out). after is ""
// when nothing was to be written, and both are "" when the result has no
// change.
func (r Result) ChangeText() (before, after string) {
	switch {
	case r.IMDS != nil:
		before = r.IMDS.Before.String()
		if r.IMDS.Changes() {
			after = r.IMDS.After.String()
		}
	case r.Trust != nil && r.Outcome != outcome.Compliant && len(r.Trust.Before.Statements) > 0:
		before = policyText(r.Trust.Before)
		if r.Trust.After != nil {
			after = policyText(*r.Trust.After)
		}
	}
	return before, after
}

func policyText(p trust.Policy) string {
	b, err := trust.Marshal(p)
	if err != nil {
		return fmt.Sprintf("(policy not writable: %v)", err)
	}
	return string(b)
}
