package imdsguard_test

// The fault matrix: every fault the sandbox can inject, against the IMDS
// guardrail wired exactly as the Lambda wires it (FromConfig, the adaptive
// retryer, the SQS batch adapter), with the sample events. Each case is
// delivered twice (an SQS redelivery) and checked for: one outcome per
// instance, balanced counts, an error (and a batch item failure) for every
// failed remediation, notifications that neither undo nor repeat a change,
// and no second write.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
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
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

const (
	hub        = "111122223333"
	member     = "444455556666"
	hubRegion  = "us-east-1"
	hubInst    = "i-0aaa0000000000001" // pending, tokens optional (ec2-state-change-pending.json)
	memberInst = "i-0bbb0000000000001" // pending in the member account (…-cross-account.json)

	modifyOp = "ModifyInstanceMetadataOptions"
	// clientTimeout is the HTTP client timeout of the test configuration: far
	// above a loopback round trip, far below the injected latency.
	clientTimeout = 60 * time.Millisecond
	slowMs        = 200
)

// input is one event and the instances it names.
type input struct {
	name      string
	data      []byte
	resources []string
}

func sample(t *testing.T, name string, resources ...string) input {
	t.Helper()
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	return input{name: name, data: data, resources: resources}
}

// stormIDs are the instances stormFixture adds to the hub.
func stormIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-0ccc%013x", i+1)
	}
	return ids
}

// runInstances is the one-instance RunInstances sample listing ids instead.
func runInstances(t *testing.T, ids []string) input {
	t.Helper()
	base := sample(t, "cloudtrail-run-instances-one.json")
	var ev map[string]any
	if err := json.Unmarshal(base.data, &ev); err != nil {
		t.Fatal(err)
	}
	set := ev["detail"].(map[string]any)["responseElements"].(map[string]any)["instancesSet"].(map[string]any)
	proto := set["items"].([]any)[0].(map[string]any)
	items := make([]any, len(ids))
	for i, id := range ids {
		item := map[string]any{}
		for k, v := range proto {
			item[k] = v
		}
		item["instanceId"] = id
		items[i] = item
	}
	set["items"] = items
	ev["id"] = fmt.Sprintf("run-instances-%d", len(ids))
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return input{name: fmt.Sprintf("run-instances-%d", len(ids)), data: data, resources: ids}
}

// demoFixture is events/fixtures/demo.json plus n storm instances in the hub
// (tokens optional, hop limit 2).
func demoFixture(t *testing.T, n int) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	reg := f.Accounts[hub].Regions[hubRegion]
	for _, id := range stormIDs(n) {
		reg.Instances = append(reg.Instances, sandbox.Instance{
			ID: id, State: "pending", Tags: map[string]string{"Name": "storm"},
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPEndpoint: "enabled"},
		})
	}
	return f
}

func withoutMemberRole(f *sandbox.Fixture) {
	a := f.Accounts[member]
	var kept []sandbox.Role
	for _, r := range a.Roles {
		if r.Name != accounts.DefaultRoleName {
			kept = append(kept, r)
		}
	}
	a.Roles = kept
}

// fastRetryer is the production retryer (adaptive mode, MaxAttempts) with
// the backoff capped at 50 ms so that exhausting it takes half a second.
func fastRetryer() aws.Retryer {
	return retry.AddWithMaxBackoffDelay(accounts.Retryer(), 50*time.Millisecond)
}

// rig is one sandbox and the guardrail wired to it as the Lambda wires it.
type rig struct {
	timeout time.Duration // each delivery's deadline, as Lambda's timeout sets it
	sb      *sandbox.Server
	handler func(context.Context, json.RawMessage) (any, error)
	g       *recorder
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

func newRig(t *testing.T, f *sandbox.Fixture) *rig {
	t.Helper()
	sb := sandboxtest.Start(t, f)
	cfg, err := sb.AWSConfig(context.Background(), hub, hubRegion)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = fastRetryer
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(clientTimeout)
	logs := &bytes.Buffer{}
	h := imdsguard.FromConfig(cfg, replay.Settings(hub, hubRegion, false), slog.New(slog.NewJSONHandler(logs, nil)), nil)
	rec := &recorder{g: h}
	return &rig{timeout: 30 * time.Second, sb: sb, handler: invoke.Handler(rec), g: rec, log: logs}
}

// delivery is what one SQS batch produced.
type delivery struct {
	results  [][]guardrail.Result // per record
	errs     []error
	failures map[string]bool // message ids reported in batchItemFailures
	journal  []sandbox.Call  // calls made during the delivery
	notes    int             // notifications published during the delivery
	logLines int             // "outcome" log lines written during the delivery
}

func (r *rig) deliver(t *testing.T, inputs []input) delivery {
	t.Helper()
	var batch awslambda.SQSEvent
	for i, in := range inputs {
		batch.Records = append(batch.Records, awslambda.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), EventSource: "aws:sqs", Body: string(in.data)})
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	calls, notes := len(r.sb.Journal()), len(r.sb.Notifications())
	r.g.results, r.g.errs = nil, nil
	r.log.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	out, err := r.handler(ctx, payload)
	if err != nil {
		t.Fatalf("SQS batch: handler error %v (batch errors must be item failures)", err)
	}
	resp, ok := out.(awslambda.SQSEventResponse)
	if !ok {
		t.Fatalf("SQS batch answered %T, want SQSEventResponse", out)
	}
	d := delivery{results: r.g.results, errs: r.g.errs, failures: map[string]bool{},
		journal: r.sb.Journal()[calls:], notes: len(r.sb.Notifications()) - notes}
	for _, f := range resp.BatchItemFailures {
		d.failures[f.ItemIdentifier] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(r.log.String()), "\n") {
		if strings.Contains(line, `"msg":"outcome"`) {
			d.logLines++
		}
	}
	return d
}

// okWrites counts successful writes of op per resource.
func okWrites(calls []sandbox.Call, op string) map[string]int {
	n := map[string]int{}
	for _, c := range calls {
		if c.Write && c.Operation == op && c.Outcome == "ok" {
			n[c.Resource]++
		}
	}
	return n
}

func writeAttempts(calls []sandbox.Call) int {
	n := 0
	for _, c := range calls {
		if c.Write {
			n++
		}
	}
	return n
}

func outcomesSeen(calls []sandbox.Call) map[string]bool {
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.Outcome] = true
	}
	return seen
}

// checkBalance asserts one result per named instance per event, the same
// number of outcome log lines, an error (and a batch item failure) exactly
// for the events with a failed instance, and returns the outcomes.
func checkBalance(t *testing.T, inputs []input, d delivery) map[string]guardrail.Outcome {
	t.Helper()
	if len(d.results) != len(inputs) {
		t.Fatalf("%d events in, %d handled", len(inputs), len(d.results))
	}
	got := map[string]guardrail.Outcome{}
	total := 0
	for i, in := range inputs {
		seen := map[string]int{}
		failed := false
		for _, r := range d.results[i] {
			seen[r.Resource]++
			got[r.Resource] = r.Outcome
			failed = failed || r.Outcome == guardrail.Failed
			if r.Guardrail != guardrail.IMDS {
				t.Errorf("%s: result for %s from guardrail %q", in.name, r.Resource, r.Guardrail)
			}
		}
		total += len(d.results[i])
		if len(d.results[i]) != len(in.resources) {
			t.Errorf("%s: %d instances in, %d outcomes out", in.name, len(in.resources), len(d.results[i]))
		}
		for _, id := range in.resources {
			if seen[id] != 1 {
				t.Errorf("%s: %s has %d outcomes, want exactly 1", in.name, id, seen[id])
			}
		}
		if failed != (d.errs[i] != nil) {
			t.Errorf("%s: failed instance %v but Handle error %v", in.name, failed, d.errs[i])
		}
		if id := fmt.Sprintf("m-%d", i); failed != d.failures[id] {
			t.Errorf("%s: failed instance %v but batch item failure %v", in.name, failed, d.failures[id])
		}
	}
	if d.logLines != total {
		t.Errorf("%d outcome log lines for %d outcomes", d.logLines, total)
	}
	return got
}

func TestFaultMatrix(t *testing.T) {
	const storm = 10
	ids := stormIDs(storm)
	all := func(o guardrail.Outcome, ids ...string) map[string]guardrail.Outcome {
		m := map[string]guardrail.Outcome{}
		for _, id := range ids {
			m[id] = o
		}
		return m
	}
	merge := func(ms ...map[string]guardrail.Outcome) map[string]guardrail.Outcome {
		out := map[string]guardrail.Outcome{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	hubAndMember := func(t *testing.T) []input {
		return []input{
			sample(t, "ec2-state-change-pending.json", hubInst),
			sample(t, "ec2-state-change-pending-cross-account.json", memberInst),
		}
	}
	withStorm := func(t *testing.T) []input { return append(hubAndMember(t), runInstances(t, ids)) }
	onlyHub := func(t *testing.T) []input { return hubAndMember(t)[:1] }
	errs := func(m map[string]sandbox.ErrorFault) sandbox.Faults { return sandbox.Faults{Errors: m} }

	cases := []struct {
		name   string
		faults sandbox.Faults
		mutate func(*sandbox.Fixture)
		events func(*testing.T) []input
		want   map[string]guardrail.Outcome // after the first delivery
		notes  int                          // notifications on the first delivery
		seen   string                       // an answer the journal must show: the fault fired
		// deadline replaces the deliveries' 30 s deadline; partial says
		// want lists the outcomes allowed rather than required (the split
		// depends on timing), and that a redelivery may finish what a
		// first delivery left failed.
		deadline time.Duration
		partial  bool
	}{
		{
			name:   "no fault",
			events: withStorm,
			want:   all(guardrail.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "ok",
		},
		{
			name: "throttling bursts",
			faults: sandbox.Faults{Throttle: map[string]sandbox.Throttle{
				"ec2:DescribeInstances":             {Burst: 2, RatePerSecond: 50},
				"ec2:ModifyInstanceMetadataOptions": {Burst: 8, RatePerSecond: 50},
			}},
			events: withStorm,
			want:   all(guardrail.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "RequestLimitExceeded",
		},
		{
			name: "5xx some of the time",
			faults: sandbox.Faults{Seed: 7, Errors: map[string]sandbox.ErrorFault{
				"ec2:ModifyInstanceMetadataOptions": {Rate: 0.4, Code: "InternalError"},
				"ec2:DescribeInstances":             {Rate: 0.3, Code: "ServiceUnavailable"},
			}},
			events: withStorm,
			want:   all(guardrail.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  3, seen: "InternalError",
		},
		{
			name:   "5xx on every modify",
			faults: errs(map[string]sandbox.ErrorFault{"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "ServiceUnavailable"}}),
			events: hubAndMember,
			want:   all(guardrail.Failed, hubInst, memberInst),
			notes:  2, seen: "ServiceUnavailable",
		},
		{
			name:   "modify slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"ec2:ModifyInstanceMetadataOptions": slowMs}},
			events: onlyHub,
			want:   all(guardrail.Failed, hubInst),
			notes:  1, seen: "canceled",
		},
		{
			name:   "describe slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"ec2:DescribeInstances": slowMs}},
			events: onlyHub,
			want:   all(guardrail.Failed, hubInst),
			notes:  1, seen: "canceled",
		},
		{
			name:   "AssumeRole slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"sts:AssumeRole": slowMs}},
			events: hubAndMember,
			want:   merge(all(guardrail.Remediated, hubInst), all(guardrail.Failed, memberInst)),
			notes:  2, seen: "canceled",
		},
		{
			name:   "instance deleted between describe and modify",
			faults: errs(map[string]sandbox.ErrorFault{"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "InvalidInstanceID.NotFound"}}),
			events: withStorm,
			want:   all(guardrail.Gone, append([]string{hubInst, memberInst}, ids...)...),
			notes:  0, seen: "InvalidInstanceID.NotFound",
		},
		{
			name: "access denied in the member account",
			faults: errs(map[string]sandbox.ErrorFault{
				"ec2:DescribeInstances":             {Rate: 1, Code: "UnauthorizedOperation", Account: member},
				"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "UnauthorizedOperation", Account: member},
			}),
			events: hubAndMember,
			want:   merge(all(guardrail.Remediated, hubInst), all(guardrail.Failed, memberInst)),
			notes:  2, seen: "UnauthorizedOperation",
		},
		{
			name:   "AssumeRole denied",
			faults: errs(map[string]sandbox.ErrorFault{"sts:AssumeRole": {Rate: 1, Code: "AccessDenied"}}),
			events: hubAndMember,
			want:   merge(all(guardrail.Remediated, hubInst), all(guardrail.Failed, memberInst)),
			notes:  2, seen: "AccessDenied",
		},
		{
			name:   "member role missing",
			mutate: withoutMemberRole,
			events: hubAndMember,
			want:   merge(all(guardrail.Remediated, hubInst), all(guardrail.Failed, memberInst)),
			notes:  2, seen: "AccessDenied",
		},
		{
			// More throttled writes than the invocation has time for: the
			// writes stop DefaultReserve before the deadline, what was
			// modified is confirmed and announced, the rest is failed (so
			// the event is retried) and the redelivery carries on.
			name:     "invocation deadline before every instance is modified",
			faults:   sandbox.Faults{Throttle: map[string]sandbox.Throttle{"ec2:ModifyInstanceMetadataOptions": {Burst: 3, RatePerSecond: 0.5}}},
			events:   func(t *testing.T) []input { return []input{runInstances(t, ids)} },
			deadline: imdsguard.DefaultReserve + 1500*time.Millisecond,
			partial:  true,
			want:     all(guardrail.Remediated, ids...), // or failed
			notes:    1, seen: "RequestLimitExceeded",
		},
		{
			name:   "SNS publish fails",
			faults: errs(map[string]sandbox.ErrorFault{"sns:Publish": {Rate: 1, Code: "InternalError"}}),
			events: withStorm,
			want:   all(guardrail.Remediated, append([]string{hubInst, memberInst}, ids...)...),
			notes:  0, seen: "InternalError",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := demoFixture(t, storm)
			faults := tc.faults
			f.Faults = &faults
			if tc.mutate != nil {
				tc.mutate(f)
			}
			before := instances(f)
			r := newRig(t, f)
			if tc.deadline > 0 {
				r.timeout = tc.deadline
			}
			inputs := tc.events(t)

			first := r.deliver(t, inputs)
			got := checkBalance(t, inputs, first)
			count := map[guardrail.Outcome]int{}
			for id, want := range tc.want {
				count[got[id]]++
				if got[id] != want && !(tc.partial && got[id] == guardrail.Failed) {
					t.Errorf("%s: outcome %q, want %q", id, got[id], want)
				}
			}
			if tc.partial && (count[guardrail.Remediated] == 0 || count[guardrail.Failed] == 0) {
				t.Errorf("outcomes %v: want some remediated and some failed", count)
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes for %d instances, want %d", len(got), len(tc.want))
			}
			if first.notes != tc.notes {
				t.Errorf("%d notifications, want %d", first.notes, tc.notes)
			}
			if !outcomesSeen(first.journal)[tc.seen] {
				t.Errorf("the journal never shows %q: the fault did not fire", tc.seen)
			}

			// Redelivery: nothing remediated is written again or announced
			// again; what failed fails again (the fault is still there).
			firstGot := map[string]guardrail.Outcome{}
			for id, o := range got {
				firstGot[id] = o
			}
			second := r.deliver(t, inputs)
			again := checkBalance(t, inputs, second)
			// A failed or vanished instance is tried again (the sandbox still
			// describes it, and the fault is still injected): only a run
			// that settled everything must write nothing at all.
			settled := true
			for id, o := range got {
				want := o
				switch o {
				case guardrail.Remediated:
					want = guardrail.Compliant
				case guardrail.Failed, guardrail.Gone:
					settled = false
				}
				if tc.partial && o == guardrail.Failed && again[id] == guardrail.Remediated {
					got[id] = guardrail.Remediated // finished by the redelivery
					continue
				}
				if again[id] != want {
					t.Errorf("redelivered: %s outcome %q, want %q", id, again[id], want)
				}
			}
			for id, n := range okWrites(second.journal, modifyOp) {
				if !tc.partial || firstGot[id] != guardrail.Failed {
					t.Errorf("redelivery wrote %s again (%d times; first outcome %q)", id, n, firstGot[id])
				}
			}
			if settled {
				if n := writeAttempts(second.journal); n != 0 {
					t.Errorf("redelivery attempted %d writes, want 0", n)
				}
				if second.notes != 0 {
					t.Errorf("redelivery published %d notifications, want 0", second.notes)
				}
			}

			// Across both deliveries: one successful modify per remediated
			// instance and none for the others; the state agrees.
			writes := okWrites(r.sb.Journal(), modifyOp)
			after := instances(r.sb.State())
			for id, o := range got {
				wantWrites := 0
				if o == guardrail.Remediated {
					wantWrites = 1
				}
				if writes[id] != wantWrites {
					t.Errorf("%s (%s): %d successful modifies, want %d", id, o, writes[id], wantWrites)
				}
				mo := after[id]
				if o == guardrail.Remediated {
					if mo.HTTPTokens != "required" || mo.HTTPPutResponseHopLimit != 1 || mo.HTTPEndpoint != before[id].HTTPEndpoint {
						t.Errorf("%s remediated but options are %+v", id, mo)
					}
				} else if mo.HTTPTokens != before[id].HTTPTokens || mo.HTTPPutResponseHopLimit != before[id].HTTPPutResponseHopLimit {
					t.Errorf("%s %s but options changed: %+v → %+v", id, o, before[id], mo)
				}
			}
		})
	}
}

// instances maps every instance id in a fixture to its metadata options.
func instances(f *sandbox.Fixture) map[string]sandbox.MetadataOptions {
	out := map[string]sandbox.MetadataOptions{}
	for _, a := range f.Accounts {
		for _, reg := range a.Regions {
			for _, in := range reg.Instances {
				out[in.ID] = in.MetadataOptions
			}
		}
	}
	return out
}
