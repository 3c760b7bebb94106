package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/settings"
)

// Publisher sends the sweep's one notification.
type Publisher interface {
	Publish(ctx context.Context, m notify.Message, a notify.Attributes) error
}

// ErrFailed is wrapped by the error of a scheduled sweep in which a
// remediation failed or a part could not be swept.
var ErrFailed = errors.New("sweep failed")

// Scheduled is the sweeper function's job: find the accounts and regions,
// sweep them with remediation, log one line per finding, publish one summary
// notification, and fail when anything failed.
type Scheduled struct {
	Sweeper *Sweeper
	// Accounts, when set, are swept; else, with OrganizationID set, the
	// organization's active accounts (listed through Org); else the hub.
	Accounts       []string
	OrganizationID string
	Org            Organizations
	// Hub returns the hub account (the one the function runs in).
	Hub func(ctx context.Context) (string, error)
	// Regions are swept; the function's own region when empty.
	Regions []string
	Region  string
	// Publisher, when set, receives the summary.
	Publisher Publisher
	Log       *slog.Logger
	DryRun    bool // some guardrail in dry-run mode (the summary says so)
	Now       func() time.Time
}

// NewScheduled wires the job from the hub's AWS configuration and the
// function settings (base.Region is the function's region).
func NewScheduled(base aws.Config, s settings.Settings, cfg Config, log *slog.Logger) *Scheduled {
	// One provider for the sweep and the hub lookup: the hub account (the
	// configured one, or GetCallerIdentity's answer) is looked up once per
	// process, not once per invocation.
	prov := newProviders(base, s)
	j := &Scheduled{
		Sweeper:  fromProviders(prov, s, cfg, log),
		Accounts: s.Accounts, OrganizationID: s.OrganizationID,
		Hub:     prov.imds.HubAccount,
		Regions: s.Regions, Region: base.Region,
		Log: log, DryRun: cfg.DryRunIMDS || cfg.DryRunTrust,
	}
	if s.OrganizationID != "" {
		j.Org = organizations.NewFromConfig(base)
	}
	if s.TopicARN != "" {
		j.Publisher = notify.NewPublisher(sns.NewFromConfig(base), s.TopicARN)
	}
	return j
}

// reportReserve is the time kept at the end of an invocation to log the
// findings and publish the summary (at most a tenth of the time left).
const reportReserve = 20 * time.Second

// sweepDeadline is when the sweep must stop for the invocation to report
// by deadline: reportReserve before it, or a tenth of the time left when
// that is less.
func sweepDeadline(now, deadline time.Time) time.Time {
	return deadline.Add(-min(reportReserve, deadline.Sub(now)/10))
}

// Result is what the function returns (and logs) for one run.
type Result struct {
	ID        string                    `json:"id"`
	Accounts  int                       `json:"accounts"`
	Regions   int                       `json:"regions"`
	Checked   int                       `json:"checked"`
	Findings  int                       `json:"findings"`
	Remaining int                       `json:"remaining"`
	Outcomes  map[guardrail.Outcome]int `json:"outcomes"`
	Errors    []string                  `json:"errors"`
	Notified  bool                      `json:"notified"`
}

// Handle runs one sweep. The payload (the schedule's input) is ignored. It
// returns an error wrapping ErrFailed when a remediation failed or a part of
// the sweep could not be completed, so that the invocation counts as an
// error (and alarms); a failed notification is logged, not returned.
func (j *Scheduled) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	id := j.runID(ctx)
	log := j.logger()
	accounts, err := j.accounts(ctx)
	if err != nil {
		log.ErrorContext(ctx, "sweep not started", "sweep_id", id, "error", err.Error())
		return Result{ID: id, Errors: []string{err.Error()}}, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	regions := j.Regions
	if len(regions) == 0 {
		regions = []string{j.Region}
	}
	// Stop starting (and waiting on) scopes a little before the function's
	// deadline, so that the findings are still logged and the summary sent.
	sweepCtx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		sweepCtx, cancel = context.WithDeadline(ctx, sweepDeadline(time.Now(), d))
		defer cancel()
	}
	rep := j.Sweeper.Run(sweepCtx, accounts, regions)
	for _, f := range rep.Findings {
		level := slog.LevelInfo
		if f.Outcome == guardrail.Failed {
			level = slog.LevelError
		}
		log.Log(ctx, level, "finding", "sweep_id", id, "account", f.Account, "region", f.Region, "kind", f.Kind,
			"resource", f.Resource, "name", f.Name, "verdict", f.Verdict, "outcome", f.Outcome, "detail", f.Detail,
			"before", f.Before, "after", f.After)
	}
	for _, e := range rep.Errors {
		log.ErrorContext(ctx, "not swept", "sweep_id", id, "account", e.Account, "region", e.Region, "kind", e.Kind, "error", e.Err.Error())
	}
	res := Result{ID: id, Accounts: len(accounts), Regions: len(regions), Findings: len(rep.Findings),
		Remaining: rep.Remaining(), Outcomes: rep.Outcomes(), Errors: []string{}}
	for _, k := range Kinds {
		res.Checked += rep.Checked[k]
	}
	for _, e := range rep.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	res.Notified = j.notify(ctx, id, rep)
	log.InfoContext(ctx, "sweep done", "sweep_id", id, "accounts", res.Accounts, "regions", res.Regions, "checked", res.Checked,
		"findings", res.Findings, "remaining", res.Remaining, "failed", rep.Failed(), "errors", len(rep.Errors))
	if rep.Failed() > 0 || len(rep.Errors) > 0 {
		return res, fmt.Errorf("%w: %d remediations failed, %d parts not swept", ErrFailed, rep.Failed(), len(rep.Errors))
	}
	return res, nil
}

// accounts resolves the accounts to sweep.
func (j *Scheduled) accounts(ctx context.Context) ([]string, error) {
	switch {
	case len(j.Accounts) > 0:
		return j.Accounts, nil
	case j.OrganizationID != "" && j.Org != nil:
		return OrganizationAccounts(ctx, j.Org)
	}
	hub, err := j.Hub(ctx)
	if err != nil {
		return nil, err
	}
	return []string{hub}, nil
}

// notify publishes the summary; it reports whether a message was sent.
func (j *Scheduled) notify(ctx context.Context, id string, rep Report) bool {
	if j.Publisher == nil {
		return false
	}
	m, attrs, err := notify.BuildSweep(rep.Summary(id, j.DryRun))
	if errors.Is(err, notify.ErrNothingToNotify) {
		return false
	}
	if err == nil {
		err = j.Publisher.Publish(ctx, m, attrs)
	}
	if err != nil {
		j.logger().ErrorContext(ctx, "notification failed", "sweep_id", id, "error", err.Error())
		return false
	}
	return true
}

func (j *Scheduled) runID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	return "sweep-" + now().UTC().Format("20060102T150405Z")
}

func (j *Scheduled) logger() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
}
