// Command imds-defaults is the optional IMDS-defaults custom resource Lambda:
// it sets the account's regional IMDS defaults (tokens required, hop limit 1,
// and enforcement when asked) for the stack that declares it, and restores
// the previous values when the resource is deleted. Stacks in other
// accounts are served through the member role. Each request is verified
// against CloudFormation in the target account before anything is written.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/imdsdefaults"
	"github.com/credguard/credguard/internal/settings"
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
	lambda.Start(cfn.LambdaWrap(imdsdefaults.FromConfig(cfg, s, imdsdefaults.Options{Log: log}).Handle))
}
