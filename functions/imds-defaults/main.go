// Command imds-defaults is the optional IMDS-defaults custom resource Lambda:
// it sets the account's regional IMDS defaults (tokens required, hop limit 1,
// and enforcement when asked) for the stack that declares it, and restores
// the previous values when the resource is deleted. Stacks in other
// accounts are served through the member role. Each request is verified
// against CloudFormation in the target account before anything is written.
package main

import (
	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/credguard/credguard/internal/imdsdefaults"
	"github.com/credguard/credguard/internal/invoke"
)

func main() {
	cfg, s, log := invoke.Setup()
	lambda.Start(cfn.LambdaWrap(imdsdefaults.FromConfig(cfg, s, imdsdefaults.Options{Log: log}).Handle))
}
