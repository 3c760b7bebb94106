// Command infra is Credguard's CDK app (cdk.json runs it with `go run ./infra`
// from the repository root). It only wires: the stacks live in infra/stacks,
// the configuration comes from the CDK context (see infra/README.md), and the
// functions' code from dist/<function>/bootstrap (`make build`).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/infra/stacks"
)

func main() {
	os.Exit(run())
}

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stacks.LoadConfig(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := stacks.Build(app, cfg, stacks.Options{DistDir: "dist"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app.Synth(nil)
	return 0
}
