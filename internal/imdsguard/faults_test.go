package imdsguard_test

// The fault matrix: every fault the sandbox can inject, against the IMDS
// guardrail wired exactly as the Lambda wires it (FromConfig, the adaptive
// retryer, the SQS batch adapter), with the sample events. Each case is
// delivered twice (an SQS redelivery) and checked for: one outcome per
// instance, balanced counts, an error (and a batch item failure) for every
// failed remediation, notifications that neither undo nor repeat a change,
// and no second write.

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/guardrail/guardrailtest"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

const (
	hub        = guardrailtest.Hub
	member     = guardrailtest.Member
	hubRegion  = guardrailtest.HubRegion
	hubInst    = "i-0aaa0000000000001" // pending, tokens optional (ec2-state-change-pending.json)
	memberInst = "i-0bbb0000000000001" // pending in the member account (…-cross-account.json)

	modifyOp = "ModifyInstanceMetadataOptions"
)

// stormIDs are the instances demoFixture adds to the hub.
func stormIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-0ccc%013x", i+1)
	}
	return ids
}

// runInstances is the one-instance RunInstances sample listing ids instead.
func runInstances(t *testing.T, ids []string) guardrailtest.Input {
	t.Helper()
	base := guardrailtest.Sample(t, "cloudtrail-run-instances-one.json")
	var ev map[string]any
	if err := json.Unmarshal(base.Data, &ev); err != nil {
		t.Fatal(err)
	}
	set := ev["detail"].(map[string]any)["responseElements"].(map[string]any)["instancesSet"].(map[string]any)
	proto := set["items"].([]any)[0].(map[string]any)
	items := make([]any, len(ids))
	for i, id := range ids {
		item := map[string]any{}
		for k, v := range proto {
			item[k] = v
		}
		item["instanceId"] = id
		items[i] = item
	}
	set["items"] = items
	ev["id"] = fmt.Sprintf("run-instances-%d", len(ids))
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return guardrailtest.Input{Name: fmt.Sprintf("run-instances-%d", len(ids)), Data: data, Resources: ids}
}

// launchKnobs sets the sandbox's visibleAfterMs and runningAfterMs on the
// named instances of f.
func launchKnobs(visibleAfterMs, runningAfterMs int, ids ...string) func(*sandbox.Fixture) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	return func(f *sandbox.Fixture) {
		for _, a := range f.Accounts {
			for _, reg := range a.Regions {
				for i := range reg.Instances {
					if in := &reg.Instances[i]; want[in.ID] {
						in.VisibleAfterMs, in.RunningAfterMs = visibleAfterMs, runningAfterMs
						if runningAfterMs > 0 {
							in.State = "pending"
						}
					}
				}
			}
		}
	}
}

// demoFixture is events/fixtures/demo.json plus n storm instances in the hub
// (tokens optional, hop limit 2).
func demoFixture(t *testing.T, n int) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	reg := f.Accounts[hub].Regions[hubRegion]
	for _, id := range stormIDs(n) {
		reg.Instances = append(reg.Instances, sandbox.Instance{
			ID: id, State: "pending", Tags: map[string]string{"Name": "storm"},
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPEndpoint: "enabled"},
		})
	}
	return f
}

func TestFaultMatrix(t *testing.T) {
	const storm = 10
	ids := stormIDs(storm)
	all, merge := guardrailtest.All, guardrailtest.Merge
	hubAndMember := func(t *testing.T) []guardrailtest.Input {
		return []guardrailtest.Input{
			guardrailtest.Sample(t, "ec2-state-change-pending.json", hubInst),
			guardrailtest.Sample(t, "ec2-state-change-pending-cross-account.json", memberInst),
		}
	}
	withStorm := func(t *testing.T) []guardrailtest.Input { return append(hubAndMember(t), runInstances(t, ids)) }
	// freshLaunches are the same launch events, minutes old.
	freshLaunches := func(t *testing.T) []guardrailtest.Input {
		var out []guardrailtest.Input
		for _, in := range withStorm(t) {
			out = append(out, guardrailtest.Fresh(t, in))
		}
		return out
	}
	onlyHub := func(t *testing.T) []guardrailtest.Input { return hubAndMember(t)[:1] }
	errs := func(m map[string]sandbox.ErrorFault) sandbox.Faults { return sandbox.Faults{Errors: m} }

	cases := []struct {
		name   string
		faults sandbox.Faults
		mutate func(*sandbox.Fixture)
		events func(*testing.T) []guardrailtest.Input
		want   map[string]outcome.Outcome // after the first delivery
		notes  int                        // notifications on the first delivery
		seen   string                     // an answer the journal must show: the fault fired
		// deadline replaces the deliveries' 30 s deadline; partial says
		// want lists the outcomes allowed rather than required (the split
		// depends on timing), and that a redelivery may finish what a
		// first delivery left failed.
		deadline time.Duration
		partial  bool
	}{
		{
			name:   "no fault",
			events: withStorm,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "ok",
		},
		{
			name: "throttling bursts",
			faults: sandbox.Faults{Throttle: map[string]sandbox.Throttle{
				"ec2:DescribeInstances":             {Burst: 2, RatePerSecond: 50},
				"ec2:ModifyInstanceMetadataOptions": {Burst: 8, RatePerSecond: 50},
			}},
			events: withStorm,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "RequestLimitExceeded",
		},
		{
			name: "5xx some of the time",
			faults: sandbox.Faults{Seed: 7, Errors: map[string]sandbox.ErrorFault{
				"ec2:ModifyInstanceMetadataOptions": {Rate: 0.4, Code: "InternalError"},
				"ec2:DescribeInstances":             {Rate: 0.3, Code: "ServiceUnavailable"},
			}},
			events: withStorm,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "InternalError",
		},
		{
			name:   "5xx on every modify",
			faults: errs(map[string]sandbox.ErrorFault{"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "ServiceUnavailable"}}),
			events: hubAndMember,
			want:   all(outcome.Failed, hubInst, memberInst),
			notes:  2, seen: "ServiceUnavailable",
		},
		{
			name:   "modify slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"ec2:ModifyInstanceMetadataOptions": guardrailtest.SlowMs}},
			events: onlyHub,
			want:   all(outcome.Failed, hubInst),
			notes:  1, seen: "canceled",
		},
		{
			name:   "describe slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"ec2:DescribeInstances": guardrailtest.SlowMs}},
			events: onlyHub,
			want:   all(outcome.Failed, hubInst),
			notes:  1, seen: "canceled",
		},
		{
			name:   "AssumeRole slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"sts:AssumeRole": guardrailtest.SlowMs}},
			events: hubAndMember,
			want:   merge(all(outcome.Remediated, hubInst), all(outcome.Failed, memberInst)),
			notes:  2, seen: "canceled",
		},
		{
			name:   "instance deleted between describe and modify",
			faults: errs(map[string]sandbox.ErrorFault{"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "InvalidInstanceID.NotFound"}}),
			events: withStorm,
			want:   all(outcome.Gone, append([]string{hubInst, memberInst}, ids...)...),
			notes:  0, seen: "InvalidInstanceID.NotFound",
		},
		{
			// A fresh launch event: EC2 not finding the instance is
			// eventual consistency, retried within the invocation and
			// then failed (so SQS redelivers), never gone.
			name:     "just-launched instance not found on every modify",
			faults:   errs(map[string]sandbox.ErrorFault{"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "InvalidInstanceID.NotFound"}}),
			events:   func(t *testing.T) []guardrailtest.Input { return freshLaunches(t)[:1] },
			deadline: imdsguard.DefaultReserve + 1500*time.Millisecond,
			want:     all(outcome.Failed, hubInst),
			notes:    1, seen: "InvalidInstanceID.NotFound",
		},
		{
			name:   "launched instances not visible yet (visibleAfterMs)",
			mutate: launchKnobs(1200, 0, append([]string{hubInst, memberInst}, ids[:3]...)...),
			events: freshLaunches,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "InvalidInstanceID.NotFound",
		},
		{
			name:   "launched instances still pending (runningAfterMs)",
			mutate: launchKnobs(0, 1200, append([]string{hubInst, memberInst}, ids[:3]...)...),
			events: freshLaunches,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "IncorrectInstanceState",
		},
		{
			name:     "launched instance not visible within the invocation",
			mutate:   launchKnobs(600000, 0, hubInst),
			events:   func(t *testing.T) []guardrailtest.Input { return freshLaunches(t)[:1] },
			deadline: imdsguard.DefaultReserve + 1500*time.Millisecond,
			want:     all(outcome.Failed, hubInst),
			notes:    1, seen: "InvalidInstanceID.NotFound",
		},
		{
			name:     "launched instance pending past the invocation",
			mutate:   launchKnobs(0, 600000, hubInst),
			events:   func(t *testing.T) []guardrailtest.Input { return freshLaunches(t)[:1] },
			deadline: imdsguard.DefaultReserve + 1500*time.Millisecond,
			want:     all(outcome.Failed, hubInst),
			notes:    1, seen: "IncorrectInstanceState",
		},
		{
			name: "access denied in the member account",
			faults: errs(map[string]sandbox.ErrorFault{
				"ec2:DescribeInstances":             {Rate: 1, Code: "UnauthorizedOperation", Account: member},
				"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "UnauthorizedOperation", Account: member},
			}),
			events: hubAndMember,
			want:   merge(all(outcome.Remediated, hubInst), all(outcome.Failed, memberInst)),
			notes:  2, seen: "UnauthorizedOperation",
		},
		{
			name:   "AssumeRole denied",
			faults: errs(map[string]sandbox.ErrorFault{"sts:AssumeRole": {Rate: 1, Code: "AccessDenied"}}),
			events: hubAndMember,
			want:   merge(all(outcome.Remediated, hubInst), all(outcome.Failed, memberInst)),
			notes:  2, seen: "AccessDenied",
		},
		{
			name:   "member role missing",
			mutate: guardrailtest.WithoutMemberRole,
			events: hubAndMember,
			want:   merge(all(outcome.Remediated, hubInst), all(outcome.Failed, memberInst)),
			notes:  2, seen: "AccessDenied",
		},
		{
			// More throttled writes than the invocation has time for: the
			// writes stop DefaultReserve before the deadline, what was
			// modified is confirmed and announced, the rest is failed (so
			// the event is retried) and the redelivery carries on.
			name:     "invocation deadline before every instance is modified",
			faults:   sandbox.Faults{Throttle: map[string]sandbox.Throttle{"ec2:ModifyInstanceMetadataOptions": {Burst: 3, RatePerSecond: 0.5}}},
			events:   func(t *testing.T) []guardrailtest.Input { return []guardrailtest.Input{runInstances(t, ids)} },
			deadline: imdsguard.DefaultReserve + 1500*time.Millisecond,
			partial:  true,
			want:     all(outcome.Remediated, ids...), // or failed
			notes:    1, seen: "RequestLimitExceeded",
		},
		{
			name:   "SNS publish fails",
			faults: errs(map[string]sandbox.ErrorFault{"sns:Publish": {Rate: 1, Code: "InternalError"}}),
			events: withStorm,
			want:   all(outcome.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  0, seen: "InternalError",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := demoFixture(t, storm)
			faults := tc.faults
			f.Faults = &faults
			if tc.mutate != nil {
				tc.mutate(f)
			}
			before := instances(f)
			r := guardrailtest.NewRig(t, f, imdsguard.FromConfig)
			if tc.deadline > 0 {
				r.Timeout = tc.deadline
			}
			inputs := tc.events(t)

			first := r.Deliver(t, inputs)
			got := guardrailtest.CheckBalance(t, guardrail.IMDS, inputs, first)
			count := map[outcome.Outcome]int{}
			for id, want := range tc.want {
				count[got[id]]++
				if got[id] != want && !(tc.partial && got[id] == outcome.Failed) {
					t.Errorf("%s: outcome %q, want %q", id, got[id], want)
				}
			}
			if tc.partial && (count[outcome.Remediated] == 0 || count[outcome.Failed] == 0) {
				t.Errorf("outcomes %v: want some remediated and some failed", count)
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes for %d instances, want %d", len(got), len(tc.want))
			}
			guardrailtest.CheckFired(t, first, tc.notes, tc.seen)

			// Redelivery: nothing remediated is written again or announced
			// again; what failed fails again (the fault is still there).
			firstGot := map[string]outcome.Outcome{}
			for id, o := range got {
				firstGot[id] = o
			}
			second := r.Deliver(t, inputs)
			again := guardrailtest.CheckBalance(t, guardrail.IMDS, inputs, second)
			// A failed or vanished instance is tried again (the sandbox still
			// describes it, and the fault is still injected): only a run
			// that settled everything must write nothing at all.
			settled := true
			for id, o := range got {
				want := o
				switch o {
				case outcome.Remediated:
					want = outcome.Compliant
				case outcome.Failed, outcome.Gone:
					settled = false
				}
				if tc.partial && o == outcome.Failed && again[id] == outcome.Remediated {
					got[id] = outcome.Remediated // finished by the redelivery
					continue
				}
				if again[id] != want {
					t.Errorf("redelivered: %s outcome %q, want %q", id, again[id], want)
				}
			}
			for id, n := range guardrailtest.OKWrites(second.Journal, modifyOp) {
				if !tc.partial || firstGot[id] != outcome.Failed {
					t.Errorf("redelivery wrote %s again (%d times; first outcome %q)", id, n, firstGot[id])
				}
			}
			if settled {
				guardrailtest.CheckQuiet(t, second)
			}

			// Across both deliveries: one successful modify per remediated
			// instance and none for the others; the state agrees.
			writes := guardrailtest.OKWrites(r.Sandbox.Journal(), modifyOp)
			after := instances(r.Sandbox.State())
			for id, o := range got {
				wantWrites := 0
				if o == outcome.Remediated {
					wantWrites = 1
				}
				if writes[id] != wantWrites {
					t.Errorf("%s (%s): %d successful modifies, want %d", id, o, writes[id], wantWrites)
				}
				mo := after[id]
				if o == outcome.Remediated {
					if mo.HTTPTokens != "required" || mo.HTTPPutResponseHopLimit != 1 || mo.HTTPEndpoint != before[id].HTTPEndpoint {
						t.Errorf("%s remediated but options are %+v", id, mo)
					}
				} else if mo.HTTPTokens != before[id].HTTPTokens || mo.HTTPPutResponseHopLimit != before[id].HTTPPutResponseHopLimit {
					t.Errorf("%s %s but options changed: %+v → %+v", id, o, before[id], mo)
				}
			}
		})
	}
}

// instances maps every instance id in a fixture to its metadata options.
func instances(f *sandbox.Fixture) map[string]sandbox.MetadataOptions {
	out := map[string]sandbox.MetadataOptions{}
	for _, a := range f.Accounts {
		for _, reg := range a.Regions {
			for _, in := range reg.Instances {
				out[in.ID] = in.MetadataOptions
			}
		}
	}
	return out
}
