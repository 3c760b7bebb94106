// Command sweeper is the scheduled sweep Lambda: it lists every instance,
// launch template and role of the organization's accounts (or the configured
// ones) and regions, remediates through the guardrails' own code, and
// publishes one summary notification.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/sweep"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	s, err := settings.FromEnv(os.Getenv)
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	dryRunIMDS, dryRunTrust, err := sweep.DryRunFromEnv(os.Getenv, s.DryRun)
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryer(accounts.Retryer))
	if err != nil {
		log.Error("aws configuration", "error", err.Error())
		os.Exit(1)
	}
	job := sweep.NewScheduled(cfg, s, sweep.Config{DryRunIMDS: dryRunIMDS, DryRunTrust: dryRunTrust}, log)
	lambda.Start(job.Handle)
}
