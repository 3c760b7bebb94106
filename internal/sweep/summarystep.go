package sweep

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/credguard/credguard/internal/metrics"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
)

// ObjectReader is the S3 call the summary step makes.
type ObjectReader interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// SummaryStep is the state machine's last step: read the map's results from
// the ResultWriter manifest and files, publish the one summary notification
// (counts per outcome, worst offenders, exempt resources, scopes that
// failed), and write the run's metrics.
type SummaryStep struct {
	Bucket    string // the sweep bucket: results are read from it alone
	S3        ObjectReader
	Publisher Publisher // nil: no notification
	Metrics   io.Writer // EMF destination (os.Stdout in Lambda); nil to skip
	Log       *slog.Logger
	DryRun    bool // some guardrail in dry-run mode (the summary says so)
	Now       func() time.Time
}

// Publisher sends the sweep's one notification.
type Publisher interface {
	Publish(ctx context.Context, m notify.Message, a notify.Attributes) error
}

// SummaryInput is what the state machine passes: the execution's name, the
// list step's output, and the map's output (ResultWriterDetails) or, when
// the map failed as a whole, its error.
type SummaryInput struct {
	Execution string      `json:"execution"`
	Listed    Listed      `json:"listed"`
	Map       *MapOutput  `json:"map,omitempty"`
	MapError  *StateError `json:"mapError,omitempty"`
}

// MapOutput is a Distributed Map's output with a ResultWriter.
type MapOutput struct {
	MapRunArn           string `json:"MapRunArn"`
	ResultWriterDetails struct {
		Bucket string `json:"Bucket"`
		Key    string `json:"Key"`
	} `json:"ResultWriterDetails"`
}

// StateError is a caught error as Step Functions passes it.
type StateError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// manifest is the ResultWriter's manifest.json.
type manifest struct {
	DestinationBucket string `json:"DestinationBucket"`
	MapRunArn         string `json:"MapRunArn"`
	ResultFiles       map[string][]struct {
		Key  string `json:"Key"`
		Size int64  `json:"Size"`
	} `json:"ResultFiles"`
}

// childResult is one child execution in a ResultWriter result file.
type childResult struct {
	Status string `json:"Status"`
	Input  string `json:"Input"`
	Output string `json:"Output"`
	Error  string `json:"Error"`
	Cause  string `json:"Cause"`
}

// SummaryResult is what the summary step returns.
type SummaryResult struct {
	ID           string                  `json:"id"`
	Scopes       int                     `json:"scopes"`
	Swept        int                     `json:"swept"`
	FailedScopes int                     `json:"failedScopes"`
	Accounts     int                     `json:"accounts"`
	Regions      int                     `json:"regions"`
	Checked      int                     `json:"checked"`
	Findings     int                     `json:"findings"`
	Remaining    int                     `json:"remaining"`
	Outcomes     map[outcome.Outcome]int `json:"outcomes"`
	Errors       []string                `json:"errors"`
	Notified     bool                    `json:"notified"`
}

// tally adds up the scopes' results in bounded memory.
type tally struct {
	accounts, regions map[string]bool
	checked, compl    int
	outcomes          map[outcome.Outcome]int
	worst             topItems
	exempt            []notify.SweepItem
	errors            []string
	swept, failed     int
}

func newTally() *tally {
	return &tally{accounts: map[string]bool{}, regions: map[string]bool{}, outcomes: map[outcome.Outcome]int{},
		worst: topItems{n: notify.MaxSweepItems}}
}

func (t *tally) scope(sc Scope) {
	if sc.Account != "" {
		t.accounts[sc.Account] = true
	}
	if sc.Region != "" {
		t.regions[sc.Region] = true
	}
}

func (t *tally) add(r ScopeResult) {
	t.swept++
	t.scope(r.Scope)
	for _, n := range r.Checked {
		t.checked += n
	}
	for _, n := range r.Compliant {
		t.compl += n
	}
	for o, n := range r.Outcomes {
		t.outcomes[o] += n
	}
	t.worst.add(r.Findings...)
	for _, e := range r.Exempt {
		if len(t.exempt) < notify.MaxSweepItems {
			t.exempt = append(t.exempt, e)
		}
	}
	t.errors = append(t.errors, r.Errors...)
}

func (t *tally) fail(sc Scope, why string) {
	t.failed++
	t.scope(sc)
	t.errors = append(t.errors, fmt.Sprintf("scope %s failed: %s", sc, why))
}

// Handle reads the results and publishes the summary. It returns an error
// wrapping ErrFailed, after publishing, when a remediation failed or a scope
// could not be swept, so that the execution fails (and alarms).
func (j *SummaryStep) Handle(ctx context.Context, in SummaryInput) (SummaryResult, error) {
	id := in.Execution
	if id == "" {
		id = "sweep-" + now(j.Now).UTC().Format("20060102T150405Z")
	}
	log := logger(j.Log)
	t := newTally()
	if in.MapError != nil {
		t.errors = append(t.errors, fmt.Sprintf("the sweep's map stopped: %s: %s", in.MapError.Error, causeMessage(in.MapError.Cause)))
	}
	if in.Map != nil {
		if err := j.read(ctx, in.Map, t); err != nil {
			t.errors = append(t.errors, err.Error())
		}
	} else if in.MapError == nil {
		t.errors = append(t.errors, "the map's results are missing from the summary step's input")
	}
	if missing := in.Listed.Scopes - t.swept - t.failed; missing > 0 {
		t.errors = append(t.errors, fmt.Sprintf("%d of %d scopes have no result", missing, in.Listed.Scopes))
	}
	s := notify.Sweep{
		ID: id, Accounts: slices.Sorted(maps.Keys(t.accounts)), Regions: slices.Sorted(maps.Keys(t.regions)),
		Checked: t.checked, Compliant: t.compl, Outcomes: t.outcomes, Worst: t.worst.list(), Exempt: t.exempt,
		Errors: t.errors, DryRun: j.DryRun,
	}
	if len(in.Listed.Regions) > 0 {
		s.Regions = in.Listed.Regions
	}
	for o, n := range t.outcomes {
		if Remains(o) {
			s.Remaining += n
		}
	}
	res := SummaryResult{ID: id, Scopes: in.Listed.Scopes, Swept: t.swept, FailedScopes: t.failed,
		Accounts: max(in.Listed.Accounts, len(s.Accounts)), Regions: len(s.Regions), Checked: t.checked,
		Remaining: s.Remaining, Outcomes: t.outcomes, Errors: t.errors}
	for _, n := range t.outcomes {
		res.Findings += n
	}
	if res.Errors == nil {
		res.Errors = []string{}
	}
	res.Notified = j.notify(ctx, id, s)
	j.metrics(ctx, res)
	log.InfoContext(ctx, "sweep done", "sweep_id", id, "scopes", res.Scopes, "swept", res.Swept, "failed_scopes", res.FailedScopes,
		"accounts", res.Accounts, "regions", res.Regions, "checked", res.Checked, "findings", res.Findings,
		"remaining", res.Remaining, "errors", len(res.Errors), "notified", res.Notified)
	if failed := t.outcomes[outcome.Failed]; failed > 0 || len(t.errors) > 0 {
		return res, fmt.Errorf("%w: %d remediations failed, %d errors (%d scopes failed)", ErrFailed, failed, len(t.errors), t.failed)
	}
	return res, nil
}

// read follows the manifest to every result file.
func (j *SummaryStep) read(ctx context.Context, m *MapOutput, t *tally) error {
	loc := m.ResultWriterDetails
	if loc.Bucket != j.Bucket || !strings.HasPrefix(loc.Key, ResultsPrefix+"/") {
		return fmt.Errorf("map results at s3://%s/%s: not under s3://%s/%s/", loc.Bucket, loc.Key, j.Bucket, ResultsPrefix)
	}
	var man manifest
	if err := j.object(ctx, loc.Key, func(r io.Reader) error { return json.NewDecoder(r).Decode(&man) }); err != nil {
		return fmt.Errorf("read the map's manifest: %w", err)
	}
	for _, status := range slices.Sorted(maps.Keys(man.ResultFiles)) {
		for _, f := range man.ResultFiles[status] {
			if !strings.HasPrefix(f.Key, ResultsPrefix+"/") {
				return fmt.Errorf("manifest names %q, outside %s/", f.Key, ResultsPrefix)
			}
			err := j.object(ctx, f.Key, func(r io.Reader) error {
				return eachChild(r, func(c childResult) error { return addChild(t, status, c) })
			})
			if err != nil {
				return fmt.Errorf("read the map's results %s: %w", f.Key, err)
			}
		}
	}
	return nil
}

func (j *SummaryStep) object(ctx context.Context, key string, read func(io.Reader) error) error {
	out, err := j.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(j.Bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", j.Bucket, key, err)
	}
	defer out.Body.Close()
	return read(out.Body)
}

// eachChild decodes a result file, one child execution at a time: a JSON
// array (the ResultWriter's JSON output type) or JSON Lines (JSONL).
func eachChild(r io.Reader, f func(childResult) error) error {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(br)
	if first == '[' {
		if _, err := dec.Token(); err != nil {
			return err
		}
	} else if first != '{' {
		return fmt.Errorf("result file: want a JSON array or JSON lines, got %q", first)
	}
	for dec.More() {
		var c childResult
		if err := dec.Decode(&c); err != nil {
			return err
		}
		if err := f(c); err != nil {
			return err
		}
	}
	return nil
}

// firstByte peeks at the first byte that is not white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\n' && b != '\r' && b != '\t' {
			return b, br.UnreadByte()
		}
	}
}

// addChild counts one child execution. Its input is the scope; a succeeded
// child's output is the scope's result.
func addChild(t *tally, status string, c childResult) error {
	var sc Scope
	if err := json.Unmarshal([]byte(c.Input), &sc); err != nil {
		return fmt.Errorf("child input %q: %w", cut(c.Input, 100), err)
	}
	if status != "SUCCEEDED" || c.Status != "SUCCEEDED" {
		why := strings.TrimSpace(c.Error + ": " + causeMessage(c.Cause))
		if c.Error == "" && c.Cause == "" {
			why = "child execution " + strings.ToLower(orWord(c.Status, status))
		}
		t.fail(sc, why)
		return nil
	}
	var r ScopeResult
	if err := json.Unmarshal([]byte(c.Output), &r); err != nil {
		t.fail(sc, fmt.Sprintf("result not understood: %v", err))
		return nil
	}
	if r.Account == "" {
		r.Scope = sc
	}
	t.add(r)
	return nil
}

// causeMessage is a Lambda error's message when the cause is the function's
// error object ({"errorMessage":…,"errorType":…}), else the cause itself.
func causeMessage(cause string) string {
	var le struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal([]byte(cause), &le) == nil && le.Message != "" {
		return cut(le.Message, maxErrorChars)
	}
	return cut(cause, maxErrorChars)
}

func orWord(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// notify publishes the summary; it reports whether a message was sent.
func (j *SummaryStep) notify(ctx context.Context, id string, s notify.Sweep) bool {
	if j.Publisher == nil {
		return false
	}
	m, attrs, err := notify.BuildSweep(s)
	if errors.Is(err, notify.ErrNothingToNotify) {
		return false
	}
	if err == nil {
		err = j.Publisher.Publish(ctx, m, attrs)
	}
	if err != nil {
		logger(j.Log).ErrorContext(ctx, "notification failed", "sweep_id", id, "error", err.Error())
		return false
	}
	return true
}

// metrics writes the run's EMF record (guardrail "sweep"): findings,
// scopes swept and failed, and one count per outcome.
func (j *SummaryStep) metrics(ctx context.Context, res SummaryResult) {
	if j.Metrics == nil {
		return
	}
	counts := map[string]int{"Findings": res.Findings, "Scopes": res.Scopes, "FailedScopes": res.FailedScopes, "Remaining": res.Remaining}
	for _, o := range outcome.All {
		if n := res.Outcomes[o]; n > 0 {
			counts[string(o)] = n
		}
	}
	if err := metrics.Counts(j.Metrics, now(j.Now), "sweep", counts); err != nil {
		logger(j.Log).ErrorContext(ctx, "metrics", "error", err.Error())
	}
}
