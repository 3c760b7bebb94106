// Package trustguard is the trust-policy guardrail's handler: for the roles an
// EKS Pod Identity or IAM event names, it reads the live trust policy,
// narrows critical (wildcard) trust with a minimal rewrite (scoped to the
// association's workload, and for IRSA only with its cluster's OIDC issuer,
// read with eks:DescribeCluster), cuts off sessions already issued, and
// announces what it did, exemptions included. It never widens a policy.
package trustguard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/credguard/credguard/internal/announce"
	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/partition"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/trust"
)

// RevokePolicyName is the inline policy the IAM console's "Revoke active
// sessions" writes; Credguard writes the same one.
const RevokePolicyName = "AWSRevokeOlderSessions"

// Config is the guardrail's configuration.
type Config struct {
	DryRun         bool
	ExemptRoleARNs []string // never changed (compared without the role path)
	SelfRoleARNs   []string // Credguard's own roles: never changed, and their changes are ignored
	MemberRoleName string   // the member role this guardrail assumes (named in failure notifications)
	// MemberRoleNames are every Credguard member role name (the configured
	// ones, the defaults and the legacy one; ids.MemberRoleNames(MemberRoleName)
	// when empty): in organization mode, a role so named whose trust is
	// exactly what Credguard deploys is never changed, and changes made
	// through it are ignored (the name alone is not enough).
	MemberRoleNames []string
	// OrganizationID is set in organization mode, where member roles exist;
	// without it (single-account mode) a role named like a member role is
	// judged like any other.
	OrganizationID string
	// MemberTrustees are the hub role ARNs a deployed member role trusts
	// (with aws:PrincipalOrgID = OrganizationID): a role named like a member
	// role is Credguard's own only when its trust is exactly that.
	MemberTrustees []string
}

// Handler handles trust events. It is safe for concurrent use.
type Handler struct {
	iamFor   IAMFor
	eksFor   EKSFor
	cfg      Config
	announce *announce.Announcer
	now      func() time.Time
}

// New builds a handler. metricsOut receives Embedded Metric Format lines (nil to skip).
func New(iamFor IAMFor, eksFor EKSFor, pub announce.Publisher, cfg Config, log *slog.Logger, metricsOut io.Writer) *Handler {
	if len(cfg.MemberRoleNames) == 0 {
		cfg.MemberRoleNames = ids.MemberRoleNames(cfg.MemberRoleName)
	}
	return &Handler{iamFor: iamFor, eksFor: eksFor, cfg: cfg, now: time.Now, announce: &announce.Announcer{
		Guardrail: guardrail.Trust, Log: log, Metrics: metricsOut, Publisher: pub, DryRun: cfg.DryRun,
		RemediationRole: cfg.MemberRoleName,
	}}
}

// Handle processes one raw EventBridge event. It returns one result per
// role the event names (or one ignored result for an event it does not act
// on) and an error wrapping announce.ErrFailed when any result failed.
func (h *Handler) Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error) {
	e, err := event.Decode(raw)
	if err != nil {
		return h.finish(ctx, e, []guardrail.Result{{Guardrail: guardrail.Trust, Outcome: outcome.Ignored, Detail: err.Error()}})
	}
	return h.HandleEvent(ctx, e)
}

// target is one role to check, with the workload it is meant for when known.
type target struct {
	account, name, arn string
	workload           *trust.Workload
}

// HandleEvent processes one decoded event: it checks every role the event
// names and announces the results.
func (h *Handler) HandleEvent(ctx context.Context, e event.Event) ([]guardrail.Result, error) {
	return h.finish(ctx, e, h.roles(ctx, e))
}

// finish announces the results and turns failures into the returned error.
func (h *Handler) finish(ctx context.Context, e event.Event, results []guardrail.Result) ([]guardrail.Result, error) {
	return results, h.announce.Finish(ctx, e, results)
}

// roles decides and acts on every role the event names.
func (h *Handler) roles(ctx context.Context, e event.Event) []guardrail.Result {
	if reason := h.skip(e); reason != "" {
		return []guardrail.Result{h.result(e, roleARNOf(e), "", outcome.Ignored, reason)}
	}
	if h.byMemberRole(ctx, e) {
		return []guardrail.Result{h.result(e, roleARNOf(e), "", outcome.Ignored, "the change was made by Credguard itself (its member role)")}
	}
	targets, err := h.targets(ctx, e)
	if err != nil {
		return []guardrail.Result{h.result(e, roleARNOf(e), "", outcome.Failed, err.Error())}
	}
	if len(targets) == 0 {
		return []guardrail.Result{h.result(e, "", "", outcome.Ignored, "the event names no role")}
	}
	var results []guardrail.Result
	for _, t := range targets {
		results = append(results, h.check(ctx, e, t))
	}
	return results
}

func (h *Handler) skip(e event.Event) string {
	switch {
	case guardrail.Name(e.Kind.Guardrail()) != guardrail.Trust:
		return fmt.Sprintf("not a trust event (%s)", e.Kind)
	case e.Failed():
		return fmt.Sprintf("the recorded call failed (%s)", e.ErrorCode)
	case guardrail.Own(e.Actor, h.cfg.SelfRoleARNs):
		return "the change was made by Credguard itself"
	}
	return ""
}

// byMemberRole reports whether the caller is one of Credguard's member roles:
// in organization mode, a role named like one whose trust is exactly what
// Credguard deploys (read with GetRole). The name alone is not enough: where
// a member role name is free (the legacy name, an account Credguard does not
// deploy to), anyone allowed iam:CreateRole could make a role of that name
// and have every change made through it ignored. When the caller's role
// cannot be read, the change is judged like anyone's: Credguard's own
// rewrites are never critical, so this cannot loop.
func (h *Handler) byMemberRole(ctx context.Context, e event.Event) bool {
	if h.cfg.OrganizationID == "" || !guardrail.Own(e.Actor, nil, h.cfg.MemberRoleNames...) {
		return false
	}
	role, ok := e.Actor.Role()
	if !ok {
		return false
	}
	account, name := role.Account, role.Name
	client, err := h.iamFor(ctx, account)
	if err != nil {
		return false
	}
	r, err := getRole(ctx, client, name)
	if err != nil {
		return false
	}
	p, err := trust.Parse([]byte(r.EncodedPolicy))
	return err == nil && h.ownMemberRole(r, p)
}

func roleARNOf(e event.Event) string {
	switch {
	case e.Role != nil:
		return e.Role.RoleARN
	case e.PodIdentity != nil:
		return e.PodIdentity.RoleARN
	}
	return ""
}

// targets lists the roles the event names. For a Pod Identity association
// missing any field, the association is described.
func (h *Handler) targets(ctx context.Context, e event.Event) ([]target, error) {
	if e.Role != nil {
		return []target{{account: e.Account, name: e.Role.RoleName, arn: e.Role.RoleARN}}, nil
	}
	a := e.PodIdentity
	if a == nil {
		return nil, nil
	}
	assoc := *a
	if assoc.RoleARN == "" || assoc.Namespace == "" || assoc.ServiceAccount == "" {
		described, err := h.describe(ctx, e, assoc)
		if err != nil {
			return nil, err
		}
		assoc = described
	}
	var out []target
	if r, ok := ids.ParseRoleARN(assoc.RoleARN); ok {
		w := &trust.Workload{
			ClusterName:    assoc.ClusterName,
			ClusterARN:     partition.ARN("eks", e.Region, e.Account, "cluster/"+assoc.ClusterName),
			Namespace:      assoc.Namespace,
			ServiceAccount: assoc.ServiceAccount,
		}
		if w.Validate() != nil {
			w = nil // without a valid workload a critical statement is removed, not scoped
		}
		out = append(out, target{account: r.Account, name: r.Name, arn: assoc.RoleARN, workload: w})
	}
	// The target role is assumed by the association's role, not by pods: it is
	// checked, and critical trust removed, without scoping to the workload.
	if r, ok := ids.ParseRoleARN(assoc.TargetRoleARN); ok && assoc.TargetRoleARN != assoc.RoleARN {
		out = append(out, target{account: r.Account, name: r.Name, arn: assoc.TargetRoleARN})
	}
	return out, nil
}

func (h *Handler) describe(ctx context.Context, e event.Event, a event.PodIdentityAssociation) (event.PodIdentityAssociation, error) {
	if a.ClusterName == "" || a.AssociationID == "" {
		return a, fmt.Errorf("association incomplete and not describable (cluster %q, id %q)", a.ClusterName, a.AssociationID)
	}
	client, err := h.eksFor(ctx, e.Account, e.Region)
	if err != nil {
		return a, fmt.Errorf("no EKS access in %s/%s: %w", e.Account, e.Region, err)
	}
	d, err := describeAssociation(ctx, client, a.ClusterName, a.AssociationID)
	if err != nil {
		return a, err
	}
	// Keep what the event said; fill what it did not.
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&a.RoleARN, d.RoleARN)
	fill(&a.TargetRoleARN, d.TargetRoleARN)
	fill(&a.Namespace, d.Namespace)
	fill(&a.ServiceAccount, d.ServiceAccount)
	return a, nil
}

// Enforce judges one role by its ARN and acts on the verdict exactly as for
// an IAM event naming it (exemptions, dry-run, narrowing, revoking), without
// announcing: the caller (the scheduled sweep, `credguard scan`) reports.
// It reads the role afresh with GetRole.
func (h *Handler) Enforce(ctx context.Context, roleARN string) guardrail.Result {
	r, ok := ids.ParseRoleARN(roleARN)
	if !ok {
		return guardrail.Result{Guardrail: guardrail.Trust, Resource: roleARN, Outcome: outcome.Failed,
			Detail: fmt.Sprintf("%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", roleARN)}
	}
	return h.check(ctx, event.Event{Envelope: event.Envelope{Account: r.Account}}, target{account: r.Account, name: r.Name, arn: roleARN})
}

// check handles one role: describe (read the role and what the decision
// needs), decide (trust.Decide, pure), act (narrow, then revoke) and
// confirm (the outcome is the plan's only when every write succeeded).
func (h *Handler) check(ctx context.Context, e event.Event, t target) guardrail.Result {
	res := guardrail.Result{Guardrail: guardrail.Trust, Account: t.account, Region: e.Region, Resource: t.arn, Name: t.name}
	f, o, detail := h.describeRole(ctx, e, t)
	if f.role.ARN != "" {
		res.Resource = f.role.ARN // the live ARN, with the path an event may lack
	}
	if o != "" {
		if f.read {
			report := trust.Analyze(f.input.Policy)
			res.Trust = &guardrail.TrustChange{Before: f.input.Policy, Report: report, Verdict: report.Verdict}
		}
		res.Outcome, res.Detail = o, detail
		return res
	}
	plan := trust.Decide(f.input)
	res.Trust = &guardrail.TrustChange{Before: f.input.Policy, Report: plan.Report, Verdict: plan.Verdict, After: plan.Narrowed, Changes: plan.Changes}
	res.Outcome, res.Detail, res.Trust.Written = h.act(ctx, f.client, t.name, plan)
	return res
}

// facts are what describe read for one role.
type facts struct {
	client IAM
	role   role
	input  trust.Input
	read   bool // input.Policy is the role's parsed trust policy
}

// describeRole reads the role (GetRole), parses its trust policy, works out
// any exemption, and reads what the decision may need besides: whether
// older sessions are already revoked (GetRolePolicy, only when the caller
// asked for critical trust that is no longer live) and the association
// cluster's OIDC issuer (DescribeCluster, only when an IRSA statement could
// be scoped). When the role cannot be described, o is gone or failed (and
// f.role is what GetRole returned, if it answered).
func (h *Handler) describeRole(ctx context.Context, e event.Event, t target) (f facts, o outcome.Outcome, detail string) {
	client, err := h.iamFor(ctx, t.account)
	if err != nil {
		return f, outcome.Failed, fmt.Sprintf("no IAM access in %s: %v", t.account, err)
	}
	r, err := getRole(ctx, client, t.name)
	if err != nil {
		if isNoSuchEntity(err) {
			return f, outcome.Gone, "role no longer exists"
		}
		return f, outcome.Failed, err.Error()
	}
	f.role = r
	policy, err := trust.Parse([]byte(r.EncodedPolicy))
	if err != nil {
		return f, outcome.Failed, fmt.Sprintf("trust policy of %s not understood, left unchanged: %v", t.name, err)
	}
	in := trust.Input{
		RoleName: t.name, Policy: policy, Exempt: h.exemptReason(r, policy), DryRun: h.cfg.DryRun, Workload: t.workload,
		RequestedCritical: requestedCritical(e), RequestedAt: e.Time,
	}
	f.input, f.read = in, true
	if in.NeedsRevocationState() {
		if in.RevokedUntil, err = revokedUntil(ctx, client, t.name); err != nil {
			return f, outcome.Failed, fmt.Sprintf("trust already narrowed; could not check that older sessions are revoked: %v", err)
		}
	}
	if in.NeedsIssuer() {
		if in.Workload, err = h.withIssuer(ctx, e, in.Workload); err != nil {
			return f, outcome.Failed, err.Error()
		}
	}
	return facts{client: client, role: r, input: in, read: true}, "", ""
}

// act carries out the plan: narrow the trust first, then revoke (revoking
// first would let the workload simply assume the role again). It returns
// the plan's outcome when every write succeeded, else gone or failed.
// written says whether the narrowed policy was written (also when the
// revocation after it failed), so that the notification offers to restore.
func (h *Handler) act(ctx context.Context, client IAM, name string, plan trust.Plan) (o outcome.Outcome, detail string, written bool) {
	if plan.Write {
		if err := updateTrust(ctx, client, name, plan.Document); err != nil {
			if isNoSuchEntity(err) {
				return outcome.Gone, "role deleted before its trust policy could be narrowed", false
			}
			return outcome.Failed, fmt.Sprintf("update trust policy: %v", err), false
		}
		written = true
	}
	if plan.Revoke {
		err := revokeSessions(ctx, client, name, h.now())
		switch {
		case err == nil:
		case !plan.Write:
			return outcome.Failed, fmt.Sprintf("%s; revoking them failed: %v", trust.SessionsNotRevoked, err), written
		case isNoSuchEntity(err):
			return outcome.Gone, "role deleted after its trust policy was narrowed (no sessions left to revoke)", written
		default:
			return outcome.Failed, fmt.Sprintf("trust narrowed, but sessions issued before now were NOT revoked: %v", err), written
		}
	}
	return plan.Outcome, plan.Reason, written
}

// requestedCritical reports whether the IAM event asked for critical trust:
// the document the caller sent (CreateRole, UpdateAssumeRolePolicy) is critical.
func requestedCritical(e event.Event) bool {
	if e.Role == nil || e.Role.PolicyDocument == "" {
		return false
	}
	p, err := trust.Parse([]byte(e.Role.PolicyDocument))
	return err == nil && trust.Analyze(p).Critical()
}

// exemptReason says why the role must not be changed ("" when it may be).
func (h *Handler) exemptReason(r role, p trust.Policy) string {
	switch {
	case strings.HasPrefix(r.Path, "/aws-service-role/"):
		return "service-linked role (cannot be changed)"
	case h.ownMemberRole(r, p):
		return "Credguard's own remediation role (its trust is exactly what Credguard deploys)"
	case ids.RoleListed(r.ARN, h.cfg.SelfRoleARNs):
		return "Credguard's own function role"
	case strings.TrimSpace(r.Tags[ids.ExemptTag]) != "":
		return fmt.Sprintf("tag %s: %s", ids.ExemptTag, strings.TrimSpace(r.Tags[ids.ExemptTag]))
	}
	for _, entry := range h.cfg.ExemptRoleARNs {
		if ids.RoleListed(r.ARN, []string{entry}) {
			return fmt.Sprintf("allow-list entry %s (the trust guardrail's configured exemption list, %s; it records no reason)",
				strings.TrimSpace(entry), settings.EnvExemptRoleARNs)
		}
	}
	return ""
}

// ownMemberRole reports whether the role is a Credguard member role: named
// like one, in organization mode, and trusted exactly as Credguard deploys
// it (only hub function roles, for sts:AssumeRole, with StringEquals
// aws:PrincipalOrgID = the organization). A role that only has the name is
// judged like any other.
func (h *Handler) ownMemberRole(r role, p trust.Policy) bool {
	if h.cfg.OrganizationID == "" || !slices.Contains(h.cfg.MemberRoleNames, r.Name) {
		return false
	}
	return deployedMemberTrust(p, h.cfg.MemberTrustees, h.cfg.OrganizationID)
}

// deployedMemberTrust reports whether p is the trust Credguard gives a member
// role: Allow statements only, each trusting only listed hub roles (AWS
// principal ARNs) for sts:AssumeRole, under exactly one condition,
// StringEquals aws:PrincipalOrgID = org.
func deployedMemberTrust(p trust.Policy, trustees []string, org string) bool {
	if len(p.Statements) == 0 || len(trustees) == 0 {
		return false
	}
	for _, s := range p.Statements {
		if s.Effect != trust.Allow || s.Principal == nil || s.Principal.Any || s.NotAction != nil ||
			len(s.Action) != 1 || s.Action[0] != "sts:AssumeRole" || len(s.Conditions) != 1 {
			return false
		}
		c := s.Conditions[0]
		if c.Operator != "StringEquals" || !strings.EqualFold(c.Key, "aws:PrincipalOrgID") || len(c.Values) != 1 || c.Values[0] != org {
			return false
		}
		for _, e := range s.Principal.Entries {
			if e.Type != trust.AWS {
				return false
			}
			for _, v := range e.Values {
				if !slices.Contains(trustees, v) {
					return false
				}
			}
		}
	}
	return true
}

// withIssuer returns the workload with its cluster's OIDC issuer, read with
// eks:DescribeCluster. A cluster that no longer exists, or an issuer that is
// not an EKS one, leaves the issuer unknown (IRSA statements are then never
// scoped).
func (h *Handler) withIssuer(ctx context.Context, e event.Event, w *trust.Workload) (*trust.Workload, error) {
	client, err := h.eksFor(ctx, e.Account, e.Region)
	if err != nil {
		return nil, fmt.Errorf("no EKS access in %s/%s to read the OIDC issuer of cluster %s: %w", e.Account, e.Region, w.ClusterName, err)
	}
	issuer, _, err := clusterIssuer(ctx, client, w.ClusterName)
	if err != nil {
		return nil, fmt.Errorf("cannot read the OIDC issuer of cluster %s (needed to tell its IRSA statements from other clusters'): %w", w.ClusterName, err)
	}
	with := *w
	with.Issuer = issuer
	if with.Validate() != nil {
		with.Issuer = ""
	}
	return &with, nil
}

func (h *Handler) result(e event.Event, resource, name string, o outcome.Outcome, detail string) guardrail.Result {
	return guardrail.Result{Guardrail: guardrail.Trust, Account: e.Account, Region: e.Region, Resource: resource, Name: name, Outcome: o, Detail: detail}
}
