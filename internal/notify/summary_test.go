package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
)

func sweepItem(n int, kind string, o outcome.Outcome) SweepItem {
	return SweepItem{Account: "111122223333", Region: "us-east-1", Kind: kind, Resource: fmt.Sprintf("i-0aaa%013x", n),
		Name: fmt.Sprintf("web-%d", n), Verdict: "imdsv1", Outcome: o, Detail: "set HttpTokens=required"}
}

func TestBuildSweepNothingToTell(t *testing.T) {
	_, _, err := BuildSweep(Sweep{ID: "run-1", Accounts: []string{"111122223333"}, Checked: 40, Compliant: 40})
	if !errors.Is(err, ErrNothingToNotify) {
		t.Fatalf("err %v, want ErrNothingToNotify", err)
	}
}

// The summary lists exempt resources apart from the worst offenders, with
// the exemption that applies.
func TestBuildSweepListsExempt(t *testing.T) {
	exempt := func(n int) SweepItem {
		it := sweepItem(n, "instance", outcome.Exempt)
		it.Detail = fmt.Sprintf("tag credguard:exempt: vendor agent %d", n)
		return it
	}
	s := Sweep{ID: "run-1", Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Checked: 30, Compliant: 10,
		Outcomes: map[outcome.Outcome]int{outcome.Remediated: 1, outcome.Exempt: 12},
		Worst:    []SweepItem{sweepItem(1, "instance", outcome.Remediated)}}
	for n := 2; n < 2+MaxSweepItems; n++ {
		s.Exempt = append(s.Exempt, exempt(n))
	}
	m, _, err := BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Content.Description
	for _, want := range []string{"*Exempt, left non-compliant*", "tag credguard:exempt: vendor agent 2", "tag credguard:exempt: vendor agent 11", "…and 2 more exempt"} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "…and 12 more:") || strings.Count(d, "vendor agent") != MaxSweepItems {
		t.Errorf("exempt resources counted as offenders:\n%s", d)
	}
}

func TestBuildSweepTitlesAndAttributes(t *testing.T) {
	accounts, regions := []string{"111122223333", "444455556666"}, []string{"us-east-1"}
	for _, tc := range []struct {
		name     string
		s        Sweep
		title    string
		outcome  outcome.Outcome
		severity guardrail.Severity
	}{
		{"all fixed", Sweep{Outcomes: map[outcome.Outcome]int{outcome.Remediated: 3, outcome.Exempt: 1}},
			"Credguard sweep fixed 3 resources in 2 accounts × 1 region", outcome.Remediated, guardrail.Warning},
		{"revoked is critical", Sweep{Outcomes: map[outcome.Outcome]int{outcome.Revoked: 1}},
			"Credguard sweep fixed 1 resource in 2 accounts × 1 region", outcome.Revoked, guardrail.Critical},
		{"fixed and left", Sweep{Outcomes: map[outcome.Outcome]int{outcome.Remediated: 2, outcome.Warned: 1}, Remaining: 1},
			"Credguard sweep fixed 2 and left 1 resource non-compliant in 2 accounts × 1 region", outcome.Remediated, guardrail.Warning},
		{"dry-run", Sweep{Outcomes: map[outcome.Outcome]int{outcome.DryRun: 1500}, Remaining: 1500, DryRun: true},
			"DRY RUN: Credguard sweep: 1,500 resources non-compliant in 2 accounts × 1 region", outcome.DryRun, guardrail.Warning},
		{"failed", Sweep{Outcomes: map[outcome.Outcome]int{outcome.Failed: 2, outcome.Remediated: 5}, Remaining: 2},
			"Credguard sweep FAILED on 2 resources in 2 accounts × 1 region", outcome.Failed, guardrail.Critical},
		{"not swept", Sweep{Errors: []string{"444455556666 roles: assume role: AccessDenied"}},
			"Credguard sweep could not sweep 1 part in 2 accounts × 1 region", outcome.Failed, guardrail.Critical},
		{"only exempt", Sweep{Outcomes: map[outcome.Outcome]int{outcome.Exempt: 2}},
			"Credguard sweep: 2 resources exempt, left non-compliant, in 2 accounts × 1 region", outcome.Exempt, guardrail.Warning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.ID, tc.s.Accounts, tc.s.Regions = "run-1", accounts, regions
			m, a, err := BuildSweep(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if m.Content.Title != tc.title {
				t.Errorf("title %q\nwant  %q", m.Content.Title, tc.title)
			}
			if a.Guardrail != SweepGuardrail || a.Outcome != tc.outcome || a.Severity != tc.severity || a.Account != "" {
				t.Errorf("attributes %+v", a)
			}
			c := m.Metadata.AdditionalContext
			if c[CtxGuardrail] != "sweep" || c[CtxOutcome] != string(tc.outcome) || c[CtxAccount] != "2 accounts" || c[CtxRegion] != "1 region" {
				t.Errorf("context %v", c)
			}
			if _, err := Parse(mustJSON(t, m)); err != nil {
				t.Errorf("not a chatbot message: %v", err)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildSweepListsTheWorstAndCountsTheRest(t *testing.T) {
	s := Sweep{ID: "run-2", Accounts: []string{"111122223333"}, Regions: []string{"us-east-1", "eu-west-1"},
		Checked: 15012, Compliant: 12, Remaining: 14000,
		Outcomes: map[outcome.Outcome]int{outcome.DryRun: 14000, outcome.Remediated: 1000}}
	for i := range 12 {
		s.Worst = append(s.Worst, sweepItem(i, "instance", outcome.DryRun))
	}
	s.Worst[0] = SweepItem{Account: "111122223333", Kind: "role", Resource: "arn:aws:iam::111122223333:role/ci", Name: "ci",
		Verdict: "critical", Outcome: outcome.DryRun, Detail: "would narrow: statement 1: critical public-principal\nmore"}
	m, _, err := BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Content.Description
	for _, want := range []string{
		"*Swept:* 15,012 resources: 15,000 not compliant, 12 compliant.",
		"*Outcomes:* remediated 1,000 · dry-run 14,000",
		"*Still not compliant:* 14,000",
		"• `arn:aws:iam::111122223333:role/ci` in `111122223333`: role `critical` → *dry-run*: would narrow: statement 1: critical public-principal",
		"• `i-0aaa0000000000001` (web-1) in `111122223333/us-east-1`: instance `imdsv1` → *dry-run*: set HttpTokens=required",
		"…and 14,990 more: `credguard scan` lists them all.",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "region") || !strings.Contains(m.Content.Title, "1 account × 2 regions") {
		t.Errorf("where the sweep ran belongs in the title only:\n%s\n%s", m.Content.Title, d)
	}
	if n := strings.Count(d, "\n• "); n != MaxSweepItems {
		t.Errorf("%d items listed, want %d", n, MaxSweepItems)
	}
	if strings.Contains(d, "more\n") || strings.Contains(d, "web-11") {
		t.Errorf("listed beyond the worst ten or a detail's second line:\n%s", d)
	}
	if len(m.Metadata.RelatedResources) != MaxSweepItems || m.Metadata.RelatedResources[1] != "arn:aws:ec2:us-east-1:111122223333:instance/i-0aaa0000000000001" {
		t.Errorf("related resources %v", m.Metadata.RelatedResources)
	}
	steps := strings.Join(m.Content.NextSteps, "\n")
	if !strings.Contains(steps, "`credguard scan --accounts 111122223333 --regions us-east-1,eu-west-1`") {
		t.Errorf("next steps %q", steps)
	}
	text := renderText(m)
	if !strings.Contains(text, "Worst offenders") || strings.Contains(text, "*") {
		t.Errorf("rendered text:\n%s", text)
	}
}

func TestBuildSweepStaysWithinLimitsAndEscapes(t *testing.T) {
	s := Sweep{ID: "run-3", Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"},
		Outcomes: map[outcome.Outcome]int{outcome.Failed: 10}, Remaining: 10}
	for i := range 10 {
		it := sweepItem(i, "instance", outcome.Failed)
		it.Name = "<!channel> " + strings.Repeat("n", 300)
		it.Detail = strings.Repeat("modify metadata options: throttled ", 50)
		s.Worst = append(s.Worst, it)
	}
	for i := range 200 {
		s.Errors = append(s.Errors, fmt.Sprintf("4444555566%02d eu-west-1 instances: %s", i%100, strings.Repeat("x", 400)))
	}
	m, _, err := BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m)
	d := m.Content.Description
	if !strings.Contains(d, "*Not swept*") || !strings.Contains(d, "…and 197 more in the sweeper's log.") {
		t.Errorf("errors not summarised:\n%s", d)
	}
	if strings.Contains(d, "<!channel>") {
		t.Errorf("outside text not escaped:\n%s", d)
	}
	if ns, wo := strings.Index(d, "*Not swept*"), strings.Index(d, "*Worst offenders*"); ns < 0 || wo < ns {
		t.Errorf("the parts not swept come first, then the worst offenders:\n%s", d)
	}

	// With room to list them, names and details are escaped.
	s.Errors = nil
	s.Worst = s.Worst[:2]
	m, _, err = BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Content.Description; strings.Contains(d, "<!channel>") || strings.Count(d, "&lt;!channel&gt;") != 2 {
		t.Errorf("outside text not escaped:\n%s", d)
	}
}

func TestNumber(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 15012: "15,012", 1234567: "1,234,567"} {
		if got := number(n); got != want {
			t.Errorf("number(%d) = %q", n, got)
		}
	}
}

func TestListSection(t *testing.T) {
	more := func(n int) string { return fmt.Sprintf("+%d", n) }
	lines := []string{"aaaa", "bbbb", "cccc"}
	tests := []struct {
		name   string
		total  int
		budget int
		want   string
	}{
		{"all fit", 3, 100, "\n\nT\naaaa\nbbbb\ncccc"},
		{"all fit, more beyond the list", 10, 100, "\n\nT\naaaa\nbbbb\ncccc\n+7"},
		// "\n\nT" 3 + "\naaaa" 5 + "\nbbbb" 5 + "\n+8" 3 = 16: the third line would need 5 more.
		{"cut, the count fits", 10, 16, "\n\nT\naaaa\nbbbb\n+8"},
		{"exactly the last line and its count", 10, 21, "\n\nT\naaaa\nbbbb\ncccc\n+7"},
		{"no line fits: title and count", 10, 7, "\n\nT\n+10"},
		{"not even the count fits", 10, 5, ""},
		{"nothing to list", 0, 100, ""},
	}
	for _, tt := range tests {
		in := lines
		if tt.total == 0 {
			in = nil
		}
		got := listSection("T", in, tt.total, tt.budget, more)
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if runes(got) > tt.budget {
			t.Errorf("%s: %d characters, over %d", tt.name, runes(got), tt.budget)
		}
	}
}
