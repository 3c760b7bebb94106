package announce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/announce"
	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
)

// publisher records what is published and answers err.
type publisher struct {
	err  error
	sent []notify.Message
}

func (p *publisher) Publish(_ context.Context, m notify.Message, _ notify.Attributes) error {
	p.sent = append(p.sent, m)
	return p.err
}

func result(id string, o outcome.Outcome) guardrail.Result {
	return guardrail.Result{Guardrail: guardrail.IMDS, Account: "444455556666", Region: "eu-west-1", Resource: id, Outcome: o, Detail: "because"}
}

// emf decodes the one EMF line Finish wrote: the counts by metric name and
// the record's timestamp.
func emf(t *testing.T, out *bytes.Buffer) (map[string]float64, time.Time) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one EMF line, got %q", out.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	aws := rec["_aws"].(map[string]any)
	counts := map[string]float64{}
	for _, d := range aws["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
		name := d.(map[string]any)["Name"].(string)
		counts[name] = rec[name].(float64)
	}
	if rec["Guardrail"] != "imds" {
		t.Errorf("Guardrail dimension %v", rec["Guardrail"])
	}
	return counts, time.UnixMilli(int64(aws["Timestamp"].(float64)))
}

func TestFinish(t *testing.T) {
	e := event.Event{Envelope: event.Envelope{ID: "ev-1", Account: "444455556666", Region: "eu-west-1", DetailType: "EC2 Instance State-change Notification"}}
	tests := []struct {
		name       string
		results    []guardrail.Result
		publishErr error
		published  int
		counts     map[string]float64
		failed     bool
		role       string // in the published message
	}{
		{
			name:      "remediated and compliant: one notification",
			results:   []guardrail.Result{result("i-1", outcome.Remediated), result("i-2", outcome.Compliant)},
			published: 1,
			counts:    map[string]float64{"remediated": 1, "compliant": 1},
		},
		{
			name:    "nothing worth telling: no notification",
			results: []guardrail.Result{result("i-1", outcome.Compliant), result("i-2", outcome.Gone), result("", outcome.Ignored)},
			counts:  map[string]float64{"compliant": 1, "gone": 1, "ignored": 1},
		},
		{
			name:      "an exemption alone is announced, once",
			results:   []guardrail.Result{result("i-1", outcome.Compliant), result("i-2", outcome.Exempt), result("i-3", outcome.Exempt)},
			published: 1,
			counts:    map[string]float64{"compliant": 1, "exempt": 2},
		},
		{
			name:      "a failure is returned and names the configured member role",
			results:   []guardrail.Result{result("i-1", outcome.Failed), result("i-2", outcome.Remediated)},
			published: 1,
			counts:    map[string]float64{"failed": 1, "remediated": 1},
			failed:    true,
			role:      "custom-remediation",
		},
		{
			name:       "a publish failure is counted, not returned",
			results:    []guardrail.Result{result("i-1", outcome.Remediated)},
			publishErr: errors.New("boom"),
			published:  1,
			counts:     map[string]float64{"remediated": 1, "NotificationFailed": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs, metrics bytes.Buffer
			pub := &publisher{err: tt.publishErr}
			a := &announce.Announcer{
				Guardrail: guardrail.IMDS, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics,
				Publisher: pub, RemediationRole: "custom-remediation",
			}
			before := time.Now().Truncate(time.Millisecond)
			err := a.Finish(context.Background(), e, tt.results)
			if tt.failed != errors.Is(err, announce.ErrFailed) {
				t.Errorf("err = %v, want failed %v", err, tt.failed)
			}
			if tt.failed && !strings.Contains(err.Error(), "1 of 2 resources failed in 444455556666/eu-west-1 (event ev-1)") {
				t.Errorf("err = %v", err)
			}
			if len(pub.sent) != tt.published {
				t.Errorf("published %d, want %d", len(pub.sent), tt.published)
			}
			if tt.role != "" {
				b, _ := json.Marshal(pub.sent)
				if !strings.Contains(string(b), tt.role) || strings.Contains(string(b), notify.DefaultRemediationRole(guardrail.IMDS)) {
					t.Errorf("message does not name role %s: %s", tt.role, b)
				}
			}
			if n := strings.Count(logs.String(), `"msg":"outcome"`); n != len(tt.results) {
				t.Errorf("%d outcome log lines for %d results", n, len(tt.results))
			}
			if tt.publishErr != nil && !strings.Contains(logs.String(), `"msg":"notification failed"`) {
				t.Errorf("publish failure not logged: %s", logs.String())
			}
			counts, at := emf(t, &metrics)
			if len(counts) != len(tt.counts) {
				t.Errorf("metrics %v, want %v", counts, tt.counts)
			}
			for k, v := range tt.counts {
				if counts[k] != v {
					t.Errorf("metric %s = %v, want %v", k, counts[k], v)
				}
			}
			if at.Before(before) || at.After(time.Now()) {
				t.Errorf("timestamp %v not the time of the call", at)
			}
		})
	}
}

// TestFinishWithoutSinks: no logger, metrics writer or publisher is needed.
func TestFinishWithoutSinks(t *testing.T) {
	a := &announce.Announcer{Guardrail: guardrail.Trust}
	if err := a.Finish(context.Background(), event.Event{}, []guardrail.Result{result("r", outcome.Revoked)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(context.Background(), event.Event{}, []guardrail.Result{result("r", outcome.Failed)}); !errors.Is(err, announce.ErrFailed) {
		t.Fatalf("err = %v", err)
	}
}

func TestFinishWritesExposureForFixedResources(t *testing.T) {
	now := time.Now()
	e := event.Event{Envelope: event.Envelope{ID: "ev-2", Account: "444455556666", Region: "eu-west-1", Time: now.Add(-90 * time.Second)}}
	var out bytes.Buffer
	a := &announce.Announcer{Guardrail: guardrail.IMDS, Metrics: &out}
	if err := a.Finish(context.Background(), e, []guardrail.Result{
		result("i-1", outcome.Remediated), result("i-2", outcome.Compliant), result("i-3", outcome.Remediated),
	}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the counts and the exposure line, got %q", out.String())
	}
	var rec struct {
		Guardrail string
		Exposure  []float64 `json:"ExposureSeconds"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Guardrail != "imds" || len(rec.Exposure) != 2 || rec.Exposure[0] < 90 || rec.Exposure[0] > 120 {
		t.Errorf("exposure record %s", lines[1])
	}
	// Nothing fixed, or no event time: no exposure line.
	out.Reset()
	if err := a.Finish(context.Background(), e, []guardrail.Result{result("i-2", outcome.Compliant)}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || strings.Contains(out.String(), "ExposureSeconds") {
		t.Errorf("nothing fixed: %q", out.String())
	}
}
