package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/sandbox"
)

// demoFixture is the fixture served when --fixture is not given.
const demoFixture = "fixtures/demo.json"

const sandboxUsage = `usage: credguard sandbox [--addr 127.0.0.1:PORT] [--fixture F.json]

Serves the local AWS sandbox (EC2, IAM, EKS, SNS, STS, Organizations, Secrets
Manager and CloudFormation on their real wire protocols) on loopback until
interrupted, seeded from F.json or from the embedded demo fixture when
--fixture is not given.
Exit 2 for bad flags or a bad fixture.
`

func runSandbox(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveSandbox(ctx, args, stdout, stderr)
}

// serveSandbox serves until ctx is done and returns the exit code.
func serveSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, sandboxUsage) }
	addr := flags.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	fixturePath := flags.String("fixture", "", "sandbox fixture (JSON); default: the embedded demo fixture")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "credguard sandbox: unexpected argument %q\n%s", flags.Arg(0), sandboxUsage)
		return 2
	}
	if err := checkLoopback(*addr); err != nil {
		fmt.Fprintf(stderr, "credguard sandbox: --addr %s: %v\n", *addr, err)
		return 2
	}

	var (
		fixture *sandbox.Fixture
		err     error
		source  = *fixturePath
	)
	if source != "" {
		fixture, err = sandbox.LoadFixture(source)
	} else {
		source = "embedded " + demoFixture
		fixture, err = loadDemoFixture()
	}
	if err != nil {
		fmt.Fprintf(stderr, "credguard sandbox: bad fixture (%s):\n%v\n", source, err)
		return 2
	}
	s, err := sandbox.New(fixture)
	if err != nil {
		fmt.Fprintf(stderr, "credguard sandbox: %v\n", err)
		return 2
	}
	if err := s.Start(*addr); err != nil {
		fmt.Fprintf(stderr, "credguard sandbox: %v\n", err)
		return 1
	}
	defer s.Close()
	printSandboxBanner(stdout, s, fixture, source)

	<-ctx.Done()
	fmt.Fprintf(stdout, "credguard sandbox: stopped after %d calls\n", len(s.Journal()))
	return 0
}

// checkLoopback refuses addresses other machines could reach: the sandbox
// verifies no signatures.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("the sandbox serves loopback only (127.0.0.1, ::1 or localhost)")
}

func printSandboxBanner(w io.Writer, s *sandbox.Server, f *sandbox.Fixture, source string) {
	hub := f.HubAccount
	region := "us-east-1"
	if regions := f.Accounts[hub].Regions; len(regions) > 0 {
		names := make([]string, 0, len(regions))
		for name := range regions {
			names = append(names, name)
		}
		sort.Strings(names)
		region = names[0]
	}
	creds := s.Credentials(hub)
	url := s.URL()
	fmt.Fprintf(w, "credguard sandbox: serving %s (fixture: %s)\n", url, source)
	fmt.Fprintf(w, "hub account %s; credentials acting in it (any access key the sandbox did not issue acts in the hub too):\n", hub)
	fmt.Fprintf(w, "  export AWS_ENDPOINT_URL=%s\n", url)
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s\n", creds.AccessKeyID)
	fmt.Fprintf(w, "  export AWS_SECRET_ACCESS_KEY=%s\n", creds.SecretAccessKey)
	fmt.Fprintf(w, "  export AWS_DEFAULT_REGION=%s\n", region)
	fmt.Fprintf(w, "try:\n  aws --endpoint-url %s ec2 describe-instances --region %s\n", url, region)
	if r := f.Accounts[hub].Regions[region]; r != nil {
		for _, c := range r.Clusters {
			if len(c.Pods) > 0 {
				fmt.Fprintf(w, "  credguard k8s audit --cluster %s --region %s   # Kubernetes API under %s\n", c.Name, region, s.KubeURL())
			}
		}
	}
	others := make([]string, 0, len(f.Accounts))
	for id := range f.Accounts {
		if id != hub {
			others = append(others, id)
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		fmt.Fprintln(w, "other accounts (or assume a role there with sts assume-role):")
		for _, id := range others {
			c := s.Credentials(id)
			fmt.Fprintf(w, "  %s: AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", id, c.AccessKeyID, c.SecretAccessKey)
		}
	}
	fmt.Fprintln(w, "Ctrl-C stops it.")
}

// loadDemoFixture parses the demo fixture embedded in the binary.
func loadDemoFixture() (*sandbox.Fixture, error) {
	data, err := fs.ReadFile(events.Files, demoFixture)
	if err != nil {
		return nil, err
	}
	return sandbox.ParseFixture(data)
}
