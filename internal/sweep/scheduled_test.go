package sweep

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
)

const topicARN = "arn:aws:sns:us-east-1:111122223333:credguard-notifications"

// scheduled wires the job exactly as the sweeper function does, from the
// sandbox's hub account in us-east-1, logging JSON into logs.
func scheduled(t *testing.T, s *sandbox.Server, st settings.Settings, cfg Config, logs *bytes.Buffer) *Scheduled {
	t.Helper()
	base, err := s.AWSConfig(context.Background(), s.HubAccount(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	base.Retryer = accounts.Retryer
	st = st.WithDefaultRoles()
	st.SelfRoleARNs = settings.SelfRoleARNs("us-east-1", s.HubAccount())
	return NewScheduled(base, st, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
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

func TestScheduledSweepsTheOrganizationAndNotifiesOnce(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	var logs bytes.Buffer
	job := scheduled(t, s, settings.Settings{
		HubAccount: hub, TopicARN: topicARN, OrganizationID: "o-sandbox0001", Regions: []string{"us-east-1", "eu-west-1"},
	}, Config{}, &logs)
	res, err := job.Handle(testContext(t), json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if res.Accounts != 2 || res.Regions != 2 || res.Findings != 15 || res.Remaining != 1 || !res.Notified || len(res.Errors) != 0 {
		t.Errorf("result %+v", res)
	}
	if res.Outcomes[guardrail.Remediated] != 9 || res.Outcomes[guardrail.Revoked] != 2 {
		t.Errorf("outcomes %v", res.Outcomes)
	}
	notes := s.Notifications()
	if len(notes) != 1 {
		t.Fatalf("%d notifications, want 1", len(notes))
	}
	m, err := notify.Parse([]byte(notes[0].Message))
	if err != nil {
		t.Fatal(err)
	}
	if notes[0].TopicARN != topicARN || notes[0].Attributes["guardrail"] != "sweep" || notes[0].Attributes["outcome"] != "remediated" || notes[0].Attributes["severity"] != "critical" {
		t.Errorf("published to %s with %v", notes[0].TopicARN, notes[0].Attributes)
	}
	if m.Content.Title != "Credguard sweep fixed 11 and left 1 resource non-compliant in 2 accounts × 2 regions" {
		t.Errorf("title %q", m.Content.Title)
	}
	if !strings.Contains(m.Content.Description, "payments-api") {
		t.Errorf("the warned role is not among the worst offenders:\n%s", m.Content.Description)
	}
	findings := logLines(t, &logs, "finding")
	if len(findings) != 15 {
		t.Errorf("%d finding log lines, want one per finding (15)", len(findings))
	}
	for _, l := range findings {
		if l["sweep_id"] != res.ID || l["outcome"] == "" || l["resource"] == "" || l["kind"] == "" {
			t.Errorf("log line %v", l)
		}
	}
	if done := logLines(t, &logs, "sweep done"); len(done) != 1 {
		t.Errorf("%d summary log lines", len(done))
	}
}

func TestScheduledFailsWhenARemediationFailsOrAnAccountIsOutOfReach(t *testing.T) {
	f := kindsFixture()
	f.Accounts[member].Roles = f.Accounts[member].Roles[2:] // no member role
	f.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"iam:UpdateAssumeRolePolicy": {Rate: 1, Code: "AccessDenied"}}}
	s := startSandbox(t, f)
	var logs bytes.Buffer
	job := scheduled(t, s, settings.Settings{
		HubAccount: hub, TopicARN: topicARN, Accounts: []string{hub, member}, Regions: []string{"us-east-1"},
	}, Config{}, &logs)
	res, err := job.Handle(testContext(t), nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "1 remediations failed, 3 parts not swept") {
		t.Fatalf("err %v", err)
	}
	if len(res.Errors) != 3 || !res.Notified {
		t.Errorf("result %+v", res)
	}
	notes := s.Notifications()
	if len(notes) != 1 {
		t.Fatalf("%d notifications", len(notes))
	}
	m, _ := notify.Parse([]byte(notes[0].Message))
	if !strings.HasPrefix(m.Content.Title, "Credguard sweep FAILED on 1 resource and could not sweep 3 parts") ||
		notes[0].Attributes["severity"] != "critical" {
		t.Errorf("title %q, attributes %v", m.Content.Title, notes[0].Attributes)
	}
	if n := len(logLines(t, &logs, "not swept")); n != 3 {
		t.Errorf("%d 'not swept' log lines", n)
	}
}

func TestScheduledDefaultsToTheHubAndItsRegionAndStaysQuietWhenClean(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: {
		Roles: []sandbox.Role{{Name: "app", TrustPolicy: trustLambda}},
		Regions: map[string]*sandbox.Region{"us-east-1": {Instances: []sandbox.Instance{{ID: "i-0aaa0000000000001", State: "running",
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}}}}},
	}}}
	s := startSandbox(t, f)
	var logs bytes.Buffer
	// No hub account configured: the job asks STS who it is.
	job := scheduled(t, s, settings.Settings{TopicARN: topicARN}, Config{}, &logs)
	res, err := job.Handle(testContext(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts != 1 || res.Regions != 1 || res.Checked != 2 || res.Findings != 0 || res.Notified {
		t.Errorf("result %+v", res)
	}
	if n := len(s.Notifications()); n != 0 {
		t.Errorf("%d notifications for a clean sweep", n)
	}
	if countCalls(s, "GetCallerIdentity", "ok") == 0 {
		t.Error("the hub account was not looked up")
	}
	// A warm function looks its hub account up once, not per invocation.
	if _, err := job.Handle(testContext(t), nil); err != nil {
		t.Fatal(err)
	}
	if n := countCalls(s, "GetCallerIdentity", ""); n != 1 {
		t.Errorf("GetCallerIdentity called %d times over two invocations, want 1", n)
	}
}

func TestSweepDeadlineKeepsTimeToReport(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ left, want time.Duration }{
		{15 * time.Minute, 15*time.Minute - 20*time.Second}, // the Lambda maximum: 20 s kept
		{200 * time.Second, 180 * time.Second},
		{100 * time.Second, 90 * time.Second}, // a tenth when that is less
		{time.Second, 900 * time.Millisecond},
		{0, 0},
	} {
		if got := sweepDeadline(now, now.Add(tc.left)).Sub(now); got != tc.want {
			t.Errorf("%v left: sweep for %v, want %v", tc.left, got, tc.want)
		}
	}
}
