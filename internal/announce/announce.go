// Package announce ends the handling of one event for any guardrail: one
// structured log line per result, Embedded Metric Format counts per outcome,
// and at most one notification for the event.
package announce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/metrics"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
)

// Publisher sends one notification.
type Publisher interface {
	Publish(ctx context.Context, m notify.Message, a notify.Attributes) error
}

// Announcer is shared by a guardrail's invocations; safe for concurrent use.
type Announcer struct {
	Guardrail guardrail.Name
	Log       *slog.Logger
	Metrics   io.Writer // EMF destination (os.Stdout in Lambda); nil to skip
	Publisher Publisher // nil: no notifications
	DryRun    bool
	// RemediationRole is the member role's name, named by failure
	// notifications ("" means notify.DefaultRemediationRole of the guardrail).
	RemediationRole string
}

// ErrFailed is wrapped by the error Finish returns when any result failed.
var ErrFailed = errors.New("guardrail failed")

// Finish logs, counts and notifies, and returns an error wrapping ErrFailed
// when any result failed (so the event is retried and, in the end,
// dead-lettered). A notification failure is logged and counted
// (NotificationFailed) but not returned: the change it describes stands, and
// a retry would find nothing left to change or to announce.
func (a *Announcer) Finish(ctx context.Context, e event.Event, results []guardrail.Result) error {
	counts := map[string]int{}
	failed := 0
	for _, r := range results {
		counts[string(r.Outcome)]++
		level := slog.LevelInfo
		if r.Outcome == outcome.Failed {
			failed++
			level = slog.LevelError
		}
		before, after := r.ChangeText()
		a.logger().Log(ctx, level, "outcome",
			"guardrail", r.Guardrail, "event_id", e.ID, "event", string(e.Kind), "account", r.Account, "region", r.Region,
			"resource", r.Resource, "name", r.Name, "outcome", r.Outcome, "detail", r.Detail,
			"before", before, "after", after, "actor", e.Actor.String())
	}
	if err := a.notify(ctx, e, results); err != nil {
		counts["NotificationFailed"]++
		a.logger().ErrorContext(ctx, "notification failed", "guardrail", a.Guardrail, "event_id", e.ID, "error", err.Error())
	}
	if a.Metrics != nil {
		now := time.Now()
		if err := metrics.Counts(a.Metrics, now, string(a.Guardrail), counts); err != nil {
			a.logger().ErrorContext(ctx, "metrics", "error", err.Error())
		}
		if err := metrics.Exposure(a.Metrics, now, string(a.Guardrail), exposures(e, results, now)); err != nil {
			a.logger().ErrorContext(ctx, "metrics", "error", err.Error())
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %s: %d of %d resources failed in %s/%s (event %s)", ErrFailed, a.Guardrail, failed, len(results), e.Account, e.Region, e.ID)
	}
	return nil
}

func (a *Announcer) logger() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

func (a *Announcer) notify(ctx context.Context, e event.Event, results []guardrail.Result) error {
	if a.Publisher == nil {
		return nil
	}
	var worth []guardrail.Result
	for _, r := range results {
		if notify.Announced(r.Outcome) {
			worth = append(worth, r)
		}
	}
	if len(worth) == 0 {
		return nil
	}
	name := e.EventName
	if name == "" {
		name = e.DetailType
	}
	m, attrs, err := notify.Build(notify.Incident{
		Guardrail: a.Guardrail, EventID: e.ID, EventName: name, Account: e.Account, Region: e.Region,
		Actor: e.Actor.String(), DryRun: a.DryRun, Results: worth, RemediationRole: a.RemediationRole,
	})
	if err != nil {
		return fmt.Errorf("build notification: %w", err)
	}
	if err := a.Publisher.Publish(ctx, m, attrs); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// exposures are the times from the event to now for the resources the
// guardrail fixed: Finish runs once the fix is applied (the IMDS guardrail
// has seen "applied"; the trust guardrail's rewrite and revocation are
// done), so now is when the exposure ended. None when the event has no time.
func exposures(e event.Event, results []guardrail.Result, now time.Time) []time.Duration {
	if e.Time.IsZero() {
		return nil
	}
	var out []time.Duration
	for _, r := range results {
		if r.Outcome.Changed() {
			out = append(out, now.Sub(e.Time))
		}
	}
	return out
}
