// Command imds-defaults is the optional IMDS-defaults custom resource Lambda:
// it sets the account's regional IMDS defaults (tokens required, hop limit 1,
// and enforcement when asked) for the stack that declares it, and restores
// the previous values when the resource is deleted. Stacks in other
// accounts are served through its own member role. Each request is verified
// against CloudFormation in the target account before anything is written,
// and answered only at CloudFormation's response bucket (a request refused
// as forged gets no answer).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/credguard/credguard/internal/imdsdefaults"
	"github.com/credguard/credguard/internal/invoke"
)

// envTestResponseOrigin lets tests under the Lambda emulator answer a local
// server: only http://127.0.0.1:PORT is accepted (imdsdefaults.LoopbackOrigin);
// the infrastructure never sets it.
const envTestResponseOrigin = "CREDGUARD_TEST_RESPONSE_ORIGIN"

func main() {
	cfg, s, log := invoke.Setup()
	h := imdsdefaults.FromConfig(cfg, s, imdsdefaults.Options{Log: log})
	r := &imdsdefaults.Responder{Client: imdsdefaults.NewHTTPClient(imdsdefaults.DefaultResponseTimeout), Log: log, Region: cfg.Region}
	if v := os.Getenv(envTestResponseOrigin); v != "" {
		origin, err := imdsdefaults.LoopbackOrigin(v)
		if err != nil {
			invoke.Fatal(log, envTestResponseOrigin, err)
		}
		r.Loopback = origin
	}
	lambda.Start(func(ctx context.Context, e cfn.Event) error { return r.Handle(ctx, e, h.Handle) })
}
