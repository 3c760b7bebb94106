package bench

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/credguard/credguard/internal/sandbox"
)

// TestEventSource checks the queue model the storm relies on: batches of at
// most BatchSize, at most MaxConcurrency invocations at once, each message
// handled until it succeeds, failed items received again and dead-lettered
// after MaxReceive receives.
func TestEventSource(t *testing.T) {
	var (
		mu       sync.Mutex
		seen     = map[string]int{} // body → receives
		inFlight atomic.Int32
		peak     atomic.Int32
		envs     atomic.Int32
	)
	fn := func(ctx context.Context, payload json.RawMessage) (any, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("invocation without a deadline")
		}
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		if len(ev.Records) > 3 {
			return nil, errors.New("batch larger than BatchSize")
		}
		time.Sleep(time.Millisecond)
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			seen[r.Body]++
			// "flaky" fails its first receive; "poison" always fails.
			if r.Body == "poison" || (r.Body == "flaky" && seen[r.Body] == 1) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	src := &EventSource{BatchSize: 3, MaxConcurrency: 2, MaxReceive: 4, Timeout: time.Second,
		NewFunction: func() (Function, error) { envs.Add(1); return fn, nil }}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	bodies := []string{"a", "b", "c", "d", "e", "f", "g", "flaky", "poison"}
	for _, body := range bodies {
		src.Send([]byte(body))
	}
	src.Close()
	stats, err := src.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range bodies {
		want := 1
		switch body {
		case "flaky":
			want = 2
		case "poison":
			want = 4
		}
		if seen[body] != want {
			t.Errorf("%s received %d times, want %d", body, seen[body], want)
		}
	}
	if stats.Sent != len(bodies) || stats.Redeliveries != 1+3 || stats.DeadLettered != 1 || stats.MaxBatch > 3 {
		t.Errorf("stats %+v", stats)
	}
	if stats.Receives != len(bodies)+stats.Redeliveries {
		t.Errorf("%d receives for %d messages and %d redeliveries", stats.Receives, len(bodies), stats.Redeliveries)
	}
	if envs.Load() != 2 || peak.Load() > 2 {
		t.Errorf("%d execution environments, %d invocations at once; want 2 and at most 2", envs.Load(), peak.Load())
	}
}

// TestEventSourceInvocationError: an invocation that fails as a whole is
// reported and its messages are received again.
func TestEventSourceInvocationError(t *testing.T) {
	var calls atomic.Int32
	src := &EventSource{BatchSize: 10, MaxConcurrency: 1, MaxReceive: 2, Timeout: time.Second,
		NewFunction: func() (Function, error) {
			return func(context.Context, json.RawMessage) (any, error) {
				calls.Add(1)
				return nil, errors.New("boom")
			}, nil
		}}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.Send([]byte("x"))
	src.Close()
	stats, err := src.Wait()
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %v, want the invocation's", err)
	}
	if calls.Load() != 2 || stats.DeadLettered != 1 {
		t.Errorf("%d invocations, stats %+v; want 2 and one dead letter", calls.Load(), stats)
	}
}

func TestBucketBound(t *testing.T) {
	for _, tc := range []struct {
		n, burst int
		rate     float64
		want     time.Duration
	}{
		{1000, 50, 100, 9500 * time.Millisecond},
		{1000, 200, 5, 160 * time.Second},
		{40, 50, 100, 0},
		{10, 0, 0, 0},
	} {
		if got := BucketBound(tc.n, tc.burst, tc.rate); got != tc.want {
			t.Errorf("BucketBound(%d, %d, %v) = %v, want %v", tc.n, tc.burst, tc.rate, got, tc.want)
		}
	}
}

// TestEventSourceDelay: with a delivery delay, no message is received before
// its delay has passed, and closing the source does not drop the messages
// still delayed (the pollers wait for them).
func TestEventSourceDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	var (
		mu       sync.Mutex
		received = map[string]time.Time{}
	)
	fn := func(ctx context.Context, payload json.RawMessage) (any, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			received[r.Body] = time.Now()
		}
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, nil
	}
	src := &EventSource{BatchSize: 10, MaxConcurrency: 2, MaxReceive: 3, Timeout: time.Second, Delay: delay,
		NewFunction: func() (Function, error) { return fn, nil }}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := map[string]time.Time{}
	for _, body := range []string{"a", "b", "c"} {
		sent[body] = time.Now()
		src.Send([]byte(body))
	}
	src.Close() // before any message is visible
	stats, err := src.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for body, at := range sent {
		got, ok := received[body]
		if !ok {
			t.Errorf("%s never received: closing dropped a delayed message", body)
			continue
		}
		if wait := got.Sub(at); wait < delay {
			t.Errorf("%s received %v after it was sent, before its %v delay", body, wait, delay)
		}
	}
	if stats.Sent != 3 || stats.Receives != 3 || stats.Redeliveries != 0 {
		t.Errorf("stats %+v", stats)
	}
}

func TestSummariseRemediated(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sum := Summarise([]sandbox.Call{
		{Operation: ModifyOp, Resource: "i-1", Outcome: "ok", Time: at(1)},
		{Operation: ModifyOp, Resource: "i-2", Outcome: "RequestLimitExceeded", Time: at(2)},
		{Operation: ModifyOp, Resource: "i-2", Outcome: "ok", Time: at(3)},
		{Operation: "DescribeInstances", Outcome: "ok", Time: at(4)},
		{Operation: ModifyOp, Resource: "i-1", Outcome: "ok", Time: at(5)}, // a second write
	})
	if got := sum.Remediated(); !got.Equal(at(3)) {
		t.Errorf("Remediated = %v, want %v (the last first write; the second write of i-1 does not count)", got, at(3))
	}
	if !sum.LastWrite.Equal(at(5)) || sum.Duplicates() != 1 || sum.Throttled != 1 || sum.Total != 5 {
		t.Errorf("LastWrite %v, duplicates %d, throttled %d, total %d; want %v, 1, 1, 5",
			sum.LastWrite, sum.Duplicates(), sum.Throttled, sum.Total, at(5))
	}
}
