package invoke

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/settings"
)

// Build wires a guardrail from the hub's AWS configuration and the function
// settings (imdsguard.FromConfig, trustguard.FromConfig).
type Build[G Guardrail] func(cfg aws.Config, s settings.Settings, log *slog.Logger, metricsOut io.Writer) G

// Main is a guardrail function's whole main: read the settings, load the AWS
// configuration (adaptive retries), build the guardrail once per process, and
// serve invocations. Configuration errors end the process with a log line.
func Main[G Guardrail](build Build[G]) {
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
	lambda.Start(Handler(build(cfg, s, log, os.Stdout)))
}
