package guardrail

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

func TestResultSeverity(t *testing.T) {
	critical := &TrustChange{Verdict: trust.Critical}
	warning := &TrustChange{Verdict: trust.Warning}
	tests := []struct {
		r    Result
		want Severity
	}{
		{Result{Guardrail: IMDS, Outcome: outcome.Failed}, Critical},
		{Result{Guardrail: IMDS, Outcome: outcome.Remediated}, Warning},
		{Result{Guardrail: IMDS, Outcome: outcome.DryRun}, Warning},
		{Result{Guardrail: IMDS, Outcome: outcome.Exempt}, Warning},
		{Result{Guardrail: IMDS, Outcome: outcome.Compliant}, Info},
		{Result{Guardrail: IMDS, Outcome: outcome.Gone}, Info},
		{Result{Guardrail: IMDS, Outcome: outcome.Ignored}, Info},
		{Result{Guardrail: Trust, Outcome: outcome.Revoked, Trust: critical}, Critical},
		{Result{Guardrail: Trust, Outcome: outcome.Failed}, Critical},
		{Result{Guardrail: Trust, Outcome: outcome.DryRun, Trust: critical}, Critical},
		{Result{Guardrail: Trust, Outcome: outcome.DryRun}, Critical},
		{Result{Guardrail: Trust, Outcome: outcome.DryRun, Trust: warning}, Warning},
		{Result{Guardrail: Trust, Outcome: outcome.Warned, Trust: warning}, Warning},
		{Result{Guardrail: Trust, Outcome: outcome.Exempt, Trust: critical}, Warning},
		{Result{Guardrail: Trust, Outcome: outcome.Compliant}, Info},
	}
	for _, tt := range tests {
		if got := tt.r.Severity(); got != tt.want {
			t.Errorf("%s %s (trust %+v): severity %s, want %s", tt.r.Guardrail, tt.r.Outcome, tt.r.Trust, got, tt.want)
		}
	}
	if !(Critical.Rank() > Warning.Rank() && Warning.Rank() > Info.Rank()) {
		t.Error("severity ranks out of order")
	}
}

func TestResultChangeText(t *testing.T) {
	v1 := imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"}
	before, err := trust.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := trust.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		r             Result
		before, after string
	}{
		{"no change", Result{Outcome: outcome.Ignored}, "", ""},
		{"imds enforced", Result{Outcome: outcome.Remediated, IMDS: &IMDSChange{Before: v1, After: v1.Target()}},
			"tokens=optional hop=2 endpoint=enabled", "tokens=required hop=1 endpoint=enabled"},
		{"imds unchanged", Result{Outcome: outcome.Exempt, IMDS: &IMDSChange{Before: v1, After: v1}}, "tokens=optional hop=2 endpoint=enabled", ""},
		{"trust narrowed", Result{Outcome: outcome.Revoked, Trust: &TrustChange{Before: before, After: &after}},
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`},
		{"trust warned", Result{Outcome: outcome.Warned, Trust: &TrustChange{Before: before}},
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`, ""},
		{"compliant role: policy left out", Result{Outcome: outcome.Compliant, Trust: &TrustChange{Before: before}}, "", ""},
	}
	for _, tt := range tests {
		b, a := tt.r.ChangeText()
		if b != tt.before || a != tt.after {
			t.Errorf("%s: ChangeText = %q, %q; want %q, %q", tt.name, b, a, tt.before, tt.after)
		}
	}
}

// A result marshals with its change as text and the trust verdict too.
func TestResultJSON(t *testing.T) {
	v1 := imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"}
	b, err := json.Marshal(Result{Guardrail: IMDS, Resource: "i-1", Outcome: outcome.Remediated, IMDS: &IMDSChange{Before: v1, After: v1.Target()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outcome":"remediated"`, `"before":"tokens=optional hop=2 endpoint=enabled"`, `"after":"tokens=required hop=1 endpoint=enabled"`, `"imds":{`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	b, err = json.Marshal(Result{Guardrail: Trust, Outcome: outcome.Warned, Trust: &TrustChange{Verdict: trust.Warning}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"severity":"warning"`) || strings.Contains(string(b), `"before"`) {
		t.Errorf("%s", b)
	}
}
