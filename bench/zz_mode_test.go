package bench

import (
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

func init() {
	if os.Getenv("MODE") == "standard" {
		debugRetryer = func() aws.Retryer { return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 10; so.MaxBackoff = 5 * time.Second }) }
	}
}
