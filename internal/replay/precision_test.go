package replay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/trust"
	"github.com/credguard/credguard/internal/trust/trusttest"
)

// Trust-precision scenarios, replayed against the sandbox through the real
// SDK clients: the rewrite keeps legitimate access, scopes only within one
// identity mechanism, and exemptions are announced.

const (
	clusterA  = "arn:aws:eks:us-east-1:111122223333:cluster/prod"
	issuerA   = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE" // cluster prod's, in the demo fixture
	providerA = "arn:aws:iam::111122223333:oidc-provider/" + issuerA
	issuerB   = "oidc.eks.us-west-2.amazonaws.com/id/B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0"
	providerB = "arn:aws:iam::111122223333:oidc-provider/" + issuerB
)

// setTrust replaces (or adds) a role of the hub account in the fixture.
func setTrust(f *sandbox.Fixture, name, doc string, tags map[string]string) {
	acct := f.Accounts[hub]
	for i := range acct.Roles {
		if acct.Roles[i].Name == name {
			acct.Roles[i].TrustPolicy, acct.Roles[i].Tags = json.RawMessage(doc), tags
			return
		}
	}
	acct.Roles = append(acct.Roles, sandbox.Role{Name: name, Path: "/", TrustPolicy: json.RawMessage(doc), Tags: tags})
}

// renamed is a sample event with every occurrence of from replaced by to.
func renamed(t *testing.T, sample, from, to string) replay.Input {
	t.Helper()
	in := input(t, sample)
	return replay.Input{Name: sample + " (" + to + ")", Data: []byte(strings.ReplaceAll(string(in.Data), from, to))}
}

// finalTrust is the role's trust policy in the sandbox after the run.
func finalTrust(t *testing.T, rep replay.Report, name string) trust.Policy {
	t.Helper()
	p, err := trust.Parse(role(t, rep.State, hub, name).TrustPolicy)
	if err != nil {
		t.Fatalf("trust policy of %s after the run: %v", name, err)
	}
	return p
}

type access struct {
	what string
	req  trust.Request
	want bool // after the fix
}

// checkAccess evaluates each request against the policy before and after.
func checkAccess(t *testing.T, before, after trust.Policy, cases []access) {
	t.Helper()
	for _, c := range cases {
		if got := trust.Allowed(after, c.req); got != c.want {
			t.Errorf("%s: allowed = %v after the fix, want %v", c.what, got, c.want)
		}
		if c.want && !trust.Allowed(before, c.req) {
			t.Errorf("%s: allowed after the fix but not before (the fix widened the policy)", c.what)
		}
	}
}

func podRequest(action, cluster, ns, sa string) trust.Request {
	ctx := map[string][]string{}
	if cluster != "" {
		ctx["aws:RequestTag/eks-cluster-arn"] = []string{cluster}
		ctx["aws:RequestTag/kubernetes-namespace"] = []string{ns}
		ctx["aws:RequestTag/kubernetes-service-account"] = []string{sa}
	}
	return trust.Request{Principal: trust.Identity{Type: trust.Service, ID: "pods.eks.amazonaws.com"}, Action: action, Context: ctx}
}

func irsaRequest(provider, issuer, sub string) trust.Request {
	return trust.Request{Principal: trust.Identity{Type: trust.Federated, ID: provider}, Action: "sts:AssumeRoleWithWebIdentity",
		Context: map[string][]string{issuer + ":sub": {sub}, issuer + ":aud": {"sts.amazonaws.com"}}}
}

var stranger = trust.Request{Principal: trust.Identity{Type: trust.AWS, ID: "arn:aws:iam::999988887777:user/mallory"}, Action: "sts:AssumeRole"}

// An IAM event for a role whose statement mixes "*" with legitimate
// principals: the wildcard goes, the EC2 service and the CI role stay, with
// the statement's condition, and can still assume the role.
func TestMixedPrincipalsKeepLegitimateAccess(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Build","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":["arn:aws:iam::111122223333:role/ci","*"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	f := demoFixture(t)
	setTrust(f, "s3-replication", doc, nil)
	rep, err := replay.Run(context.Background(), f, []replay.Input{input(t, "iam-update-assume-role-policy-mixed.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Revoked || !strings.Contains(r.Detail, "trimmed") {
		t.Fatalf("result %+v", r)
	}
	after := finalTrust(t, rep, "s3-replication")
	if trust.Analyze(after).Critical() {
		t.Errorf("still critical: %s", trust.Analyze(after))
	}
	secure := map[string][]string{"aws:SecureTransport": {"true"}}
	checkAccess(t, trusttest.Policy(t, doc), after, []access{
		{"the CI role's session", trust.Request{Principal: trust.Identity{Type: trust.AWS, ID: "arn:aws:sts::111122223333:assumed-role/ci/build-42"}, Action: "sts:AssumeRole", Context: secure}, true},
		{"the CI role tags its session", trust.Request{Principal: trust.Identity{Type: trust.AWS, ID: "arn:aws:sts::111122223333:assumed-role/ci/build-42"}, Action: "sts:TagSession", Context: secure}, true},
		{"EC2", trust.Request{Principal: trust.Identity{Type: trust.Service, ID: "ec2.amazonaws.com"}, Action: "sts:AssumeRole", Context: secure}, true},
		{"the condition is kept", trust.Request{Principal: trust.Identity{Type: trust.Service, ID: "ec2.amazonaws.com"}, Action: "sts:AssumeRole"}, false},
		{"a stranger", trust.Request{Principal: stranger.Principal, Action: "sts:AssumeRole", Context: secure}, false},
	})
	if len(rep.Notifications) != 1 {
		t.Errorf("%d notifications, want 1", len(rep.Notifications))
	}
}

// A Pod Identity association names a role trusted by Principal "*": the
// wildcard becomes pods.eks.amazonaws.com for exactly that workload, which
// can still assume the role (and tag its session); nothing else can.
func TestAssociationScopesPublicRoleToItsWorkload(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"]}]}`
	f := demoFixture(t)
	setTrust(f, "payments-api", doc, nil)
	rep, err := replay.Run(context.Background(), f, []replay.Input{input(t, "eks-create-pod-identity-association.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Revoked || !strings.Contains(r.Detail, "scoped") {
		t.Fatalf("result %+v", r)
	}
	after := finalTrust(t, rep, "payments-api")
	checkAccess(t, trusttest.Policy(t, doc), after, []access{
		{"the workload assumes", podRequest("sts:AssumeRole", clusterA, "payments", "payments-api"), true},
		{"the workload tags its session", podRequest("sts:TagSession", clusterA, "payments", "payments-api"), true},
		{"another namespace", podRequest("sts:AssumeRole", clusterA, "other", "payments-api"), false},
		{"another service account", podRequest("sts:AssumeRole", clusterA, "payments", "other"), false},
		{"another cluster", podRequest("sts:AssumeRole", "arn:aws:eks:us-east-1:111122223333:cluster/dev", "payments", "payments-api"), false},
		{"pods without session tags", podRequest("sts:AssumeRole", "", "", ""), false},
		{"a stranger", stranger, false},
		{"EC2", trust.Request{Principal: trust.Identity{Type: trust.Service, ID: "ec2.amazonaws.com"}, Action: "sts:AssumeRole"}, false},
		{"any web identity", irsaRequest(providerA, issuerA, "system:serviceaccount:payments:payments-api"), false},
	})
}

// The same association leaves a second cluster's IRSA statement alone: an
// exact one stays byte for byte; a broad one is removed, never rewritten to
// the association's workload (Pod Identity does not use OIDC, and cluster
// B's issuer is not the association cluster's). The association cluster's
// own broad IRSA statement is scoped, its issuer read with DescribeCluster.
func TestAssociationLeavesOtherClustersIRSA(t *testing.T) {
	exactB := `{"Sid":"ClusterB","Effect":"Allow","Principal":{"Federated":"` + providerB + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + issuerB + `:sub":"system:serviceaccount:batch:exporter","` + issuerB + `:aud":"sts.amazonaws.com"}}}`
	broadB := `{"Sid":"ClusterBAll","Effect":"Allow","Principal":{"Federated":"` + providerB + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + issuerB + `:sub":"system:serviceaccount:*"}}}`
	broadA := `{"Sid":"ClusterA","Effect":"Allow","Principal":{"Federated":"` + providerA + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + issuerA + `:sub":"system:serviceaccount:*"}}}`
	public := `{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"]}`
	doc := `{"Version":"2012-10-17","Statement":[` + strings.Join([]string{public, exactB, broadB, broadA}, ",") + `]}`
	f := demoFixture(t)
	setTrust(f, "payments-api", doc, nil)
	rep, err := replay.Run(context.Background(), f, []replay.Input{input(t, "eks-create-pod-identity-association.json")}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Revoked {
		t.Fatalf("result %+v", r)
	}
	raw := string(role(t, rep.State, hub, "payments-api").TrustPolicy)
	if !strings.Contains(raw, exactB) {
		t.Errorf("cluster B's exact IRSA statement changed:\n%s", raw)
	}
	after := finalTrust(t, rep, "payments-api")
	for _, s := range after.Statements {
		if s.Sid == "ClusterBAll" || strings.Contains(s.String(), issuerB+":sub\":\"system:serviceaccount:payments:payments-api") {
			t.Errorf("cluster B's broad statement kept or rewritten to the workload: %s", s)
		}
	}
	checkAccess(t, trusttest.Policy(t, doc), after, []access{
		{"cluster B's workload", irsaRequest(providerB, issuerB, "system:serviceaccount:batch:exporter"), true},
		{"cluster B, the association's names", irsaRequest(providerB, issuerB, "system:serviceaccount:payments:payments-api"), false},
		{"cluster A's IRSA for the workload", irsaRequest(providerA, issuerA, "system:serviceaccount:payments:payments-api"), true},
		{"cluster A's other service accounts", irsaRequest(providerA, issuerA, "system:serviceaccount:batch:exporter"), false},
		{"the Pod Identity workload", podRequest("sts:AssumeRole", clusterA, "payments", "payments-api"), true},
		{"a stranger", stranger, false},
	})
	described := false
	for _, c := range rep.Journal {
		described = described || c.Operation == "DescribeCluster"
	}
	if !described {
		t.Error("the association cluster's issuer was not read with DescribeCluster")
	}
}

// notificationText is every notification of the run as one string.
func notificationText(rep replay.Report) string {
	var b strings.Builder
	for _, n := range rep.Notifications {
		b.Write(n.Message)
	}
	return b.String()
}

// An exempt critical role and an exempt IMDSv1 instance each produce one
// notification naming the exemption (tag or allow-list entry) and its
// reason; an exempt instance that is already compliant stays silent.
func TestExemptionsAreAnnounced(t *testing.T) {
	f := demoFixture(t)
	setTrust(f, "break-glass", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
		map[string]string{"credguard:exempt": "incident response only, SEC-77"})
	for _, in := range f.Accounts[hub].Regions["us-east-1"].Instances {
		if in.ID == "i-0aaa0000000000007" {
			in.Tags["credguard:exempt"] = "kept as is"
		}
	}
	pending := "ec2-state-change-pending.json"
	tests := []struct {
		name    string
		in      replay.Input
		allow   []string
		outcome outcome.Outcome
		says    []string // in the one notification; none expected when nil
	}{
		{"critical role exempt by tag", renamed(t, "iam-create-role.json", "ci-deployer", "break-glass"), nil, outcome.Exempt,
			[]string{"credguard:exempt", "incident response only, SEC-77", "exempt"}},
		{"IMDSv1 instance exempt by tag", renamed(t, pending, "i-0aaa0000000000001", "i-0aaa0000000000004"), nil, outcome.Exempt,
			[]string{"credguard:exempt", "vendor agent needs IMDSv1 until 2027-01 (SEC-1234)", "i-0aaa0000000000004"}},
		{"IMDSv1 instance on the allow-list", renamed(t, pending, "i-0aaa0000000000001", "i-0aaa0000000000003"), []string{"i-0aaa0000000000003"}, outcome.Exempt,
			[]string{"allow-list entry i-0aaa0000000000003", "CREDGUARD_EXEMPT_INSTANCE_IDS"}},
		{"exempt and compliant: silent", renamed(t, pending, "i-0aaa0000000000001", "i-0aaa0000000000007"), nil, outcome.Compliant, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := replay.Run(context.Background(), f, []replay.Input{tt.in}, replay.Options{ExemptInstanceIDs: tt.allow})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != 1 || rep.Results[0].Outcome != tt.outcome {
				t.Fatalf("results %+v, want one %s", rep.Results, tt.outcome)
			}
			for _, c := range rep.Journal {
				if c.Write {
					t.Errorf("exempt resource written: %+v", c)
				}
			}
			if tt.says == nil {
				if len(rep.Notifications) != 0 {
					t.Errorf("%d notifications for a compliant resource", len(rep.Notifications))
				}
				return
			}
			if len(rep.Notifications) != 1 {
				t.Fatalf("%d notifications, want 1", len(rep.Notifications))
			}
			text := notificationText(rep)
			for _, s := range tt.says {
				if !strings.Contains(text, s) {
					t.Errorf("notification lacks %q:\n%s", s, text)
				}
			}
		})
	}
}

// A user's CreateRole of a role named like Credguard's trust member role,
// trusted by "*", is revoked like any other: the name is no exemption, in
// single-account mode or in organization mode.
func TestRoleNamedLikeCredguardsIsJudged(t *testing.T) {
	for _, org := range []string{"", "o-exampleorgid"} {
		f := demoFixture(t)
		setTrust(f, "credguard-trust-remediation", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, nil)
		rep, err := replay.Run(context.Background(), f, []replay.Input{renamed(t, "iam-create-role.json", "ci-deployer", "credguard-trust-remediation")},
			replay.Options{OrganizationID: org})
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Results[0]; r.Outcome != outcome.Revoked {
			t.Errorf("organization %q: result %+v, want revoked", org, r)
		}
		if trust.Analyze(finalTrust(t, rep, "credguard-trust-remediation")).Critical() {
			t.Errorf("organization %q: still critical", org)
		}
	}
}

// The IMDS guardrail takes a change made through a role named like a member
// role for its own only in organization mode, and only for the role it writes
// through: in single-account mode no member role exists, and the other names
// (the legacy one above all, free once the split roles are deployed) are
// anyone's to create.
func TestIMDSMemberRoleNameActorOnlyInOrganizationMode(t *testing.T) {
	for _, tc := range []struct {
		role, org string
		ignored   bool
	}{
		{"credguard-imds-remediation", "", false},
		{"credguard-imds-remediation", "o-exampleorgid", true},
		{"credguard-remediation", "o-exampleorgid", false},
		{"credguard-trust-remediation", "o-exampleorgid", false},
	} {
		ev := renamed(t, "cloudtrail-modify-metadata-options-by-credguard.json", "credguard-imds-enforcer", tc.role)
		rep, err := replay.Run(context.Background(), demoFixture(t), []replay.Input{ev}, replay.Options{OrganizationID: tc.org})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) != 1 {
			t.Fatalf("%s, organization %q: results %+v", tc.role, tc.org, rep.Results)
		}
		if r := rep.Results[0]; (r.Outcome == outcome.Ignored) != tc.ignored {
			t.Errorf("%s, organization %q: %s (%s), ignored should be %v", tc.role, tc.org, r.Outcome, r.Detail, tc.ignored)
		}
	}
}
