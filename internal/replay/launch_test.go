package replay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/guardrail/guardrailtest"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
)

// freshInput is the sample with its time set to now (a launch minutes
// old), edited by edit when given.
func freshInput(t *testing.T, name string, edit func(ev map[string]any)) replay.Input {
	t.Helper()
	data := guardrailtest.Fresh(t, guardrailtest.Input{Data: input(t, name).Data}).Data
	if edit != nil {
		var ev map[string]any
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev)
		var err error
		if data, err = json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	}
	return replay.Input{Name: name, Data: data}
}

// withKnobs sets visibleAfterMs and runningAfterMs on hub instances.
func withKnobs(f *sandbox.Fixture, knobs map[string][2]int) *sandbox.Fixture {
	insts := f.Accounts[hub].Regions["us-east-1"].Instances
	for i := range insts {
		if k, ok := knobs[insts[i].ID]; ok {
			insts[i].VisibleAfterMs, insts[i].RunningAfterMs = k[0], k[1]
			if k[1] > 0 {
				insts[i].State = "pending"
			}
		}
	}
	return f
}

func outcomes(rep replay.Report) map[string]replay.Result {
	m := map[string]replay.Result{}
	for _, r := range rep.Results {
		m[r.Resource] = r
	}
	return m
}

// TestLaunchEventualConsistency replays fresh launch events (state change,
// RunInstances, both CreateFleet forms) against instances EC2 does not show
// yet or keeps pending (the sandbox's visibleAfterMs and runningAfterMs):
// the guardrail waits within the invocation and remediates them.
func TestLaunchEventualConsistency(t *testing.T) {
	f := withKnobs(demoFixture(t), map[string][2]int{
		// The events run one after the other, each waiting for its own
		// instances: the knobs fall due in that order.
		"i-0aaa0000000000001": {600, 0},     // state change: not visible yet
		"i-0aaa0000000000003": {0, 2000},    // RunInstances: pending, refuses changes
		"i-0aaa0000000000009": {3000, 3600}, // CreateFleet one: both
		"i-0aaa000000000000a": {4500, 0},    // CreateFleet many
		"i-0aaa000000000000b": {0, 5000},
	})
	inputs := []replay.Input{
		freshInput(t, "ec2-state-change-pending.json", nil),
		freshInput(t, "cloudtrail-run-instances-one.json", nil),
		freshInput(t, "cloudtrail-create-fleet-one.json", nil),
		freshInput(t, "cloudtrail-create-fleet-many.json", nil),
	}
	rep, err := replay.Run(context.Background(), f, inputs, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(rep)
	for id, want := range map[string]outcome.Outcome{
		"i-0aaa0000000000001": outcome.Remediated, "i-0aaa0000000000003": outcome.Remediated,
		"i-0aaa0000000000009": outcome.Remediated, "i-0aaa000000000000a": outcome.Remediated,
		"i-0aaa000000000000b": outcome.Remediated, "i-0aaa000000000000c": outcome.Compliant,
	} {
		if got[id].Outcome != want {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Outcome, got[id].Detail, want)
		}
	}
	seen := map[string]bool{}
	for _, c := range rep.Journal {
		seen[c.Operation+" "+c.Outcome] = true
	}
	for _, s := range []string{"DescribeInstances InvalidInstanceID.NotFound", "ModifyInstanceMetadataOptions IncorrectInstanceState"} {
		if !seen[s] {
			t.Errorf("the journal never shows %s: the knob did not fire", s)
		}
	}
	for id := range got {
		if mo := instance(t, rep.State, hub, "us-east-1", id).MetadataOptions; mo.HTTPTokens != "required" || mo.HTTPPutResponseHopLimit != 1 {
			t.Errorf("%s: options %+v", id, mo)
		}
	}
}

// TestLaunchNotVisibleInTime: an instance EC2 does not show (or keeps
// pending) for longer than the invocation can wait is failed, so SQS
// redelivers the event, never gone; nothing is written to it. The same event
// hours old reports the unseen instance gone.
func TestLaunchNotVisibleInTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		knobs [2]int
		want  string
	}{
		{"not visible", [2]int{600000, 0}, "does not show the just-launched instance yet"},
		{"pending", [2]int{0, 600000}, "IncorrectInstanceState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := withKnobs(demoFixture(t), map[string][2]int{"i-0aaa0000000000009": tc.knobs})
			ctx, cancel := context.WithTimeout(context.Background(), imdsguard.DefaultReserve+1500*time.Millisecond)
			defer cancel()
			rep, err := replay.Run(ctx, f, []replay.Input{freshInput(t, "cloudtrail-create-fleet-one.json", nil)}, replay.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := outcomes(rep)["i-0aaa0000000000009"]
			if r.Outcome != outcome.Failed || !strings.Contains(r.Detail, tc.want) || rep.Failed() != 1 {
				t.Errorf("outcome %s (%s), want failed (%q)", r.Outcome, r.Detail, tc.want)
			}
			if rep.Changed() != 0 {
				t.Errorf("changed %d resources", rep.Changed())
			}
		})
	}
	// The sample itself is months old: EC2 not finding the instance means it is gone.
	f := withKnobs(demoFixture(t), map[string][2]int{"i-0aaa0000000000009": {600000, 0}})
	rep, err := replay.Run(context.Background(), f, []replay.Input{input(t, "cloudtrail-create-fleet-one.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := outcomes(rep)["i-0aaa0000000000009"]; r.Outcome != outcome.Gone {
		t.Errorf("old event: %s (%s), want gone", r.Outcome, r.Detail)
	}
}

// TestFleetTypes: request and maintain fleets name no instances; their
// events are ignored with the reason, with no EC2 call.
func TestFleetTypes(t *testing.T) {
	for _, typ := range []string{"request", "maintain"} {
		in := freshInput(t, "cloudtrail-create-fleet-one.json", func(ev map[string]any) {
			d := ev["detail"].(map[string]any)
			d["requestParameters"].(map[string]any)["CreateFleetRequest"].(map[string]any)["Type"] = typ
			delete(d["responseElements"].(map[string]any)["CreateFleetResponse"].(map[string]any), "fleetInstanceSet")
		})
		rep, err := replay.Run(context.Background(), demoFixture(t), []replay.Input{in}, replay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) != 1 || rep.Results[0].Outcome != outcome.Ignored || !strings.Contains(rep.Results[0].Detail, "a "+typ+" fleet names no instances") {
			t.Errorf("%s fleet: %+v", typ, rep.Results)
		}
		for _, c := range rep.Journal {
			if c.Service == "ec2" {
				t.Errorf("%s fleet: EC2 call %s", typ, c.Operation)
			}
		}
	}
}

// TestIMDSScopeEKSNodes: with imdsScope eks-nodes only the Karpenter nodes
// are enforced; every other instance is ignored with the reason and never
// written.
func TestIMDSScopeEKSNodes(t *testing.T) {
	rep, err := replay.Run(context.Background(), demoFixture(t), allSamples(t), replay.Options{IMDSScope: imds.ScopeEKSNodes})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{"i-0aaa0000000000009": true, "i-0aaa000000000000a": true, "i-0aaa000000000000b": true, "i-0aaa000000000000c": true}
	for _, r := range rep.Results {
		if r.Guardrail != guardrail.IMDS || r.Resource == "" || r.Outcome == outcome.Gone ||
			strings.Contains(r.Detail, "Credguard itself") {
			continue
		}
		if nodes[r.Resource] != (r.Outcome != outcome.Ignored) {
			t.Errorf("%s: %s (%s)", r.Resource, r.Outcome, r.Detail)
		}
		if !nodes[r.Resource] && r.Detail != imds.OutOfScope {
			t.Errorf("%s: detail %q, want %q", r.Resource, r.Detail, imds.OutOfScope)
		}
	}
	for _, c := range rep.Journal {
		if c.Operation == "ModifyInstanceMetadataOptions" && !nodes[c.Resource] {
			t.Errorf("wrote %s outside the scope", c.Resource)
		}
	}
	if got := outcomes(rep)["i-0aaa0000000000009"].Outcome; got != outcome.Remediated {
		t.Errorf("Karpenter node: %s", got)
	}
}
