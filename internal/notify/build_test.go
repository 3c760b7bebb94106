package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

func TestWorth(t *testing.T) {
	want := map[outcome.Outcome]bool{
		outcome.Remediated: true, outcome.Revoked: true, outcome.Warned: true, outcome.DryRun: true, outcome.Failed: true,
		outcome.Compliant: false, outcome.Exempt: false, outcome.Gone: false, outcome.Ignored: false,
	}
	for _, o := range outcome.All {
		w, ok := want[o]
		if !ok {
			t.Fatalf("outcome %q has no expectation", o)
		}
		if got := Worth(o); got != w {
			t.Errorf("Worth(%q) = %v, want %v", o, got, w)
		}
	}
	if Worth("something-else") {
		t.Error("Worth of an unknown outcome is true")
	}
	for _, o := range outcome.All {
		if got, w := Announced(o), want[o] || o == outcome.Exempt; got != w {
			t.Errorf("Announced(%q) = %v, want %v", o, got, w)
		}
	}
}

// An exemption alone is announced: it names the tag or allow-list entry and
// its reason, and is a warning (a resource left at risk on purpose).
func TestBuildExemptOnly(t *testing.T) {
	tests := []struct {
		name   string
		inc    Incident
		title  string
		thread string
		says   []string
	}{
		{"critical role exempt by tag", Incident{Guardrail: guardrail.Trust, Account: hub, EventID: "e1", EventName: "CreateRole",
			Results: []guardrail.Result{trustResult("break-glass", outcome.Exempt, "", "",
				"tag credguard:exempt: incident SEC-9; statement 1: critical public-principal: …", "critical")}},
			"Risky trust kept on role break-glass in 111122223333: exempt", "credguard-trust-111122223333-break-glass",
			[]string{"tag credguard:exempt: incident SEC-9", "exempt, not changed", "an exemption (named above, with its reason) keeps Credguard from narrowing it"}},
		{"IMDSv1 instance exempt by the allow-list", Incident{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1", EventID: "e2", EventName: "RunInstances",
			Results: []guardrail.Result{imdsResult("i-0abc", "legacy", outcome.Exempt, noChange(opts("optional", 2)),
				"allow-list entry i-0abc (the IMDS guardrail's configured exemption list, CREDGUARD_EXEMPT_INSTANCE_IDS; it records no reason)")}},
			"IMDSv2 NOT enforced on i-0abc (legacy) in 111122223333/eu-west-1: exempt", "credguard-imds-111122223333-eu-west-1-i-0abc",
			[]string{"allow-list entry i-0abc", "CREDGUARD_EXEMPT_INSTANCE_IDS", "keeps Credguard from enforcing it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, attrs, err := Build(tt.inc)
			if err != nil {
				t.Fatal(err)
			}
			if m.Content.Title != tt.title || m.Metadata.ThreadID != tt.thread {
				t.Errorf("title %q thread %q, want %q %q", m.Content.Title, m.Metadata.ThreadID, tt.title, tt.thread)
			}
			if attrs.Outcome != outcome.Exempt || attrs.Severity != guardrail.Warning {
				t.Errorf("attributes %+v", attrs)
			}
			all := m.Content.Description + " " + strings.Join(m.Content.NextSteps, " ")
			for _, s := range tt.says {
				if !strings.Contains(all, s) {
					t.Errorf("message lacks %q:\n%s", s, all)
				}
			}
		})
	}
}

func TestBuildAttributes(t *testing.T) {
	r := func(o outcome.Outcome, sev string) guardrail.Result {
		g := guardrail.IMDS // the table's IMDS results carry no verdict
		if sev != "" {
			g = guardrail.Trust
		}
		return guardrail.Result{Guardrail: g, Resource: "r-" + string(o) + sev, Outcome: o, Trust: trustChange("", "", sev)}
	}
	tests := []struct {
		g       guardrail.Name
		results []guardrail.Result
		outcome outcome.Outcome
		sev     guardrail.Severity
	}{
		{guardrail.IMDS, []guardrail.Result{r(outcome.Remediated, "")}, outcome.Remediated, guardrail.Warning},
		{guardrail.IMDS, []guardrail.Result{r(outcome.DryRun, "")}, outcome.DryRun, guardrail.Warning},
		{guardrail.IMDS, []guardrail.Result{r(outcome.Failed, "")}, outcome.Failed, guardrail.Critical},
		{guardrail.IMDS, []guardrail.Result{r(outcome.Remediated, ""), r(outcome.Failed, ""), r(outcome.Exempt, "")}, outcome.Failed, guardrail.Critical},
		{guardrail.IMDS, []guardrail.Result{r(outcome.Exempt, ""), r(outcome.Remediated, "")}, outcome.Remediated, guardrail.Warning},
		{guardrail.IMDS, []guardrail.Result{r(outcome.Compliant, ""), r(outcome.Gone, ""), r(outcome.DryRun, "")}, outcome.DryRun, guardrail.Warning},
		{guardrail.Trust, []guardrail.Result{r(outcome.Revoked, "critical")}, outcome.Revoked, guardrail.Critical},
		{guardrail.Trust, []guardrail.Result{r(outcome.Warned, "warning")}, outcome.Warned, guardrail.Warning},
		{guardrail.Trust, []guardrail.Result{r(outcome.DryRun, "critical")}, outcome.DryRun, guardrail.Critical},
		{guardrail.Trust, []guardrail.Result{r(outcome.DryRun, "warning")}, outcome.DryRun, guardrail.Warning},
		{guardrail.Trust, []guardrail.Result{r(outcome.Warned, "warning"), r(outcome.Revoked, "critical")}, outcome.Revoked, guardrail.Critical},
		{guardrail.Trust, []guardrail.Result{r(outcome.Warned, "warning"), r(outcome.Failed, "critical")}, outcome.Failed, guardrail.Critical},
		{guardrail.Trust, []guardrail.Result{r(outcome.Warned, "warning"), r(outcome.DryRun, "critical")}, outcome.DryRun, guardrail.Critical},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, a, err := Build(Incident{Guardrail: tt.g, Account: hub, Region: "eu-west-1", EventID: "e", Results: tt.results})
			if err != nil {
				t.Fatal(err)
			}
			want := Attributes{Guardrail: tt.g, Outcome: tt.outcome, Severity: tt.sev, Account: hub}
			if a != want {
				t.Errorf("attributes = %+v, want %+v", a, want)
			}
		})
	}
}

func TestAttributesMapLeavesOutEmptyValues(t *testing.T) {
	got := Attributes{Guardrail: guardrail.IMDS, Outcome: outcome.Failed, Severity: guardrail.Critical}.Map()
	want := map[string]string{"guardrail": "imds", "outcome": "failed", "severity": "critical"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Map() = %v, want %v", got, want)
	}
}

func TestBuildRejects(t *testing.T) {
	ok := []guardrail.Result{{Resource: "i-1", Outcome: outcome.Remediated}}
	tests := map[string]struct {
		inc     Incident
		wantErr string
		is      error
	}{
		"unknown guardrail":   {Incident{Guardrail: guardrail.None, Account: hub, Region: "r", Results: ok}, `unknown guardrail "none"`, nil},
		"empty guardrail":     {Incident{Account: hub, Region: "r", Results: ok}, `unknown guardrail ""`, nil},
		"no account":          {Incident{Guardrail: guardrail.IMDS, Region: "r", Results: ok}, "no account", nil},
		"imds without region": {Incident{Guardrail: guardrail.IMDS, Account: hub, Results: ok}, "no region", nil},
		"no results":          {Incident{Guardrail: guardrail.IMDS, Account: hub, Region: "r"}, "", ErrNothingToNotify},
		"nothing worth it": {Incident{Guardrail: guardrail.Trust, Account: hub, Results: []guardrail.Result{
			{Outcome: outcome.Compliant}, {Outcome: outcome.Gone}, {Outcome: outcome.Ignored},
		}}, "", ErrNothingToNotify},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := Build(tt.inc)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}

func TestBuildTrustRegionIsOptional(t *testing.T) {
	m, _, err := Build(Incident{Guardrail: guardrail.Trust, Account: hub,
		Results: []guardrail.Result{trustResult("x", outcome.Warned, paymentsPolicy, "", "d", "warning")}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Content.Title != "Risky trust on role x in 111122223333 (no change made)" {
		t.Errorf("title = %q", m.Content.Title)
	}
}

func TestBuildManyInstancesStaysWithinLimits(t *testing.T) {
	var results []guardrail.Result
	for i := range 1000 {
		results = append(results, imdsResult(fmt.Sprintf("i-%017d", i), fmt.Sprintf("node-%d", i), outcome.Remediated, change(opts("optional", 2), opts("required", 1)), ""))
	}
	m, a, err := Build(Incident{Guardrail: guardrail.IMDS, EventID: "big", EventName: "RunInstances", Account: hub, Region: "eu-west-1", Results: results})
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m)
	if a.Outcome != outcome.Remediated {
		t.Errorf("outcome %q", a.Outcome)
	}
	if want := "IMDSv2 enforced on 1000 instances in 111122223333/eu-west-1"; m.Content.Title != want {
		t.Errorf("title %q, want %q", m.Content.Title, want)
	}
	if !strings.Contains(m.Content.Description, "more: the full list is in the guardrail's CloudWatch log, event id `big`") {
		t.Errorf("description does not point at the log for the rest:\n%s", m.Content.Description)
	}
	if !strings.Contains(m.Content.Description, "i-00000000000000000") {
		t.Error("the first instance is not listed")
	}
	if !strings.HasSuffix(m.Content.Description, b(m).why()) {
		t.Error("the reason was cut")
	}
	if len(m.Metadata.RelatedResources) != maxRelatedResources {
		t.Errorf("%d related resources, want %d", len(m.Metadata.RelatedResources), maxRelatedResources)
	}
	if got := m.Metadata.ThreadID; got != "credguard-imds-111122223333-eu-west-1-event-big" {
		t.Errorf("threadId %q", got)
	}
	if n := runes(m.Metadata.AdditionalContext[CtxResource]); n > 300 {
		t.Errorf("resource context is %d characters", n)
	}
}

// b rebuilds the builder of a message's first incident fields, enough to ask
// for the reason sentence.
func b(m Message) builder {
	return builder{inc: Incident{Guardrail: guardrail.Name(m.Metadata.AdditionalContext[CtxGuardrail])}, top: outcome.Outcome(m.Metadata.AdditionalContext[CtxOutcome])}
}

func TestBuildHugeTrustPolicyPointsAtTheLogForRestore(t *testing.T) {
	m, _, err := Build(Incident{Guardrail: guardrail.Trust, EventID: "ev-1", Account: hub,
		Results: []guardrail.Result{trustResult("huge", outcome.Revoked, bigPolicy(40), denyAll, "critical", "critical")}})
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m)
	d := m.Content.Description
	for _, want := range []string{
		"--policy-document file://original-trust.json",
		"aws iam delete-role-policy --role-name huge --policy-name AWSRevokeOlderSessions",
		"Diff cut to fit the message: the full policy is in the guardrail's CloudWatch log, event id `ev-1`.",
		"Save the original policy from the guardrail's CloudWatch log, event id `ev-1` as `original-trust.json` first.",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
}

func TestBuildDiffIsNotCutWhenItFits(t *testing.T) {
	m, _, err := Build(goldenIncidents()["trust-revoked"])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Content.Description, "Diff cut") {
		t.Error("a small diff was cut")
	}
	if !strings.Contains(m.Content.Description, `- {"Sid":"Anyone","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`) {
		t.Errorf("removed statement missing:\n%s", m.Content.Description)
	}
	if strings.Contains(m.Content.Description, `"Sid":"CodeBuild"}`) && strings.Contains(m.Content.Description, `- {"Sid":"CodeBuild"`) {
		t.Error("the unchanged statement is shown as removed")
	}
}

func TestBuildRestoreUsesDecodedOriginal(t *testing.T) {
	encoded := url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"it's"}}}]}`)
	m, _, err := Build(Incident{Guardrail: guardrail.Trust, Account: hub,
		Results: []guardrail.Result{trustResult("quoted", outcome.Revoked, encoded, denyAll, "", "critical")}})
	if err != nil {
		t.Fatal(err)
	}
	want := `--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"it'\''s"}}}]}'`
	if !strings.Contains(m.Content.Description, want) {
		t.Errorf("restore command not found; want %s in\n%s", want, m.Content.Description)
	}
}

func TestBuildEscapesOutsideText(t *testing.T) {
	m, _, err := Build(Incident{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1", Actor: "<!channel>",
		Results: []guardrail.Result{imdsResult("i-1", "<!here> *boss* `x` & co", outcome.Remediated, change(opts("optional", 2), opts("required", 1)), "see <https://evil.example|here>")}})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(m.Content)
	for _, bad := range []string{"<!channel>", "<!here>", "<https://evil", " *boss* "} {
		if strings.Contains(string(all), bad) {
			t.Errorf("content carries %q unescaped: %s", bad, all)
		}
	}
	if want := "IMDSv2 enforced on i-1 (&lt;!here&gt; `*boss*` `'x'` &amp; co) in 111122223333/eu-west-1"; m.Content.Title != want {
		t.Errorf("title %q, want %q", m.Content.Title, want)
	}
	if got, want := Plain(m.Content.Title), "IMDSv2 enforced on i-1 (<!here> *boss* 'x' & co) in 111122223333/eu-west-1"; got != want {
		t.Errorf("Plain(title) = %q, want %q", got, want)
	}
}

func TestBuildLongNamesAreCut(t *testing.T) {
	long := strings.Repeat("n", 400)
	m, _, err := Build(Incident{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1",
		Results: []guardrail.Result{imdsResult("i-1", long, outcome.Failed, nil, strings.Repeat("error ", 2000))}})
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m)
	if !strings.Contains(m.Content.Title, strings.Repeat("n", 59)+"…") {
		t.Errorf("title %q", m.Content.Title)
	}
}

func TestBuildDryRunModeMarksEveryTitle(t *testing.T) {
	m, _, err := Build(Incident{Guardrail: guardrail.Trust, Account: hub, DryRun: true,
		Results: []guardrail.Result{trustResult("p", outcome.Warned, paymentsPolicy, "", "warning", "warning")}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "DRY RUN: Risky trust on role p in 111122223333 (no change made)"; m.Content.Title != want {
		t.Errorf("title %q, want %q", m.Content.Title, want)
	}
	if kw := strings.Join(m.Content.Keywords, ","); kw != "credguard,trust,warned,111122223333,dry-run" {
		t.Errorf("keywords %s", kw)
	}
	if m.Metadata.AdditionalContext[CtxDryRun] != "true" {
		t.Error("dryRun context missing")
	}
}

func TestBuildTitles(t *testing.T) {
	i := func(id string, o outcome.Outcome) guardrail.Result { return imdsResult(id, "", o, nil, "") }
	tr := func(name string, o outcome.Outcome) guardrail.Result {
		return trustResult(name, o, "", "", "", "critical")
	}
	tests := []struct {
		g       guardrail.Name
		results []guardrail.Result
		want    string
	}{
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Remediated)}, "IMDSv2 enforced on i-1 in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Remediated), i("i-2", outcome.Remediated)}, "IMDSv2 enforced on 2 instances in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Remediated), i("i-2", outcome.DryRun)}, "IMDSv2 enforced on i-1 in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Failed), i("i-2", outcome.Failed)}, "Credguard FAILED to enforce IMDSv2 on 2 instances in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Failed), i("i-2", outcome.Failed), i("i-3", outcome.Remediated)}, "Credguard FAILED to enforce IMDSv2 on 2 of 3 instances in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.DryRun), i("i-2", outcome.DryRun), i("i-3", outcome.Exempt)}, "DRY RUN: would enforce IMDSv2 on 2 instances in 111122223333/eu-west-1"},
		{guardrail.IMDS, []guardrail.Result{i("i-1", outcome.Warned)}, "IMDS risk on i-1 in 111122223333/eu-west-1 (no change made)"},
		{guardrail.Trust, []guardrail.Result{tr("a", outcome.Revoked), tr("b", outcome.Revoked)}, "Wildcard trust revoked on 2 roles in 111122223333"},
		{guardrail.Trust, []guardrail.Result{tr("a", outcome.Revoked), tr("b", outcome.Warned)}, "Wildcard trust revoked on role a in 111122223333"},
		{guardrail.Trust, []guardrail.Result{tr("a", outcome.Warned), tr("b", outcome.Failed)}, "Credguard FAILED to revoke wildcard trust on 1 of 2 roles in 111122223333"},
		{guardrail.Trust, []guardrail.Result{{Resource: "arn:aws:iam::111122223333:role/path/to/deep", Outcome: outcome.Revoked}}, "Wildcard trust revoked on role deep in 111122223333"},
	}
	for _, tt := range tests {
		m, _, err := Build(Incident{Guardrail: tt.g, Account: hub, Region: "eu-west-1", Results: tt.results})
		if err != nil {
			t.Fatal(err)
		}
		if m.Content.Title != tt.want {
			t.Errorf("title %q, want %q", m.Content.Title, tt.want)
		}
	}
}

func TestBuildThreadIDs(t *testing.T) {
	tests := []struct {
		inc  Incident
		want string
	}{
		{Incident{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1", EventID: "e1",
			Results: []guardrail.Result{imdsResult("i-1", "", outcome.Remediated, nil, ""), imdsResult("i-2", "", outcome.Exempt, nil, "")}},
			"credguard-imds-111122223333-eu-west-1-i-1"},
		{Incident{Guardrail: guardrail.Trust, Account: hub, Region: "us-east-1", EventID: "e2",
			Results: []guardrail.Result{trustResult("ci-deployer", outcome.Warned, "", "", "", "warning")}},
			"credguard-trust-111122223333-ci-deployer"},
		{Incident{Guardrail: guardrail.Trust, Account: hub, EventID: "e:3/x",
			Results: []guardrail.Result{trustResult("a", outcome.Revoked, "", "", "", ""), trustResult("b", outcome.Revoked, "", "", "", "")}},
			"credguard-trust-111122223333-event-e-3-x"},
	}
	for _, tt := range tests {
		m, _, err := Build(tt.inc)
		if err != nil {
			t.Fatal(err)
		}
		if m.Metadata.ThreadID != tt.want {
			t.Errorf("threadId %q, want %q", m.Metadata.ThreadID, tt.want)
		}
	}
}

func TestBuildCustomRemediationRole(t *testing.T) {
	m, _, err := Build(Incident{Guardrail: guardrail.IMDS, Account: member, Region: "eu-west-1", RemediationRole: "acme-guard",
		Results: []guardrail.Result{imdsResult("i-1", "", outcome.Failed, nil, "boom")}})
	if err != nil {
		t.Fatal(err)
	}
	steps := strings.Join(m.Content.NextSteps, "\n")
	if !strings.Contains(steps, "the `acme-guard` role") || strings.Contains(steps, "credguard-imds-remediation") {
		t.Errorf("next steps do not name the configured role:\n%s", steps)
	}
	if !strings.Contains(steps, "tag it `credguard:exempt`") {
		t.Errorf("next steps do not name the exemption tag:\n%s", steps)
	}
}

func TestParse(t *testing.T) {
	good, _, err := Build(goldenIncidents()["imds-failed"])
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(good)
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content.Title != good.Content.Title || got.Metadata.ThreadID != good.Metadata.ThreadID {
		t.Errorf("round trip changed the message: %+v", got)
	}
	for name, in := range map[string]string{
		"not json":       "hello",
		"json string":    `"hello"`,
		"other version":  `{"version":"0","source":"custom","content":{"title":"t"}}`,
		"other source":   `{"version":"1.0","source":"aws.ec2","content":{"title":"t"}}`,
		"empty content":  `{"version":"1.0","source":"custom","content":{}}`,
		"alarm":          `{"AlarmName":"x","NewStateValue":"ALARM"}`,
		"truncated json": `{"version":"1.0","source":"custom","content":{"title":"t"`,
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrNotChatbot) {
			t.Errorf("%s: Parse error %v, want ErrNotChatbot", name, err)
		}
	}
}

// scopedPolicies are a role's trust policy with n OIDC statements open to
// every service account of their cluster, and the policy with each scoped
// to one: a diff of 2n long lines for an original of n statements.
func scopedPolicies(n int) (before, after string) {
	var b, a []string
	for i := range n {
		provider := fmt.Sprintf("oidc.eks.eu-west-1.amazonaws.com/id/CLUSTER%02dD539D4633E53DE1B71EXAMPLE", i)
		stmt := `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{%s}}`
		b = append(b, fmt.Sprintf(stmt, `"StringLike":{"`+provider+`:sub":"system:serviceaccount:*"}`))
		a = append(a, fmt.Sprintf(stmt, `"StringEquals":{"`+provider+`:sub":"system:serviceaccount:billing:billing-api","`+provider+`:aud":"sts.amazonaws.com"}`))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(b, ",") + `]}`, `{"Version":"2012-10-17","Statement":[` + strings.Join(a, ",") + `]}`
}

// A diff over its budget is cut, with a pointer to the log, while the
// restore command after it keeps the original inline when that fits its
// own budget.
func TestBuildOversizedDiffIsCutBeforeTheRestoreCommand(t *testing.T) {
	before, after := scopedPolicies(3)
	inc := Incident{Guardrail: guardrail.Trust, EventID: "ev-2", EventName: "UpdateAssumeRolePolicy", Account: hub,
		Results: []guardrail.Result{trustResult("billing-api", outcome.Revoked, before, after, "critical oidc-sub-wildcard", "critical")}}
	m, _, err := Build(inc)
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m)
	d := m.Content.Description
	lines := diffPolicies(inc.Results[0].Trust.Before, *inc.Results[0].Trust.After).Lines()
	full := 0
	for _, l := range lines {
		full += runes(l) + 1
	}
	if full <= diffBodyChars {
		t.Fatalf("the test diff (%d characters) fits its budget and needs no cut", full)
	}
	cut := strings.Index(d, "Diff cut to fit the message: the full policy is in the guardrail's CloudWatch log, event id `ev-2`.")
	if cut < 0 {
		t.Errorf("no pointer to the log:\n%s", d)
	}
	if !strings.Contains(d, "… 4 more lines") || !strings.Contains(d, lines[1]) || strings.Contains(d, lines[2]) {
		t.Errorf("want the first 2 of %d diff lines and the cut marker:\n%s", len(lines), d)
	}
	restore := strings.Index(d, "--policy-document '"+esc(mustMarshal(t, inc.Results[0].Trust.Before))+"'")
	if restore < 0 {
		t.Error("the restore command lost the inline original although it fits")
	}
	if restore < cut {
		t.Error("the restore command comes before the cut diff")
	}
}

func mustMarshal(t *testing.T, p trust.Policy) string {
	t.Helper()
	b, err := trust.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
