package imdsguard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/outcome"
)

// raceEC2 is a small EC2 for the recheck logic: instances with tokens and
// hop limit, a journal of calls, and a hook run after each modify (to move
// the clock and to let "another event" fix an instance meanwhile).
type raceEC2 struct {
	mu        sync.Mutex
	tokens    map[string]string
	hop       map[string]int32
	describes [][]string
	modifies  []string
	afterMod  func(id string)
}

func (f *raceEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes = append(f.describes, append([]string(nil), in.InstanceIds...))
	var insts []ec2types.Instance
	for _, id := range in.InstanceIds {
		insts = append(insts, ec2types.Instance{
			InstanceId: aws.String(id),
			State:      &ec2types.InstanceState{Name: ec2types.InstanceStateNamePending},
			MetadataOptions: &ec2types.InstanceMetadataOptionsResponse{
				HttpTokens: ec2types.HttpTokensState(f.tokens[id]), HttpPutResponseHopLimit: aws.Int32(f.hop[id]),
				HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled, State: ec2types.InstanceMetadataOptionsStateApplied,
			},
		})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: insts}}}, nil
}

func (f *raceEC2) ModifyInstanceMetadataOptions(_ context.Context, in *ec2.ModifyInstanceMetadataOptionsInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataOptionsOutput, error) {
	id := aws.ToString(in.InstanceId)
	f.mu.Lock()
	f.modifies = append(f.modifies, id)
	f.tokens[id], f.hop[id] = string(in.HttpTokens), aws.ToInt32(in.HttpPutResponseHopLimit)
	hook := f.afterMod
	f.mu.Unlock()
	if hook != nil {
		hook(id)
	}
	return &ec2.ModifyInstanceMetadataOptionsOutput{}, nil
}

// fix is what the other event's handler does to an instance.
func (f *raceEC2) fix(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[id], f.hop[id] = "required", 1
}

// TestRecheckBeforeWrite: an instance whose description has grown older than
// recheckAfter by the time its write is due is described again, and is not
// written when another event has fixed it meanwhile.
func TestRecheckBeforeWrite(t *testing.T) {
	ids := []string{"i-0aaa0000000000011", "i-0aaa0000000000012", "i-0aaa0000000000013"}
	cases := []struct {
		name         string
		step         time.Duration // the clock's advance per modify
		wantModifies []string
		wantOutcomes []outcome.Outcome
		wantDescribe [][]string
	}{
		{
			name:         "slow writes: look again, skip what was fixed",
			step:         time.Second,
			wantModifies: ids[:2],
			wantOutcomes: []outcome.Outcome{outcome.Remediated, outcome.Remediated, outcome.Compliant},
			wantDescribe: [][]string{ids, ids[1:2], ids[2:3], ids[:2]}, // first, rechecks, confirmation
		},
		{
			name:         "fast writes: no second look",
			step:         time.Millisecond,
			wantModifies: ids,
			wantOutcomes: []outcome.Outcome{outcome.Remediated, outcome.Remediated, outcome.Remediated},
			wantDescribe: [][]string{ids, ids},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := &raceEC2{tokens: map[string]string{}, hop: map[string]int32{}}
			for _, id := range ids {
				client.tokens[id], client.hop[id] = "optional", 2
			}
			var clockMu sync.Mutex
			clock := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
			client.afterMod = func(id string) {
				clockMu.Lock()
				clock = clock.Add(tc.step)
				clockMu.Unlock()
				if id == ids[0] {
					client.fix(ids[2]) // the third instance's own event lands meanwhile
				}
			}
			h := New(func(context.Context, string, string) (EC2, error) { return client, nil }, nil,
				Config{Concurrency: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			h.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }

			e := event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1"}}
			results := h.enforce(context.Background(), client, e, ids)
			var outcomes []outcome.Outcome
			for _, r := range results {
				outcomes = append(outcomes, r.Outcome)
			}
			if !reflect.DeepEqual(outcomes, tc.wantOutcomes) {
				t.Errorf("outcomes %v, want %v", outcomes, tc.wantOutcomes)
			}
			if !reflect.DeepEqual(client.modifies, tc.wantModifies) {
				t.Errorf("modified %v, want %v", client.modifies, tc.wantModifies)
			}
			if fmt.Sprint(client.describes) != fmt.Sprint(tc.wantDescribe) {
				t.Errorf("described %v, want %v", client.describes, tc.wantDescribe)
			}
		})
	}
}

// TestRecheckConcurrentWrites: with several writes in flight, every write
// still follows a description younger than recheckAfter, an instance fixed
// meanwhile is not written, and each instance is written at most once
// (run with -race: results are filled by index).
func TestRecheckConcurrentWrites(t *testing.T) {
	var ids []string
	for n := range 12 {
		ids = append(ids, fmt.Sprintf("i-0bbb00000000000%02d", n))
	}
	fixed := ids[len(ids)-1]
	client := &raceEC2{tokens: map[string]string{}, hop: map[string]int32{}}
	for _, id := range ids {
		client.tokens[id], client.hop[id] = "optional", 2
	}
	var clockMu sync.Mutex
	var once sync.Once
	clock := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	client.afterMod = func(string) {
		clockMu.Lock()
		clock = clock.Add(time.Second)
		clockMu.Unlock()
		once.Do(func() { client.fix(fixed) }) // its own event lands during the first write
	}
	h := New(func(context.Context, string, string) (EC2, error) { return client, nil }, nil,
		Config{Concurrency: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	h.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }

	e := event.Event{Envelope: event.Envelope{Account: "111122223333", Region: "us-east-1"}}
	results := h.enforce(context.Background(), client, e, ids)
	seen := map[string]int{}
	for _, id := range client.modifies {
		seen[id]++
	}
	for i, r := range results {
		if r.Resource != ids[i] {
			t.Fatalf("result %d is for %s, want %s", i, r.Resource, ids[i])
		}
		if seen[ids[i]] > 1 {
			t.Errorf("%s written %d times", ids[i], seen[ids[i]])
		}
		want := outcome.Remediated
		if ids[i] == fixed {
			want = outcome.Compliant
		}
		if r.Outcome != want {
			t.Errorf("%s: %s (%s), want %s", ids[i], r.Outcome, r.Detail, want)
		}
	}
	if seen[fixed] != 0 {
		t.Errorf("the instance fixed meanwhile was written")
	}
	if len(client.describes) < 3 {
		t.Errorf("described %v: the slow writes were never rechecked", client.describes)
	}
}
