package imdsguard_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

// enforceHandler serves the demo fixture and wires the handler as the Lambda
// does, with a topic (Enforce must not publish to it).
func enforceHandler(t *testing.T, dryRun bool) (*sandbox.Server, *imdsguard.Handler) {
	t.Helper()
	f := sandboxtest.Demo(t)
	sb := sandboxtest.Start(t, f)
	cfg, err := sb.AWSConfig(context.Background(), f.HubAccount, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = accounts.Retryer
	return sb, imdsguard.FromConfig(cfg, replay.Settings(f.HubAccount, "us-east-1", dryRun), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

func TestEnforceListOfInstances(t *testing.T) {
	sb, h := enforceHandler(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := []string{"i-0aaa0000000000001", "i-0aaa0000000000004", "i-0aaa0000000000007", "i-0aaa0000000000006", "i-0aaa00000000000ff"}
	want := []outcome.Outcome{outcome.Remediated, outcome.Exempt, outcome.Compliant, outcome.Gone, outcome.Gone}
	results := h.Enforce(ctx, "111122223333", "us-east-1", ids)
	if len(results) != len(ids) {
		t.Fatalf("%d results for %d ids", len(results), len(ids))
	}
	for i, r := range results {
		if r.Resource != ids[i] || r.Outcome != want[i] || r.Account != "111122223333" || r.Region != "us-east-1" || r.Guardrail != guardrail.IMDS {
			t.Errorf("result %d: %+v, want %s %s", i, r, ids[i], want[i])
		}
	}
	// Another account goes through the member role.
	member := h.Enforce(ctx, "444455556666", "eu-west-1", []string{"i-0bbb0000000000001"})
	if len(member) != 1 || member[0].Outcome != outcome.Remediated {
		t.Errorf("member result %+v", member)
	}
	if n := len(sb.Notifications()); n != 0 {
		t.Errorf("Enforce published %d notifications; the caller reports", n)
	}
	if r := h.Enforce(ctx, "111122223333", "us-east-1", nil); r != nil {
		t.Errorf("no ids: %v", r)
	}
	// An account the handler cannot enter: every id fails, with the reason.
	bad := h.Enforce(ctx, "999988887777", "us-east-1", []string{"i-0ccc0000000000001", "i-0ccc0000000000002"})
	if len(bad) != 2 || bad[0].Outcome != outcome.Failed || bad[1].Resource != "i-0ccc0000000000002" {
		t.Errorf("unreachable account: %+v", bad)
	}
}

func TestEnforceDryRunWritesNothing(t *testing.T) {
	sb, h := enforceHandler(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := h.Enforce(ctx, "111122223333", "us-east-1", []string{"i-0aaa0000000000002"})
	if len(r) != 1 || r[0].Outcome != outcome.DryRun || !r[0].IMDS.Changes() {
		t.Errorf("%+v", r)
	}
	for _, c := range sb.Journal() {
		if c.Write {
			t.Errorf("dry-run wrote %s", c.Operation)
		}
	}
}
