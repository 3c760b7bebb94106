package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const fixture = "../../events/fixtures/demo.json"

func TestReplayExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"hubAccount": "12", "accounts": {}}`), 0o600)
	// A fixture whose hub cannot modify instances: the remediation fails.
	denied := filepath.Join(dir, "denied.json")
	data, _ := os.ReadFile(fixture)
	var f map[string]any
	json.Unmarshal(data, &f)
	f["faults"] = map[string]any{"errors": map[string]any{"ec2:ModifyInstanceMetadataOptions": map[string]any{"rate": 1, "code": "UnauthorizedOperation"}}}
	data, _ = json.Marshal(f)
	os.WriteFile(denied, data, 0o600)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"ok", []string{"replay", "--fixture", fixture, "../../events/ec2-state-change-pending.json"}, 0, "replay: 1 events, 1 resources changed, 1 notifications, 0 failed", ""},
		{"failed outcome exits 1", []string{"replay", "--fixture", denied, "../../events/ec2-state-change-pending.json"}, 1, "failed", ""},
		{"no fixture", []string{"replay", "../../events/ec2-state-change-pending.json"}, 2, "", "--fixture"},
		{"no events", []string{"replay", "--fixture", fixture}, 2, "", "event file"},
		{"bad fixture", []string{"replay", "--fixture", bad, "../../events/ec2-state-change-pending.json"}, 2, "", "hubAccount"},
		{"missing fixture file", []string{"replay", "--fixture", filepath.Join(dir, "nope.json"), "x.json"}, 2, "", "nope.json"},
		{"missing event file", []string{"replay", "--fixture", fixture, filepath.Join(dir, "nope.json")}, 2, "", "nope.json"},
		{"unknown flag", []string{"replay", "--frobnicate"}, 2, "", "frobnicate"},
		{"malformed event is ignored, not an error", []string{"replay", "--fixture", fixture, "../../events/invalid/truncated.json"}, 0, "ignored", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

func TestReplayJSON(t *testing.T) {
	code, out, errOut := runCLI("replay", "--json", "--dry-run", "--fixture", fixture, "../../events/iam-create-role.json", "../../events/cloudtrail-run-instances-many.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Results []struct {
			Event, Guardrail, Resource, Outcome, Detail string
		} `json:"results"`
		Notifications []struct {
			Topic   string          `json:"topic"`
			Message json.RawMessage `json:"message"`
		} `json:"notifications"`
		State json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := []string{}
	for _, r := range rep.Results {
		got = append(got, r.Guardrail+" "+r.Resource+" "+r.Outcome)
	}
	want := []string{
		"trust arn:aws:iam::111122223333:role/ci-deployer dry-run",
		"imds i-0aaa0000000000004 exempt",
		"imds i-0aaa0000000000005 dry-run",
		"imds i-0aaa0000000000006 gone",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(rep.Notifications) != 2 || len(rep.State) == 0 {
		t.Errorf("notifications %d, state %d bytes", len(rep.Notifications), len(rep.State))
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI("demo")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "\ndemo: 17 events, 12 resources changed, 12 notifications, 0 failed\n") {
		t.Errorf("demo summary missing:\n%s", out)
	}
	// The demo ends with the k8s audit of the demo cluster.
	_, audit, found := strings.Cut(out, "Kubernetes workload audit of cluster prod")
	if !found {
		t.Fatalf("the demo has no k8s audit:\n%s", out)
	}
	last := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	// It audits the state the guardrails left: the revoked roles' trust is
	// no longer critical, what the cloud side cannot fix remains.
	if last != "2 critical, 6 warning" || !strings.Contains(audit, "static-aws-keys         payments    Pod/payments-debug") ||
		strings.Contains(audit, "role-trust-critical") || !strings.Contains(audit, "role-trust-mismatch           ci          StatefulSet/ci-runner") {
		t.Errorf("last line = %q; audit:\n%s", last, audit)
	}
	for _, s := range []string{"RunInstances by arn:aws:iam::111122223333:user/alice: 1 instance (i-0aaa0000000000003) in 111122223333/us-east-1", "┌─ Slack", "IMDSv2 enforced on i-0aaa0000000000001 (web)", "Wildcard trust revoked on role ci-deployer",
		// The minimal rewrite: the wildcard goes, the S3 service principal stays.
		`statement 1 trimmed (public-principal): removed AWS`,
		`+ {"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}`} {
		if !strings.Contains(out, s) {
			t.Errorf("demo output lacks %q", s)
		}
	}
}
