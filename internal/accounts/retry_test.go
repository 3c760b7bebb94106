package accounts

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

func TestRetryerBounds(t *testing.T) {
	r := Retryer()
	if _, ok := r.(*retry.AdaptiveMode); !ok {
		t.Fatalf("Retryer is %T, want the SDK's adaptive mode", r)
	}
	if r.MaxAttempts() != MaxAttempts {
		t.Errorf("MaxAttempts %d, want %d", r.MaxAttempts(), MaxAttempts)
	}
	throttle := &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
	if !r.IsErrorRetryable(throttle) {
		t.Error("a throttling error is not retried")
	}
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		d, err := r.RetryDelay(attempt, throttle)
		if err != nil || d > 5*time.Second {
			t.Errorf("attempt %d: delay %v (%v), want at most 5s", attempt, d, err)
		}
	}
}

// TestSustainedThrottle: the adaptive limiter hears of throttling only after
// WarmUp of continuous sending; a pause longer than WarmUp starts over.
func TestSustainedThrottle(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
	other := errors.New("connection reset")
	clock := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	s := &sustainedThrottle{now: func() time.Time { return clock }}
	step := func(d time.Duration, err error) aws.Ternary {
		clock = clock.Add(d)
		return s.IsErrorThrottle(err)
	}
	steps := []struct {
		name  string
		after time.Duration
		err   error
		want  aws.Ternary
	}{
		{"first response of a burst", 0, nil, aws.FalseTernary},
		{"throttle in the first window", 10 * time.Millisecond, throttle, aws.FalseTernary},
		{"still warming up", 400 * time.Millisecond, throttle, aws.FalseTernary},
		{"success", 400 * time.Millisecond, nil, aws.FalseTernary},
		{"throttle after WarmUp of sending", 300 * time.Millisecond, throttle, aws.TrueTernary},
		{"other errors are not throttles", 10 * time.Millisecond, other, aws.UnknownTernary},
		{"a pause longer than WarmUp starts a new burst", WarmUp + time.Millisecond, throttle, aws.FalseTernary},
		{"sustained again", WarmUp - time.Millisecond, throttle, aws.FalseTernary},
		{"and engaged", 2 * time.Millisecond, throttle, aws.TrueTernary},
	}
	for _, st := range steps {
		if got := step(st.after, st.err); got != st.want {
			t.Errorf("%s: %v, want %v", st.name, got, st.want)
		}
	}
}
