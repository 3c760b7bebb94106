package stacks_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/infra/stacks"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imdsdefaults"
	"github.com/credguard/credguard/internal/scp"
)

const imdsDefaultsFunction = "credguard-imds-defaults"

// The function's timeout (asserted on the templates in TestFunctions) holds
// the handler's wait for the member role and the time it keeps to answer.
func TestIMDSDefaultsTimeoutHoldsTheWait(t *testing.T) {
	timeout := time.Duration(fnTimeout(ids.FnIMDSDefaults)) * time.Second
	if need := imdsdefaults.DefaultAccessWait + imdsdefaults.DefaultReserve; timeout < need {
		t.Errorf("imds-defaults timeout %v, under the handler's wait and reserve %v", timeout, need)
	}
}

// The resource type and properties the stacks declare are the ones the
// handler accepts.
func TestIMDSDefaultsResourceContract(t *testing.T) {
	if stacks.IMDSDefaultsResourceType != imdsdefaults.ResourceType {
		t.Fatalf("stacks declare %s, the handler serves %s", stacks.IMDSDefaultsResourceType, imdsdefaults.ResourceType)
	}
	found := 0
	for _, s := range scenarios {
		s.get(t)
		for name, tp := range s.allTemplates() {
			for _, r := range tp.t.ofType(stacks.IMDSDefaultsResourceType) {
				found++
				props := map[string]any{}
				for k, v := range r.Props {
					props[k] = v
				}
				if props["ServiceToken"] == nil {
					t.Errorf("%s %s: no ServiceToken", name, r.ID)
				}
				p, err := imdsdefaults.ParseProperties(props)
				if err != nil {
					t.Errorf("%s %s: the handler rejects the properties %v: %v", name, r.ID, r.Props, err)
					continue
				}
				// CloudFormation hands the handler strings.
				want := s.cfg.IMDSDefaults == stacks.IMDSDefaultsEnforce
				if p.Enforce != want || r.Props["Enforce"] != fmt.Sprint(want) {
					t.Errorf("%s %s: Enforce %#v, want \"%v\" (imdsDefaults %s)", name, r.ID, r.Props["Enforce"], want, s.cfg.IMDSDefaults)
				}
			}
		}
	}
	// single: hub + one regional stack; organization: two in the member template.
	if found != 4 {
		t.Errorf("%d IMDS defaults resources, want 4", found)
	}
}

// checkIMDSDefaultsFunction finds the function and checks what every copy of it
// shares: code, runtime, role and environment.
func checkIMDSDefaultsFunction(t *testing.T, where string, tp template, p pseudo) resource {
	t.Helper()
	f := tp.byProp(t, "AWS::Lambda::Function", "FunctionName", imdsDefaultsFunction)
	for k, want := range map[string]any{
		"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
		"Timeout": float64(300), "MemorySize": float64(128),
	} {
		if !jsonEqual(f.Props[k], want) {
			t.Errorf("%s: %s %v, want %v", where, k, f.Props[k], want)
		}
	}
	if code, _ := f.Props["Code"].(map[string]any); str(code["S3Key"]) == "" {
		t.Errorf("%s: code is not an asset: %v", where, f.Props["Code"])
	}
	env, err := resolve(f.Props["Environment"], p)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"Variables": map[string]any{
		"CREDGUARD_HUB_ACCOUNT": hubAccount, "CREDGUARD_DEFAULTS_ROLE_NAME": "credguard-imds-defaults-member",
	}}; !reflect.DeepEqual(env, want) {
		t.Errorf("%s: environment %v, want %v", where, env, want)
	}
	return f
}

// invokePermissions lists the Lambda permissions on a function.
func invokePermissions(tp template, fnID string) []resource {
	var out []resource
	for _, perm := range tp.ofType("AWS::Lambda::Permission") {
		if ref(perm.Props["FunctionName"]) == fnID {
			out = append(out, perm)
		}
	}
	return out
}

func TestIMDSDefaultsSingleMode(t *testing.T) {
	s := single.get(t)

	// Hub region: the function and the resource for this account.
	f := checkIMDSDefaultsFunction(t, "hub", s.hubT, hubPseudo)
	crs := s.hubT.ofType(stacks.IMDSDefaultsResourceType)
	if len(crs) != 1 || ref(crs[0].Props["ServiceToken"]) != f.ID {
		t.Fatalf("hub: IMDS defaults resources %v, want one served by %s", crs, f.ID)
	}
	if perms := invokePermissions(s.hubT, f.ID); len(perms) != 0 {
		t.Errorf("hub: invoke permissions %v in single mode, want none (only this account's stacks use it)", perms)
	}

	// Every other watched region: a per-region hub stack with its own copy.
	if len(s.out.Regional) != 1 || *s.out.Regional[0].Region() != "eu-west-1" || *s.out.Regional[0].StackName() != "CredguardHub-eu-west-1" {
		t.Fatalf("regional stacks %v, want CredguardHub-eu-west-1", s.out.Regional)
	}
	deps := *s.out.Regional[0].Dependencies()
	if len(deps) != 1 || *deps[0].StackName() != stacks.HubStackID {
		t.Errorf("regional stack depends on %v, want the hub (it creates the role)", deps)
	}
	p := pseudo{Partition: "aws", Account: hubAccount, Region: "eu-west-1"}
	rt := s.reg[0]
	rf := checkIMDSDefaultsFunction(t, "eu-west-1", rt, p)
	role, err := resolve(rf.Props["Role"], p)
	if err != nil || role != "arn:aws:iam::"+hubAccount+":role/credguard-imds-defaults" {
		t.Errorf("eu-west-1: function role %v (%v), want the hub's credguard-imds-defaults", role, err)
	}
	crs = rt.ofType(stacks.IMDSDefaultsResourceType)
	if len(crs) != 1 || ref(crs[0].Props["ServiceToken"]) != rf.ID {
		t.Errorf("eu-west-1: IMDS defaults resources %v, want one served by %s", crs, rf.ID)
	}
	if roles := rt.ofType("AWS::IAM::Role"); len(roles) != 0 {
		t.Errorf("eu-west-1: %d roles, want none (IAM is global; the hub stack owns the role)", len(roles))
	}
	// The stack adds exactly the right to write its own log group.
	logs := rt.ofType("AWS::Logs::LogGroup")
	policies := rt.ofType("AWS::IAM::Policy")
	if len(logs) != 1 || len(policies) != 1 {
		t.Fatalf("eu-west-1: %d log groups, %d policies, want 1 and 1", len(logs), len(policies))
	}
	if !jsonEqual(policies[0].Props["Roles"], []any{"credguard-imds-defaults"}) {
		t.Errorf("eu-west-1: policy attached to %v, want credguard-imds-defaults", policies[0].Props["Roles"])
	}
	granted := allowedActions(statements(t, policies[0].Props["PolicyDocument"], p))
	logArn := "arn:aws:iam::" + hubAccount + ":role/" + logs[0].ID // GetAtt Arn, as resolve renders it
	if want := map[string][]string{"logs:CreateLogStream": {logArn}, "logs:PutLogEvents": {logArn}}; !reflect.DeepEqual(granted, want) {
		t.Errorf("eu-west-1: policy grants %v, want %v", granted, want)
	}
	if logs[0].Props["RetentionInDays"] != float64(s.cfg.LogRetentionDays) {
		t.Errorf("eu-west-1: log retention %v", logs[0].Props["RetentionInDays"])
	}
}

func TestIMDSDefaultsOrganizationMode(t *testing.T) {
	s := organization.get(t)
	if crs := s.hubT.ofType(stacks.IMDSDefaultsResourceType); len(crs) != 0 {
		t.Errorf("hub: %d IMDS defaults resources, want none (the member stack carries it, in the hub account too)", len(crs))
	}

	// A function in every region the StackSet deploys to, each invocable by
	// CloudFormation on behalf of the organization's accounts.
	regions := map[string]template{s.cfg.HubRegion: s.hubT}
	for i, r := range s.out.Regional {
		regions[*r.Region()] = s.reg[i]
		if got := *r.StackName(); got != "CredguardHub-"+*r.Region() {
			t.Errorf("regional stack %s", got)
		}
		if crs := s.reg[i].ofType(stacks.IMDSDefaultsResourceType); len(crs) != 0 {
			t.Errorf("%s: %d IMDS defaults resources, want none", *r.Region(), len(crs))
		}
	}
	var got []string
	for region := range regions {
		got = append(got, region)
	}
	sort.Strings(got)
	want := append([]string{}, s.cfg.Regions...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("imds-defaults functions in %v, want every watched region %v", got, want)
	}
	for region, tp := range regions {
		f := checkIMDSDefaultsFunction(t, region, tp, pseudo{Partition: "aws", Account: hubAccount, Region: region})
		perms := invokePermissions(tp, f.ID)
		if len(perms) != 1 {
			t.Errorf("%s: %d invoke permissions, want 1", region, len(perms))
			continue
		}
		wantPerm := map[string]any{
			"Action": "lambda:InvokeFunction", "FunctionName": map[string]any{"Fn::GetAtt": []any{f.ID, "Arn"}},
			"Principal": "*", "PrincipalOrgID": orgID,
		}
		if !reflect.DeepEqual(perms[0].Props, wantPerm) {
			t.Errorf("%s: invoke permission %v, want %v", region, perms[0].Props, wantPerm)
		}
	}

	// The member template: the resource in every region, served by the hub
	// function of the stack's own region; after the member role where the
	// role is created.
	m := s.membT
	conditions, _ := m.raw["Conditions"].(map[string]any)
	crs := m.ofType(stacks.IMDSDefaultsResourceType)
	if len(crs) != 2 {
		t.Fatalf("member template: %d IMDS defaults resources, want 2", len(crs))
	}
	var role resource
	for _, r := range m.ofType("AWS::IAM::Role") {
		if r.Props["RoleName"] == "credguard-imds-defaults-member" {
			role = r
		}
	}
	var withRole, elsewhere resource
	for _, cr := range crs {
		deps := list(s.membRaw(cr.ID)["DependsOn"])
		if len(deps) == 0 {
			elsewhere = cr
		} else if jsonEqual(deps, []any{role.ID}) {
			withRole = cr
		} else {
			t.Errorf("member template: %s depends on %v", cr.ID, deps)
		}
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			token, err := resolve(cr.Props["ServiceToken"], pseudo{Partition: "aws", Account: memberAccount, Region: region})
			if want := "arn:aws:lambda:" + region + ":" + hubAccount + ":function:" + imdsDefaultsFunction; err != nil || token != want {
				t.Errorf("member template %s in %s: ServiceToken %v (%v), want %s", cr.ID, region, token, err, want)
			}
		}
	}
	if withRole.ID == "" || elsewhere.ID == "" {
		t.Fatalf("member template: want one resource after the member role and one without; got %v", crs)
	}
	if withRole.Condition != role.Condition {
		t.Errorf("resource after the role has condition %q, the role %q", withRole.Condition, role.Condition)
	}
	if !jsonEqual(conditions[elsewhere.Condition], map[string]any{"Fn::Not": []any{map[string]any{"Condition": role.Condition}}}) {
		t.Errorf("resource without the role: condition %s = %v, want the negation of %s", elsewhere.Condition, conditions[elsewhere.Condition], role.Condition)
	}
}

// membRaw is a member template resource as written (DependsOn included).
func (s *scenario) membRaw(id string) map[string]any {
	res, _ := s.membT.raw["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	return r
}

func TestServiceControlPolicy(t *testing.T) {
	s := organization.get(t)
	policies := s.org.ofType("AWS::Organizations::Policy")
	if len(policies) != 1 {
		t.Fatalf("%d organization policies, want 1", len(policies))
	}
	p := policies[0].Props
	if p["Name"] != "credguard-imds" || p["Type"] != "SERVICE_CONTROL_POLICY" {
		t.Errorf("policy %v %v, want credguard-imds SERVICE_CONTROL_POLICY", p["Name"], p["Type"])
	}
	if !jsonEqual(p["TargetIds"], []any{"ou-ab12-cdef3456", "ou-ab12-9876fedc"}) {
		t.Errorf("policy attached to %v, want the target OUs", p["TargetIds"])
	}
	body, err := scp.JSON(scp.Options{RemediationRoleName: "credguard-imds-remediation", HubAccount: hubAccount, Partition: "aws"})
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p["Content"], want) {
		got, _ := json.Marshal(p["Content"])
		t.Errorf("policy content\n got %s\nwant %s", got, body)
	}
	if got, _ := json.Marshal(p["Content"]); len(got) > scp.MaxSize {
		t.Errorf("policy is %d characters, over the SCP quota", len(got))
	}
}

// Without imdsDefaults and attachScp nothing of either is deployed.
func TestPreventionOffByDefault(t *testing.T) {
	s := plain.get(t)
	if s.cfg.IMDSDefaults != stacks.IMDSDefaultsOff || s.cfg.AttachSCP {
		t.Fatalf("defaults: imdsDefaults %q attachScp %v", s.cfg.IMDSDefaults, s.cfg.AttachSCP)
	}
	if len(s.out.Regional) != 0 {
		t.Errorf("%d per-region hub stacks, want none", len(s.out.Regional))
	}
	must(t, "no imds-defaults function or resource in the hub", func() {
		s.hub.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"),
			map[string]any{"FunctionName": imdsDefaultsFunction}, jsii.Number(0))
		s.hub.ResourceCountIs(jsii.String(stacks.IMDSDefaultsResourceType), jsii.Number(0))
		s.hub.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(0))
	})
	for _, f := range s.fwd {
		if n := len(f.ofType(stacks.IMDSDefaultsResourceType)); n != 0 {
			t.Errorf("forwarder: %d IMDS defaults resources", n)
		}
	}

	cfg, err := stacks.LoadConfig(func(k string) any {
		return map[string]any{"mode": "organization", "organizationId": orgID, "targetOuIds": "ou-ab12-cdef3456", "hubAccount": hubAccount}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := stacks.MemberTemplate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	m := newTemplate(raw)
	if n := len(m.ofType(stacks.IMDSDefaultsResourceType)); n != 0 {
		t.Errorf("member template: %d IMDS defaults resources, want none", n)
	}
	for _, role := range m.ofType("AWS::IAM::Role") {
		name := str(role.Props["RoleName"])
		if name == "credguard-imds-defaults-member" {
			t.Errorf("member template: the IMDS defaults role without imdsDefaults")
		}
		trust, _ := json.Marshal(role.Props["AssumeRolePolicyDocument"])
		if strings.Contains(string(trust), imdsDefaultsFunction) {
			t.Errorf("member role %s trusts the imds-defaults role: %s", name, trust)
		}
		for action := range allowedActions(rolePolicies(t, m, role.ID, memberPseudo)) {
			if strings.HasSuffix(action, "InstanceMetadataDefaults") || strings.HasPrefix(action, "cloudformation:") {
				t.Errorf("member role %s may %s", name, action)
			}
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	org, err := stacks.NewOrg(app, stacks.OrgStackID, &stacks.OrgProps{Config: cfg, MemberTemplate: body})
	if err != nil {
		t.Fatal(err)
	}
	must(t, "no service control policy", func() {
		tmpl := assertions.Template_FromStack(org.Stack, nil)
		tmpl.ResourceCountIs(jsii.String("AWS::Organizations::Policy"), jsii.Number(0))
		tmpl.ResourceCountIs(jsii.String("AWS::CloudFormation::StackSet"), jsii.Number(1))
	})
}
