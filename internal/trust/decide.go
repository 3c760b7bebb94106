package trust

import (
	"fmt"
	"strings"
	"time"

	"github.com/credguard/credguard/internal/outcome"
)

// Input is everything the trust guardrail knows of one role when it
// decides: the live trust policy and what the handler read around it. It
// holds no AWS types; the handler fills it (describe), Decide judges it, and
// the handler carries out the plan (act) and settles the outcome (confirm).
type Input struct {
	RoleName string // for messages
	Policy   Policy // the live trust policy, parsed (decoded once)
	// Exempt says why the role must not be changed ("" when it may be): a
	// service-linked role, one of Credguard's own, the exemption tag with
	// its reason, or an allow-list entry.
	Exempt string
	DryRun bool
	// Workload is the Pod Identity association's workload (with its
	// cluster's OIDC issuer when NeedsIssuer asked for it); nil for IAM
	// events and the sweep, where critical trust is removed, never scoped.
	Workload *Workload

	// RequestedCritical: the event's caller set a critical trust policy
	// (CreateRole, UpdateAssumeRolePolicy), at RequestedAt.
	RequestedCritical bool
	RequestedAt       time.Time
	// RevokedUntil: sessions issued before it are revoked (the role's
	// AWSRevokeOlderSessions policy); zero when there is none. Read only
	// when NeedsRevocationState says so.
	RevokedUntil time.Time
}

// NeedsRevocationState reports whether Decide needs RevokedUntil: the caller
// asked for critical trust, the live trust no longer is critical (narrowed
// since, by an earlier delivery of the event or by a person), and the role
// may be changed. Sessions issued under the critical trust must still be cut
// off.
func (in Input) NeedsRevocationState() bool {
	return in.RequestedCritical && in.Exempt == "" && !Analyze(in.Policy).Critical()
}

// NeedsIssuer reports whether Decide needs the workload's OIDC issuer: the
// role may be changed, its trust is critical, and an IRSA statement of it
// could be scoped to the workload's cluster, whose issuer is not known yet.
func (in Input) NeedsIssuer() bool {
	w := in.Workload
	return w != nil && w.Issuer == "" && w.ClusterName != "" && in.Exempt == "" &&
		Analyze(in.Policy).Critical() && NeedsIssuer(in.Policy)
}

// Plan is what to do with one role.
type Plan struct {
	// Outcome is the word the handling ends with when every write of the
	// plan succeeds (revoked when there is a write; otherwise final).
	Outcome outcome.Outcome
	Reason  string
	Report  Report // the live policy's findings and verdict
	// Verdict is the verdict behind the plan: the report's, or critical
	// when sessions issued under a critical policy since narrowed are cut off.
	Verdict Severity
	// Narrowed is the rewritten policy (also in dry-run, to show it), with
	// Document its JSON and Changes what was removed, trimmed or scoped;
	// nil when the trust policy is not to be rewritten.
	Narrowed *Policy
	Document string
	Changes  Changes
	// Write: update the trust policy to Document. Revoke: then cut off the
	// sessions issued before now (AWSRevokeOlderSessions). Narrowing comes
	// first: revoking first would let the workload assume the role again.
	Write, Revoke bool
}

// SessionsNotRevoked is why a plan revokes sessions without a rewrite.
const SessionsNotRevoked = "the trust policy the caller set was critical and has since been narrowed, but sessions issued under it were not revoked"

// Decide judges a role and says what to do, in this order: sessions issued
// under critical trust since narrowed are revoked (unless already); a policy
// without findings is compliant; an exempt role is left alone; a policy that
// is risky but not critical is warned about; critical trust is narrowed
// with Fix (scoped to the workload where one is known) and older sessions
// revoked. Dry-run plans the same and writes nothing. Decide never widens a
// policy: the only rewrite it plans is Fix's.
func Decide(in Input) Plan {
	report := Analyze(in.Policy)
	p := Plan{Report: report, Verdict: report.Verdict}
	if in.NeedsRevocationState() && in.RevokedUntil.Before(in.RequestedAt) {
		p.Verdict = Critical
		if in.DryRun {
			p.Outcome, p.Reason = outcome.DryRun, "would revoke older sessions: "+SessionsNotRevoked
			return p
		}
		p.Outcome, p.Reason, p.Revoke = outcome.Revoked, SessionsNotRevoked+": they are now", true
		return p
	}
	findings := report.summary()
	switch {
	case report.Verdict == OK:
		p.Outcome, p.Reason = outcome.Compliant, "trust policy has no wildcard trust"
		return p
	case in.Exempt != "":
		p.Outcome, p.Reason = outcome.Exempt, in.Exempt+"; "+findings
		return p
	case !report.Critical():
		p.Outcome, p.Reason = outcome.Warned, findings
		return p
	}
	fixed, changes, err := Fix(in.Policy, in.Workload)
	if err != nil {
		p.Outcome, p.Reason = outcome.Failed, fmt.Sprintf("cannot narrow the trust policy of %s: %v", in.RoleName, err)
		return p
	}
	doc, err := Marshal(fixed)
	if err != nil {
		p.Outcome, p.Reason = outcome.Failed, fmt.Sprintf("cannot write the narrowed policy of %s: %v", in.RoleName, err)
		return p
	}
	p.Narrowed, p.Document, p.Changes = &fixed, string(doc), changes
	detail := findings + "\n" + changes.String()
	if in.DryRun {
		p.Outcome, p.Reason = outcome.DryRun, "would narrow: "+detail
		return p
	}
	p.Outcome, p.Reason, p.Write, p.Revoke = outcome.Revoked, detail, true, true
	return p
}

// summary is the findings, one per line.
func (r Report) summary() string {
	lines := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		lines = append(lines, f.String())
	}
	return strings.Join(lines, "\n")
}
