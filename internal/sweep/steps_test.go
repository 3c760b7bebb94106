package sweep

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/sweep/sweeptest"
)

const (
	topicARN = "arn:aws:sns:us-east-1:111122223333:credguard-notifications"
	bucket   = "credguard-sweep-test"
)

// machine wires the three steps exactly as the functions do, from the
// sandbox's hub account in us-east-1, logging JSON into logs, and creates
// the sweep bucket.
type machine struct {
	list    *ListStep
	scope   *ScopeStep
	summary *SummaryStep
	s3      *s3.Client
	emf     bytes.Buffer
}

func newMachine(t *testing.T, s *sandbox.Server, st settings.Settings, cfg Config, logs *bytes.Buffer) *machine {
	t.Helper()
	base, err := s.AWSConfig(context.Background(), s.HubAccount(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	base.Retryer = accounts.Retryer
	st = st.WithDefaultRoles()
	st.SelfRoleARNs = settings.SelfRoleARNs("us-east-1", s.HubAccount())
	log := slog.New(slog.NewJSONHandler(logs, nil))
	m := &machine{list: NewListStep(base, st, bucket, log), scope: NewScopeStep(base, st, cfg, log), s3: s3.NewFromConfig(base)}
	m.summary = NewSummaryStep(base, st, bucket, cfg.DryRunIMDS || cfg.DryRunTrust, &m.emf, log)
	if _, err := m.s3.CreateBucket(testContext(t), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return m
}

// run plays one execution: list, map (each scope through the scope step,
// results written as ResultWriter does), summary. fail, when set, makes
// the child of that scope fail as a Lambda error would.
func (m *machine) run(t *testing.T, execution string, fail func(Scope) *sweeptest.Child) (SummaryResult, error) {
	t.Helper()
	ctx := testContext(t)
	listed, err := m.list.Handle(ctx, ListInput{Execution: execution})
	if err != nil {
		t.Fatalf("list step: %v", err)
	}
	var scopes []Scope
	if err := sweeptest.ReadJSON(ctx, m.s3, listed.Bucket, listed.Key, &scopes); err != nil {
		t.Fatal(err)
	}
	key, err := sweeptest.Map(ctx, m.s3, bucket, execution, scopes, func(sc Scope) sweeptest.Child {
		if fail != nil {
			if c := fail(sc); c != nil {
				return *c
			}
		}
		res, err := m.scope.Handle(ctx, sc)
		if err != nil {
			cause, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
			return sweeptest.Child{Error: fmt.Sprintf("%T", err), Cause: string(cause)}
		}
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return sweeptest.Child{Output: out}
	})
	if err != nil {
		t.Fatal(err)
	}
	in := SummaryInput{Execution: execution, Listed: listed, Map: &MapOutput{}}
	in.Map.ResultWriterDetails.Bucket, in.Map.ResultWriterDetails.Key = bucket, key
	return m.summary.Handle(ctx, in)
}

// logLines decodes the JSON log lines with the given message.
func logLines(t *testing.T, logs *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

func TestStepsSweepTheOrganizationAndNotifyOnce(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	var logs bytes.Buffer
	m := newMachine(t, s, settings.Settings{
		HubAccount: hub, TopicARN: topicARN, OrganizationID: "o-sandbox0001", Regions: []string{"us-east-1", "eu-west-1"},
	}, Config{}, &logs)
	res, err := m.run(t, "run-1", nil)
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	// 2 accounts × (2 regions + IAM) = 6 scopes.
	if res.Scopes != 6 || res.Swept != 6 || res.FailedScopes != 0 || res.Accounts != 2 || res.Regions != 2 ||
		res.Findings != 15 || res.Remaining != 1 || !res.Notified || len(res.Errors) != 0 {
		t.Errorf("result %+v", res)
	}
	if res.Outcomes[outcome.Remediated] != 9 || res.Outcomes[outcome.Revoked] != 2 || res.Outcomes[outcome.Exempt] != 3 {
		t.Errorf("outcomes %v", res.Outcomes)
	}
	notes := s.Notifications()
	if len(notes) != 1 {
		t.Fatalf("%d notifications, want 1", len(notes))
	}
	msg, err := notify.Parse([]byte(notes[0].Message))
	if err != nil {
		t.Fatal(err)
	}
	if notes[0].TopicARN != topicARN || notes[0].Attributes["guardrail"] != "sweep" || notes[0].Attributes["severity"] != "critical" {
		t.Errorf("published to %s with %v", notes[0].TopicARN, notes[0].Attributes)
	}
	if msg.Content.Title != "Credguard sweep fixed 11 and left 1 resource non-compliant in 2 accounts × 2 regions" {
		t.Errorf("title %q", msg.Content.Title)
	}
	desc := msg.Content.Description
	for _, want := range []string{"payments-api", "*Worst offenders*", "*Exempt, left non-compliant*", "legacy-idp", "exempt-lt"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description lacks %q:\n%s", want, desc)
		}
	}
	if n := len(logLines(t, &logs, "finding")); n != 15 {
		t.Errorf("%d finding log lines, want one per finding (15)", n)
	}
	if done := logLines(t, &logs, "sweep done"); len(done) != 1 {
		t.Errorf("%d summary log lines", len(done))
	}
	// One EMF record for the run: findings, scopes, outcomes.
	var rec map[string]any
	if err := json.Unmarshal(m.emf.Bytes(), &rec); err != nil {
		t.Fatalf("EMF %q: %v", m.emf.String(), err)
	}
	if rec["Guardrail"] != "sweep" || rec["Findings"] != 15.0 || rec["Scopes"] != 6.0 || rec["FailedScopes"] != 0.0 || rec["remediated"] != 9.0 {
		t.Errorf("EMF record %v", rec)
	}
	// The scopes object is the list the map read.
	var scopes []Scope
	if err := sweeptest.ReadJSON(testContext(t), m.s3, bucket, ScopesPrefix+"run-1.json", &scopes); err != nil || len(scopes) != 6 || scopes[0] != (Scope{Account: hub}) {
		t.Errorf("scopes %v, %v", scopes, err)
	}
}

func TestStepsReportFailedScopesRemediationsAndUnreachableAccounts(t *testing.T) {
	f := kindsFixture()
	f.Accounts[member].Roles = f.Accounts[member].Roles[2:] // no member roles
	f.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "AccessDenied"}}}
	s := startSandbox(t, f)
	var logs bytes.Buffer
	m := newMachine(t, s, settings.Settings{
		HubAccount: hub, TopicARN: topicARN, Accounts: []string{hub, member}, Regions: []string{"us-east-1", "eu-west-1"},
	}, Config{}, &logs)
	// The hub's eu-west-1 child fails as a timed-out Lambda would.
	res, err := m.run(t, "run-2", func(sc Scope) *sweeptest.Child {
		if sc == (Scope{Account: hub, Region: "eu-west-1"}) {
			return &sweeptest.Child{Error: "States.Timeout", Cause: "Task timed out after 900.00 seconds"}
		}
		return nil
	})
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "1 remediations failed") || !strings.Contains(err.Error(), "(1 scopes failed)") {
		t.Fatalf("err %v", err)
	}
	if res.FailedScopes != 1 || res.Swept != 5 || !res.Notified {
		t.Errorf("result %+v", res)
	}
	// The member account's three parts (roles, instances, templates of
	// each region) could not be reached: listed in the errors with the
	// failed scope.
	joined := strings.Join(res.Errors, "\n")
	for _, want := range []string{"scope 111122223333/eu-west-1 failed: States.Timeout: Task timed out", "444455556666 roles: no IAM access", "444455556666/eu-west-1 instances"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors lack %q:\n%s", want, joined)
		}
	}
	notes := s.Notifications()
	if len(notes) != 1 {
		t.Fatalf("%d notifications", len(notes))
	}
	msg, _ := notify.Parse([]byte(notes[0].Message))
	if !strings.HasPrefix(msg.Content.Title, "Credguard sweep FAILED on 1 resource and could not sweep") ||
		!strings.Contains(msg.Content.Description, "*Not swept*") || notes[0].Attributes["severity"] != "critical" {
		t.Errorf("title %q, attributes %v\n%s", msg.Content.Title, notes[0].Attributes, msg.Content.Description)
	}
}

func TestSummaryReportsAMapThatStoppedAndScopesWithoutResult(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	var logs bytes.Buffer
	m := newMachine(t, s, settings.Settings{HubAccount: hub, TopicARN: topicARN}, Config{}, &logs)
	res, err := m.summary.Handle(testContext(t), SummaryInput{Execution: "run-3", Listed: Listed{Scopes: 12, Accounts: 4},
		MapError: &StateError{Error: "States.ExceedToleratedFailureThreshold", Cause: "The specified tolerated failure threshold was exceeded"}})
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err %v", err)
	}
	if len(res.Errors) != 2 || !strings.Contains(res.Errors[0], "States.ExceedToleratedFailureThreshold") || res.Errors[1] != "12 of 12 scopes have no result" || !res.Notified {
		t.Errorf("result %+v", res)
	}
	// Results outside the sweep bucket's results/ are refused, not read.
	in := SummaryInput{Execution: "run-4", Listed: Listed{Scopes: 1}, Map: &MapOutput{}}
	in.Map.ResultWriterDetails.Bucket, in.Map.ResultWriterDetails.Key = "someone-elses-bucket", "results/x/manifest.json"
	res, err = m.summary.Handle(testContext(t), in)
	if !errors.Is(err, ErrFailed) || !strings.Contains(strings.Join(res.Errors, "\n"), "not under s3://"+bucket+"/results/") {
		t.Fatalf("err %v, result %+v", err, res)
	}
	for _, c := range s.Journal() {
		if c.Service == "s3" && c.Operation == "GetObject" {
			t.Errorf("read %s", c.Resource)
		}
	}
}

func TestScopeStepBoundsItsResultAndRejectsMalformedScopes(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: {Regions: map[string]*sandbox.Region{"us-east-1": {}}}}}
	r := f.Accounts[hub].Regions["us-east-1"]
	for i := range 300 {
		tags := map[string]string{"Name": strings.Repeat("n", 200)}
		if i%3 == 0 {
			tags["credguard:exempt"] = "reason " + strings.Repeat("r", 200)
		}
		r.Instances = append(r.Instances, sandbox.Instance{ID: fmt.Sprintf("i-0ccc%013x", i), State: "running", Tags: tags,
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2}})
	}
	s := startSandbox(t, f)
	step := &ScopeStep{Sweeper: sweeper(t, s, readOnly())}
	for _, bad := range []Scope{{Account: "1234"}, {Account: hub, Region: "us-east-1/../x"}} {
		if _, err := step.Handle(testContext(t), bad); err == nil {
			t.Errorf("scope %+v accepted", bad)
		}
	}
	if n := len(s.Journal()); n != 0 {
		t.Errorf("malformed scopes made %d calls", n)
	}
	res, err := step.Handle(testContext(t), Scope{Account: hub, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != MaxResultItems || len(res.Exempt) != MaxResultItems || res.Omitted != 300-2*MaxResultItems ||
		res.Outcomes[outcome.DryRun] != 200 || res.Outcomes[outcome.Exempt] != 100 || res.Checked[KindInstance] != 300 {
		t.Errorf("findings %d, exempt %d, omitted %d, outcomes %v", len(res.Findings), len(res.Exempt), res.Omitted, res.Outcomes)
	}
	if b, _ := json.Marshal(res); len(b) > 64<<10 {
		t.Errorf("result is %d bytes: the bound is meant to keep it far below a state's 256 KiB", len(b))
	}
}

func TestScopeStepAsksForARetryWhenThrottled(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: {Regions: map[string]*sandbox.Region{"us-east-1": {}}}},
		Faults: &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{
			"ec2:DescribeInstances":       {Rate: 1, Code: "RequestLimitExceeded"},
			"ec2:DescribeLaunchTemplates": {Rate: 1, Code: "RequestLimitExceeded"},
		}}}
	s := startSandbox(t, f)
	step := &ScopeStep{Sweeper: sweeperWith(t, s, readOnly(), fastRetryer)}
	_, err := step.Handle(testContext(t), Scope{Account: hub, Region: "us-east-1"})
	var te *ThrottledError
	if !errors.As(err, &te) || te.Scope.Region != "us-east-1" {
		t.Fatalf("err %v (%T), want *ThrottledError", err, err)
	}
	// Step Functions matches the Retry on the error type Lambda reports:
	// the Go type's name.
	if got := fmt.Sprintf("%T", err); got != "*sweep.ThrottledError" {
		t.Errorf("type %s", got)
	}
}

func TestListStep(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	var logs bytes.Buffer
	m := newMachine(t, s, settings.Settings{HubAccount: hub, Regions: []string{"eu-west-1"}}, Config{}, &logs)
	listed, err := m.list.Handle(testContext(t), ListInput{Execution: "abc_1-2"})
	if err != nil {
		t.Fatal(err)
	}
	want := Listed{Bucket: bucket, Key: "scopes/abc_1-2.json", Scopes: 2, Accounts: 1, Regions: []string{"eu-west-1"}}
	if fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Errorf("listed %+v, want %+v", listed, want)
	}
	for _, bad := range []string{"../x", "a/b", strings.Repeat("a", 81)} {
		if _, err := m.list.Handle(testContext(t), ListInput{Execution: bad}); err == nil {
			t.Errorf("execution %q accepted", bad)
		}
	}
}

func TestScopeDeadlineKeepsTimeToReturn(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ left, want time.Duration }{
		{15 * time.Minute, 15*time.Minute - 10*time.Second}, // the Lambda maximum: 10 s kept
		{50 * time.Second, 45 * time.Second},                // a tenth when that is less
		{0, 0},
	} {
		if got := scopeDeadline(now, now.Add(tc.left)).Sub(now); got != tc.want {
			t.Errorf("%v left: sweep for %v, want %v", tc.left, got, tc.want)
		}
	}
}
