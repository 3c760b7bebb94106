package imdsguard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail/guardrailtest"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

// TestConfirmApplied: the handler reports remediated only once EC2 reports
// the new options applied, and failed when they stay pending past the poll
// bound or the Lambda's remaining time.
func TestConfirmApplied(t *testing.T) {
	tests := []struct {
		name         string
		applyDelayMs int
		maxPoll      time.Duration
		deadline     time.Duration // context deadline (the Lambda's remaining time); 0: none
		outcome      outcome.Outcome
		detail       string
	}{
		{"applied at once", 0, time.Second, 0, outcome.Remediated, ""},
		{"applied after a few polls", 150, 5 * time.Second, 0, outcome.Remediated, ""},
		{"still pending past the poll bound", 5000, 200 * time.Millisecond, 0, outcome.Failed, "pending"},
		{"still pending near the Lambda deadline", 5000, time.Minute, time.Second, outcome.Failed, "pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demoFixture(t, 0)
			f.Faults.ApplyDelayMs = tt.applyDelayMs
			sb := sandboxtest.Start(t, f)
			ctx := context.Background()
			cfg, err := sb.AWSConfig(ctx, hub, hubRegion)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Retryer = accounts.Retryer
			clients := imdsguard.EC2Clients(accounts.New(cfg, nil, accounts.Options{HubAccount: hub}))
			h := imdsguard.New(clients, nil, imdsguard.Config{PollInterval: 20 * time.Millisecond, MaxPollInterval: 100 * time.Millisecond, MaxPoll: tt.maxPoll, Reserve: 500 * time.Millisecond}, nil, nil)
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			start := time.Now()
			results, err := h.Handle(ctx, guardrailtest.Sample(t, "ec2-state-change-pending.json").Data)
			if len(results) != 1 || results[0].Outcome != tt.outcome || !strings.Contains(results[0].Detail, tt.detail) {
				t.Fatalf("results = %+v", results)
			}
			if (err != nil) != (tt.outcome == outcome.Failed) {
				t.Errorf("err = %v for outcome %s", err, tt.outcome)
			}
			if tt.deadline > 0 && time.Since(start) > tt.deadline {
				t.Errorf("handler ran %v, past the context deadline %v", time.Since(start), tt.deadline)
			}
		})
	}
}
