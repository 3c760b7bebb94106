// Command trust-guard is the trust-policy guardrail Lambda: it narrows
// wildcard role trust named by EKS Pod Identity and IAM events and revokes
// the sessions already issued.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/trustguard"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	s, err := settings.FromEnv(os.Getenv)
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryer(accounts.Retryer))
	if err != nil {
		log.Error("aws configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(invoke.Handler(trustguard.FromConfig(cfg, s, log, os.Stdout)))
}
