package sweep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
)

// Bounds of one scope's result, so that it stays far below the 256 KiB a
// Step Functions state may carry whatever the scope holds: at most
// MaxResultItems findings (worst first) and exempt resources, each detail cut
// to maxDetailChars, at most MaxResultItems errors. Every finding is still
// logged, one line each.
const (
	MaxResultItems = 20
	maxDetailChars = 300
	maxErrorChars  = 500
)

// ScopeResult is what one scope's sweep returns to the state machine (and
// what the summary step reads back from the ResultWriter files).
type ScopeResult struct {
	Scope
	Checked   map[Kind]int            `json:"checked"`
	Compliant map[Kind]int            `json:"compliant"`
	Outcomes  map[outcome.Outcome]int `json:"outcomes"`
	// Findings are the worst non-exempt findings, Exempt the exempt ones.
	Findings []notify.SweepItem `json:"findings"`
	Exempt   []notify.SweepItem `json:"exempt"`
	// Omitted counts the findings (exempt included) not listed.
	Omitted int      `json:"omitted"`
	Errors  []string `json:"errors"`
}

// Result condenses a scope's report into its bounded result.
func Result(sc Scope, rep Report) ScopeResult {
	res := ScopeResult{Scope: sc, Checked: rep.Checked, Compliant: rep.Compliant, Outcomes: rep.Outcomes(),
		Findings: []notify.SweepItem{}, Exempt: []notify.SweepItem{}, Errors: []string{}}
	for _, f := range rep.Worst(len(rep.Findings)) {
		switch {
		case f.Outcome == outcome.Exempt && len(res.Exempt) < MaxResultItems:
			res.Exempt = append(res.Exempt, f.item())
		case f.Outcome != outcome.Exempt && len(res.Findings) < MaxResultItems:
			res.Findings = append(res.Findings, f.item())
		default:
			res.Omitted++
		}
	}
	for i, e := range rep.Errors {
		if i == MaxResultItems {
			res.Errors = append(res.Errors, fmt.Sprintf("%d more errors in the log", len(rep.Errors)-i))
			break
		}
		res.Errors = append(res.Errors, cut(e.Error(), maxErrorChars))
	}
	return res
}

func (f Finding) item() notify.SweepItem {
	return notify.SweepItem{Account: f.Account, Region: f.Region, Kind: string(f.Kind), Resource: f.Resource, Name: f.Name,
		Verdict: string(f.Verdict), Outcome: f.Outcome, Detail: cut(f.Detail, maxDetailChars)}
}

// ThrottledError is returned by the scope step when every part of the scope
// that failed was throttled: the state machine retries the scope later with
// backoff (its Retry names this error type).
type ThrottledError struct {
	Scope Scope
	Errs  []string
}

func (e *ThrottledError) Error() string {
	return "scope " + e.Scope.String() + " throttled: " + strings.Join(e.Errs, "; ")
}

// throttledOnly reports whether the report has errors and all are throttling.
func throttledOnly(rep Report) bool {
	if len(rep.Errors) == 0 {
		return false
	}
	codes := retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}
	for _, e := range rep.Errors {
		if codes.IsErrorThrottle(e.Err) != aws.TrueTernary { // the code is found through the SDK's wrapping
			return false
		}
	}
	return true
}

// topItems keeps the n worst of the items added (worst as Report.Worst
// orders findings), in bounded memory.
type topItems struct {
	n     int
	items []notify.SweepItem
}

func (t *topItems) add(items ...notify.SweepItem) {
	t.items = append(t.items, items...)
	if len(t.items) > 4*t.n {
		t.trim()
	}
}

func (t *topItems) trim() {
	sort.SliceStable(t.items, func(i, j int) bool {
		a, b := t.items[i], t.items[j]
		if ra, rb := outcomeRank(a.Outcome), outcomeRank(b.Outcome); ra != rb {
			return ra > rb
		}
		return severityRank(Verdict(a.Verdict)) > severityRank(Verdict(b.Verdict))
	})
	if len(t.items) > t.n {
		t.items = t.items[:t.n]
	}
}

func (t *topItems) list() []notify.SweepItem {
	t.trim()
	return t.items
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
