package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveInBackground runs the subcommand until the test cancels it and waits
// for its banner.
func serveInBackground(t *testing.T, args ...string) (banner string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- serveSandbox(ctx, args, &stdout, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl-C stops it.") {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("sandbox exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner; stdout=%q stderr=%q", stdout.String(), stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopped := false
	stop = func() (int, string) {
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code, stdout.String()
		case <-time.After(10 * time.Second):
			t.Fatal("sandbox did not stop")
			return -1, ""
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return stdout.String(), stop
}

func bannerValue(t *testing.T, banner, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no %s:\n%s", pattern, banner)
	}
	return m[1]
}

func TestSandboxServesDemoFixture(t *testing.T) {
	banner, stop := serveInBackground(t)
	url := bannerValue(t, banner, `export AWS_ENDPOINT_URL=(\S+)`)
	key := bannerValue(t, banner, `export AWS_ACCESS_KEY_ID=(\S+)`)
	secret := bannerValue(t, banner, `export AWS_SECRET_ACCESS_KEY=(\S+)`)
	region := bannerValue(t, banner, `export AWS_DEFAULT_REGION=(\S+)`)
	if !strings.Contains(banner, "aws --endpoint-url "+url+" ec2 describe-instances") || !strings.Contains(banner, "embedded fixtures/demo.json") {
		t.Fatalf("banner:\n%s", banner)
	}
	cfg := aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	hub := bannerValue(t, banner, `hub account (\d{12})`)
	if aws.ToString(who.Account) != hub {
		t.Fatalf("printed credentials act in %s, want the hub %s", aws.ToString(who.Account), hub)
	}
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) == 0 {
		t.Fatal("the demo fixture's hub region has no instances")
	}
	code, all := stop()
	if code != 0 || !strings.Contains(all, "stopped after 2 calls") {
		t.Fatalf("exit %d, output:\n%s", code, all)
	}
}

func TestSandboxServesGivenFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	fixture := `{"hubAccount": "123456789012", "accounts": {"123456789012": {"regions": {"ap-south-1": {}}}}}`
	if err := os.WriteFile(path, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	banner, stop := serveInBackground(t, "--fixture", path, "--addr", "127.0.0.1:0")
	if bannerValue(t, banner, `hub account (\d{12})`) != "123456789012" || bannerValue(t, banner, `AWS_DEFAULT_REGION=(\S+)`) != "ap-south-1" {
		t.Fatalf("banner:\n%s", banner)
	}
	if code, _ := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestSandboxUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"hubAccount": "111", "accounts": {"111": {}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--port", "1"}, "flag provided but not defined"},
		{"extra argument", []string{"serve"}, `unexpected argument "serve"`},
		{"missing fixture", []string{"--fixture", filepath.Join(dir, "none.json")}, "no such file"},
		{"invalid fixture", []string{"--fixture", bad}, `accounts["111"]: account id must be 12 digits`},
		{"not loopback", []string{"--addr", "0.0.0.0:8080"}, "loopback only"},
		{"malformed addr", []string{"--addr", "8080"}, "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := serveSandbox(context.Background(), tt.args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q, want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}
