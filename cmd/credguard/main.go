// Command credguard is the Credguard command line: replay sample events against
// a local AWS sandbox, serve that sandbox, check and fix trust policies, scan
// accounts, and print prevention policies.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: credguard <command> [flags]

commands:
  demo      replay every sample event against the demo fixture
  replay    run EventBridge events through the guardrails against a sandbox
  sandbox   serve the local AWS sandbox until interrupted
  trust     check or fix an IAM role trust policy (trust check | trust fix)
  scan      list (and optionally fix) non-compliant instances, launch templates and roles
  policies  print prevention policies (policies scp)
  k8s       audit a Kubernetes cluster's pods and service accounts (k8s audit)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "replay":
		return runReplay(args[1:], stdout, stderr)
	case "sandbox":
		return runSandbox(args[1:], stdout, stderr)
	case "trust":
		return runTrust(args[1:], stdin, stdout, stderr)
	case "scan":
		return runScan(args[1:], stdout, stderr)
	case "policies":
		return runPolicies(args[1:], stdout, stderr)
	case "k8s":
		return runK8s(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "credguard: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
