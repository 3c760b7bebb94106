package accounts

import (
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// MaxAttempts bounds every AWS call's attempts (the first try included).
const MaxAttempts = 10

// Retryer is the retry policy of every guardrail client: the SDK's adaptive
// mode (client-side rate limiting that backs off on throttling errors such as
// EC2's RequestLimitExceeded) with bounded attempts and backoff.
//
// The adaptive rate limiter is told about a throttling error only once the
// client has been sending for WarmUp without a pause (see sustainedThrottle);
// earlier throttles are still retried with the standard backoff.
func Retryer() aws.Retryer {
	sustained := &sustainedThrottle{now: time.Now}
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.Throttles = []retry.IsErrorThrottle{sustained}
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = MaxAttempts
			so.MaxBackoff = 5 * time.Second
		})
	})
}

// WarmUp is how long a client must have been sending, without a pause of
// more than WarmUp, before a throttling error slows its adaptive rate limiter.
//
// The limiter sets its rate from the request rate it measured over whole
// half-second windows. A throttle in the first window of a burst (a burst
// small enough to be spent at once, as a 1,000-instance event meets) finds
// no measurement yet: the rate falls to the floor of 0.5 requests a second
// and takes seconds to climb back (BENCHMARKS.md measures it). After WarmUp
// the measurement covers the burst and throttles steer the rate as intended.
const WarmUp = time.Second

// sustainedThrottle classifies throttling errors for the adaptive rate
// limiter (it sees every attempt's result, nil for a success).
type sustainedThrottle struct {
	now func() time.Time

	mu    sync.Mutex
	start time.Time // first attempt of the current burst
	last  time.Time // latest attempt
}

func (s *sustainedThrottle) IsErrorThrottle(err error) aws.Ternary {
	now := s.now()
	s.mu.Lock()
	if s.last.IsZero() || now.Sub(s.last) > WarmUp {
		s.start = now
	}
	s.last = now
	warming := now.Sub(s.start) < WarmUp
	s.mu.Unlock()
	if err == nil || warming {
		return aws.FalseTernary
	}
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err)
}
