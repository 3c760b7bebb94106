// Command sweeper is the scheduled sweep Lambda: it lists every instance,
// launch template and role of the organization's accounts (or the configured
// ones) and regions, remediates through the guardrails' own code, and
// publishes one summary notification.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/sweep"
)

func main() {
	cfg, s, log := invoke.Setup()
	dryRunIMDS, dryRunTrust, err := sweep.DryRunFromEnv(os.Getenv, s.DryRun)
	if err != nil {
		invoke.Fatal(log, "configuration", err)
	}
	job := sweep.NewScheduled(cfg, s, sweep.Config{DryRunIMDS: dryRunIMDS, DryRunTrust: dryRunTrust}, log)
	lambda.Start(job.Handle)
}
