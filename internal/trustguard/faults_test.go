package trustguard_test

// The fault matrix: every fault the sandbox can inject, against the trust
// guardrail wired exactly as the Lambda wires it (FromConfig, the adaptive
// retryer, the SQS batch adapter), with the sample events. Each case is
// delivered twice (an SQS redelivery) and checked for: one outcome per role,
// balanced counts, an error (and a batch item failure) for every failed
// revocation, notifications that neither undo nor repeat a change, and no
// second write.

import (
	"encoding/json"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/guardrail/guardrailtest"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/trustguard"
)

const (
	hub    = guardrailtest.Hub
	member = guardrailtest.Member

	ciDeployer     = "arn:aws:iam::111122223333:role/ci-deployer"        // Federated "*" (iam-create-role.json)
	analytics      = "arn:aws:iam::111122223333:role/analytics-reporter" // any service account (eks-update-…)
	memberDeployer = "arn:aws:iam::444455556666:role/ci-deployer"        // the same trust, in the member account

	updateOp = "UpdateAssumeRolePolicy"
	revokeOp = "PutRolePolicy"
)

// memberUpdate is iam-update-assume-role-policy.json as the member account
// forwards it, for its own ci-deployer role.
func memberUpdate(t *testing.T) guardrailtest.Input {
	t.Helper()
	base := guardrailtest.Sample(t, "iam-update-assume-role-policy.json")
	var ev map[string]any
	if err := json.Unmarshal(base.Data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"], ev["account"] = "member-update-assume-role-policy", member
	detail := ev["detail"].(map[string]any)
	detail["recipientAccountId"] = member
	detail["requestParameters"].(map[string]any)["roleName"] = "ci-deployer"
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return guardrailtest.Input{Name: "member-update-assume-role-policy", Data: data, Resources: []string{memberDeployer}}
}

// demoFixture is events/fixtures/demo.json with the hub's ci-deployer role
// (trust Federated "*") copied into the member account.
func demoFixture(t *testing.T) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	for _, r := range f.Accounts[hub].Roles {
		if r.Name == "ci-deployer" {
			f.Accounts[member].Roles = append(f.Accounts[member].Roles, r)
		}
	}
	return f
}

// trustPolicies maps "account/role" to the role's trust policy.
func trustPolicies(f *sandbox.Fixture) map[string]string {
	out := map[string]string{}
	for id, a := range f.Accounts {
		for _, r := range a.Roles {
			out["arn:aws:iam::"+id+":role/"+r.Name] = string(r.TrustPolicy)
		}
	}
	return out
}

func TestFaultMatrix(t *testing.T) {
	all, merge := guardrailtest.All, guardrailtest.Merge
	every := func(t *testing.T) []guardrailtest.Input {
		return []guardrailtest.Input{
			guardrailtest.Sample(t, "iam-create-role.json", ciDeployer),
			guardrailtest.Sample(t, "eks-update-pod-identity-association.json", analytics),
			memberUpdate(t),
		}
	}
	onlyHub := func(t *testing.T) []guardrailtest.Input { return every(t)[:1] }
	hubAndMember := func(t *testing.T) []guardrailtest.Input { e := every(t); return []guardrailtest.Input{e[0], e[2]} }
	errs := func(m map[string]sandbox.ErrorFault) sandbox.Faults { return sandbox.Faults{Errors: m} }

	cases := []struct {
		name   string
		faults sandbox.Faults
		mutate func(*sandbox.Fixture)
		events func(*testing.T) []guardrailtest.Input
		want   map[string]outcome.Outcome // after the first delivery
		notes  int                        // notifications on the first delivery
		seen   string                     // an answer the journal must show: the fault fired
		// narrowed lists the roles whose trust policy the first delivery
		// changed although their outcome is not revoked.
		narrowed []string
	}{
		{
			name:   "no fault",
			events: every,
			want:   all(outcome.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "ok",
		},
		{
			name: "throttling bursts",
			faults: sandbox.Faults{Throttle: map[string]sandbox.Throttle{
				"iam:GetRole":                {Burst: 1, RatePerSecond: 50},
				"iam:UpdateAssumeRolePolicy": {Burst: 1, RatePerSecond: 50},
			}},
			events: every,
			want:   all(outcome.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "Throttling",
		},
		{
			name: "5xx some of the time",
			faults: sandbox.Faults{Seed: 7, Errors: map[string]sandbox.ErrorFault{
				"iam:GetRole":                {Rate: 0.3, Code: "ServiceUnavailable"},
				"iam:UpdateAssumeRolePolicy": {Rate: 0.4, Code: "InternalError"},
				"iam:PutRolePolicy":          {Rate: 0.4, Code: "InternalError"},
			}},
			events: every,
			want:   all(outcome.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "InternalError",
		},
		{
			name:   "5xx on every trust update",
			faults: errs(map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "ServiceUnavailable"}}),
			events: hubAndMember,
			want:   all(outcome.Failed, ciDeployer, memberDeployer),
			notes:  2, seen: "ServiceUnavailable",
		},
		{
			// The trust policy is narrowed but old sessions are not cut off:
			// failed, so the event is retried.
			name:   "5xx on every session revocation",
			faults: errs(map[string]sandbox.ErrorFault{"iam:PutRolePolicy": {Rate: 1, Code: "InternalError"}}),
			events: onlyHub,
			want:   all(outcome.Failed, ciDeployer),
			notes:  1, seen: "InternalError",
			narrowed: []string{ciDeployer},
		},
		{
			name:   "trust update slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"iam:UpdateAssumeRolePolicy": guardrailtest.SlowMs}},
			events: onlyHub,
			want:   all(outcome.Failed, ciDeployer),
			notes:  1, seen: "canceled",
		},
		{
			name:   "AssumeRole slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"sts:AssumeRole": guardrailtest.SlowMs}},
			events: hubAndMember,
			want:   merge(all(outcome.Revoked, ciDeployer), all(outcome.Failed, memberDeployer)),
			notes:  2, seen: "canceled",
		},
		{
			name:   "role deleted between read and update",
			faults: errs(map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "NoSuchEntity"}}),
			events: hubAndMember,
			want:   all(outcome.Gone, ciDeployer, memberDeployer),
			notes:  0, seen: "NoSuchEntity",
		},
		{
			name:   "role deleted before GetRole",
			faults: errs(map[string]sandbox.ErrorFault{"iam:GetRole": {Rate: 1, Code: "NoSuchEntity"}}),
			events: every,
			want:   all(outcome.Gone, ciDeployer, analytics, memberDeployer),
			notes:  0, seen: "NoSuchEntity",
		},
		{
			name: "access denied in the member account",
			faults: errs(map[string]sandbox.ErrorFault{
				"iam:GetRole":                {Rate: 1, Code: "AccessDenied", Account: member},
				"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "AccessDenied", Account: member},
			}),
			events: every,
			want:   merge(all(outcome.Revoked, ciDeployer, analytics), all(outcome.Failed, memberDeployer)),
			notes:  3, seen: "AccessDenied",
		},
		{
			name:   "AssumeRole denied",
			faults: errs(map[string]sandbox.ErrorFault{"sts:AssumeRole": {Rate: 1, Code: "AccessDenied"}}),
			events: every,
			want:   merge(all(outcome.Revoked, ciDeployer, analytics), all(outcome.Failed, memberDeployer)),
			notes:  3, seen: "AccessDenied",
		},
		{
			name:   "member role missing",
			mutate: guardrailtest.WithoutMemberRole,
			events: hubAndMember,
			want:   merge(all(outcome.Revoked, ciDeployer), all(outcome.Failed, memberDeployer)),
			notes:  2, seen: "AccessDenied",
		},
		{
			name:   "SNS publish fails",
			faults: errs(map[string]sandbox.ErrorFault{"sns:Publish": {Rate: 1, Code: "InternalError"}}),
			events: every,
			want:   all(outcome.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  0, seen: "InternalError",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := demoFixture(t)
			faults := tc.faults
			f.Faults = &faults
			if tc.mutate != nil {
				tc.mutate(f)
			}
			r := guardrailtest.NewRig(t, f, trustguard.FromConfig)
			before := trustPolicies(r.Sandbox.State())
			inputs := tc.events(t)

			first := r.Deliver(t, inputs)
			got := guardrailtest.CheckBalance(t, guardrail.Trust, inputs, first)
			for arn, want := range tc.want {
				if got[arn] != want {
					t.Errorf("%s: outcome %q, want %q", arn, got[arn], want)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes for %d roles, want %d", len(got), len(tc.want))
			}
			guardrailtest.CheckFired(t, first, tc.notes, tc.seen)
			narrowed := map[string]bool{}
			for _, arn := range tc.narrowed {
				narrowed[arn] = true
			}

			// Redelivery: nothing revoked is written again or announced
			// again; what failed fails again (the fault is still there).
			second := r.Deliver(t, inputs)
			again := guardrailtest.CheckBalance(t, guardrail.Trust, inputs, second)
			settled := true
			for arn, o := range got {
				switch {
				case o == outcome.Revoked:
					if again[arn] != outcome.Compliant {
						t.Errorf("redelivered: %s outcome %q, want compliant", arn, again[arn])
					}
				case narrowed[arn]:
					// Already narrowed: the retry finds nothing left to change.
					settled = false
				case o == outcome.Failed || o == outcome.Gone:
					settled = false
					if again[arn] != o {
						t.Errorf("redelivered: %s outcome %q, want %q again", arn, again[arn], o)
					}
				}
			}
			for _, op := range []string{updateOp, revokeOp} {
				if n := guardrailtest.OKWrites(second.Journal, op); len(n) != 0 {
					t.Errorf("redelivery wrote again (%s): %v", op, n)
				}
			}
			if settled {
				guardrailtest.CheckQuiet(t, second)
			}

			// Across both deliveries: one trust update and one revocation per
			// revoked role, none for the others; the state agrees.
			updates, revokes := guardrailtest.OKWrites(r.Sandbox.Journal(), updateOp), guardrailtest.OKWrites(r.Sandbox.Journal(), revokeOp)
			after := trustPolicies(r.Sandbox.State())
			for arn, o := range got {
				wantUpdates, wantRevokes := 0, 0
				switch {
				case o == outcome.Revoked:
					wantUpdates, wantRevokes = 1, 1
				case narrowed[arn]:
					wantUpdates = 1
				}
				if updates[arn] != wantUpdates || revokes[arn] != wantRevokes {
					t.Errorf("%s (%s): %d trust updates and %d revocations, want %d and %d", arn, o, updates[arn], revokes[arn], wantUpdates, wantRevokes)
				}
				if changed := after[arn] != before[arn]; changed != (wantUpdates == 1) {
					t.Errorf("%s (%s): trust policy changed %v, want %v", arn, o, changed, wantUpdates == 1)
				}
			}
		})
	}
}
