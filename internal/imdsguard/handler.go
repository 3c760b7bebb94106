// Package imdsguard is the IMDS guardrail's handler: it turns one EventBridge
// event into instance outcomes, enforcing IMDSv2 with hop limit 1 through the
// EC2 API, and announces what it did.
package imdsguard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/credguard/credguard/internal/announce"
	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// Publisher announces one event's results.
type Publisher = announce.Publisher

// ClientFor returns the EC2 client acting in account and region (assuming the
// member role for accounts other than the hub).
type ClientFor func(ctx context.Context, account, region string) (EC2, error)

// Config is the guardrail's configuration.
type Config struct {
	DryRun            bool
	ExemptInstanceIDs []string
	SelfRoleARNs      []string // the hub function roles: their changes are ignored
	MemberRoleName    string   // the member role this guardrail assumes (named in failure notifications; in organization mode its changes are ignored)
	// OrganizationID is set in organization mode. Without it no member role
	// exists, and a role with a member role's name is anyone's: its changes
	// are enforced like any other.
	OrganizationID string
	// PollInterval is the first wait before checking that new options are
	// applied; it doubles up to MaxPollInterval. MaxPoll bounds the whole
	// wait (the Lambda's remaining time bounds it too).
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	MaxPoll         time.Duration
	// Concurrency bounds the ModifyInstanceMetadataOptions calls in flight for one event.
	Concurrency int
	// DescribeBatch is the number of instance ids per DescribeInstances call.
	DescribeBatch int
	// LaunchWait bounds how long one invocation keeps retrying instances
	// EC2 cannot act on yet: a just-launched instance DescribeInstances or
	// ModifyInstanceMetadataOptions does not find (eventual consistency), or
	// a pending one ModifyInstanceMetadataOptions refuses with
	// IncorrectInstanceState. The wait also ends Reserve before the
	// deadline. The instances still waiting are reported failed, so the
	// event is retried. Default 30 s.
	LaunchWait time.Duration
	// RetryInterval is the first pause of that wait; it doubles up to
	// MaxPollInterval. Default 250 ms.
	RetryInterval time.Duration
	// LaunchRecent is how old a launch event may be for an instance EC2
	// does not find to count as not visible yet rather than gone. EC2 keeps
	// describing terminated instances for about an hour. Default 1 h.
	LaunchRecent time.Duration
	// Scope is imds.ScopeAll ("" too) or imds.ScopeEKSNodes (only
	// instances with an EKS or Karpenter tag are enforced; the others are
	// ignored).
	Scope string
	// Now and Sleep stand in for the clock and a context-aware sleep in
	// tests; nil means time.Now and a timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Reserve is the time kept back from the invocation's deadline to
	// confirm, announce and report: no ModifyInstanceMetadataOptions call
	// starts, or stays in flight, later than Reserve before the deadline.
	// The instances left are reported failed, so the event is retried.
	// The last fifth of it is kept for announcing and reporting: the wait
	// for the new options to apply ends then (see announceMargin).
	Reserve time.Duration
}

// DefaultReserve is the default Config.Reserve.
const DefaultReserve = 10 * time.Second

// recheckAfter is how old an instance's description may be when its write is
// due before it is described again.
const recheckAfter = 500 * time.Millisecond

// announceMargin is the part of Reserve left, after the confirmation wait,
// to announce and report (2 s of DefaultReserve).
func (c Config) announceMargin() time.Duration { return c.Reserve / 5 }

func (c Config) withDefaults() Config {
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.MaxPollInterval <= 0 {
		c.MaxPollInterval = 2 * time.Second
	}
	if c.MaxPoll <= 0 {
		c.MaxPoll = 60 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.DescribeBatch <= 0 {
		c.DescribeBatch = 200
	}
	if c.Reserve <= 0 {
		c.Reserve = DefaultReserve
	}
	if c.LaunchWait <= 0 {
		c.LaunchWait = DefaultLaunchWait
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 250 * time.Millisecond
	}
	if c.LaunchRecent <= 0 {
		c.LaunchRecent = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	return c
}

// DefaultLaunchWait is the default Config.LaunchWait.
const DefaultLaunchWait = 30 * time.Second

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Handler handles IMDS events. It is safe for concurrent use.
type Handler struct {
	clientFor ClientFor
	cfg       Config
	exempt    map[string]bool
	announce  *announce.Announcer
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

// New builds a handler. metricsOut receives Embedded Metric Format lines (os.Stdout in Lambda; nil to skip).
func New(clientFor ClientFor, pub Publisher, cfg Config, log *slog.Logger, metricsOut io.Writer) *Handler {
	cfg = cfg.withDefaults()
	exempt := map[string]bool{}
	for _, id := range cfg.ExemptInstanceIDs {
		exempt[strings.TrimSpace(id)] = true
	}
	return &Handler{clientFor: clientFor, cfg: cfg, exempt: exempt, now: cfg.Now, sleep: cfg.Sleep, announce: &announce.Announcer{
		Guardrail: guardrail.IMDS, Log: log, Metrics: metricsOut, Publisher: pub, DryRun: cfg.DryRun,
		RemediationRole: cfg.MemberRoleName,
	}}
}

// Handle processes one raw EventBridge event. It returns one result per
// instance (or one ignored result for an event it does not act on) and an
// error wrapping announce.ErrFailed when any result failed.
func (h *Handler) Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error) {
	e, err := event.Decode(raw)
	if err != nil {
		return h.finish(ctx, event.Event{}, []guardrail.Result{h.ignored(event.Event{}, "", err.Error())})
	}
	return h.HandleEvent(ctx, e)
}

// HandleEvent processes one decoded event.
func (h *Handler) HandleEvent(ctx context.Context, e event.Event) ([]guardrail.Result, error) {
	if reason := h.skip(e); reason != "" {
		var results []guardrail.Result
		ids := e.InstanceIDs()
		if len(ids) == 0 {
			ids = []string{""}
		}
		for _, id := range ids {
			results = append(results, h.ignored(e, id, reason))
		}
		return h.finish(ctx, e, results)
	}
	ids := e.InstanceIDs()
	if e.StateChange != nil && (e.StateChange.State == "terminated" || e.StateChange.State == "shutting-down") {
		return h.finish(ctx, e, []guardrail.Result{h.result(e, ids[0], "", outcome.Gone, "instance is "+e.StateChange.State)})
	}
	return h.finish(ctx, e, h.enforceIn(ctx, e, ids))
}

// Enforce runs the guardrail over instances of one account and region as it
// would for an event naming them: describe, decide (exemptions and dry-run
// included), modify, and confirm the new options are applied. It returns one
// result per id, in order, and announces nothing: the caller (the scheduled
// sweep, `credguard scan --remediate`) reports.
func (h *Handler) Enforce(ctx context.Context, account, region string, ids []string) []guardrail.Result {
	if len(ids) == 0 {
		return nil
	}
	return h.enforceIn(ctx, event.Event{Envelope: event.Envelope{Account: account, Region: region}}, ids)
}

// enforceIn gets the EC2 client for the event's account and region, then enforces.
func (h *Handler) enforceIn(ctx context.Context, e event.Event, ids []string) []guardrail.Result {
	client, err := h.clientFor(ctx, e.Account, e.Region)
	if err != nil {
		results := make([]guardrail.Result, 0, len(ids))
		for _, id := range ids {
			results = append(results, h.result(e, id, "", outcome.Failed, fmt.Sprintf("no EC2 access in %s/%s: %v", e.Account, e.Region, err)))
		}
		return results
	}
	return h.enforce(ctx, client, e, ids)
}

// memberRoleNames are the member roles whose changes are Credguard's own:
// none in single-account mode (as in the trust guardrail), and in
// organization mode only the role this guardrail writes through. The other
// member names (the legacy one above all, free once the split roles are
// deployed) never change instance metadata options for Credguard, so a role
// anyone creates under such a name is judged like any other caller.
// Recognising a change is only a saving: a change of Credguard's own that
// was not recognised is described, found compliant and left alone.
func (h *Handler) memberRoleNames() []string {
	if h.cfg.OrganizationID == "" || h.cfg.MemberRoleName == "" {
		return nil
	}
	return []string{h.cfg.MemberRoleName}
}

// skip returns why the event needs no EC2 call at all ("" when it does).
func (h *Handler) skip(e event.Event) string {
	switch {
	case guardrail.Name(e.Kind.Guardrail()) != guardrail.IMDS:
		return fmt.Sprintf("not an IMDS event (%s)", e.Kind)
	case e.Failed():
		return fmt.Sprintf("the recorded call failed (%s)", e.ErrorCode)
	case e.Kind == event.KindModifyMetadataOptions && guardrail.Own(e.Actor, h.cfg.SelfRoleARNs, h.memberRoleNames()...):
		return "the change was made by Credguard itself"
	case e.StateChange != nil && e.StateChange.State != "pending" && e.StateChange.State != "running" &&
		e.StateChange.State != "terminated" && e.StateChange.State != "shutting-down":
		return fmt.Sprintf("instance state %q needs no enforcement", e.StateChange.State)
	case e.Fleet != nil && e.Fleet.Type != event.FleetInstant && len(e.Fleet.InstanceIDs) == 0:
		return fmt.Sprintf("a %s fleet names no instances: EC2 launches them later, and their state-change notifications cover them", e.Fleet.Type)
	case len(e.InstanceIDs()) == 0:
		return "the event names no instance"
	}
	return ""
}

// waitApplied polls until every id reports applied options, the poll bound
// passes, or the context is about to expire. It returns the ids not applied.
func (h *Handler) waitApplied(ctx context.Context, client EC2, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	deadline := h.now().Add(h.cfg.MaxPoll)
	if d, ok := ctx.Deadline(); ok && d.Add(-h.cfg.announceMargin()).Before(deadline) {
		deadline = d.Add(-h.cfg.announceMargin()) // leave time to announce and report
	}
	interval := h.cfg.PollInterval
	remaining := ids
	for {
		found, _, err := describeAll(ctx, client, remaining, h.cfg.DescribeBatch)
		if err != nil {
			return remaining, err
		}
		var still []string
		for _, id := range remaining {
			inst, ok := found[id]
			if ok && inst.Options.State == "pending" {
				still = append(still, id)
			}
			// Not found any more: terminated meanwhile; the write was made, count it.
		}
		remaining = still
		if len(remaining) == 0 {
			return nil, nil
		}
		if h.now().Add(interval).After(deadline) {
			return remaining, nil
		}
		if err := h.sleep(ctx, interval); err != nil {
			return remaining, err
		}
		interval = min(interval*2, h.cfg.MaxPollInterval)
	}
}

func (h *Handler) decided(e event.Event, inst imds.Instance, d imds.Decision) guardrail.Result {
	r := h.result(e, inst.ID, inst.Name(), d.Outcome, d.Reason)
	r.IMDS = &guardrail.IMDSChange{Before: d.Before, After: d.After}
	return r
}

func (h *Handler) result(e event.Event, id, name string, o outcome.Outcome, detail string) guardrail.Result {
	return guardrail.Result{Guardrail: guardrail.IMDS, Account: e.Account, Region: e.Region, Resource: id, Name: name, Outcome: o, Detail: detail}
}

func (h *Handler) ignored(e event.Event, id, reason string) guardrail.Result {
	return h.result(e, id, "", outcome.Ignored, reason)
}

// finish announces the results and turns failures into the returned error.
func (h *Handler) finish(ctx context.Context, e event.Event, results []guardrail.Result) ([]guardrail.Result, error) {
	return results, h.announce.Finish(ctx, e, results)
}
