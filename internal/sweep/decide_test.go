package sweep

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
)

func TestIMDSVerdict(t *testing.T) {
	for _, tc := range []struct {
		tokens string
		hop    int
		want   Verdict
	}{
		{"required", 1, ""},
		{"required", 2, VerdictHopLimit},
		{"required", 64, VerdictHopLimit},
		{"required", 0, VerdictHopLimit}, // unset in a template
		{"optional", 1, VerdictIMDSv1},
		{"", 1, VerdictIMDSv1}, // unset in a template
		{"optional", 2, VerdictIMDSv1HopLimit},
		{"", 0, VerdictIMDSv1HopLimit},
	} {
		if got := IMDSVerdict(imds.Options{HTTPTokens: tc.tokens, HopLimit: tc.hop}); got != tc.want {
			t.Errorf("tokens=%q hop=%d: %q, want %q", tc.tokens, tc.hop, got, tc.want)
		}
	}
	// The endpoint does not matter: a disabled endpoint is still enforced,
	// as the IMDS guardrail does, so that re-enabling it cannot expose IMDSv1.
	if got := IMDSVerdict(imds.Options{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}); got != VerdictIMDSv1 {
		t.Errorf("disabled endpoint: %q", got)
	}
}

func TestRoleVerdict(t *testing.T) {
	enc := func(doc string) string { return url.PathEscape(doc) }
	for _, tc := range []struct {
		name, encoded string
		want          Verdict
		reason        string
	}{
		{"service principal", enc(string(trustLambda)), "", ""},
		{"federated wildcard", enc(string(trustFederatedAny)), VerdictCritical, ""},
		{"pod identity unscoped", enc(string(trustPodsUnscoped)), VerdictWarning, ""},
		{"everyone in an organization", enc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`), VerdictWarning, ""},
		// Decoded exactly once: %2F stays a slash inside the value, + stays +.
		{"encoded slash and plus", enc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/a+b"},"Action":"sts:AssumeRole"}]}`), "", ""},
		{"bad URL encoding", "%zz", VerdictUnreadable, "does not decode"},
		{"not JSON", enc("{"), VerdictUnreadable, "not understood"},
		{"no statement", enc(`{"Version":"2012-10-17"}`), VerdictUnreadable, "not understood"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := RoleVerdict(tc.encoded)
			if got != tc.want || !strings.Contains(reason, tc.reason) || (tc.reason == "") != (reason == "") {
				t.Errorf("got %q (%q), want %q (%q)", got, reason, tc.want, tc.reason)
			}
		})
	}
}

func TestDecideTemplate(t *testing.T) {
	exempt := map[string]string{ids.ExemptTag: "legacy fleet"}
	full := &TemplateOptions{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled", HTTPProtocolIPv6: "enabled", InstanceMetadataTags: "enabled"}
	for _, tc := range []struct {
		name    string
		t       Template
		dryRun  bool
		scope   string
		outcome outcome.Outcome
		write   bool
		target  TemplateOptions
		reason  string
	}{
		{name: "eks-nodes scope: untagged template ignored", t: Template{DefaultVersion: 1}, scope: imds.ScopeEKSNodes,
			outcome: outcome.Ignored, reason: imds.OutOfScope},
		{name: "eks-nodes scope: Karpenter template fixed", t: Template{DefaultVersion: 1, Tags: map[string]string{"karpenter.sh/nodepool": "default"}}, scope: imds.ScopeEKSNodes,
			outcome: outcome.Remediated, write: true, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1}},
		{name: "eks-nodes scope: compliant stays compliant", t: Template{Options: &TemplateOptions{HTTPTokens: "required", HopLimit: 1}}, scope: imds.ScopeEKSNodes,
			outcome: outcome.Compliant},
		{name: "compliant", t: Template{Options: &TemplateOptions{HTTPTokens: "required", HopLimit: 1}},
			outcome: outcome.Compliant, reason: "requires IMDSv2"},
		{name: "compliant in dry-run", t: Template{Options: &TemplateOptions{HTTPTokens: "required", HopLimit: 1}}, dryRun: true,
			outcome: outcome.Compliant},
		{name: "no metadata options", t: Template{DefaultVersion: 3},
			outcome: outcome.Remediated, write: true, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1},
			reason: "from version 3 with HttpTokens=required HttpPutResponseHopLimit=1"},
		{name: "every other option kept", t: Template{DefaultVersion: 1, Options: full},
			outcome: outcome.Remediated, write: true,
			target: TemplateOptions{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", HTTPProtocolIPv6: "enabled", InstanceMetadataTags: "enabled"}},
		{name: "only the hop limit", t: Template{DefaultVersion: 1, Options: &TemplateOptions{HTTPTokens: "required", HopLimit: 2}},
			outcome: outcome.Remediated, write: true, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1},
			reason: "with HttpPutResponseHopLimit=1"},
		{name: "endpoint stays disabled", t: Template{Options: &TemplateOptions{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}},
			outcome: outcome.Remediated, write: true, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"},
			reason: "(endpoint stays disabled)"},
		{name: "dry-run", t: Template{DefaultVersion: 2}, dryRun: true,
			outcome: outcome.DryRun, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1}, reason: "would create a new default version from version 2"},
		{name: "exempt", t: Template{Tags: exempt}, outcome: outcome.Exempt, reason: "tag credguard:exempt: legacy fleet"},
		{name: "exempt in dry-run", t: Template{Tags: exempt}, dryRun: true, outcome: outcome.Exempt},
		{name: "blank exemption reason does not exempt", t: Template{Tags: map[string]string{ids.ExemptTag: "  "}},
			outcome: outcome.Remediated, write: true, target: TemplateOptions{HTTPTokens: "required", HopLimit: 1}},
		{name: "exempt but compliant", t: Template{Tags: exempt, Options: &TemplateOptions{HTTPTokens: "required", HopLimit: 1}},
			outcome: outcome.Compliant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideTemplate(tc.t, tc.dryRun, tc.scope)
			if d.Outcome != tc.outcome || d.Write != tc.write || d.Target != tc.target || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("got %+v\nwant outcome %s write %v target %+v reason containing %q", d, tc.outcome, tc.write, tc.target, tc.reason)
			}
			if d.Before != tc.t.options().String() {
				t.Errorf("before %q", d.Before)
			}
			if (d.After != "") != (tc.outcome == outcome.Remediated || tc.outcome == outcome.DryRun) {
				t.Errorf("after %q for %s", d.After, d.Outcome)
			}
		})
	}
}

func TestTemplateOptionsString(t *testing.T) {
	if got := (TemplateOptions{}).String(); got != "tokens=unset hop=unset endpoint=unset" {
		t.Error(got)
	}
	if got := (TemplateOptions{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"}).String(); got != "tokens=required hop=1 endpoint=disabled" {
		t.Error(got)
	}
}

func TestRemains(t *testing.T) {
	want := map[outcome.Outcome]bool{
		outcome.Remediated: false, outcome.Revoked: false, outcome.Exempt: false,
		outcome.Compliant: false, outcome.Gone: false,
		outcome.DryRun: true, outcome.Warned: true, outcome.Failed: true, outcome.Ignored: true,
		"something-new": true,
	}
	for _, o := range outcome.All {
		if _, ok := want[o]; !ok {
			t.Errorf("outcome %q has no expectation", o)
		}
	}
	for o, w := range want {
		if Remains(o) != w {
			t.Errorf("Remains(%q) = %v", o, !w)
		}
	}
}

func TestReportCountsAndWorst(t *testing.T) {
	f := func(res string, v Verdict, o outcome.Outcome) Finding {
		return Finding{Account: hub, Region: "us-east-1", Resource: res, Kind: KindInstance, Verdict: v, Outcome: o}
	}
	rep := Report{Findings: []Finding{
		f("a", VerdictHopLimit, outcome.Remediated),
		f("b", VerdictIMDSv1, outcome.DryRun),
		f("c", VerdictWarning, outcome.Warned),
		f("d", VerdictIMDSv1HopLimit, outcome.DryRun),
		f("e", VerdictHopLimit, outcome.Failed),
		f("g", VerdictCritical, outcome.Exempt),
		f("h", VerdictCritical, outcome.Revoked),
	}}
	if rep.Remaining() != 4 || rep.Failed() != 1 || rep.Clean() {
		t.Errorf("remaining %d failed %d clean %v", rep.Remaining(), rep.Failed(), rep.Clean())
	}
	if o := rep.Outcomes(); o[outcome.DryRun] != 2 || o[outcome.Remediated] != 1 || len(o) != 6 {
		t.Errorf("outcomes %v", o)
	}
	var order []string
	for _, w := range rep.Worst(5) {
		order = append(order, w.Resource)
	}
	// Failed first, then dry-run (the more dangerous verdict first), warned,
	// then what was changed (critical trust before a hop limit).
	if got := strings.Join(order, ","); got != "e,d,b,c,h" {
		t.Errorf("worst order %s", got)
	}
	if len(rep.Worst(100)) != len(rep.Findings) {
		t.Error("Worst(n) with n above the count lost findings")
	}
	if (Report{}).Clean() != true || (Report{Errors: []ScopeError{{Account: hub, Kind: KindRole, Err: fmt.Errorf("x")}}}).Clean() {
		t.Error("Clean ignores errors")
	}
}

func TestScopeErrorNamesWhere(t *testing.T) {
	e := ScopeError{Account: member, Region: "eu-west-1", Kind: KindLaunchTemplate, Err: fmt.Errorf("boom")}
	if e.Error() != "444455556666/eu-west-1 launch-templates: boom" {
		t.Error(e.Error())
	}
	if e := (ScopeError{Account: member, Kind: KindRole, Err: fmt.Errorf("boom")}); e.Error() != "444455556666 roles: boom" {
		t.Error(e.Error())
	}
}

func TestFindingLabel(t *testing.T) {
	for _, tc := range []struct {
		f    Finding
		want string
	}{
		{Finding{Resource: "i-0aaa0000000000001", Name: "web"}, "i-0aaa0000000000001 (web)"},
		{Finding{Resource: "i-0aaa0000000000001"}, "i-0aaa0000000000001"},
		{Finding{Resource: "arn:aws:iam::111122223333:role/ci", Name: "ci"}, "arn:aws:iam::111122223333:role/ci"},
	} {
		if got := tc.f.Label(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

func TestDryRunFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name           string
		env            map[string]string
		fallback       bool
		imds, trust    bool
		wantErrContain string
	}{
		{name: "unset takes the fallback", fallback: true, imds: true, trust: true},
		{name: "unset, no fallback"},
		{name: "each its own", env: map[string]string{EnvDryRunIMDS: "true", EnvDryRunTrust: "false"}, fallback: true, imds: true},
		{name: "one set", env: map[string]string{EnvDryRunTrust: "1"}, trust: true},
		{name: "bad value", env: map[string]string{EnvDryRunIMDS: "maybe"}, wantErrContain: "CREDGUARD_DRY_RUN_IMDS=\"maybe\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, tr, err := DryRunFromEnv(func(k string) string { return tc.env[k] }, tc.fallback)
			if tc.wantErrContain != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrContain) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || i != tc.imds || tr != tc.trust {
				t.Errorf("got %v %v %v", i, tr, err)
			}
		})
	}
}

func TestOrganizationAccountsPages(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{}}
	var want []string
	for i := range 45 { // the sandbox, like Organizations, pages by 20
		id := fmt.Sprintf("%012d", 100000000000+i)
		want = append(want, id)
		f.Accounts[id] = &sandbox.Account{}
	}
	f.HubAccount = want[0]
	s := startSandbox(t, f)
	cfg, err := s.AWSConfig(context.Background(), want[0], "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := OrganizationAccounts(testContext(t), organizations.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// Only the management account (or a delegated administrator) may list.
	memberCfg, _ := s.AWSConfig(context.Background(), want[1], "us-east-1")
	if _, err := OrganizationAccounts(testContext(t), organizations.NewFromConfig(memberCfg)); err == nil || !strings.Contains(err.Error(), "list organization accounts") {
		t.Errorf("listing from a member: %v", err)
	}
}

// orgPages is a small fake of Organizations ListAccounts: the states it
// returns are what the sandbox does not model.
type orgPages []*organizations.ListAccountsOutput

func (p orgPages) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	i := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &i)
	}
	return p[i], nil
}

func TestOrganizationAccountsKeepsOnlyActive(t *testing.T) {
	acct := func(id string, state orgtypes.AccountState, status orgtypes.AccountStatus) orgtypes.Account {
		return orgtypes.Account{Id: aws.String(id), State: state, Status: status}
	}
	pages := orgPages{
		{Accounts: []orgtypes.Account{
			acct("111111111111", orgtypes.AccountStateActive, ""),
			acct("222222222222", orgtypes.AccountStateSuspended, orgtypes.AccountStatusSuspended),
		}, NextToken: aws.String("1")},
		{Accounts: []orgtypes.Account{
			acct("333333333333", "", orgtypes.AccountStatusActive), // an older response: Status only
			acct("444444444444", orgtypes.AccountStatePendingClosure, orgtypes.AccountStatusPendingClosure),
			acct("555555555555", orgtypes.AccountStateClosed, ""),
		}},
	}
	got, err := OrganizationAccounts(context.Background(), pages)
	if err != nil || strings.Join(got, ",") != "111111111111,333333333333" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := OrganizationAccounts(context.Background(), orgPages{{}}); err == nil {
		t.Error("an organization without active accounts is not an error")
	}
}
