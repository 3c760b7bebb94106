package notify

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

// wellFormed reports what breaks the markup of s: a code block left open,
// an inline code span left open outside blocks, or an entity cut in two.
func wellFormed(s string) error {
	if strings.Count(s, "```")%2 != 0 {
		return fmt.Errorf("code block left open")
	}
	inBlock := false
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "```" {
			inBlock = !inBlock
			continue
		}
		if !inBlock && strings.Count(line, "`")%2 != 0 {
			return fmt.Errorf("inline code left open in %q", line)
		}
	}
	if bad := regexp.MustCompile(`&(?:[^agl]|a(?:[^m]|m[^p]|mp[^;])|l(?:[^t]|t[^;])|g(?:[^t]|t[^;]))`).FindString(s + "    "); bad != "" {
		return fmt.Errorf("entity cut or unescaped: %q", bad)
	}
	return nil
}

func TestClipKeepsMarkupWhole(t *testing.T) {
	inputs := []string{
		"plain text that is rather long for its budget",
		strings.Repeat("&<>", 40),
		"a `b` *c* _d_ ~e~ " + strings.Repeat("x*y ", 30),
		"multi\nline\n" + strings.Repeat("&amp; ", 20),
		"héllo wörld ünïcode " + strings.Repeat("é", 50),
	}
	renders := map[string]func(string) string{"code": code, "prose": prose, "esc": esc, "blockLine": blockLine, "indented": indented}
	for name, render := range renders {
		for _, in := range inputs {
			for _, n := range []int{1, 2, 5, 13, 40, 400} {
				got := clip(in, n, render)
				if runes(got) > n {
					t.Errorf("%s clip(%q, %d) = %q: %d characters", name, in, n, got, runes(got))
				}
				shown := got
				switch name {
				case "blockLine":
					shown = "```\n" + got + "\n```"
				case "esc": // only for Credguard's own words, never with backticks
					shown = strings.ReplaceAll(got, "`", "")
				}
				if err := wellFormed(shown); err != nil {
					t.Errorf("%s clip(%q, %d) = %q: %v", name, in, n, got, err)
				}
				if runes(render(in)) <= n && got != render(in) {
					t.Errorf("%s clip(%q, %d) changed text that fits: %q", name, in, n, got)
				}
			}
		}
	}
}

// hostile is outside text built to overflow every budget: long, full of
// characters that grow when escaped, and of formatting characters.
func hostile(n int) string {
	return strings.Repeat("&<>*`_ ", n/7+1)[:n]
}

func TestDescriptionSectionsKeepTheirBudgets(t *testing.T) {
	huge := imds.Options{HTTPTokens: hostile(300), HopLimit: 64, HTTPEndpoint: hostile(300)}
	inst := guardrail.Result{Resource: "i-" + hostile(200), Name: hostile(300), Outcome: outcome.Failed,
		IMDS: change(huge, opts("required", 1)), Detail: hostile(2000) + "\n" + hostile(500)}
	imdsInc := Incident{Guardrail: guardrail.IMDS, EventID: hostile(200), EventName: hostile(200), Account: hub, Region: "eu-west-1",
		Actor: hostile(1000)}
	for range 50 {
		imdsInc.Results = append(imdsInc.Results, inst)
	}
	before, after := scopedPolicies(40)
	role := trustResult("r", outcome.Revoked, before, after, hostile(3000), "critical")
	role.Resource, role.Name = "arn:aws:iam::111122223333:role/"+hostile(500), hostile(500)
	trustInc := Incident{Guardrail: guardrail.Trust, EventID: hostile(200), EventName: hostile(200), Account: hub, Actor: hostile(1000),
		Results: []guardrail.Result{role, role, role}}

	for name, inc := range map[string]Incident{"imds": imdsInc, "trust": trustInc} {
		t.Run(name, func(t *testing.T) {
			m, _, err := Build(inc)
			if err != nil {
				t.Fatal(err)
			}
			checkLimits(t, m)
			if err := wellFormed(m.Content.Description); err != nil {
				t.Errorf("description: %v\n%s", err, m.Content.Description)
			}
			bl := builder{inc: inc, shown: inc.Results, worth: len(inc.Results), top: outcome.Failed}
			ptr := bl.pointer()
			if n := runes("\n… and 999999999 more: the full list is in " + ptr + "."); n > moreChars {
				t.Errorf("the 'and N more' line is %d characters, over %d", n, moreChars)
			}
			if n := runes("\n\n" + bl.facts()); n > factsChars {
				t.Errorf("facts are %d characters, over %d", n, factsChars)
			}
			for _, r := range inc.Results {
				var part string
				limit := roleChars
				if bl.imds() {
					part, limit = "\n"+bl.imdsPart(r), instanceChars
				} else {
					part = bl.trustPart(r, ptr)
				}
				if runes(part) > limit {
					t.Errorf("a resource part is %d characters, over %d:\n%s", runes(part), limit, part)
				}
				if err := wellFormed(part); err != nil {
					t.Errorf("part: %v", err)
				}
			}
		})
	}
}

// The title is where the account and region are shown: a long resource name
// must not push them out.
func TestTitleKeepsTheLocation(t *testing.T) {
	inst := imdsResult("i-"+strings.Repeat("0", 300), strings.Repeat("n", 300), outcome.Remediated, change(opts("optional", 2), opts("required", 1)), "")
	role := trustResult(strings.Repeat("r", 300), outcome.Revoked, ciDeployerBefore, ciDeployerAfter, "", "critical")
	for _, inc := range []Incident{
		{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1", DryRun: true, Results: []guardrail.Result{inst}},
		{Guardrail: guardrail.Trust, Account: hub, DryRun: true, Results: []guardrail.Result{role}},
	} {
		m, _, err := Build(inc)
		if err != nil {
			t.Fatal(err)
		}
		want := " in " + hub
		if inc.Region != "" {
			want += "/" + inc.Region
		}
		if !strings.Contains(m.Content.Title, want) {
			t.Errorf("title %q lacks %q", m.Content.Title, want)
		}
	}
}

func TestEveryReasonFitsItsBudget(t *testing.T) {
	for _, g := range []guardrail.Name{guardrail.IMDS, guardrail.Trust} {
		for _, o := range []outcome.Outcome{outcome.Remediated, outcome.Revoked, outcome.Warned, outcome.DryRun, outcome.Failed, outcome.Exempt} {
			why := builder{inc: Incident{Guardrail: g}, top: o}.why()
			if n := runes("\n\n*Why:* " + why); n > whyChars {
				t.Errorf("%s %s: the reason is %d characters, over %d", g, o, n, whyChars)
			}
		}
	}
}

// outsideCode is s without code blocks, commands (inline code with a space)
// and ARNs: they mention an account or region as an argument, not as a fact.
func outsideCode(s string) string {
	s = regexp.MustCompile("(?s)```.*?```").ReplaceAllString(s, "")
	s = regexp.MustCompile("`[^`\n]* [^`\n]*`").ReplaceAllString(s, "")
	return regexp.MustCompile(`arn:[^\s`+"`"+`]*`).ReplaceAllString(s, "")
}

// The title names what happened, to which resource and where; the
// description does not say it again.
func TestGoldenMessagesTellEachFactOnce(t *testing.T) {
	for name, inc := range goldenIncidents() {
		m, _, err := Build(inc)
		if err != nil {
			t.Fatal(err)
		}
		text := outsideCode(m.Content.Title + "\n" + m.Content.Description)
		if n := strings.Count(text, inc.Account); n != 1 {
			t.Errorf("%s: the account is shown %d times:\n%s", name, n, text)
		}
		if inc.Guardrail == guardrail.IMDS && strings.Count(text, inc.Region) != 1 {
			t.Errorf("%s: the region is shown %d times:\n%s", name, strings.Count(text, inc.Region), text)
		}
		for _, r := range inc.Results {
			if c := r.IMDS; c != nil && c.Changes() && r.Outcome != outcome.Failed {
				ba := "`" + c.Before.String() + "` → `" + c.After.String() + "`"
				if n := strings.Count(m.Content.Description, "`"+r.Resource+"`"); n != 1 {
					t.Errorf("%s: %s is listed %d times", name, r.Resource, n)
				}
				if !strings.Contains(m.Content.Description, ba) {
					t.Errorf("%s: %s lacks its before → after", name, r.Resource)
				}
			}
		}
		if inc.DryRun && strings.Contains(m.Content.Description, "Mode:") {
			t.Errorf("%s: the dry-run mode is in the title and again in the description", name)
		}
	}
}

func TestClipLines(t *testing.T) {
	plain := func(s string) string { return s }
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc", 10, "a\nb\nc"},
		{"first finding\nsecond finding\nstatement 1 scoped to the workload", 53, "first finding\nsecond finding\n… 1 more line in the log"},
		{"first finding\nsecond finding\nstatement 1 scoped to the workload", 40, "first finding\n… 2 more lines in the log"},
		// Not even one whole line fits: the text is clipped.
		{"a very long first line\nb", 10, "a very lo…"},
	}
	for _, tt := range tests {
		if got := clipLines(tt.in, tt.n, plain); got != tt.want {
			t.Errorf("clipLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// A rewrite is told action first (the changes), then why (the findings),
// from the typed change; other results keep their detail.
func TestRoleDetailPutsTheChangesFirst(t *testing.T) {
	r := trustResult("ci", outcome.Revoked, federatedStar, denyAll, "the findings\nthe changes", "critical")
	r.Trust.Report = trust.Analyze(r.Trust.Before)
	r.Trust.Changes = trust.Changes{{Statement: 1, Kind: trust.ChangeRemoved, Detail: "nothing legitimate was left"}}
	got := strings.Split(roleDetail(r), "\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "statement 1 removed") || !strings.Contains(got[1], "critical") {
		t.Errorf("roleDetail = %q, want the change, then the finding", got)
	}
	r.Trust.Changes = nil
	if got := roleDetail(r); got != "the findings\nthe changes" {
		t.Errorf("without changes roleDetail = %q, want the detail", got)
	}
}

// A rewrite that was written before a later step failed is shown as a
// change, with the commands that restore it.
func TestWrittenRewriteOfAFailedResultCanBeRestored(t *testing.T) {
	r := trustResult("ci", outcome.Failed, federatedStar, denyAll, "trust narrowed, but sessions issued before now were NOT revoked", "critical")
	inc := Incident{Guardrail: guardrail.Trust, Account: hub, EventID: "e", Results: []guardrail.Result{r}}
	m, _, err := Build(inc)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Content.Description; !strings.Contains(d, "Intended change") || strings.Contains(d, "*Restore*") {
		t.Errorf("not written: want the intended change and no restore:\n%s", d)
	}
	r.Trust.Written = true
	inc.Results = []guardrail.Result{r}
	m, _, err = Build(inc)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Content.Description
	if strings.Contains(d, "Intended change") || !strings.Contains(d, "*Trust policy change") || !strings.Contains(d, "*Restore*") {
		t.Errorf("written: want the change and the restore commands:\n%s", d)
	}
	steps := strings.Join(m.Content.NextSteps, "\n")
	if strings.Contains(steps, "stays open") || !strings.Contains(steps, "not revoked") {
		t.Errorf("next steps:\n%s", steps)
	}
}

// A policy holding a code fence cannot be shown exactly in a code block:
// the restore command reads it from a file saved from the log.
func TestRestoreOfAPolicyWithACodeFenceReadsAFile(t *testing.T) {
	before := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"a` + "```" + `b"}}}]}`
	m, _, err := Build(Incident{Guardrail: guardrail.Trust, Account: hub, EventID: "e",
		Results: []guardrail.Result{trustResult("fenced", outcome.Revoked, before, denyAll, "", "critical")}})
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Content.Description; !strings.Contains(d, "--policy-document file://original-trust.json") {
		t.Errorf("want the file form:\n%s", d)
	}
}
