package imdsguard

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// launchEC2 is one instance whose visibility and state follow a fake clock:
// DescribeInstances and ModifyInstanceMetadataOptions answer NotFound
// before visibleAt; the instance is pending until runningAt, and modify
// answers IncorrectInstanceState while it is pending (refuse) or always
// (modifyCode).
type launchEC2 struct {
	mu         sync.Mutex
	now        func() time.Time
	visibleAt  time.Time
	runningAt  time.Time
	state      string // after runningAt ("" = running)
	refuse     bool   // modify refused while pending
	modifyCode string // every modify fails with this code
	tags       map[string]string
	tokens     string
	modifies   int
}

const launchID = "i-0aaa0000000000021"

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " " + launchID}
}

func (f *launchEC2) stateAt() string {
	if f.now().Before(f.runningAt) {
		return "pending"
	}
	if f.state != "" {
		return f.state
	}
	return "running"
}

func (f *launchEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Before(f.visibleAt) {
		return nil, apiErr("InvalidInstanceID.NotFound")
	}
	hop := int32(2)
	if f.tokens == "required" {
		hop = 1
	}
	var tags []ec2types.Tag
	for k, v := range f.tags {
		tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{{
		InstanceId: aws.String(launchID), Tags: tags,
		State: &ec2types.InstanceState{Name: ec2types.InstanceStateName(f.stateAt())},
		MetadataOptions: &ec2types.InstanceMetadataOptionsResponse{
			HttpTokens: ec2types.HttpTokensState(f.tokens), HttpPutResponseHopLimit: aws.Int32(hop),
			HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled, State: ec2types.InstanceMetadataOptionsStateApplied,
		},
	}}}}}, nil
}

func (f *launchEC2) ModifyInstanceMetadataOptions(_ context.Context, _ *ec2.ModifyInstanceMetadataOptionsInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataOptionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.modifyCode != "":
		return nil, apiErr(f.modifyCode)
	case f.now().Before(f.visibleAt):
		return nil, apiErr("InvalidInstanceID.NotFound")
	case f.refuse && f.stateAt() == "pending", f.stateAt() == "terminated":
		return nil, apiErr("IncorrectInstanceState")
	}
	f.modifies++
	f.tokens = "required"
	return &ec2.ModifyInstanceMetadataOptionsOutput{}, nil
}

// TestLaunchRetries: the wait for instances EC2 cannot act on yet, on a
// fake clock (the sleeper advances it): how long it waits, how often it
// looks, and the one outcome it ends with. A just-launched instance is never
// gone because EC2 does not find it, nor a pending one because EC2 refused
// to modify it.
func TestLaunchRetries(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	stateChange := func(age time.Duration) event.Event {
		return event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1", Time: t0.Add(-age)},
			Kind: event.KindStateChange, StateChange: &event.StateChange{InstanceID: launchID, State: "pending"}}
	}
	fleet := event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1", Time: t0},
		Kind: event.KindCreateFleet, Fleet: &event.Fleet{Type: event.FleetInstant, InstanceIDs: []string{launchID}}}
	drift := event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1", Time: t0},
		Kind: event.KindModifyMetadataOptions, MetadataOptions: &event.MetadataOptionsChange{InstanceID: launchID}}
	sweep := event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1"}}

	tests := []struct {
		name       string
		e          event.Event
		visible    time.Duration // after t0
		running    time.Duration
		state      string
		refuse     bool
		modifyCode string
		scope      string
		tags       map[string]string
		outcome    outcome.Outcome
		detail     string
		maxWait    time.Duration // fake time the handler may spend
		modifies   int
	}{
		{name: "visible at once", e: stateChange(time.Minute), outcome: outcome.Remediated, modifies: 1},
		{name: "visible after 2 s", e: stateChange(time.Minute), visible: 2 * time.Second, outcome: outcome.Remediated, maxWait: 5 * time.Second, modifies: 1},
		{name: "CreateFleet instance visible after 5 s", e: fleet, visible: 5 * time.Second, outcome: outcome.Remediated, maxWait: 9 * time.Second, modifies: 1},
		{name: "not visible within the wait", e: stateChange(time.Minute), visible: time.Hour, outcome: outcome.Failed,
			detail: "does not show the just-launched instance yet", maxWait: DefaultLaunchWait},
		{name: "a launch event hours old: not found is gone", e: stateChange(2 * time.Hour), visible: time.Hour, outcome: outcome.Gone, detail: "not found"},
		{name: "drift: not found is gone", e: drift, visible: time.Hour, outcome: outcome.Gone, detail: "not found"},
		{name: "pending, refused until running after 3 s", e: stateChange(time.Minute), running: 3 * time.Second, refuse: true,
			outcome: outcome.Remediated, maxWait: 7 * time.Second, modifies: 1},
		{name: "pending and refused past the wait", e: stateChange(time.Minute), running: time.Hour, refuse: true, outcome: outcome.Failed,
			detail: "IncorrectInstanceState; the instance was still pending after", maxWait: DefaultLaunchWait},
		{name: "pending, accepted while pending", e: stateChange(time.Minute), running: time.Hour, outcome: outcome.Remediated, modifies: 1},
		{name: "refused while pending, then terminated", e: stateChange(time.Minute), running: time.Second, state: "terminated", refuse: true,
			outcome: outcome.Gone, detail: "instance is terminated", maxWait: 3 * time.Second},
		{name: "sweep: refused while pending, then running", e: sweep, running: 2 * time.Second, refuse: true,
			outcome: outcome.Remediated, maxWait: 5 * time.Second, modifies: 1},
		{name: "sweep: not found on modify is gone", e: sweep, modifyCode: "InvalidInstanceID.NotFound", outcome: outcome.Gone, detail: "disappeared"},
		{name: "just launched: not found on every modify is failed", e: fleet, modifyCode: "InvalidInstanceID.NotFound", outcome: outcome.Failed,
			detail: "does not show the just-launched instance yet", maxWait: DefaultLaunchWait},
		{name: "eks-nodes scope: untagged host ignored", e: stateChange(time.Minute), scope: imds.ScopeEKSNodes, outcome: outcome.Ignored, detail: imds.OutOfScope},
		{name: "eks-nodes scope: late-visible Karpenter node", e: fleet, visible: time.Second, scope: imds.ScopeEKSNodes,
			tags: map[string]string{"karpenter.sh/nodepool": "default"}, outcome: outcome.Remediated, maxWait: 3 * time.Second, modifies: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			clock := t0
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			var sleeps []time.Duration
			sleepFn := func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				sleeps = append(sleeps, d)
				clock = clock.Add(d)
				return ctx.Err()
			}
			f := &launchEC2{now: now, visibleAt: t0.Add(tt.visible), runningAt: t0.Add(tt.running), state: tt.state,
				refuse: tt.refuse, modifyCode: tt.modifyCode, tags: tt.tags, tokens: "optional"}
			h := New(func(context.Context, string, string) (EC2, error) { return f, nil }, nil,
				Config{Now: now, Sleep: sleepFn, Scope: tt.scope}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			var results []guardrail.Result
			if tt.e.Kind == "" {
				results = h.Enforce(context.Background(), tt.e.Account, tt.e.Region, []string{launchID})
			} else {
				results, _ = h.HandleEvent(context.Background(), tt.e)
			}
			if len(results) != 1 {
				t.Fatalf("results %+v", results)
			}
			r := results[0]
			if r.Outcome != tt.outcome || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("outcome %s (%s), want %s (%q)", r.Outcome, r.Detail, tt.outcome, tt.detail)
			}
			if waited := now().Sub(t0); waited > tt.maxWait {
				t.Errorf("waited %v, want at most %v (sleeps %v)", waited, tt.maxWait, sleeps)
			}
			if f.modifies != tt.modifies {
				t.Errorf("%d successful modifies, want %d", f.modifies, tt.modifies)
			}
			for i := 1; i < len(sleeps); i++ {
				if sleeps[i] < sleeps[i-1] && sleeps[i] != h.cfg.PollInterval {
					// the confirmation poll starts its own backoff
					t.Errorf("backoff shrank: %v", sleeps)
					break
				}
			}
		})
	}
}

// TestLaunchWaitKeepsTheReserve: with a deadline, the retries end Reserve
// before it, whatever LaunchWait says.
func TestLaunchWaitKeepsTheReserve(t *testing.T) {
	f := &launchEC2{now: time.Now, visibleAt: time.Now().Add(time.Hour), tokens: "optional"}
	h := New(func(context.Context, string, string) (EC2, error) { return f, nil }, nil,
		Config{Reserve: 300 * time.Millisecond, LaunchWait: time.Minute, RetryInterval: 20 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	start := time.Now()
	results, err := h.HandleEvent(ctx, event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1", Time: start},
		Kind: event.KindStateChange, StateChange: &event.StateChange{InstanceID: launchID, State: "running"}})
	if len(results) != 1 || results[0].Outcome != outcome.Failed || err == nil {
		t.Fatalf("results %+v, err %v", results, err)
	}
	if took := time.Since(start); took > 600*time.Millisecond {
		t.Errorf("took %v: the wait must end Reserve (300 ms) before the 800 ms deadline", took)
	}
}
