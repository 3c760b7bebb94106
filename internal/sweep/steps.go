package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/credguard/credguard/internal/outcome"
)

// The scheduled sweep is a Step Functions state machine of three steps, each
// a Lambda function: List writes the scopes to S3, a Distributed Map runs
// ScopeStep once per scope (its results written to S3 by ResultWriter), and
// Summary reads those results and publishes the one notification.

// ScopesPrefix is where the list step writes each run's scopes in the sweep
// bucket; ResultsPrefix is where the map's ResultWriter writes (infra sets it).
const (
	ScopesPrefix  = "scopes/"
	ResultsPrefix = "results"
)

// ErrFailed is wrapped by the error of a summary step in which a
// remediation failed or a scope could not be swept.
var ErrFailed = errors.New("sweep failed")

// ScopeStep is the map's per-scope function: sweep one scope with
// remediation, log one line per finding, return the bounded result.
type ScopeStep struct {
	Sweeper *Sweeper
	Log     *slog.Logger
}

// Handle sweeps the scope. A malformed scope is an error (nothing is
// called). A scope whose every error is throttling returns *ThrottledError,
// which the state machine retries with backoff; any other error of the scope
// is in the result, and the summary reports it.
func (j *ScopeStep) Handle(ctx context.Context, sc Scope) (ScopeResult, error) {
	if err := sc.Validate(); err != nil {
		return ScopeResult{}, fmt.Errorf("sweep scope: %w", err)
	}
	log := logger(j.Log)
	sweepCtx := ctx
	if d, ok := ctx.Deadline(); ok {
		// Stop the scope's calls a little before the function's deadline, so
		// that what was not swept is returned as the scope's errors (and
		// reported by the summary) instead of the invocation being killed.
		var cancel context.CancelFunc
		sweepCtx, cancel = context.WithDeadline(ctx, scopeDeadline(time.Now(), d))
		defer cancel()
	}
	rep := j.Sweeper.Scope(sweepCtx, sc)
	for _, f := range rep.Findings {
		level := slog.LevelInfo
		if f.Outcome == outcome.Failed {
			level = slog.LevelError
		}
		log.Log(ctx, level, "finding", "account", f.Account, "region", f.Region, "kind", f.Kind,
			"resource", f.Resource, "name", f.Name, "verdict", f.Verdict, "outcome", f.Outcome, "detail", f.Detail,
			"before", f.Before, "after", f.After)
	}
	for _, e := range rep.Errors {
		log.ErrorContext(ctx, "not swept", "account", e.Account, "region", e.Region, "kind", e.Kind, "error", e.Err.Error())
	}
	if throttledOnly(rep) {
		te := &ThrottledError{Scope: sc}
		for _, e := range rep.Errors {
			te.Errs = append(te.Errs, e.Error())
		}
		return ScopeResult{}, te
	}
	return Result(sc, rep), nil
}

// scopeReserve is the time kept at the end of a scope's invocation to log
// and return its result (at most a tenth of the time left).
const scopeReserve = 10 * time.Second

// scopeDeadline is when a scope's calls must stop for the invocation to
// return by deadline.
func scopeDeadline(now, deadline time.Time) time.Time {
	return deadline.Add(-min(scopeReserve, deadline.Sub(now)/10))
}

// ObjectWriter is the S3 call the list step makes.
type ObjectWriter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// ListStep is the state machine's first step: find the accounts (the
// configured list, else the organization's active accounts, else the hub)
// and write accounts × regions as scopes to the sweep bucket, where the
// Distributed Map's ItemReader reads them (the list does not fit in a state).
type ListStep struct {
	Accounts       []string
	OrganizationID string
	Org            Organizations
	Hub            func(ctx context.Context) (string, error)
	Regions        []string // the function's own region when empty
	Region         string
	Bucket         string
	S3             ObjectWriter
	Log            *slog.Logger
	Now            func() time.Time
}

// ListInput is the list step's input: the execution's name (the state
// machine passes $$.Execution.Name), which names the scopes object.
type ListInput struct {
	Execution string `json:"execution"`
}

// Listed is the list step's output, small whatever the organization's size.
type Listed struct {
	Bucket   string   `json:"bucket"`
	Key      string   `json:"key"`
	Scopes   int      `json:"scopes"`
	Accounts int      `json:"accounts"`
	Regions  []string `json:"regions"`
}

var executionNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// Handle lists the scopes and writes them as one JSON array.
func (j *ListStep) Handle(ctx context.Context, in ListInput) (Listed, error) {
	name := in.Execution
	if name == "" {
		name = "run-" + now(j.Now).UTC().Format("20060102T150405Z")
	}
	if !executionNameRe.MatchString(name) {
		return Listed{}, fmt.Errorf("list scopes: execution name %q: want 1 to 80 letters, digits, - or _", in.Execution)
	}
	accounts, err := j.accounts(ctx)
	if err != nil {
		return Listed{}, fmt.Errorf("list scopes: %w", err)
	}
	regions := j.Regions
	if len(regions) == 0 {
		regions = []string{j.Region}
	}
	scopes := Scopes(accounts, regions)
	body, err := json.Marshal(scopes)
	if err != nil {
		return Listed{}, fmt.Errorf("list scopes: %w", err)
	}
	key := ScopesPrefix + name + ".json"
	if _, err := j.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(j.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	}); err != nil {
		return Listed{}, fmt.Errorf("list scopes: write s3://%s/%s: %w", j.Bucket, key, err)
	}
	out := Listed{Bucket: j.Bucket, Key: key, Scopes: len(scopes), Accounts: len(accounts), Regions: regions}
	logger(j.Log).InfoContext(ctx, "scopes listed", "execution", name, "accounts", out.Accounts, "regions", len(regions),
		"scopes", out.Scopes, "bytes", len(body), "key", key)
	return out, nil
}

func (j *ListStep) accounts(ctx context.Context) ([]string, error) {
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

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}
