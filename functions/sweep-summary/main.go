// Command sweep-summary is the scheduled sweep's last step: it reads the
// Distributed Map's results from the sweep bucket, publishes the one
// summary notification and writes the run's metrics.
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
	dryRunIMDS, dryRunTrust, err := sweep.DryRunFromEnv(os.Getenv, s.DryRun)
	if err != nil {
		invoke.Fatal(log, "configuration", err)
	}
	lambda.Start(sweep.NewSummaryStep(cfg, s, bucket, dryRunIMDS || dryRunTrust, os.Stdout, log).Handle)
}
