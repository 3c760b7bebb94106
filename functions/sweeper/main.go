// Command sweeper is the scheduled sweep's per-scope step, run by the
// state machine's Distributed Map once per scope: it sweeps one account's
// roles, or its instances and launch templates in one region, remediating
// through the guardrails' own code, and returns the scope's bounded result.
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
	step := sweep.NewScopeStep(cfg, s, sweep.Config{DryRunIMDS: dryRunIMDS, DryRunTrust: dryRunTrust}, log)
	lambda.Start(step.Handle)
}
