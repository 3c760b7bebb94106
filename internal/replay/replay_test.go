package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/trust"
)

const hub = "111122223333"

func demoFixture(t *testing.T) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	return f
}

func input(t *testing.T, name string) replay.Input {
	t.Helper()
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	return replay.Input{Name: name, Data: data}
}

func allSamples(t *testing.T) []replay.Input {
	t.Helper()
	names, err := fs.Glob(events.Files, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var in []replay.Input
	for _, n := range names {
		in = append(in, input(t, n))
	}
	return in
}

type want struct {
	guardrail guardrail.Name
	resource  string
	outcome   outcome.Outcome
}

// TestEveryTrigger replays each sample event alone against the demo fixture
// and checks the outcome of every resource it names.
func TestEveryTrigger(t *testing.T) {
	tests := []struct {
		event string
		want  []want
		notes int
	}{
		{"ec2-state-change-pending.json", []want{{guardrail.IMDS, "i-0aaa0000000000001", outcome.Remediated}}, 1},
		{"ec2-state-change-running.json", []want{{guardrail.IMDS, "i-0aaa0000000000002", outcome.Remediated}}, 1},
		{"ec2-state-change-pending-cross-account.json", []want{{guardrail.IMDS, "i-0bbb0000000000001", outcome.Remediated}}, 1},
		{"cloudtrail-run-instances-one.json", []want{{guardrail.IMDS, "i-0aaa0000000000003", outcome.Remediated}}, 1},
		{"cloudtrail-run-instances-many.json", []want{
			{guardrail.IMDS, "i-0aaa0000000000004", outcome.Exempt},
			{guardrail.IMDS, "i-0aaa0000000000005", outcome.Remediated},
			{guardrail.IMDS, "i-0aaa0000000000006", outcome.Gone},
		}, 1},
		{"cloudtrail-run-instances-compliant.json", []want{{guardrail.IMDS, "i-0aaa0000000000007", outcome.Compliant}}, 0},
		{"cloudtrail-create-fleet-one.json", []want{{guardrail.IMDS, "i-0aaa0000000000009", outcome.Remediated}}, 1},
		{"cloudtrail-create-fleet-many.json", []want{
			{guardrail.IMDS, "i-0aaa000000000000a", outcome.Remediated},
			{guardrail.IMDS, "i-0aaa000000000000b", outcome.Remediated},
			{guardrail.IMDS, "i-0aaa000000000000c", outcome.Compliant},
		}, 1},
		{"cloudtrail-run-instances-failed.json", []want{{guardrail.IMDS, "", outcome.Ignored}}, 0},
		{"cloudtrail-modify-metadata-options-optional.json", []want{{guardrail.IMDS, "i-0aaa0000000000008", outcome.Remediated}}, 1},
		{"cloudtrail-modify-metadata-options-by-credguard.json", []want{{guardrail.IMDS, "i-0aaa0000000000001", outcome.Ignored}}, 0},
		{"eks-create-pod-identity-association.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/payments-api", outcome.Warned}}, 1},
		{"eks-update-pod-identity-association.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/analytics-reporter", outcome.Revoked}}, 1},
		{"iam-create-role.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/ci-deployer", outcome.Revoked}}, 1},
		{"iam-update-assume-role-policy.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/billing-api", outcome.Compliant}}, 0},
		{"iam-update-assume-role-policy-mixed.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/s3-replication", outcome.Revoked}}, 1},
		{"iam-update-assume-role-policy-by-credguard.json", []want{{guardrail.Trust, "arn:aws:iam::111122223333:role/ci-deployer", outcome.Ignored}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			rep, err := replay.Run(context.Background(), demoFixture(t), []replay.Input{input(t, tt.event)}, replay.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(tt.want) {
				t.Fatalf("results = %+v, want %d", rep.Results, len(tt.want))
			}
			for i, w := range tt.want {
				r := rep.Results[i]
				if r.Guardrail != w.guardrail || r.Resource != w.resource || r.Outcome != w.outcome {
					t.Errorf("result %d = %s %s %s (%s), want %s %s %s", i, r.Guardrail, r.Resource, r.Outcome, r.Detail, w.guardrail, w.resource, w.outcome)
				}
				if r.Detail == "" {
					t.Errorf("result %d has no detail", i)
				}
			}
			if len(rep.Notifications) != tt.notes {
				t.Errorf("notifications = %d, want %d", len(rep.Notifications), tt.notes)
			}
			writes := 0
			for _, c := range rep.Journal {
				if c.Write && c.Outcome == "ok" {
					writes++
				}
			}
			changed := rep.Changed()
			if changed == 0 && writes != 0 {
				t.Errorf("%d writes for an event that changed nothing: %+v", writes, rep.Journal)
			}
		})
	}
}

func instance(t *testing.T, state *sandbox.Fixture, account, region, id string) sandbox.Instance {
	t.Helper()
	for _, in := range state.Accounts[account].Regions[region].Instances {
		if in.ID == id {
			return in
		}
	}
	t.Fatalf("no instance %s", id)
	return sandbox.Instance{}
}

func role(t *testing.T, state *sandbox.Fixture, account, name string) sandbox.Role {
	t.Helper()
	for _, r := range state.Accounts[account].Roles {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no role %s", name)
	return sandbox.Role{}
}

// TestDemoState checks the sandbox state after every sample: what changed,
// exactly how, and what was left alone.
func TestDemoState(t *testing.T) {
	rep, err := replay.Run(context.Background(), demoFixture(t), allSamples(t), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 0 {
		t.Fatalf("failed results: %+v", rep.Results)
	}
	s := rep.State
	for _, c := range []struct {
		account, region, id, tokens string
		hop                         int
		endpoint                    string
	}{
		{hub, "us-east-1", "i-0aaa0000000000001", "required", 1, "enabled"},
		{hub, "us-east-1", "i-0aaa0000000000002", "required", 1, "enabled"},
		{hub, "us-east-1", "i-0aaa0000000000003", "required", 1, "enabled"},
		{hub, "us-east-1", "i-0aaa0000000000004", "optional", 2, "enabled"},  // exempt: untouched
		{hub, "us-east-1", "i-0aaa0000000000005", "required", 1, "disabled"}, // endpoint stays disabled
		{hub, "us-east-1", "i-0aaa0000000000008", "required", 1, "enabled"},
		{hub, "us-east-1", "i-0aaa0000000000009", "required", 1, "enabled"}, // CreateFleet
		{hub, "us-east-1", "i-0aaa000000000000a", "required", 1, "enabled"},
		{hub, "us-east-1", "i-0aaa000000000000b", "required", 1, "enabled"},
		{"444455556666", "eu-west-1", "i-0bbb0000000000001", "required", 1, "enabled"},
	} {
		mo := instance(t, s, c.account, c.region, c.id).MetadataOptions
		if mo.HTTPTokens != c.tokens || mo.HTTPPutResponseHopLimit != c.hop || (mo.HTTPEndpoint != c.endpoint && !(c.endpoint == "enabled" && mo.HTTPEndpoint == "")) {
			t.Errorf("%s: options %+v, want tokens=%s hop=%d endpoint=%s", c.id, mo, c.tokens, c.hop, c.endpoint)
		}
	}
	// The cross-account change was made by the member role, not the hub.
	for _, c := range rep.Journal {
		if c.Operation == "ModifyInstanceMetadataOptions" && c.Account == "444455556666" && !strings.Contains(c.Principal, "assumed-role/credguard-imds-remediation/") {
			t.Errorf("cross-account modify by %s", c.Principal)
		}
	}
	// Revoked roles: no critical finding left, sessions revoked.
	for _, name := range []string{"ci-deployer", "analytics-reporter"} {
		r := role(t, s, hub, name)
		p, err := trust.Parse(r.TrustPolicy)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rp := trust.Analyze(p); rp.Critical() {
			t.Errorf("%s still critical: %s", name, rp)
		}
		if _, ok := r.InlinePolicies["AWSRevokeOlderSessions"]; !ok {
			t.Errorf("%s: no AWSRevokeOlderSessions policy", name)
		}
	}
	// Scoped, not removed: the association's workload can still assume it.
	p, _ := trust.Parse(role(t, s, hub, "analytics-reporter").TrustPolicy)
	issuer := "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	req := func(sub string) trust.Request {
		return trust.Request{
			Principal: trust.Identity{Type: trust.Federated, ID: "arn:aws:iam::111122223333:oidc-provider/" + issuer},
			Action:    "sts:AssumeRoleWithWebIdentity",
			Context:   map[string][]string{issuer + ":sub": {sub}, issuer + ":aud": {"sts.amazonaws.com"}},
		}
	}
	if !trust.Allowed(p, req("system:serviceaccount:analytics:reporter")) {
		t.Error("the association's own workload lost access")
	}
	if trust.Allowed(p, req("system:serviceaccount:default:intruder")) {
		t.Error("another namespace can still assume analytics-reporter")
	}
	// Warned and compliant roles are untouched.
	for _, name := range []string{"payments-api", "billing-api"} {
		before := role(t, demoFixture(t), hub, name)
		after := role(t, s, hub, name)
		if compact(t, before.TrustPolicy) != compact(t, after.TrustPolicy) || len(after.InlinePolicies) != len(before.InlinePolicies) {
			t.Errorf("%s changed: %s", name, after.TrustPolicy)
		}
	}
}

func compact(t *testing.T, doc []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRedelivery replays every sample twice against one sandbox: the second
// pass makes no write and publishes nothing.
func TestRedelivery(t *testing.T) {
	f := demoFixture(t)
	sb := sandboxtest.Start(t, f)
	ctx := context.Background()
	first, err := replay.RunAgainst(ctx, sb, hub, allSamples(t), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Changed() == 0 {
		t.Fatal("first pass changed nothing")
	}
	callsBefore := len(sb.Journal())
	notesBefore := len(sb.Notifications())
	second, err := replay.RunAgainst(ctx, sb, hub, allSamples(t), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sb.Journal()[callsBefore:] {
		if c.Write {
			t.Errorf("second pass wrote: %+v", c)
		}
	}
	// The warned role and the exempt instance are announced again (nothing
	// was changed, the risk remains); nothing else is.
	for _, n := range sb.Notifications()[notesBefore:] {
		if !strings.Contains(n.Message, "payments-api") && !strings.Contains(n.Message, "exempt") {
			t.Errorf("second pass notified: %.200s", n.Message)
		}
	}
	for _, r := range second.Results {
		if r.Outcome.Changed() || r.Outcome == outcome.Failed {
			t.Errorf("second pass: %s %s %s", r.Event, r.Resource, r.Outcome)
		}
	}
}

// TestDryRun: the same decisions, no writes at all.
func TestDryRun(t *testing.T) {
	rep, err := replay.Run(context.Background(), demoFixture(t), allSamples(t), replay.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Journal {
		if c.Write {
			t.Errorf("dry-run wrote: %+v", c)
		}
	}
	dry := 0
	for _, r := range rep.Results {
		if r.Outcome.Changed() {
			t.Errorf("dry-run reported %s for %s", r.Outcome, r.Resource)
		}
		if r.Outcome == outcome.DryRun {
			dry++
		}
	}
	if dry != 12 { // the 12 resources the real run changes
		t.Errorf("dry-run outcomes = %d, want 12", dry)
	}
	if len(rep.Notifications) == 0 {
		t.Error("dry-run announced nothing")
	}
}

// TestUnknownAndMalformed: unknown instances are gone (the sample launch
// event is months old: a fresh one is retried, see launch_test.go), unknown
// roles gone, malformed events ignored, and none of them writes anything.
func TestUnknownAndMalformed(t *testing.T) {
	pending := input(t, "ec2-state-change-pending.json")
	unknownInstance := replay.Input{Name: "unknown-instance", Data: []byte(strings.ReplaceAll(string(pending.Data), "i-0aaa0000000000001", "i-0fff0000000000fff"))}
	create := input(t, "iam-create-role.json")
	unknownRole := replay.Input{Name: "unknown-role", Data: []byte(strings.ReplaceAll(string(create.Data), "ci-deployer", "no-such-role"))}
	in := []replay.Input{unknownInstance, unknownRole}
	invalid, _ := fs.Glob(events.Files, "invalid/*.json")
	for _, n := range invalid {
		in = append(in, input(t, n))
	}
	rep, err := replay.Run(context.Background(), demoFixture(t), in, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(in) {
		t.Fatalf("%d results for %d events: %+v", len(rep.Results), len(in), rep.Results)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Gone || r.Resource != "i-0fff0000000000fff" {
		t.Errorf("unknown instance: %+v", r)
	}
	if r := rep.Results[1]; r.Outcome != outcome.Gone {
		t.Errorf("unknown role: %+v", r)
	}
	for _, r := range rep.Results[2:] {
		if r.Outcome != outcome.Ignored || r.Guardrail != guardrail.None || r.Detail == "" {
			t.Errorf("%s: %+v, want ignored by none with a reason", r.Event, r)
		}
	}
	for _, c := range rep.Journal {
		if c.Write {
			t.Errorf("write: %+v", c)
		}
	}
}

// TestJSONContract checks replay --json's shape.
func TestJSONContract(t *testing.T) {
	rep, err := replay.Run(context.Background(), demoFixture(t), []replay.Input{input(t, "iam-create-role.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []map[string]any `json:"results"`
		Notes   []struct {
			Topic   string         `json:"topic"`
			Message map[string]any `json:"message"`
		} `json:"notifications"`
		State map[string]any `json:"state"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 1 {
		t.Fatalf("results: %s", b)
	}
	keys := []string{}
	for k := range got.Results[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "detail,event,guardrail,outcome,resource" {
		t.Errorf("result keys = %v", keys)
	}
	if len(got.Notes) != 1 || got.Notes[0].Topic == "" || got.Notes[0].Message["version"] != "1.0" || got.Notes[0].Message["source"] != "custom" {
		t.Errorf("notifications: %s", b)
	}
	if got.State["hubAccount"] != hub || got.State["accounts"] == nil {
		t.Errorf("state: %v", got.State)
	}
	// The state round-trips as a fixture.
	sb, _ := json.Marshal(rep.State)
	if _, err := sandbox.ParseFixture(sb); err != nil {
		t.Errorf("state is not a valid fixture: %v", err)
	}
}

// TestGetRoleDocumentEncoding guards the decode-once rule end to end: a
// policy whose values contain '+' and '%2F' survives the guardrail untouched.
func TestGetRoleDocumentEncoding(t *testing.T) {
	f := demoFixture(t)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/a+b"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x%2Fy+z"}}}]}`
	for i := range f.Accounts[hub].Roles {
		if f.Accounts[hub].Roles[i].Name == "billing-api" {
			f.Accounts[hub].Roles[i].TrustPolicy = json.RawMessage(doc)
		}
	}
	rep, err := replay.Run(context.Background(), f, []replay.Input{input(t, "iam-update-assume-role-policy.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Compliant {
		t.Fatalf("result %+v", r)
	}
	if got := string(role(t, rep.State, hub, "billing-api").TrustPolicy); !strings.Contains(got, "x%2Fy+z") {
		t.Errorf("policy changed: %s", got)
	}
}
