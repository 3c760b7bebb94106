package sweep

import (
	"testing"

	"github.com/credguard/credguard/internal/outcome"
)

// The summary lists exempt findings apart, never as offenders.
func TestSummarySeparatesExempt(t *testing.T) {
	r := Report{Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Findings: []Finding{
		{Account: "111122223333", Region: "us-east-1", Resource: "i-0aaa0000000000001", Kind: KindInstance, Verdict: VerdictIMDSv1, Outcome: outcome.Exempt, Detail: "tag credguard:exempt: vendor agent"},
		{Account: "111122223333", Region: "us-east-1", Resource: "i-0aaa0000000000002", Kind: KindInstance, Verdict: VerdictIMDSv1, Outcome: outcome.Remediated},
		{Account: "111122223333", Resource: "arn:aws:iam::111122223333:role/x", Kind: KindRole, Verdict: VerdictCritical, Outcome: outcome.Exempt, Detail: "allow-list entry arn:aws:iam::111122223333:role/x"},
	}}
	s := r.Summary("run-1", false)
	if len(s.Worst) != 1 || s.Worst[0].Resource != "i-0aaa0000000000002" {
		t.Errorf("worst = %+v", s.Worst)
	}
	if len(s.Exempt) != 2 || s.Exempt[0].Detail == "" || s.Exempt[1].Detail == "" {
		t.Errorf("exempt = %+v", s.Exempt)
	}
	if s.Outcomes[outcome.Exempt] != 2 {
		t.Errorf("outcomes = %v", s.Outcomes)
	}
}
