package sweep

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/credguard/credguard/internal/outcome"
)

func TestThrottledOnly(t *testing.T) {
	api := func(code string) error {
		return fmt.Errorf("describe instances: %w", &smithy.GenericAPIError{Code: code, Message: "x"})
	}
	for _, tc := range []struct {
		name string
		errs []error
		want bool
	}{
		{"no error", nil, false},
		{"EC2 throttled", []error{api("RequestLimitExceeded")}, true},
		{"IAM and EC2 throttled", []error{api("Throttling"), api("RequestLimitExceeded")}, true},
		{"throttled and denied", []error{api("RequestLimitExceeded"), api("AccessDenied")}, false},
		{"denied", []error{api("UnauthorizedOperation")}, false},
		{"deadline", []error{context.DeadlineExceeded}, false},
		{"plain error", []error{errors.New("no EC2 access")}, false},
	} {
		rep := newReport()
		for _, e := range tc.errs {
			rep.Errors = append(rep.Errors, ScopeError{Account: hub, Region: "us-east-1", Kind: KindInstance, Err: e})
		}
		if got := throttledOnly(rep); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestResultKeepsTheWorstAndCountsTheRest(t *testing.T) {
	rep := newReport()
	for i := range 30 {
		o := outcome.Remediated
		if i%10 == 0 {
			o = outcome.Failed
		}
		rep.Findings = append(rep.Findings, Finding{Account: hub, Region: "us-east-1", Resource: fmt.Sprintf("i-%08x", i),
			Kind: KindInstance, Verdict: VerdictIMDSv1, Outcome: o, Detail: string(make([]byte, 1000))})
	}
	rep.Findings = append(rep.Findings, Finding{Account: hub, Resource: "arn:aws:iam::111122223333:role/x", Kind: KindRole,
		Verdict: VerdictCritical, Outcome: outcome.Exempt})
	res := Result(Scope{Account: hub, Region: "us-east-1"}, rep)
	if len(res.Findings) != MaxResultItems || len(res.Exempt) != 1 || res.Omitted != 10 {
		t.Fatalf("findings %d, exempt %d, omitted %d", len(res.Findings), len(res.Exempt), res.Omitted)
	}
	for i := range 3 { // the three failures first
		if res.Findings[i].Outcome != outcome.Failed {
			t.Errorf("finding %d is %s, want failed first", i, res.Findings[i].Outcome)
		}
	}
	if n := len([]rune(res.Findings[0].Detail)); n != maxDetailChars {
		t.Errorf("detail kept %d characters, want %d", n, maxDetailChars)
	}
	if res.Outcomes[outcome.Remediated] != 27 || res.Outcomes[outcome.Failed] != 3 || res.Outcomes[outcome.Exempt] != 1 {
		t.Errorf("outcomes %v", res.Outcomes)
	}
}
