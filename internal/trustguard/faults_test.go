package trustguard_test

// The fault matrix: every fault the sandbox can inject, against the trust
// guardrail wired exactly as the Lambda wires it (FromConfig, the adaptive
// retryer, the SQS batch adapter), with the sample events. Each case is
// delivered twice (an SQS redelivery) and checked for: one outcome per role,
// balanced counts, an error (and a batch item failure) for every failed
// revocation, notifications that neither undo nor repeat a change, and no
// second write.

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
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/trustguard"
)

const (
	hub       = "111122223333"
	member    = "444455556666"
	hubRegion = "us-east-1"

	ciDeployer     = "arn:aws:iam::111122223333:role/ci-deployer"        // Federated "*" (iam-create-role.json)
	analytics      = "arn:aws:iam::111122223333:role/analytics-reporter" // any service account (eks-update-…)
	memberDeployer = "arn:aws:iam::444455556666:role/ci-deployer"        // the same trust, in the member account

	updateOp = "UpdateAssumeRolePolicy"
	revokeOp = "PutRolePolicy"

	clientTimeout = 60 * time.Millisecond
	slowMs        = 200
)

// input is one event and the roles it names.
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

// memberUpdate is iam-update-assume-role-policy.json as the member account
// forwards it, for its own ci-deployer role.
func memberUpdate(t *testing.T) input {
	t.Helper()
	base := sample(t, "iam-update-assume-role-policy.json")
	var ev map[string]any
	if err := json.Unmarshal(base.data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"], ev["account"] = "member-update-assume-role-policy", member
	detail := ev["detail"].(map[string]any)
	detail["recipientAccountId"] = member
	detail["requestParameters"].(map[string]any)["roleName"] = "ci-deployer"
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return input{name: "member-update-assume-role-policy", data: data, resources: []string{memberDeployer}}
}

// demoFixture is events/fixtures/demo.json with the hub's ci-deployer role
// (trust Federated "*") copied into the member account.
func demoFixture(t *testing.T) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	for _, r := range f.Accounts[hub].Roles {
		if r.Name == "ci-deployer" {
			f.Accounts[member].Roles = append(f.Accounts[member].Roles, r)
		}
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

// rig is one sandbox and the guardrail wired to it as the Lambda wires it.
type rig struct {
	sb      *sandbox.Server
	handler func(context.Context, json.RawMessage) (any, error)
	g       *recorder
	log     *bytes.Buffer
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
	h := trustguard.FromConfig(cfg, replay.Settings(hub, hubRegion, false), slog.New(slog.NewJSONHandler(logs, nil)), nil)
	rec := &recorder{g: h}
	return &rig{sb: sb, handler: invoke.Handler(rec), g: rec, log: logs}
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

// okWrites counts successful calls of op per resource.
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

// checkBalance asserts one result per named role per event, the same number
// of outcome log lines, an error (and a batch item failure) exactly for the
// events with a failed role, and returns the outcomes.
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
			if r.Guardrail != guardrail.Trust {
				t.Errorf("%s: result for %s from guardrail %q", in.name, r.Resource, r.Guardrail)
			}
		}
		total += len(d.results[i])
		if len(d.results[i]) != len(in.resources) {
			t.Errorf("%s: %d roles in, %d outcomes out: %+v", in.name, len(in.resources), len(d.results[i]), d.results[i])
		}
		for _, arn := range in.resources {
			if seen[arn] != 1 {
				t.Errorf("%s: %s has %d outcomes, want exactly 1", in.name, arn, seen[arn])
			}
		}
		if failed != (d.errs[i] != nil) {
			t.Errorf("%s: failed role %v but Handle error %v", in.name, failed, d.errs[i])
		}
		if id := fmt.Sprintf("m-%d", i); failed != d.failures[id] {
			t.Errorf("%s: failed role %v but batch item failure %v", in.name, failed, d.failures[id])
		}
	}
	if d.logLines != total {
		t.Errorf("%d outcome log lines for %d outcomes", d.logLines, total)
	}
	return got
}

// trustPolicies maps "account/role" to the role's trust policy.
func trustPolicies(f *sandbox.Fixture) map[string]string {
	out := map[string]string{}
	for id, a := range f.Accounts {
		for _, r := range a.Roles {
			out["arn:aws:iam::"+id+":role/"+r.Name] = string(r.TrustPolicy)
		}
	}
	return out
}

func TestFaultMatrix(t *testing.T) {
	all := func(o guardrail.Outcome, arns ...string) map[string]guardrail.Outcome {
		m := map[string]guardrail.Outcome{}
		for _, a := range arns {
			m[a] = o
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
	every := func(t *testing.T) []input {
		return []input{
			sample(t, "iam-create-role.json", ciDeployer),
			sample(t, "eks-update-pod-identity-association.json", analytics),
			memberUpdate(t),
		}
	}
	onlyHub := func(t *testing.T) []input { return every(t)[:1] }
	hubAndMember := func(t *testing.T) []input { e := every(t); return []input{e[0], e[2]} }
	errs := func(m map[string]sandbox.ErrorFault) sandbox.Faults { return sandbox.Faults{Errors: m} }

	cases := []struct {
		name   string
		faults sandbox.Faults
		mutate func(*sandbox.Fixture)
		events func(*testing.T) []input
		want   map[string]guardrail.Outcome // after the first delivery
		notes  int                          // notifications on the first delivery
		seen   string                       // an answer the journal must show: the fault fired
		// narrowed lists the roles whose trust policy the first delivery
		// changed although their outcome is not revoked.
		narrowed []string
	}{
		{
			name:   "no fault",
			events: every,
			want:   all(guardrail.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "ok",
		},
		{
			name: "throttling bursts",
			faults: sandbox.Faults{Throttle: map[string]sandbox.Throttle{
				"iam:GetRole":                {Burst: 1, RatePerSecond: 50},
				"iam:UpdateAssumeRolePolicy": {Burst: 1, RatePerSecond: 50},
			}},
			events: every,
			want:   all(guardrail.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "Throttling",
		},
		{
			name: "5xx some of the time",
			faults: sandbox.Faults{Seed: 7, Errors: map[string]sandbox.ErrorFault{
				"iam:GetRole":                {Rate: 0.3, Code: "ServiceUnavailable"},
				"iam:UpdateAssumeRolePolicy": {Rate: 0.4, Code: "InternalError"},
				"iam:PutRolePolicy":          {Rate: 0.4, Code: "InternalError"},
			}},
			events: every,
			want:   all(guardrail.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  3, seen: "InternalError",
		},
		{
			name:   "5xx on every trust update",
			faults: errs(map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "ServiceUnavailable"}}),
			events: hubAndMember,
			want:   all(guardrail.Failed, ciDeployer, memberDeployer),
			notes:  2, seen: "ServiceUnavailable",
		},
		{
			// The trust policy is narrowed but old sessions are not cut off:
			// failed, so the event is retried.
			name:   "5xx on every session revocation",
			faults: errs(map[string]sandbox.ErrorFault{"iam:PutRolePolicy": {Rate: 1, Code: "InternalError"}}),
			events: onlyHub,
			want:   all(guardrail.Failed, ciDeployer),
			notes:  1, seen: "InternalError",
			narrowed: []string{ciDeployer},
		},
		{
			name:   "trust update slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"iam:UpdateAssumeRolePolicy": slowMs}},
			events: onlyHub,
			want:   all(guardrail.Failed, ciDeployer),
			notes:  1, seen: "canceled",
		},
		{
			name:   "AssumeRole slower than the client timeout",
			faults: sandbox.Faults{LatencyMs: map[string]int{"sts:AssumeRole": slowMs}},
			events: hubAndMember,
			want:   merge(all(guardrail.Revoked, ciDeployer), all(guardrail.Failed, memberDeployer)),
			notes:  2, seen: "canceled",
		},
		{
			name:   "role deleted between read and update",
			faults: errs(map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "NoSuchEntity"}}),
			events: hubAndMember,
			want:   all(guardrail.Gone, ciDeployer, memberDeployer),
			notes:  0, seen: "NoSuchEntity",
		},
		{
			name:   "role deleted before GetRole",
			faults: errs(map[string]sandbox.ErrorFault{"iam:GetRole": {Rate: 1, Code: "NoSuchEntity"}}),
			events: every,
			want:   all(guardrail.Gone, ciDeployer, analytics, memberDeployer),
			notes:  0, seen: "NoSuchEntity",
		},
		{
			name: "access denied in the member account",
			faults: errs(map[string]sandbox.ErrorFault{
				"iam:GetRole":                {Rate: 1, Code: "AccessDenied", Account: member},
				"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "AccessDenied", Account: member},
			}),
			events: every,
			want:   merge(all(guardrail.Revoked, ciDeployer, analytics), all(guardrail.Failed, memberDeployer)),
			notes:  3, seen: "AccessDenied",
		},
		{
			name:   "AssumeRole denied",
			faults: errs(map[string]sandbox.ErrorFault{"sts:AssumeRole": {Rate: 1, Code: "AccessDenied"}}),
			events: every,
			want:   merge(all(guardrail.Revoked, ciDeployer, analytics), all(guardrail.Failed, memberDeployer)),
			notes:  3, seen: "AccessDenied",
		},
		{
			name:   "member role missing",
			mutate: withoutMemberRole,
			events: hubAndMember,
			want:   merge(all(guardrail.Revoked, ciDeployer), all(guardrail.Failed, memberDeployer)),
			notes:  2, seen: "AccessDenied",
		},
		{
			name:   "SNS publish fails",
			faults: errs(map[string]sandbox.ErrorFault{"sns:Publish": {Rate: 1, Code: "InternalError"}}),
			events: every,
			want:   all(guardrail.Revoked, ciDeployer, analytics, memberDeployer),
			notes:  0, seen: "InternalError",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := demoFixture(t)
			faults := tc.faults
			f.Faults = &faults
			if tc.mutate != nil {
				tc.mutate(f)
			}
			r := newRig(t, f)
			before := trustPolicies(r.sb.State())
			inputs := tc.events(t)

			first := r.deliver(t, inputs)
			got := checkBalance(t, inputs, first)
			for arn, want := range tc.want {
				if got[arn] != want {
					t.Errorf("%s: outcome %q, want %q", arn, got[arn], want)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes for %d roles, want %d", len(got), len(tc.want))
			}
			if first.notes != tc.notes {
				t.Errorf("%d notifications, want %d", first.notes, tc.notes)
			}
			if !outcomesSeen(first.journal)[tc.seen] {
				t.Errorf("the journal never shows %q: the fault did not fire", tc.seen)
			}
			narrowed := map[string]bool{}
			for _, arn := range tc.narrowed {
				narrowed[arn] = true
			}

			// Redelivery: nothing revoked is written again or announced
			// again; what failed fails again (the fault is still there).
			second := r.deliver(t, inputs)
			again := checkBalance(t, inputs, second)
			settled := true
			for arn, o := range got {
				switch {
				case o == guardrail.Revoked:
					if again[arn] != guardrail.Compliant {
						t.Errorf("redelivered: %s outcome %q, want compliant", arn, again[arn])
					}
				case narrowed[arn]:
					// Already narrowed: the retry finds nothing left to change.
					settled = false
				case o == guardrail.Failed || o == guardrail.Gone:
					settled = false
					if again[arn] != o {
						t.Errorf("redelivered: %s outcome %q, want %q again", arn, again[arn], o)
					}
				}
			}
			for _, op := range []string{updateOp, revokeOp} {
				if n := okWrites(second.journal, op); len(n) != 0 {
					t.Errorf("redelivery wrote again (%s): %v", op, n)
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

			// Across both deliveries: one trust update and one revocation per
			// revoked role, none for the others; the state agrees.
			updates, revokes := okWrites(r.sb.Journal(), updateOp), okWrites(r.sb.Journal(), revokeOp)
			after := trustPolicies(r.sb.State())
			for arn, o := range got {
				wantUpdates, wantRevokes := 0, 0
				switch {
				case o == guardrail.Revoked:
					wantUpdates, wantRevokes = 1, 1
				case narrowed[arn]:
					wantUpdates = 1
				}
				if updates[arn] != wantUpdates || revokes[arn] != wantRevokes {
					t.Errorf("%s (%s): %d trust updates and %d revocations, want %d and %d", arn, o, updates[arn], revokes[arn], wantUpdates, wantRevokes)
				}
				if changed := after[arn] != before[arn]; changed != (wantUpdates == 1) {
					t.Errorf("%s (%s): trust policy changed %v, want %v", arn, o, changed, wantUpdates == 1)
				}
			}
		})
	}
}
