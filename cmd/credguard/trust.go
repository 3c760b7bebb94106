package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/credguard/credguard/internal/trust"
)

const trustUsage = `usage: credguard trust check [--json] FILE|-
       credguard trust fix [--cluster-arn ARN --namespace NS --service-account SA] [--issuer URL] FILE|-

  check  judge an IAM role trust policy; exit 0 when ok or warning, 1 when
         critical, 2 when the input is not a trust policy
  fix    print the policy with only its critical principals removed; with a
         workload, Pod Identity statements (and public principals) are scoped
         to it, and with --issuer (the cluster's OIDC issuer URL, as
         DescribeCluster returns it) IRSA statements of that issuer too;
         unchanged when nothing is critical

FILE holds the policy as JSON, raw or URL-encoded as IAM GetRole returns it;
"-" reads standard input. Rules: docs/trust-rules.md.
`

// runTrust implements "credguard trust check|fix".
func runTrust(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, trustUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return runTrustCheck(args[1:], stdin, stdout, stderr)
	case "fix":
		return runTrustFix(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, trustUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "credguard trust: unknown subcommand %q\n%s", args[0], trustUsage)
		return 2
	}
}

func runTrustCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newTrustFlags("check", stderr)
	asJSON := fs.Bool("json", false, `print {"verdict": …, "findings": […]} instead of text`)
	name, p, code, ok := trustInput(fs, args, stdin, stdout, stderr)
	if !ok {
		return code
	}
	report := trust.Analyze(p)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(report); err != nil {
			fmt.Fprintf(stderr, "credguard trust check: %v\n", err)
			return 2
		}
	} else {
		fmt.Fprintf(stdout, "%s: %s", name, report.Verdict)
		if len(report.Findings) == 0 {
			fmt.Fprint(stdout, " (no findings)")
		}
		fmt.Fprintln(stdout)
		for _, f := range report.Findings {
			fmt.Fprintf(stdout, "  statement %d  %-8s  %s\n      %s\n", f.Statement, f.Severity, f.Rule, f.Detail)
		}
	}
	if report.Critical() {
		return 1
	}
	return 0
}

func runTrustFix(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newTrustFlags("fix", stderr)
	clusterARN := fs.String("cluster-arn", "", "EKS cluster ARN of the workload (optional)")
	namespace := fs.String("namespace", "", "Kubernetes namespace of the workload")
	serviceAccount := fs.String("service-account", "", "Kubernetes service account of the workload")
	issuer := fs.String("issuer", "", "OIDC issuer URL of the workload's cluster (https://oidc.eks.REGION.amazonaws.com/id/ID); without it IRSA statements are never scoped")
	_, p, code, ok := trustInput(fs, args, stdin, stdout, stderr)
	if !ok {
		return code
	}
	var w *trust.Workload
	switch {
	case *namespace != "" && *serviceAccount != "":
		w = &trust.Workload{ClusterARN: *clusterARN, Namespace: *namespace, ServiceAccount: *serviceAccount, Issuer: *issuer}
		if err := w.Validate(); err != nil {
			fmt.Fprintf(stderr, "credguard trust fix: %v\n", err)
			return 2
		}
	case *namespace != "" || *serviceAccount != "" || *clusterARN != "" || *issuer != "":
		fmt.Fprintf(stderr, "credguard trust fix: a workload needs both --namespace and --service-account\n%s", trustUsage)
		return 2
	}
	fixed, changes, err := trust.Fix(p, w)
	if err != nil {
		fmt.Fprintf(stderr, "credguard trust fix: %v\n", err)
		return 2
	}
	out, err := trust.Marshal(fixed)
	if err != nil {
		fmt.Fprintf(stderr, "credguard trust fix: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s\n", out)
	if len(changes) == 0 {
		fmt.Fprintln(stderr, "credguard trust fix: nothing critical; policy unchanged")
	}
	for _, c := range changes {
		fmt.Fprintf(stderr, "credguard trust fix: %s\n", c)
	}
	return 0
}

func newTrustFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("credguard trust "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// trustInput parses the flags (before or after FILE), reads FILE or stdin
// and parses the policy. When ok is false the command ends with code.
func trustInput(fs *flag.FlagSet, args []string, stdin io.Reader, stdout, stderr io.Writer) (name string, p trust.Policy, code int, ok bool) {
	cmd := fs.Name()
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, trustUsage)
		return "", trust.Policy{}, 0, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n%s", cmd, err, trustUsage)
		return "", trust.Policy{}, 2, false
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one FILE (or - for standard input), got %d\n%s", cmd, len(files), trustUsage)
		return "", trust.Policy{}, 2, false
	}
	name = files[0]
	var r io.Reader = stdin
	if name == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return "", trust.Policy{}, 2, false
		}
		defer f.Close()
		r = f
	}
	doc, err := io.ReadAll(io.LimitReader(r, trust.MaxDocumentBytes+1))
	if err != nil {
		fmt.Fprintf(stderr, "%s: read %s: %v\n", cmd, name, err)
		return "", trust.Policy{}, 2, false
	}
	p, err = trust.Parse(doc)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s is not a trust policy: %v\n", cmd, name, err)
		return "", trust.Policy{}, 2, false
	}
	return name, p, 0, true
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("--" ends the flags).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
