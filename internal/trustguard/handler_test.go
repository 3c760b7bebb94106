package trustguard_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/trust"
)

func fixture(t *testing.T) *sandbox.Fixture {
	t.Helper()
	f := sandboxtest.Demo(t)
	return f
}

func sampleText(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const wildcardTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`

// withRole adds (or replaces) a role in the fixture's account.
func withRole(f *sandbox.Fixture, account string, r sandbox.Role) {
	acct := f.Accounts[account]
	for i := range acct.Roles {
		if acct.Roles[i].Name == r.Name {
			acct.Roles[i] = r
			return
		}
	}
	acct.Roles = append(acct.Roles, r)
}

// createRoleEvent is the CreateRole sample renamed to another role.
func createRoleEvent(t *testing.T, name string) replay.Input {
	return replay.Input{Name: name, Data: []byte(strings.ReplaceAll(sampleText(t, "iam-create-role.json"), "ci-deployer", name))}
}

func writes(rep replay.Report) []string {
	var w []string
	for _, c := range rep.Journal {
		if c.Write {
			w = append(w, c.Operation+" "+c.Resource)
		}
	}
	return w
}

func TestExemptions(t *testing.T) {
	tests := []struct {
		name    string
		role    sandbox.Role
		outcome outcome.Outcome
		detail  string
	}{
		{"tag with reason", sandbox.Role{Name: "tagged", Path: "/", Tags: map[string]string{"credguard:exempt": "break-glass, SEC-9"}}, outcome.Exempt, "break-glass"},
		{"empty tag is no exemption", sandbox.Role{Name: "empty-tag", Path: "/", Tags: map[string]string{"credguard:exempt": " "}}, outcome.Revoked, "public-principal"},
		{"service-linked", sandbox.Role{Name: "AWSServiceRoleForThing", Path: "/aws-service-role/thing.amazonaws.com/"}, outcome.Exempt, "service-linked"},
		{"allow-listed", sandbox.Role{Name: "allow-listed", Path: "/"}, outcome.Exempt, "exemption list"},
		{"named like the member role", sandbox.Role{Name: "credguard-remediation", Path: "/"}, outcome.Revoked, "public-principal"},
		{"a hub function role", sandbox.Role{Name: "credguard-imds-enforcer", Path: "/"}, outcome.Exempt, "own function role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			tt.role.TrustPolicy = json.RawMessage(wildcardTrust)
			withRole(f, hub, tt.role)
			// The allow-list is configured through the exported settings.
			rep, err := runWith(t, f, createRoleEvent(t, tt.role.Name), "arn:aws:iam::"+hub+":role/allow-listed")
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if r.Outcome != tt.outcome || !strings.Contains(r.Detail, tt.detail) {
				t.Fatalf("result = %s (%s), want %s containing %q", r.Outcome, r.Detail, tt.outcome, tt.detail)
			}
			if tt.outcome == outcome.Exempt && len(writes(rep)) != 0 {
				t.Errorf("exempt role written: %v", writes(rep))
			}
		})
	}
}

// A role named like a member role is Credguard's own only in organization
// mode and with exactly the trust Credguard deploys; the name alone, or
// single-account mode, gets it judged like any other role.
func TestOwnMemberRoleByTrust(t *testing.T) {
	const org = "o-exampleorgid"
	deployed := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/credguard-imds-enforcer","arn:aws:iam::111122223333:role/credguard-trust-guard","arn:aws:iam::111122223333:role/credguard-imds-defaults"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}}]}`
	// A deployed trust plus a wildcard statement: critical, so not Credguard's.
	extended := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/credguard-trust-guard"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}}]}`
	otherOrg := strings.ReplaceAll(deployed, org, "o-otherorgid9")
	// Warning-level (any principal of the organization): not the deployed
	// trust, so the sessions issued under the critical trust the event's
	// caller asked for are revoked, as for any role.
	bounded := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}}]}`
	tests := []struct {
		name, role, trust, org string
		outcome                outcome.Outcome
	}{
		// The event's caller asked for critical trust, but Credguard's own
		// role is left alone: no session revocation.
		{"deployed trust, organization mode", "credguard-trust-remediation", deployed, org, outcome.Compliant},
		{"org-bounded wildcard, organization mode", "credguard-trust-remediation", bounded, org, outcome.Revoked},
		{"deployed trust plus a wildcard", "credguard-imds-remediation", extended, org, outcome.Revoked},
		{"another organization", "credguard-remediation", strings.Replace(otherOrg, `"arn:aws:iam::111122223333:role/credguard-imds-enforcer",`, `"*",`, 1), org, outcome.Revoked},
		{"single-account mode", "credguard-trust-remediation", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, "", outcome.Revoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			withRole(f, hub, sandbox.Role{Name: tt.role, Path: "/", TrustPolicy: json.RawMessage(tt.trust)})
			sb := sandboxtest.Start(t, f)
			rep, err := replay.RunAgainst(context.Background(), sb, f.HubAccount, []replay.Input{createRoleEvent(t, tt.role)}, replay.Options{OrganizationID: tt.org})
			if err != nil {
				t.Fatal(err)
			}
			if r := rep.Results[0]; r.Outcome != tt.outcome {
				t.Fatalf("result = %s (%s), want %s", r.Outcome, r.Detail, tt.outcome)
			}
			if w := writes(rep); tt.outcome == outcome.Compliant && len(w) != 0 {
				t.Errorf("Credguard's own role written: %v", w)
			}
		})
	}
}

// runWith replays one input with an exemption allow-list.
func runWith(t *testing.T, f *sandbox.Fixture, in replay.Input, exemptARNs ...string) (replay.Report, error) {
	t.Helper()
	sb := sandboxtest.Start(t, f)
	return replay.RunAgainst(context.Background(), sb, f.HubAccount, []replay.Input{in}, replay.Options{ExemptRoleARNs: exemptARNs})
}

// An Update event whose response lacks the workload: the association is
// described, and the critical statement is scoped to its workload.
func TestUpdateDescribesAssociation(t *testing.T) {
	ev := sampleText(t, "eks-update-pod-identity-association.json")
	ev = strings.Replace(ev, `"namespace": "analytics",`, "", 1)
	ev = strings.Replace(ev, `"serviceAccount": "reporter",`, "", 1)
	rep, err := runWith(t, fixture(t), replay.Input{Name: "update", Data: []byte(ev)})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Revoked || !strings.Contains(r.Detail, "system:serviceaccount:analytics:reporter") {
		t.Fatalf("result = %+v", r)
	}
	described := false
	for _, c := range rep.Journal {
		described = described || c.Operation == "DescribePodIdentityAssociation"
	}
	if !described {
		t.Error("the association was not described")
	}
}

// The association's target role in another account is checked there, through
// the member role, and critical trust is removed (not scoped: pods do not
// assume the target role).
func TestTargetRoleInMemberAccount(t *testing.T) {
	f := fixture(t)
	withRole(f, "444455556666", sandbox.Role{Name: "data-reader", Path: "/", TrustPolicy: json.RawMessage(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)})
	ev := strings.Replace(sampleText(t, "eks-create-pod-identity-association.json"),
		`"roleArn": "arn:aws:iam::111122223333:role/payments-api",`,
		`"roleArn": "arn:aws:iam::111122223333:role/payments-api", "targetRoleArn": "arn:aws:iam::444455556666:role/data-reader",`, -1)
	rep, err := runWith(t, f, replay.Input{Name: "create", Data: []byte(ev)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("results = %+v", rep.Results)
	}
	if r := rep.Results[0]; r.Resource != "arn:aws:iam::111122223333:role/payments-api" || r.Outcome != outcome.Warned {
		t.Errorf("role: %+v", r)
	}
	r := rep.Results[1]
	if r.Resource != "arn:aws:iam::444455556666:role/data-reader" || r.Outcome != outcome.Revoked {
		t.Fatalf("target role: %+v", r)
	}
	for _, c := range rep.Journal {
		if c.Operation == "UpdateAssumeRolePolicy" && (c.Account != "444455556666" || !strings.Contains(c.Principal, "assumed-role/credguard-trust-remediation/")) {
			t.Errorf("update made as %s in %s", c.Principal, c.Account)
		}
	}
	for _, role := range rep.State.Accounts["444455556666"].Roles {
		if role.Name == "data-reader" {
			p, err := trust.Parse(role.TrustPolicy)
			if err != nil || trust.Analyze(p).Critical() {
				t.Errorf("data-reader trust after: %s (%v)", role.TrustPolicy, err)
			}
		}
	}
}

// A live policy the analyzer cannot read is never rewritten: failed, no write.
func TestUnreadablePolicyFails(t *testing.T) {
	f := fixture(t)
	withRole(f, hub, sandbox.Role{Name: "odd", Path: "/", TrustPolicy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}]}`)})
	rep, err := runWith(t, f, createRoleEvent(t, "odd"))
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Failed || !strings.Contains(r.Detail, "left unchanged") {
		t.Fatalf("result = %+v", r)
	}
	if w := writes(rep); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
	if len(rep.Notifications) != 1 {
		t.Errorf("a failure is announced: %d notifications", len(rep.Notifications))
	}
}

// A failure after GetRole names the role by the ARN GetRole returned: an
// UpdateAssumeRolePolicy event carries no path, and the path-less ARN it
// builds names no existing role.
func TestUnreadablePolicyNamesTheLiveARN(t *testing.T) {
	f := fixture(t)
	withRole(f, hub, sandbox.Role{Name: "odd", Path: "/team/", TrustPolicy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}]}`)})
	ev := strings.ReplaceAll(sampleText(t, "iam-update-assume-role-policy.json"), `"roleName": "billing-api"`, `"roleName": "odd"`)
	rep, err := runWith(t, f, replay.Input{Name: "update", Data: []byte(ev)})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Failed || r.Resource != "arn:aws:iam::"+hub+":role/team/odd" {
		t.Fatalf("result = %s %q (%s), want failed for arn:aws:iam::%s:role/team/odd", r.Outcome, r.Resource, r.Detail, hub)
	}
}

// Revoking twice equals revoking once: the second run finds nothing to do.
func TestIdempotent(t *testing.T) {
	f := fixture(t)
	sb := sandboxtest.Start(t, f)
	in := []replay.Input{{Name: "create", Data: []byte(sampleText(t, "iam-create-role.json"))}}
	first, _ := replay.RunAgainst(context.Background(), sb, hub, in, replay.Options{})
	second, _ := replay.RunAgainst(context.Background(), sb, hub, in, replay.Options{})
	if first.Results[0].Outcome != outcome.Revoked || second.Results[0].Outcome != outcome.Compliant {
		t.Fatalf("first %s, second %s (%s)", first.Results[0].Outcome, second.Results[0].Outcome, second.Results[0].Detail)
	}
}

// A revocation that failed after the trust was narrowed is completed by the
// redelivery: the retry finds the trust compliant, sees no revocation since
// the event, and revokes; a further redelivery writes nothing.
func TestRetryCompletesRevocation(t *testing.T) {
	state, in := narrowedNotRevoked(t)
	// The permission is fixed; the event is redelivered against the state left behind.
	sb := sandboxtest.Start(t, state)
	second, err := replay.RunAgainst(context.Background(), sb, hub, []replay.Input{in}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := second.Results[0]; r.Outcome != outcome.Revoked || !strings.Contains(r.Detail, "since been narrowed") {
		t.Fatalf("redelivery: %+v", r)
	}
	if w := writes(second); len(w) != 1 || !strings.HasPrefix(w[0], "PutRolePolicy") {
		t.Errorf("redelivery writes = %v, want the revocation only", w)
	}
	calls := len(sb.Journal())
	third, _ := replay.RunAgainst(context.Background(), sb, hub, []replay.Input{in}, replay.Options{})
	if r := third.Results[0]; r.Outcome != outcome.Compliant {
		t.Fatalf("third delivery: %+v", r)
	}
	for _, c := range sb.Journal()[calls:] {
		if c.Write {
			t.Errorf("third delivery wrote %s", c.Operation)
		}
	}
}

// narrowedNotRevoked delivers the CreateRole sample while every
// PutRolePolicy is denied: it returns the state left behind (ci-deployer's
// trust narrowed, its sessions not revoked; no faults) and the event.
func narrowedNotRevoked(t *testing.T) (*sandbox.Fixture, replay.Input) {
	t.Helper()
	f := fixture(t)
	f.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"iam:PutRolePolicy": {Rate: 1, Code: "AccessDenied"}}}
	in := replay.Input{Name: "create", Data: []byte(sampleText(t, "iam-create-role.json"))}
	first, err := runWith(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if r := first.Results[0]; r.Outcome != outcome.Failed || !strings.Contains(r.Detail, "NOT revoked") {
		t.Fatalf("first delivery: %+v", r)
	}
	// The narrowing was written: the notification says so and offers to
	// restore, although the result failed.
	if r := first.Results[0].Full; r.Trust == nil || !r.Trust.Written {
		t.Errorf("first delivery: the written rewrite is not recorded: %+v", r.Trust)
	}
	if len(first.Notifications) != 1 || !strings.Contains(string(first.Notifications[0].Message), "aws iam update-assume-role-policy") ||
		strings.Contains(string(first.Notifications[0].Message), "Intended change") {
		t.Errorf("first delivery's notification does not offer to restore the written rewrite: %s", first.Notifications)
	}
	state := first.State
	state.Faults = nil
	return state, in
}

// In dry-run mode the redelivery reports the missing revocation and writes nothing.
func TestRetryCompletesRevocationDryRun(t *testing.T) {
	state, in := narrowedNotRevoked(t)
	sb := sandboxtest.Start(t, state)
	rep, err := replay.RunAgainst(context.Background(), sb, hub, []replay.Input{in}, replay.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.DryRun || !strings.Contains(r.Detail, "would revoke older sessions") {
		t.Fatalf("dry-run redelivery: %+v", r)
	}
	if w := writes(rep); len(w) != 0 {
		t.Errorf("dry-run redelivery writes = %v", w)
	}
}

// When the redelivery's revocation fails too, the failure says why the
// sessions must be revoked, in the words of the revocation it could not make.
func TestRetryRevocationFails(t *testing.T) {
	state, in := narrowedNotRevoked(t)
	state.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"iam:PutRolePolicy": {Rate: 1, Code: "AccessDenied"}}}
	rep, err := runWith(t, state, in)
	if err != nil {
		t.Fatal(err)
	}
	const want = "the trust policy the caller set was critical and has since been narrowed, but sessions issued under it were not revoked; revoking them failed: "
	if r := rep.Results[0]; r.Outcome != outcome.Failed || !strings.HasPrefix(r.Detail, want) {
		t.Fatalf("redelivery: %s %q, want failed starting %q", r.Outcome, r.Detail, want)
	}
}

// When the revocation policy cannot be read, the redelivery fails (so the
// event is retried) and writes nothing.
func TestRetryRevocationCheckFails(t *testing.T) {
	state, in := narrowedNotRevoked(t)
	state.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"iam:GetRolePolicy": {Rate: 1, Code: "AccessDenied"}}}
	rep, err := runWith(t, state, in)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != outcome.Failed || !strings.Contains(r.Detail, "could not check that older sessions are revoked") {
		t.Fatalf("redelivery: %+v", r)
	}
	if w := writes(rep); len(w) != 0 {
		t.Errorf("redelivery writes = %v", w)
	}
	// The policy was read before the failure: the log and the sweep keep it.
	if before, after := rep.Results[0].Full.ChangeText(); !strings.Contains(before, `"Statement"`) || after != "" {
		t.Errorf("change text = %q, %q; want the live policy and no change", before, after)
	}
}

// The revocation check (GetRolePolicy) is made only when the caller asked for
// critical trust that is no longer live: not when the live trust is still
// critical (the first delivery), not when the caller asked for none, and not
// for Pod Identity events.
func TestRevocationCheckOnlyWhenNarrowed(t *testing.T) {
	for _, name := range []string{"iam-create-role.json", "iam-update-assume-role-policy.json", "eks-update-pod-identity-association.json"} {
		t.Run(name, func(t *testing.T) {
			rep, err := runWith(t, fixture(t), replay.Input{Name: name, Data: []byte(sampleText(t, name))})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Journal {
				if c.Operation == "GetRolePolicy" {
					t.Errorf("GetRolePolicy called (%s): %+v", rep.Results[0].Outcome, c)
				}
			}
		})
	}
}

// Changes made through a role named like the member role are Credguard's
// own only in organization mode, and only when that role's trust is exactly
// what Credguard deploys: in single-account mode no member role exists, and
// anyone allowed iam:CreateRole can make a role of a free member role name
// (the legacy one) trusting themselves.
func TestMemberRoleNameActorOnlyInOrganizationMode(t *testing.T) {
	const org = "o-exampleorgid"
	ev := strings.ReplaceAll(sampleText(t, "iam-update-assume-role-policy-by-credguard.json"), "credguard-trust-guard", "credguard-remediation")
	deployed := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/credguard-imds-enforcer","arn:aws:iam::111122223333:role/credguard-trust-guard"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}}]}`
	attacker := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"sts:AssumeRole"}]}`
	for _, tc := range []struct {
		name, org, actorTrust string // actorTrust "" leaves the actor's role out of the account
		outcome               outcome.Outcome
	}{
		{"single-account mode", "", deployed, outcome.Revoked},
		{"deployed member role", org, deployed, outcome.Ignored},
		{"a role with the name, trusting its maker", org, attacker, outcome.Revoked},
		{"the name of a role that does not exist", org, "", outcome.Revoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixture(t)
			if tc.actorTrust != "" {
				withRole(f, hub, sandbox.Role{Name: "credguard-remediation", Path: "/", TrustPolicy: json.RawMessage(tc.actorTrust)})
			}
			sb := sandboxtest.Start(t, f)
			rep, err := replay.RunAgainst(context.Background(), sb, hub, []replay.Input{{Name: "by-member-role", Data: []byte(ev)}}, replay.Options{OrganizationID: tc.org})
			if err != nil {
				t.Fatal(err)
			}
			if r := rep.Results[0]; r.Outcome != tc.outcome {
				t.Errorf("%s (%s), want %s", r.Outcome, r.Detail, tc.outcome)
			}
		})
	}
}
