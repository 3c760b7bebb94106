package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/trust"
)

func ptrBool(b bool) *bool { return &b }

// kindsFixture has one resource for each case the sweep tells apart.
func kindsFixture() *sandbox.Fixture {
	inst := func(n int, state, tokens string, hop int, tags map[string]string) sandbox.Instance {
		return sandbox.Instance{ID: fmt.Sprintf("i-0aaa%013x", n), State: state, Tags: tags,
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: tokens, HTTPPutResponseHopLimit: hop, HTTPEndpoint: "enabled"}}
	}
	disabled := inst(8, "running", "optional", 1, map[string]string{"Name": "locked-down"})
	disabled.MetadataOptions.HTTPEndpoint = "disabled"
	lt := func(n int, name string, tags map[string]string, versions ...*sandbox.TemplateMetadataOptions) sandbox.LaunchTemplate {
		t := sandbox.LaunchTemplate{ID: fmt.Sprintf("lt-0aaa%013x", n), Name: name, Tags: tags}
		for _, m := range versions {
			t.Versions = append(t.Versions, sandbox.TemplateVersion{Data: sandbox.TemplateData{
				ImageID: "ami-0123456789abcdef0", InstanceType: "m7g.large", EbsOptimized: ptrBool(true),
				SecurityGroupIDs: []string{"sg-0123456789abcdef0"}, MetadataOptions: m,
			}})
		}
		return t
	}
	return &sandbox.Fixture{
		HubAccount: hub,
		Accounts: map[string]*sandbox.Account{
			hub: {
				Roles: []sandbox.Role{
					{Name: "credguard-sweeper", TrustPolicy: trustLambda},
					{Name: "ci-deployer", TrustPolicy: trustFederatedAny},
					{Name: "payments-api", TrustPolicy: trustPodsUnscoped},
					{Name: "legacy-idp", TrustPolicy: trustFederatedAny, Tags: map[string]string{"credguard:exempt": "vendor SSO, ticket SEC-1"}},
					{Name: "good-app", TrustPolicy: trustLambda},
				},
				Regions: map[string]*sandbox.Region{
					"us-east-1": {
						Instances: []sandbox.Instance{
							inst(1, "running", "optional", 1, map[string]string{"Name": "web"}),
							inst(2, "running", "required", 2, map[string]string{"Name": "batch"}),
							inst(3, "pending", "optional", 2, nil),
							inst(4, "running", "required", 1, map[string]string{"Name": "compliant"}),
							inst(5, "running", "optional", 1, map[string]string{"credguard:exempt": "vendor agent needs IMDSv1"}),
							inst(6, "terminated", "optional", 2, nil),
							inst(7, "stopped", "optional", 1, nil),
							disabled,
						},
						LaunchTemplates: []sandbox.LaunchTemplate{
							lt(1, "web-lt", nil, nil),
							lt(2, "batch-lt", nil, &sandbox.TemplateMetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 2,
								HTTPEndpoint: "enabled", HTTPProtocolIPv6: "enabled", InstanceMetadataTags: "enabled"}),
							lt(3, "good-lt", nil, &sandbox.TemplateMetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}),
							lt(4, "exempt-lt", map[string]string{"credguard:exempt": "legacy fleet"}, &sandbox.TemplateMetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 1}),
							// The default (version 1) allows IMDSv1; the fixed version 2 is not the default.
							lt(5, "rolled-lt", nil, &sandbox.TemplateMetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 1},
								&sandbox.TemplateMetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}),
						},
					},
				},
			},
			member: {
				Roles: append(memberRoles(), sandbox.Role{Name: "member-ci", TrustPolicy: trustFederatedAny}),
				Regions: map[string]*sandbox.Region{
					"eu-west-1": {Instances: []sandbox.Instance{{ID: "i-0bbb0000000000001", State: "running",
						MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2}}}},
				},
			},
		},
	}
}

var (
	sweepAccounts = []string{hub, member}
	sweepRegions  = []string{"us-east-1", "eu-west-1"}
)

func lt(n int) string { return fmt.Sprintf("lt-0aaa%013x", n) }
func id(n int) string { return fmt.Sprintf("i-0aaa%013x", n) }

func TestSweepReadOnlyReportsEachKindAndWritesNothing(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	rep := sweeper(t, s, readOnly()).Run(testContext(t), sweepAccounts, sweepRegions)
	noErrors(t, rep)

	const use1, euw1 = "us-east-1", "eu-west-1"
	want := map[key]got{
		{hub, use1, id(1), KindInstance}:                     {VerdictIMDSv1, outcome.DryRun},
		{hub, use1, id(2), KindInstance}:                     {VerdictHopLimit, outcome.DryRun},
		{hub, use1, id(3), KindInstance}:                     {VerdictIMDSv1HopLimit, outcome.DryRun},
		{hub, use1, id(5), KindInstance}:                     {VerdictIMDSv1, outcome.Exempt},
		{hub, use1, id(7), KindInstance}:                     {VerdictIMDSv1, outcome.DryRun},
		{hub, use1, id(8), KindInstance}:                     {VerdictIMDSv1, outcome.DryRun},
		{member, euw1, "i-0bbb0000000000001", KindInstance}:  {VerdictIMDSv1HopLimit, outcome.DryRun},
		{hub, use1, lt(1), KindLaunchTemplate}:               {VerdictIMDSv1HopLimit, outcome.DryRun},
		{hub, use1, lt(2), KindLaunchTemplate}:               {VerdictHopLimit, outcome.DryRun},
		{hub, use1, lt(4), KindLaunchTemplate}:               {VerdictIMDSv1, outcome.Exempt},
		{hub, use1, lt(5), KindLaunchTemplate}:               {VerdictIMDSv1, outcome.DryRun},
		{hub, "", roleARN(hub, "ci-deployer"), KindRole}:     {VerdictCritical, outcome.DryRun},
		{hub, "", roleARN(hub, "payments-api"), KindRole}:    {VerdictWarning, outcome.Warned},
		{hub, "", roleARN(hub, "legacy-idp"), KindRole}:      {VerdictCritical, outcome.Exempt},
		{member, "", roleARN(member, "member-ci"), KindRole}: {VerdictCritical, outcome.DryRun},
	}
	if diff := compareFindings(byKey(t, rep), want); diff != "" {
		t.Fatal(diff)
	}
	wantCounts := map[Kind][2]int{KindInstance: {8, 1}, KindLaunchTemplate: {5, 1}, KindRole: {8, 4}}
	for k, c := range wantCounts {
		if rep.Checked[k] != c[0] || rep.Compliant[k] != c[1] {
			t.Errorf("%s: checked %d, compliant %d; want %d, %d", k, rep.Checked[k], rep.Compliant[k], c[0], c[1])
		}
	}
	if rep.Remaining() != 12 || rep.Clean() {
		t.Errorf("remaining %d (clean %v), want 12", rep.Remaining(), rep.Clean())
	}
	if w := writes(s); len(w) != 0 {
		t.Errorf("a read-only sweep wrote: %+v", w)
	}
	// The details say what would be done, in the guardrails' words.
	for _, f := range rep.Findings {
		if f.Detail == "" {
			t.Errorf("%s: no detail", f.Resource)
		}
		if f.Resource == lt(1) && !strings.Contains(f.Detail, "would create a new default version from version 1") {
			t.Errorf("template detail: %q", f.Detail)
		}
		if f.Resource == id(8) && !strings.Contains(f.Detail, "endpoint stays disabled") {
			t.Errorf("disabled endpoint detail: %q", f.Detail)
		}
	}
}

func compareFindings(have, want map[key]got) string {
	var b strings.Builder
	for k, w := range want {
		h, ok := have[k]
		switch {
		case !ok:
			fmt.Fprintf(&b, "missing finding %+v (want %+v)\n", k, w)
		case h != w:
			fmt.Fprintf(&b, "finding %+v: got %+v, want %+v\n", k, h, w)
		}
	}
	for k, h := range have {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "unexpected finding %+v: %+v\n", k, h)
		}
	}
	return b.String()
}

func TestSweepRemediatesThenFindsOnlyAcceptedResources(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	ctx := testContext(t)
	rep := sweeper(t, s, Config{}).Run(ctx, sweepAccounts, sweepRegions)
	noErrors(t, rep)
	outcomes := rep.Outcomes()
	want := map[outcome.Outcome]int{outcome.Remediated: 6 + 3, outcome.Exempt: 3, outcome.Revoked: 2, outcome.Warned: 1}
	for o, n := range want {
		if outcomes[o] != n {
			t.Errorf("%s: %d findings, want %d (all: %v)", o, outcomes[o], n, outcomes)
		}
	}
	if len(rep.Findings) != 15 || rep.Remaining() != 1 {
		t.Errorf("%d findings, %d remaining; want 15, 1 (the warned role)", len(rep.Findings), rep.Remaining())
	}

	state := s.State()
	use1 := state.Accounts[hub].Regions["us-east-1"]
	for _, in := range use1.Instances {
		m := in.MetadataOptions
		switch in.ID {
		case id(5), id(6):
			if m.HTTPTokens != "optional" {
				t.Errorf("%s (exempt or terminated) was changed: %+v", in.ID, m)
			}
		default:
			if m.HTTPTokens != "required" || m.HTTPPutResponseHopLimit != 1 {
				t.Errorf("%s not remediated: %+v", in.ID, m)
			}
		}
		if in.ID == id(8) && m.HTTPEndpoint != "disabled" {
			t.Errorf("%s: IMDS endpoint re-enabled: %+v", in.ID, m)
		}
	}
	templates := map[string]sandbox.LaunchTemplate{}
	for _, t := range use1.LaunchTemplates {
		templates[t.ID] = t
	}
	for n, wantDefault := range map[int]int{1: 2, 2: 2, 3: 1, 4: 1, 5: 3} {
		tmpl := templates[lt(n)]
		def := tmpl.DefaultVersion
		if def == 0 {
			def = 1
		}
		if def != wantDefault {
			t.Errorf("%s: default version %d of %d, want %d", tmpl.Name, def, len(tmpl.Versions), wantDefault)
			continue
		}
		if n == 3 || n == 4 {
			if len(tmpl.Versions) != 1 {
				t.Errorf("%s (compliant or exempt) got a new version", tmpl.Name)
			}
			continue
		}
		if len(tmpl.Versions) != wantDefault {
			t.Errorf("%s: %d versions, want the new default to be the latest", tmpl.Name, len(tmpl.Versions))
		}
		d := tmpl.Versions[def-1].Data
		m := d.MetadataOptions
		if m == nil || m.HTTPTokens != "required" || m.HTTPPutResponseHopLimit != 1 {
			t.Errorf("%s: default version metadata options %+v", tmpl.Name, m)
			continue
		}
		// Everything else is carried over from the old default.
		if d.ImageID != "ami-0123456789abcdef0" || d.InstanceType != "m7g.large" || d.EbsOptimized == nil || !*d.EbsOptimized ||
			len(d.SecurityGroupIDs) != 1 {
			t.Errorf("%s: new version lost launch parameters: %+v", tmpl.Name, d)
		}
	}
	if m := templates[lt(2)].Versions[1].Data.MetadataOptions; m.HTTPProtocolIPv6 != "enabled" || m.InstanceMetadataTags != "enabled" || m.HTTPEndpoint != "enabled" {
		t.Errorf("batch-lt: other metadata options not kept: %+v", m)
	}
	if m := templates[lt(1)].Versions[1].Data.MetadataOptions; m.HTTPEndpoint != "" || m.HTTPProtocolIPv6 != "" {
		t.Errorf("web-lt: options it never set were set: %+v", m)
	}
	for _, r := range state.Accounts[hub].Roles {
		_, revoked := r.InlinePolicies["AWSRevokeOlderSessions"]
		if (r.Name == "ci-deployer") != revoked {
			t.Errorf("role %s: revoke policy present = %v", r.Name, revoked)
		}
		if r.Name == "ci-deployer" {
			p, err := trust.Parse(r.TrustPolicy)
			if err != nil || trust.Analyze(p).Verdict == trust.Critical {
				t.Errorf("ci-deployer trust still critical (%v): %s", err, r.TrustPolicy)
			}
		}
	}

	// A second sweep finds only what is accepted (exempt) or only warned.
	again := sweeper(t, s, readOnly()).Run(ctx, sweepAccounts, sweepRegions)
	noErrors(t, again)
	left := byKey(t, again)
	wantLeft := map[key]got{
		{hub, "us-east-1", id(5), KindInstance}:           {VerdictIMDSv1, outcome.Exempt},
		{hub, "us-east-1", lt(4), KindLaunchTemplate}:     {VerdictIMDSv1, outcome.Exempt},
		{hub, "", roleARN(hub, "payments-api"), KindRole}: {VerdictWarning, outcome.Warned},
		{hub, "", roleARN(hub, "legacy-idp"), KindRole}:   {VerdictCritical, outcome.Exempt},
	}
	if diff := compareFindings(left, wantLeft); diff != "" {
		t.Fatal(diff)
	}
}

func TestSweepDryRunSwitchesApplyPerGuardrail(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	rep := sweeper(t, s, Config{DryRunIMDS: true}).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	noErrors(t, rep)
	for _, f := range rep.Findings {
		switch {
		case f.Kind != KindRole && f.Outcome != outcome.DryRun && f.Outcome != outcome.Exempt:
			t.Errorf("%s %s: %s with IMDS dry-run", f.Kind, f.Resource, f.Outcome)
		case f.Resource == roleARN(hub, "ci-deployer") && f.Outcome != outcome.Revoked:
			t.Errorf("ci-deployer: %s, want revoked (trust is not in dry-run)", f.Outcome)
		}
	}
	for _, c := range writes(s) {
		if c.Service != "iam" {
			t.Errorf("IMDS dry-run wrote %s:%s", c.Service, c.Operation)
		}
	}
}

func TestSweepReportsAnAccountItCannotEnter(t *testing.T) {
	f := kindsFixture()
	f.Accounts[member].Roles = f.Accounts[member].Roles[2:] // no member role
	s := startSandbox(t, f)
	rep := sweeper(t, s, readOnly()).Run(testContext(t), sweepAccounts, sweepRegions)
	var memberErrs []ScopeError
	for _, e := range rep.Errors {
		if e.Account != member {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		memberErrs = append(memberErrs, e)
		if !strings.Contains(e.Error(), "credguard-imds-remediation") && !strings.Contains(e.Error(), "credguard-trust-remediation") {
			t.Errorf("error does not name the member role: %v", e)
		}
	}
	// Roles, and instances and templates in each of the two regions.
	if len(memberErrs) != 5 {
		t.Errorf("%d errors for the member account, want 5: %v", len(memberErrs), memberErrs)
	}
	for _, f := range rep.Findings {
		if f.Account == member {
			t.Errorf("finding in an account never entered: %+v", f)
		}
	}
	if rep.Clean() {
		t.Error("a sweep with errors is clean")
	}
}

func TestSweepFailuresAreFindings(t *testing.T) {
	f := kindsFixture()
	f.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{
		"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "UnauthorizedOperation"},
		"ec2:ModifyLaunchTemplate":          {Rate: 1, Code: "UnauthorizedOperation"},
		"iam:UpdateAssumeRolePolicy":        {Rate: 1, Code: "AccessDenied"},
	}}
	s := startSandbox(t, f)
	rep := sweeper(t, s, Config{}).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	noErrors(t, rep)
	failed := 0
	for _, f := range rep.Findings {
		if f.Outcome != outcome.Failed {
			continue
		}
		failed++
		switch f.Kind {
		case KindLaunchTemplate:
			if !strings.Contains(f.Detail, "created, but not made the default") {
				t.Errorf("template failure detail: %q", f.Detail)
			}
		case KindRole:
			if !strings.Contains(f.Detail, "AccessDenied") {
				t.Errorf("role failure detail: %q", f.Detail)
			}
		}
	}
	// 5 instances, 3 templates, 1 critical role.
	if failed != 9 || rep.Failed() != 9 {
		t.Errorf("%d failed findings, want 9: %+v", failed, rep.Findings)
	}
}

func TestSweepStopsStartingScopesWhenCancelled(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := sweeper(t, s, readOnly()).Run(ctx, sweepAccounts, sweepRegions)
	if len(rep.Findings) != 0 {
		t.Errorf("findings from a cancelled sweep: %v", rep.Findings)
	}
	// Two accounts: roles, and instances and templates in two regions each.
	if len(rep.Errors) != 10 {
		t.Fatalf("%d errors, want 10: %v", len(rep.Errors), rep.Errors)
	}
	for _, e := range rep.Errors {
		if !errors.Is(e, context.Canceled) || !strings.Contains(e.Error(), "not swept") {
			t.Errorf("error %v", e)
		}
	}
}

func TestSweepProgress(t *testing.T) {
	s := startSandbox(t, kindsFixture())
	var events []Progress
	cfg := readOnly()
	cfg.Progress = func(p Progress) { events = append(events, p) }
	sweeper(t, s, cfg).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	started, done := map[string]bool{}, map[string]Progress{}
	for _, p := range events {
		k := p.Account + "/" + p.Region
		if p.Done {
			if !started[k] {
				t.Errorf("%s done before started", k)
			}
			done[k] = p
		} else {
			started[k] = true
		}
	}
	if len(done) != 2 {
		t.Fatalf("progress for %d scopes, want 2: %+v", len(done), events)
	}
	if p := done[hub+"/us-east-1"]; p.Checked[KindInstance] != 7 || p.Checked[KindLaunchTemplate] != 5 || p.Findings != 10 {
		t.Errorf("us-east-1 progress %+v", p)
	}
	if p := done[hub+"/"]; p.Checked[KindRole] != 5 || p.Findings != 3 {
		t.Errorf("roles progress %+v", p)
	}
}

func TestFindingJSONIsTheContract(t *testing.T) {
	f := Finding{Account: hub, Region: "us-east-1", Resource: "i-0aaa0000000000001", Kind: KindInstance,
		Verdict: VerdictIMDSv1, Outcome: outcome.DryRun, Name: "web", Detail: "would set HttpTokens=required", Before: "b", After: "a"}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"account":"111122223333","region":"us-east-1","resource":"i-0aaa0000000000001","kind":"instance","verdict":"imdsv1","outcome":"dry-run"}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
}
