package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
)

const (
	hub    = "111122223333"
	member = "444455556666"
)

// Trust policies the fixtures use.
var (
	trustLambda = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	// Anyone with any web identity: critical.
	trustFederatedAny = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)
	// Pod Identity with no scope: warning.
	trustPodsUnscoped = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	// The member role, trusted by the hub's function roles.
	trustHub = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/credguard-sweeper"]},"Action":"sts:AssumeRole"}]}`)
)

// memberRoles are the two member roles the sweep assumes.
func memberRoles() []sandbox.Role {
	return []sandbox.Role{{Name: ids.IMDSRoleName, TrustPolicy: trustHub}, {Name: ids.TrustRoleName, TrustPolicy: trustHub}}
}

func startSandbox(t testing.TB, f *sandbox.Fixture) *sandbox.Server {
	t.Helper()
	s, err := sandbox.New(f)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if err := s.Start(""); err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sweeper wires a sweeper exactly as the CLI and the Lambda do, acting from
// the sandbox's hub account, with the guardrails' retry policy.
func sweeper(t testing.TB, s *sandbox.Server, cfg Config) *Sweeper {
	return sweeperWith(t, s, cfg, accounts.Retryer)
}

// fastRetryer retries like accounts.Retryer (the same attempts) with the
// exponential backoff counted in milliseconds instead of seconds, and
// without the adaptive mode's client-side rate limiter: after the first
// throttle that limiter paces a fresh client at half a call per second and
// recovers over seconds, which would make the test measure the SDK's pacing
// rather than the sweep. With millisecond backoff a retry often finds the
// sandbox's bucket still empty, so the client's retry quota (sized for
// second-scale backoff) is lifted too. TestSweepThrottledWithTheGuardrailsRetryer
// runs the real policy.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = accounts.MaxAttempts
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 8))), nil
		})
	})
}

func sweeperWith(t testing.TB, s *sandbox.Server, cfg Config, retryer func() aws.Retryer) *Sweeper {
	t.Helper()
	base, err := s.AWSConfig(context.Background(), s.HubAccount(), "us-east-1")
	if err != nil {
		t.Fatalf("sandbox config: %v", err)
	}
	base.Retryer = retryer
	st := settings.Settings{
		HubAccount: s.HubAccount(), IMDSRoleName: ids.IMDSRoleName, TrustRoleName: ids.TrustRoleName,
		SelfRoleARNs: settings.SelfRoleARNs("us-east-1", s.HubAccount()),
	}
	return FromConfig(base, st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func readOnly() Config { return Config{DryRunIMDS: true, DryRunTrust: true} }

// key identifies a finding in assertions.
type key struct {
	Account, Region, Resource string
	Kind                      Kind
}

// got is what a test asserts about a finding.
type got struct {
	Verdict Verdict
	Outcome outcome.Outcome
}

func byKey(t testing.TB, rep Report) map[key]got {
	t.Helper()
	out := map[key]got{}
	for _, f := range rep.Findings {
		k := key{f.Account, f.Region, f.Resource, f.Kind}
		if _, dup := out[k]; dup {
			t.Fatalf("finding reported twice: %+v", k)
		}
		out[k] = got{f.Verdict, f.Outcome}
	}
	return out
}

func noErrors(t testing.TB, rep Report) {
	t.Helper()
	for _, e := range rep.Errors {
		t.Errorf("scope error: %v", e)
	}
}

func roleARN(account, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name)
}

// writes lists the successful write calls in the journal.
func writes(s *sandbox.Server) []sandbox.Call {
	var out []sandbox.Call
	for _, c := range s.Journal() {
		if c.Write && c.Outcome == "ok" {
			out = append(out, c)
		}
	}
	return out
}

func countCalls(s *sandbox.Server, op, outcome string) int {
	n := 0
	for _, c := range s.Journal() {
		if (op == "" || c.Operation == op) && (outcome == "" || c.Outcome == outcome) {
			n++
		}
	}
	return n
}
