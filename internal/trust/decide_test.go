package trust

import (
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/outcome"
)

func TestDecide(t *testing.T) {
	const (
		public    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
		mixed     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		pods      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
		compliant = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	)
	event := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	workload := &Workload{ClusterName: "prod", ClusterARN: "arn:aws:eks:eu-west-1:111122223333:cluster/prod", Namespace: "pay", ServiceAccount: "api"}
	tests := []struct {
		name    string
		policy  string
		in      Input
		outcome outcome.Outcome
		verdict Severity
		write   bool
		revoke  bool
		reason  string
		// narrowed is a substring of the planned document ("" when none is planned).
		narrowed string
	}{
		{name: "compliant", policy: compliant, outcome: outcome.Compliant, verdict: OK, reason: "no wildcard trust"},
		{name: "compliant and exempt stays compliant", policy: compliant, in: Input{Exempt: "tag credguard:exempt: x"}, outcome: outcome.Compliant, verdict: OK},
		{name: "critical: removed and sessions revoked", policy: public, outcome: outcome.Revoked, verdict: Critical, write: true, revoke: true,
			reason: "public-principal", narrowed: `"Effect":"Deny"`},
		{name: "critical mixed: only the wildcard goes", policy: mixed, outcome: outcome.Revoked, verdict: Critical, write: true, revoke: true,
			narrowed: `"Service":"s3.amazonaws.com"`},
		{name: "critical in dry-run: planned, not written", policy: public, in: Input{DryRun: true}, outcome: outcome.DryRun, verdict: Critical,
			reason: "would narrow", narrowed: `"Effect":"Deny"`},
		{name: "critical but exempt", policy: public, in: Input{Exempt: "tag credguard:exempt: break-glass"}, outcome: outcome.Exempt, verdict: Critical,
			reason: "tag credguard:exempt: break-glass; statement 1"},
		{name: "exempt beats dry-run", policy: public, in: Input{Exempt: "service-linked role", DryRun: true}, outcome: outcome.Exempt, verdict: Critical},
		{name: "warning only: warned", policy: pods, outcome: outcome.Warned, verdict: Warning},
		{name: "warning only in dry-run: still warned", policy: pods, in: Input{DryRun: true}, outcome: outcome.Warned, verdict: Warning},
		{name: "critical with a workload: public principal scoped to pods", policy: public, in: Input{Workload: workload}, outcome: outcome.Revoked,
			verdict: Critical, write: true, revoke: true, narrowed: `"aws:RequestTag/kubernetes-service-account":"api"`},
		{name: "requested critical, since narrowed, not revoked: revoke only", policy: compliant,
			in: Input{RequestedCritical: true, RequestedAt: event}, outcome: outcome.Revoked, verdict: Critical, revoke: true, reason: "they are now"},
		{name: "requested critical, since narrowed, in dry-run", policy: compliant,
			in: Input{RequestedCritical: true, RequestedAt: event, DryRun: true}, outcome: outcome.DryRun, verdict: Critical, reason: "would revoke older sessions"},
		{name: "requested critical, already revoked up to the event: compliant", policy: compliant,
			in: Input{RequestedCritical: true, RequestedAt: event, RevokedUntil: event}, outcome: outcome.Compliant, verdict: OK},
		{name: "requested critical, revoked before the event: revoke again", policy: compliant,
			in: Input{RequestedCritical: true, RequestedAt: event, RevokedUntil: event.Add(-time.Second)}, outcome: outcome.Revoked, verdict: Critical, revoke: true},
		{name: "requested critical, narrowed to a warning: revoke, not warn", policy: pods,
			in: Input{RequestedCritical: true, RequestedAt: event}, outcome: outcome.Revoked, verdict: Critical, revoke: true},
		{name: "requested critical but exempt: exempt rules", policy: pods,
			in: Input{RequestedCritical: true, RequestedAt: event, Exempt: "allow-list entry"}, outcome: outcome.Exempt, verdict: Warning},
		{name: "requested critical and still critical: narrowed as usual", policy: public,
			in: Input{RequestedCritical: true, RequestedAt: event}, outcome: outcome.Revoked, verdict: Critical, write: true, revoke: true, narrowed: `"Effect":"Deny"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			in := tt.in
			in.RoleName, in.Policy = "r", p
			plan := Decide(in)
			if plan.Outcome != tt.outcome || plan.Verdict != tt.verdict || plan.Write != tt.write || plan.Revoke != tt.revoke {
				t.Fatalf("plan = %s verdict %s write=%v revoke=%v (%s), want %s verdict %s write=%v revoke=%v",
					plan.Outcome, plan.Verdict, plan.Write, plan.Revoke, plan.Reason, tt.outcome, tt.verdict, tt.write, tt.revoke)
			}
			if !strings.Contains(plan.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", plan.Reason, tt.reason)
			}
			switch {
			case tt.narrowed == "" && plan.Narrowed != nil:
				t.Errorf("a rewrite was planned: %s", plan.Document)
			case tt.narrowed != "" && (plan.Narrowed == nil || !strings.Contains(plan.Document, tt.narrowed)):
				t.Errorf("document %q, want it to contain %s", plan.Document, tt.narrowed)
			}
			if plan.Report.Verdict != Analyze(p).Verdict {
				t.Errorf("report verdict %s, want the live policy's %s", plan.Report.Verdict, Analyze(p).Verdict)
			}
			// A write is only ever the narrowed policy, and never critical.
			if plan.Write {
				again, err := Parse([]byte(plan.Document))
				if err != nil || Analyze(again).Critical() {
					t.Errorf("planned document does not re-parse as non-critical: %v %s", err, plan.Document)
				}
			}
		})
	}
}

func TestInputNeeds(t *testing.T) {
	public, _ := Parse([]byte(`{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`))
	ok, _ := Parse([]byte(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`))
	w := &Workload{ClusterName: "prod", ClusterARN: "arn:aws:eks:eu-west-1:111122223333:cluster/prod", Namespace: "a", ServiceAccount: "b"}
	withIssuer := *w
	withIssuer.Issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
	tests := []struct {
		name          string
		in            Input
		issuer, state bool
	}{
		{"critical IRSA with a workload needs the issuer", Input{Policy: public, Workload: w}, true, false},
		{"issuer already known", Input{Policy: public, Workload: &withIssuer}, false, false},
		{"no workload", Input{Policy: public}, false, false},
		{"exempt", Input{Policy: public, Workload: w, Exempt: "x"}, false, false},
		{"not critical", Input{Policy: ok, Workload: w}, false, false},
		{"requested critical, live not critical", Input{Policy: ok, RequestedCritical: true}, false, true},
		{"requested critical, live critical", Input{Policy: public, RequestedCritical: true}, false, false},
		{"requested critical, exempt", Input{Policy: ok, RequestedCritical: true, Exempt: "x"}, false, false},
	}
	for _, tt := range tests {
		if got := tt.in.NeedsIssuer(); got != tt.issuer {
			t.Errorf("%s: NeedsIssuer = %v", tt.name, got)
		}
		if got := tt.in.NeedsRevocationState(); got != tt.state {
			t.Errorf("%s: NeedsRevocationState = %v", tt.name, got)
		}
	}
}
