// Package sweep reconciles accounts with the guardrails. Events only tell what
// changes from now on, and are delivered best-effort; a sweep lists every EC2
// instance, launch template and IAM role of the given accounts and regions,
// reports those that are not compliant, and fixes them through the same code
// the event guardrails run (exemptions and dry-run included).
//
// `credguard scan` and the scheduled sweeper Lambda both run it.
package sweep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

// Kind is the kind of resource a finding is about (a contract: scan --json).
type Kind string

const (
	KindInstance       Kind = "instance"
	KindLaunchTemplate Kind = "launch-template"
	KindRole           Kind = "role"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindInstance, KindLaunchTemplate, KindRole}

// Verdict says what is wrong with a resource (a contract: scan --json).
type Verdict string

const (
	// Instances and launch templates (the template's default version).
	VerdictIMDSv1         Verdict = "imdsv1"           // IMDSv1 allowed: HttpTokens is not required (unset, in a template)
	VerdictHopLimit       Verdict = "hop-limit"        // tokens required, but the PUT response hop limit is above 1 (unset, in a template)
	VerdictIMDSv1HopLimit Verdict = "imdsv1+hop-limit" // both
	// Roles: the trust policy analysis.
	VerdictCritical   Verdict = "critical"   // wildcard trust: anyone (or any workload of a provider) may assume the role
	VerdictWarning    Verdict = "warning"    // risky but bounded trust
	VerdictUnreadable Verdict = "unreadable" // the trust policy could not be decoded or parsed
)

// IMDSVerdict names, in the scan contract's words, what metadata options lack
// of the IMDS rule's target (imds.Options.Gap): "" when nothing.
func IMDSVerdict(o imds.Options) Verdict {
	switch g := o.Gap(); {
	case g.Tokens && g.HopLimit:
		return VerdictIMDSv1HopLimit
	case g.Tokens:
		return VerdictIMDSv1
	case g.HopLimit:
		return VerdictHopLimit
	}
	return ""
}

// RoleVerdict judges a trust policy as ListRoles and GetRole return it
// (URL-encoded; decoded exactly once). It returns "" for a policy without
// findings, and a short reason with VerdictUnreadable.
func RoleVerdict(encoded string) (Verdict, string) {
	p, err := trust.Parse([]byte(encoded))
	if err != nil {
		return VerdictUnreadable, fmt.Sprintf("trust policy not understood: %v", err)
	}
	switch trust.Analyze(p).Verdict {
	case trust.Critical:
		return VerdictCritical, ""
	case trust.Warning:
		return VerdictWarning, ""
	}
	return "", ""
}

// Finding is one resource that was not compliant when it was listed, and
// what the guardrail did about it. The JSON form is the contract of
// `credguard scan --json`; the other fields are for people and logs.
type Finding struct {
	Account string `json:"account"`
	// Region is empty for roles: IAM is global.
	Region   string          `json:"region"`
	Resource string          `json:"resource"` // instance id, launch template id, or role ARN
	Kind     Kind            `json:"kind"`
	Verdict  Verdict         `json:"verdict"`
	Outcome  outcome.Outcome `json:"outcome"`

	Name   string `json:"-"` // the Name tag, template name or role name
	Detail string `json:"-"` // what the guardrail said
	Before string `json:"-"`
	After  string `json:"-"`
}

// Remains reports whether a finding with this outcome is still not compliant
// after the sweep: dry-run (it would have been changed), warned (risky, never
// changed automatically) and failed remain; remediated and revoked were fixed,
// exempt is an accepted exception, and compliant and gone mean the resource
// was fixed or deleted by someone else between the listing and the check.
// Any other word remains too, so nothing unknown passes silently.
func Remains(o outcome.Outcome) bool {
	switch o {
	case outcome.Remediated, outcome.Revoked, outcome.Exempt, outcome.Compliant, outcome.Gone:
		return false
	}
	return true
}

// ScopeError is a part of the sweep that could not be completed: an account
// whose member role could not be assumed, a listing that failed after its
// retries, a scope not started before the deadline.
type ScopeError struct {
	Account string
	Region  string // "" for roles (IAM is global)
	Kind    Kind
	Err     error
}

func (e ScopeError) Error() string {
	where := e.Account
	if e.Region != "" {
		where += "/" + e.Region
	}
	return fmt.Sprintf("%s %ss: %v", where, e.Kind, e.Err)
}

func (e ScopeError) Unwrap() error { return e.Err }

// Report is the outcome of a sweep.
type Report struct {
	Accounts []string
	Regions  []string
	// Findings are sorted by account, region, kind and resource.
	Findings []Finding
	// Checked counts the resources examined, Compliant those found compliant
	// (and therefore not listed), per kind.
	Checked   map[Kind]int
	Compliant map[Kind]int
	Errors    []ScopeError
}

// Remaining counts the findings that are still not compliant (see Remains).
func (r Report) Remaining() int {
	n := 0
	for _, f := range r.Findings {
		if Remains(f.Outcome) {
			n++
		}
	}
	return n
}

// Failed counts the findings whose remediation failed.
func (r Report) Failed() int {
	n := 0
	for _, f := range r.Findings {
		if f.Outcome == outcome.Failed {
			n++
		}
	}
	return n
}

// Outcomes counts the findings per outcome.
func (r Report) Outcomes() map[outcome.Outcome]int {
	out := map[outcome.Outcome]int{}
	for _, f := range r.Findings {
		out[f.Outcome]++
	}
	return out
}

// Clean reports whether nothing non-compliant remains and every part of the
// sweep completed.
func (r Report) Clean() bool { return r.Remaining() == 0 && len(r.Errors) == 0 }

// merge adds another part of the sweep.
func (r *Report) merge(o Report) {
	r.Findings = append(r.Findings, o.Findings...)
	r.Errors = append(r.Errors, o.Errors...)
	for k, n := range o.Checked {
		r.Checked[k] += n
	}
	for k, n := range o.Compliant {
		r.Compliant[k] += n
	}
}

func newReport() Report {
	return Report{Findings: []Finding{}, Checked: map[Kind]int{}, Compliant: map[Kind]int{}}
}

func kindRank(k Kind) int {
	for i, kk := range Kinds {
		if kk == k {
			return i
		}
	}
	return len(Kinds)
}

func (r *Report) sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Kind != b.Kind {
			return kindRank(a.Kind) < kindRank(b.Kind)
		}
		return a.Resource < b.Resource
	})
	sort.SliceStable(r.Errors, func(i, j int) bool {
		a, b := r.Errors[i], r.Errors[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return kindRank(a.Kind) < kindRank(b.Kind)
	})
}

// severityRank orders verdicts from the most to the least dangerous.
func severityRank(v Verdict) int {
	switch v {
	case VerdictCritical:
		return 6
	case VerdictIMDSv1HopLimit:
		return 5
	case VerdictIMDSv1:
		return 4
	case VerdictHopLimit:
		return 3
	case VerdictUnreadable:
		return 2
	case VerdictWarning:
		return 1
	}
	return 0
}

// outcomeRank orders outcomes by how much a person should look: failed
// first (the resource is still exposed and the guardrail could not help),
// then what would be or was changed, then warnings, then the rest.
func outcomeRank(o outcome.Outcome) int {
	switch o {
	case outcome.Failed:
		return 5
	case outcome.DryRun:
		return 4
	case outcome.Warned:
		return 3
	case outcome.Remediated, outcome.Revoked:
		return 2
	case outcome.Exempt:
		return 1
	}
	return 0
}

// Worst returns at most n findings, the worst first: by outcome (failed,
// dry-run, warned, remediated or revoked, exempt, others), then by verdict
// (critical trust, IMDSv1 with a hop limit above 1, IMDSv1, hop limit,
// unreadable, warning), then in report order.
func (r Report) Worst(n int) []Finding {
	out := append([]Finding(nil), r.Findings...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := outcomeRank(a.Outcome), outcomeRank(b.Outcome); ra != rb {
			return ra > rb
		}
		return severityRank(a.Verdict) > severityRank(b.Verdict)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Label is the resource with its name when the name adds something:
// "i-0abc… (web)", "lt-0abc… (web-template)", the role ARN.
func (f Finding) Label() string {
	if f.Name == "" || strings.HasSuffix(f.Resource, "/"+f.Name) {
		return f.Resource
	}
	return f.Resource + " (" + f.Name + ")"
}
