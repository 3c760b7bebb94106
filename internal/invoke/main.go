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

// Main is a guardrail function's whole main: Setup, build the guardrail once
// per process, and serve invocations.
func Main[G Guardrail](build Build[G]) {
	cfg, s, log := Setup()
	lambda.Start(Handler(build(cfg, s, log, os.Stdout)))
}

// Setup is what every function does before serving: a JSON logger with the
// Lambda request id, the settings from the environment, and the AWS
// configuration with the guardrails' retry policy. A configuration error ends
// the process with a log line (Lambda reports the failed initialisation).
func Setup() (aws.Config, settings.Settings, *slog.Logger) {
	log := slog.New(lambdacontext.NewLogHandler())
	s, err := settings.FromEnv(os.Getenv)
	if err != nil {
		Fatal(log, "configuration", err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryer(accounts.Retryer))
	if err != nil {
		Fatal(log, "aws configuration", err)
	}
	return cfg, s, log
}

// Fatal logs what failed during initialisation and ends the process.
func Fatal(log *slog.Logger, what string, err error) {
	log.Error(what, "error", err.Error())
	os.Exit(1)
}
