// Command sweep-list is the scheduled sweep's first step: it lists the
// accounts (configured, or the organization's active ones) × the regions as
// scopes and writes them to the sweep bucket for the Distributed Map.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/sweep"
)

func main() {
	cfg, s, log := invoke.Setup()
	bucket, err := sweep.BucketFromEnv(os.Getenv)
	if err != nil {
		invoke.Fatal(log, "configuration", err)
	}
	lambda.Start(sweep.NewListStep(cfg, s, bucket, log).Handle)
}
