package trustguard_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/trustguard"
)

func TestEnforceRoleByARN(t *testing.T) {
	f := fixture(t)
	sb := sandboxtest.Start(t, f)
	cfg, err := sb.AWSConfig(context.Background(), f.HubAccount, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = accounts.Retryer
	h := trustguard.FromConfig(cfg, replay.Settings(f.HubAccount, "us-east-1", false), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		arn     string
		outcome outcome.Outcome
		detail  string
	}{
		{"arn:aws:iam::111122223333:role/ci-deployer", outcome.Revoked, "public-principal"},
		{"arn:aws:iam::111122223333:role/billing-api", outcome.Compliant, "no wildcard trust"},
		{"arn:aws:iam::111122223333:role/payments-api", outcome.Warned, "pod-identity-unscoped"},
		{"arn:aws:iam::111122223333:role/credguard-trust-guard", outcome.Compliant, ""},
		{"arn:aws:iam::111122223333:role/no-such-role", outcome.Gone, "no longer exists"},
		{"arn:aws:iam::999988887777:role/elsewhere", outcome.Failed, "no IAM access in 999988887777"},
		{"ci-deployer", outcome.Failed, "not an IAM role ARN"},
	} {
		r := h.Enforce(ctx, tc.arn)
		if r.Outcome != tc.outcome || !strings.Contains(r.Detail, tc.detail) || r.Guardrail != guardrail.Trust || r.Resource != tc.arn {
			t.Errorf("%s: %s %q (resource %q), want %s containing %q", tc.arn, r.Outcome, r.Detail, r.Resource, tc.outcome, tc.detail)
		}
	}
	if n := len(sb.Notifications()); n != 0 {
		t.Errorf("Enforce published %d notifications; the caller reports", n)
	}
}
