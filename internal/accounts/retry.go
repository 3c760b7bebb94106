package accounts

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// MaxAttempts bounds every AWS call's attempts (the first try included).
const MaxAttempts = 10

// Retryer is the retry policy of every guardrail client: the SDK's adaptive
// mode (client-side rate limiting that backs off on throttling errors such as
// EC2's RequestLimitExceeded) with bounded attempts and backoff.
func Retryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = MaxAttempts
			so.MaxBackoff = 5 * time.Second
		})
	})
}
