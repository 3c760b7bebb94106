// Package guardrailtest is the rig of the guardrails' fault matrices: a
// sandbox, a guardrail wired to it as the Lambda wires it (FromConfig, the
// production retryer, the SQS batch adapter), SQS deliveries of sample
// events, and the checks every delivery must pass whatever the guardrail.
package guardrailtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	awslambda "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

// The demo fixture's hub and member accounts, and the hub's region: the
// rig's guardrail runs in Hub, HubRegion.
const (
	Hub       = "111122223333"
	Member    = "444455556666"
	HubRegion = "us-east-1"
)

const (
	// ClientTimeout is the HTTP client timeout of the rig's configuration:
	// far above a loopback round trip, far below SlowMs.
	ClientTimeout = 60 * time.Millisecond
	// SlowMs is an injected latency (sandbox.Faults.LatencyMs) past
	// ClientTimeout: every call it delays times out.
	SlowMs = 200
	// DefaultTimeout is each delivery's deadline unless Rig.Timeout is changed.
	DefaultTimeout = 30 * time.Second
)

// Input is one event and the resources (instance ids, role ARNs) it names.
type Input struct {
	Name      string
	Data      []byte
	Resources []string
}

// Sample is the embedded sample event name, naming resources.
func Sample(t testing.TB, name string, resources ...string) Input {
	t.Helper()
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: name, Data: data, Resources: resources}
}

// Fresh is in with the event's time (and CloudTrail's eventTime) set to now:
// an event minutes old, as the guardrails see them in production. A launch
// event's instance that EC2 does not find is then "not visible yet", never
// "gone".
func Fresh(t testing.TB, in Input) Input {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(in.Data, &ev); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	ev["time"] = now
	if d, ok := ev["detail"].(map[string]any); ok && d["eventTime"] != nil {
		d["eventTime"] = now
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	in.Data = data
	return in
}

// WithoutMemberRole removes every Credguard member role (split and legacy)
// from the Member account of f.
func WithoutMemberRole(f *sandbox.Fixture) {
	a := f.Accounts[Member]
	var kept []sandbox.Role
	for _, r := range a.Roles {
		if !slices.Contains(ids.MemberRoleNames(), r.Name) {
			kept = append(kept, r)
		}
	}
	a.Roles = kept
}

// All maps every resource to o.
func All(o outcome.Outcome, resources ...string) map[string]outcome.Outcome {
	m := map[string]outcome.Outcome{}
	for _, r := range resources {
		m[r] = o
	}
	return m
}

// Merge is the union of ms; a later map wins for a resource in several.
func Merge(ms ...map[string]outcome.Outcome) map[string]outcome.Outcome {
	out := map[string]outcome.Outcome{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// FastRetryer is the production retryer (adaptive mode, MaxAttempts) with
// the backoff capped at 50 ms so that exhausting it takes half a second.
func FastRetryer() aws.Retryer {
	return retry.AddWithMaxBackoffDelay(accounts.Retryer(), 50*time.Millisecond)
}

// Rig is one sandbox and a guardrail wired to it as the Lambda wires it.
type Rig struct {
	Timeout time.Duration // each delivery's deadline, as Lambda's timeout sets it
	Sandbox *sandbox.Server
	handler func(context.Context, json.RawMessage) (any, error)
	rec     *recorder
	log     *bytes.Buffer
}

// recorder keeps what the guardrail returned for each record of a batch.
type recorder struct {
	g       invoke.Guardrail
	results [][]guardrail.Result
	errs    []error
}

func (r *recorder) Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error) {
	res, err := r.g.Handle(ctx, raw)
	r.results = append(r.results, res)
	r.errs = append(r.errs, err)
	return res, err
}

// NewRig serves f until the test ends and builds the guardrail (its
// FromConfig) for Hub, HubRegion with replay's settings, FastRetryer, a
// ClientTimeout HTTP client and a JSON logger the rig reads, behind
// invoke.Handler. Deliveries get DefaultTimeout.
func NewRig[G invoke.Guardrail](t testing.TB, f *sandbox.Fixture, build invoke.Build[G]) *Rig {
	t.Helper()
	sb := sandboxtest.Start(t, f)
	cfg, err := sb.AWSConfig(context.Background(), Hub, HubRegion)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = FastRetryer
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(ClientTimeout)
	logs := &bytes.Buffer{}
	g := build(cfg, replay.Settings(Hub, HubRegion, false), slog.New(slog.NewJSONHandler(logs, nil)), nil)
	rec := &recorder{g: g}
	return &Rig{Timeout: DefaultTimeout, Sandbox: sb, handler: invoke.Handler(rec), rec: rec, log: logs}
}

// Delivery is what one SQS batch produced.
type Delivery struct {
	Results  [][]guardrail.Result // per record
	Errs     []error              // per record: what Handle returned
	Failures map[string]bool      // message ids reported in batchItemFailures
	Journal  []sandbox.Call       // calls made during the delivery
	Notes    int                  // notifications published during the delivery
	LogLines int                  // "outcome" log lines written during the delivery
}

// Deliver hands inputs to the guardrail as one SQS batch (message ids m-0,
// m-1, … in order) within r.Timeout. The handler must answer with an
// SQSEventResponse and no error.
func (r *Rig) Deliver(t testing.TB, inputs []Input) Delivery {
	t.Helper()
	var batch awslambda.SQSEvent
	for i, in := range inputs {
		batch.Records = append(batch.Records, awslambda.SQSMessage{MessageId: messageID(i), EventSource: "aws:sqs", Body: string(in.Data)})
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	calls, notes := len(r.Sandbox.Journal()), len(r.Sandbox.Notifications())
	r.rec.results, r.rec.errs = nil, nil
	r.log.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	out, err := r.handler(ctx, payload)
	if err != nil {
		t.Fatalf("SQS batch: handler error %v (batch errors must be item failures)", err)
	}
	resp, ok := out.(awslambda.SQSEventResponse)
	if !ok {
		t.Fatalf("SQS batch answered %T, want SQSEventResponse", out)
	}
	d := Delivery{Results: r.rec.results, Errs: r.rec.errs, Failures: map[string]bool{},
		Journal: r.Sandbox.Journal()[calls:], Notes: len(r.Sandbox.Notifications()) - notes}
	for _, f := range resp.BatchItemFailures {
		d.Failures[f.ItemIdentifier] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(r.log.String()), "\n") {
		if strings.Contains(line, `"msg":"outcome"`) {
			d.LogLines++
		}
	}
	return d
}

func messageID(i int) string { return fmt.Sprintf("m-%d", i) }

// OKWrites counts successful writes of op per resource.
func OKWrites(calls []sandbox.Call, op string) map[string]int {
	n := map[string]int{}
	for _, c := range calls {
		if c.Write && c.Operation == op && c.Outcome == "ok" {
			n[c.Resource]++
		}
	}
	return n
}

// WriteAttempts counts the writes among calls, whatever their answer.
func WriteAttempts(calls []sandbox.Call) int {
	n := 0
	for _, c := range calls {
		if c.Write {
			n++
		}
	}
	return n
}

// OutcomesSeen is the set of answers ("ok" or an error code) among calls.
func OutcomesSeen(calls []sandbox.Call) map[string]bool {
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.Outcome] = true
	}
	return seen
}

// CheckBalance asserts one result per named resource per event, each from
// guardrail name, the same number of outcome log lines, an error (and a
// batch item failure) exactly for the events with a failed resource, and
// returns the outcomes by resource.
func CheckBalance(t testing.TB, name guardrail.Name, inputs []Input, d Delivery) map[string]outcome.Outcome {
	t.Helper()
	if len(d.Results) != len(inputs) || len(d.Errs) != len(inputs) {
		t.Fatalf("%d events in, %d handled (%d errors recorded)", len(inputs), len(d.Results), len(d.Errs))
	}
	got := map[string]outcome.Outcome{}
	total := 0
	for i, in := range inputs {
		seen := map[string]int{}
		failed := false
		for _, r := range d.Results[i] {
			seen[r.Resource]++
			got[r.Resource] = r.Outcome
			failed = failed || r.Outcome == outcome.Failed
			if r.Guardrail != name {
				t.Errorf("%s: result for %s from guardrail %q, want %q", in.Name, r.Resource, r.Guardrail, name)
			}
		}
		total += len(d.Results[i])
		if len(d.Results[i]) != len(in.Resources) {
			t.Errorf("%s: %d resources in, %d outcomes out: %+v", in.Name, len(in.Resources), len(d.Results[i]), d.Results[i])
		}
		for _, res := range in.Resources {
			if seen[res] != 1 {
				t.Errorf("%s: %s has %d outcomes, want exactly 1", in.Name, res, seen[res])
			}
		}
		if failed != (d.Errs[i] != nil) {
			t.Errorf("%s: failed resource %v but Handle error %v", in.Name, failed, d.Errs[i])
		}
		if id := messageID(i); failed != d.Failures[id] {
			t.Errorf("%s: failed resource %v but batch item failure %v", in.Name, failed, d.Failures[id])
		}
	}
	if d.LogLines != total {
		t.Errorf("%d outcome log lines for %d outcomes", d.LogLines, total)
	}
	return got
}

// CheckFired asserts that a delivery published notes notifications and that
// its journal shows the answer seen ("ok" or an error code): the injected
// fault fired.
func CheckFired(t testing.TB, d Delivery, notes int, seen string) {
	t.Helper()
	if d.Notes != notes {
		t.Errorf("%d notifications, want %d", d.Notes, notes)
	}
	if !OutcomesSeen(d.Journal)[seen] {
		t.Errorf("the journal never shows %q: the fault did not fire", seen)
	}
}

// CheckQuiet asserts that a delivery attempted no write and published no
// notification: what a redelivery of settled events must do.
func CheckQuiet(t testing.TB, d Delivery) {
	t.Helper()
	if n := WriteAttempts(d.Journal); n != 0 {
		t.Errorf("redelivery attempted %d writes, want 0", n)
	}
	if d.Notes != 0 {
		t.Errorf("redelivery published %d notifications, want 0", d.Notes)
	}
}
