// Package guardrail holds the vocabulary every guardrail shares: the outcome
// words, the per-resource result, and which guardrail an event belongs to.
package guardrail

import (
	"strings"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
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
