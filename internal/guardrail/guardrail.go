// Package guardrail holds the vocabulary every guardrail shares: the outcome
// words, the per-resource result, and which guardrail an event belongs to.
package guardrail

import (
	"fmt"
	"strings"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

// Name identifies a guardrail.
type Name string

const (
	IMDS  Name = "imds"
	Trust Name = "trust"
	None  Name = "none"
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

// For names the guardrail whose EventBridge rule matches the event.
func For(kind event.Kind) Name {
	switch kind {
	case event.KindStateChange, event.KindRunInstances, event.KindCreateFleet, event.KindModifyMetadataOptions:
		return IMDS
	case event.KindCreatePodIdentityAssociation, event.KindUpdatePodIdentityAssociation,
		event.KindCreateRole, event.KindUpdateAssumeRolePolicy:
		return Trust
	default:
		return None
	}
}

// Own reports whether the CloudTrail caller is one of Credguard's own roles:
// a hub function role listed in selfRoleARNs (compared exactly, ignoring the
// role path), or one of the member roles (memberRoleNames: the IMDS, trust
// and defaults roles and the legacy single role) in any account. The
// guardrails ignore their own changes so they can never loop.
func Own(a event.Actor, selfRoleARNs []string, memberRoleNames ...string) bool {
	account, name, ok := roleOf(a)
	if !ok {
		return false
	}
	for _, n := range memberRoleNames {
		if n != "" && name == n {
			return true
		}
	}
	return listed(account, name, selfRoleARNs)
}

// RoleListed reports whether the role ARN names the same role (account and
// name, the path aside) as one of the ARNs in list.
func RoleListed(arn string, list []string) bool {
	account, name, ok := ParseRoleARN(arn)
	return ok && listed(account, name, list)
}

func listed(account, name string, list []string) bool {
	for _, arn := range list {
		if a, n, ok := ParseRoleARN(strings.TrimSpace(arn)); ok && a == account && n == name {
			return true
		}
	}
	return false
}

// ActorRole is the account and name of the role behind an assumed-role
// caller; ok is false for any other caller.
func ActorRole(a event.Actor) (account, name string, ok bool) { return roleOf(a) }

// roleOf finds the role behind an assumed-role caller: from the session
// issuer's ARN when CloudTrail recorded it, else from the session ARN
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION).
func roleOf(a event.Actor) (account, name string, ok bool) {
	if account, name, ok = ParseRoleARN(a.IssuerARN); ok {
		return account, name, true
	}
	parts := strings.SplitN(a.ARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", false
	}
	res := strings.Split(parts[5], "/")
	if len(res) != 3 || res[0] != "assumed-role" || res[1] == "" {
		return "", "", false
	}
	return parts[4], res[1], true
}

// ParseRoleARN splits arn:PARTITION:iam::ACCOUNT:role/PATH/NAME into the
// 12-digit account and the role name (the path dropped); ok is false for
// anything else.
func ParseRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	name = parts[5][strings.LastIndex(parts[5], "/")+1:]
	if !ids.ValidAccount(parts[4]) || name == "" {
		return "", "", false
	}
	return parts[4], name, true
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
