package sweep

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
)

// Which generated resources are not compliant.
var (
	allBad      = func(int) bool { return true }
	twoInThree  = func(i int) bool { return i%3 != 0 }
	oneInTen    = func(i int) bool { return i%10 == 0 }
	oneInTwenty = func(i int) bool { return i%20 == 0 }
)

// bigAccount generates an account with the member role and the given numbers
// of roles, instances (in us-east-1) and launch templates; bad(i) says which
// are not compliant.
func bigAccount(roles, instances, templates int, bad func(int) bool, prefix string) *sandbox.Account {
	a := &sandbox.Account{Roles: memberRoles()}
	for i := range roles {
		trust := trustLambda
		if bad(i) {
			trust = trustFederatedAny
		}
		a.Roles = append(a.Roles, sandbox.Role{Name: fmt.Sprintf("role-%05d", i), TrustPolicy: trust})
	}
	reg := &sandbox.Region{}
	for i := range instances {
		m := sandbox.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}
		if bad(i) {
			m = sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2}
		}
		reg.Instances = append(reg.Instances, sandbox.Instance{ID: fmt.Sprintf("i-%s%013x", prefix, i), State: "running", MetadataOptions: m})
	}
	for i := range templates {
		m := &sandbox.TemplateMetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}
		if bad(i) {
			m = nil
		}
		reg.LaunchTemplates = append(reg.LaunchTemplates, sandbox.LaunchTemplate{
			ID: fmt.Sprintf("lt-%s%013x", prefix, i), Name: fmt.Sprintf("template-%s-%04d", prefix, i),
			Versions: []sandbox.TemplateVersion{{Data: sandbox.TemplateData{ImageID: "ami-0123456789abcdef0", MetadataOptions: m}}},
		})
	}
	a.Regions = map[string]*sandbox.Region{"us-east-1": reg}
	return a
}

func wantCounts(t *testing.T, rep Report, kind Kind, checked, compliant int) {
	t.Helper()
	if rep.Checked[kind] != checked || rep.Compliant[kind] != compliant {
		t.Errorf("%s: checked %d, compliant %d; want %d, %d", kind, rep.Checked[kind], rep.Compliant[kind], checked, compliant)
	}
	n := 0
	for _, f := range rep.Findings {
		if f.Kind == kind {
			n++
		}
	}
	if n != checked-compliant {
		t.Errorf("%s: %d findings, want %d", kind, n, checked-compliant)
	}
}

// listingCalls counts the calls of op that listed (named no resource), as
// opposed to the guardrails' describes of given ids.
func listingCalls(s *sandbox.Server, op string) int {
	n := 0
	for _, c := range s.Journal() {
		if c.Operation == op && c.Resource == "" && c.Outcome == "ok" {
			n++
		}
	}
	return n
}

func TestSweepPagesEveryListing(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: bigAccount(2500, 2500, 450, twoInThree, "0aaa")}}
	s := startSandbox(t, f)
	rep := sweeper(t, s, readOnly()).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	noErrors(t, rep)
	// 2,500 generated roles and the two member roles; a third of each generated kind compliant.
	wantCounts(t, rep, KindRole, 2502, 834+2)
	wantCounts(t, rep, KindInstance, 2500, 834)
	wantCounts(t, rep, KindLaunchTemplate, 450, 150)
	for op, pages := range map[string]int{"ListRoles": 3, "DescribeInstances": 3, "DescribeLaunchTemplates": 3, "DescribeLaunchTemplateVersions": 3} {
		if n := listingCalls(s, op); n != pages {
			t.Errorf("%s: %d listing pages, want %d", op, n, pages)
		}
	}
	for _, f := range rep.Findings {
		if f.Outcome != outcome.DryRun {
			t.Errorf("%s: %s, want dry-run", f.Resource, f.Outcome)
		}
	}
}

func TestSweepRemediatesThroughThrottling(t *testing.T) {
	// Two pages of instances and templates per account.
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub:    bigAccount(60, 1100, 210, oneInTwenty, "0aaa"),
		member: bigAccount(60, 1100, 210, oneInTwenty, "0bbb"),
	}}
	// Token buckets per operation, account and region, small enough that
	// listings, the guardrails' batched describes and the writes in flight
	// all get throttled.
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
		"ec2:DescribeInstances":             {Burst: 2, RatePerSecond: 50},
		"ec2:DescribeLaunchTemplates":       {Burst: 1, RatePerSecond: 10},
		"iam:GetRole":                       {Burst: 1, RatePerSecond: 50},
		"ec2:ModifyInstanceMetadataOptions": {Burst: 10, RatePerSecond: 500},
		"ec2:CreateLaunchTemplateVersion":   {Burst: 3, RatePerSecond: 200},
		"iam:UpdateAssumeRolePolicy":        {Burst: 1, RatePerSecond: 50},
	}}
	s := startSandbox(t, f)
	ctx := testContext(t)
	accounts := []string{hub, member}
	rep := sweeperWith(t, s, Config{}, fastRetryer).Run(ctx, accounts, []string{"us-east-1"})
	noErrors(t, rep)
	wantCounts(t, rep, KindRole, 2*62, 2*(57+2))
	wantCounts(t, rep, KindInstance, 2*1100, 2*1045)
	wantCounts(t, rep, KindLaunchTemplate, 2*210, 2*199)
	for _, code := range []string{"RequestLimitExceeded", "Throttling"} {
		if n := countCalls(s, "", code); n == 0 {
			t.Errorf("no call was throttled with %s: the test does not exercise throttling", code)
		}
	}
	for _, f := range rep.Findings {
		if f.Outcome != outcome.Remediated && f.Outcome != outcome.Revoked {
			t.Errorf("%s: %s (%s)", f.Resource, f.Outcome, f.Detail)
		}
	}
	if again := sweeperWith(t, s, readOnly(), fastRetryer).Run(ctx, accounts, []string{"us-east-1"}); len(again.Findings) != 0 || len(again.Errors) != 0 {
		t.Errorf("after remediation: %d findings, %v", len(again.Findings), again.Errors)
	}
}

func TestSweepThrottledWithTheGuardrailsRetryer(t *testing.T) {
	// Two pages of launch templates; the second listing call is throttled.
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: bigAccount(0, 0, 210, oneInTwenty, "0aaa")}}
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{"ec2:DescribeLaunchTemplates": {Burst: 1, RatePerSecond: 10}}}
	s := startSandbox(t, f)
	rep := sweeper(t, s, readOnly()).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	noErrors(t, rep)
	wantCounts(t, rep, KindLaunchTemplate, 210, 199)
	if countCalls(s, "DescribeLaunchTemplates", "RequestLimitExceeded") == 0 {
		t.Error("no listing call was throttled")
	}
}

// The scale target: a sandbox test with 10,000 roles and 5,000
// instances finishes and reports every one.
func TestSweepAtScaleReportsEveryResource(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{hub: bigAccount(10000, 5000, 0, allBad, "0aaa")}}
	s := startSandbox(t, f)
	rep := sweeper(t, s, readOnly()).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	noErrors(t, rep)
	wantCounts(t, rep, KindRole, 10002, 2)
	wantCounts(t, rep, KindInstance, 5000, 0)
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if seen[f.Resource] {
			t.Fatalf("%s reported twice", f.Resource)
		}
		seen[f.Resource] = true
		if f.Outcome != outcome.DryRun {
			t.Fatalf("%s: %s (%s), want dry-run", f.Resource, f.Outcome, f.Detail)
		}
	}
	if len(seen) != 15000 {
		t.Errorf("%d resources reported, want 15000", len(seen))
	}
	data, err := json.Marshal(rep.Findings)
	if err != nil || len(data) == 0 {
		t.Fatalf("findings do not encode: %v", err)
	}
}
