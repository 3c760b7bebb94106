package stacks_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/credguard/credguard/infra/stacks"
	"github.com/credguard/credguard/internal/ids"
)

// imdsWrites and iamWrites are the two kinds of write that no member role,
// and no event-driven hub function, may hold together.
var (
	imdsWrites = []string{"ec2:ModifyInstanceMetadataOptions", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"}
	iamWrites  = []string{"iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"}
)

func holdsAny(granted map[string][]string, actions []string) bool {
	for _, a := range actions {
		if granted[a] != nil {
			return true
		}
	}
	return false
}

// checkMemberRoles asserts the member template's roles: one per guardrail
// (and one for the IMDS defaults resource), each created in the IAM region
// only, trusted by exactly the hub roles that need it under
// aws:PrincipalOrgID, allowed exactly what those functions call, and none
// holding both IMDS and IAM writes.
func checkMemberRoles(t *testing.T, m template, regionIs func(string) string, globalRegion string) {
	t.Helper()
	type want struct {
		trusted []string // hub functions
		actions []string
	}
	wants := map[string]want{
		"credguard-imds-remediation": {
			[]string{ids.FnIMDSEnforcer, ids.FnSweeper},
			[]string{"ec2:CreateLaunchTemplateVersion", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions",
				"ec2:DescribeLaunchTemplates", "ec2:ModifyInstanceMetadataOptions", "ec2:ModifyLaunchTemplate"},
		},
		"credguard-trust-remediation": {
			[]string{ids.FnSweeper, ids.FnTrustGuard},
			[]string{"eks:DescribeCluster", "eks:DescribePodIdentityAssociation", "iam:GetRole", "iam:GetRolePolicy", "iam:ListRoleTags",
				"iam:ListRoles", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"},
		},
		"credguard-imds-defaults-member": {
			[]string{ids.FnIMDSDefaults},
			[]string{"cloudformation:DescribeStackResource", "ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults"},
		},
	}
	seen := map[string]bool{}
	for _, role := range m.ofType("AWS::IAM::Role") {
		name, _ := role.Props["RoleName"].(string)
		if name == "" {
			continue // the forwarding role
		}
		w, ok := wants[name]
		if !ok {
			t.Errorf("unexpected member role %q", name)
			continue
		}
		seen[name] = true
		if got := regionIs(role.Condition); got != globalRegion {
			t.Errorf("%s: condition %q holds in %q, want %s only (IAM is global: one region creates it)", name, role.Condition, got, globalRegion)
		}
		var trusted []string
		for _, st := range statements(t, role.Props["AssumeRolePolicyDocument"], memberPseudo) {
			if st["Action"] != "sts:AssumeRole" || st["Effect"] != "Allow" ||
				!jsonEqual(st["Condition"], map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID}}) {
				t.Errorf("%s: trust statement %v: want sts:AssumeRole bounded by aws:PrincipalOrgID", name, st)
			}
			if _, ok := st["Condition"].(map[string]any)["ArnEquals"]; ok {
				t.Errorf("%s: trust uses lambda:SourceFunctionArn, which resource policies cannot evaluate", name)
			}
			for _, p := range list(st["Principal"].(map[string]any)["AWS"]) {
				trusted = append(trusted, str(p))
			}
		}
		var wantTrusted []string
		for _, fn := range w.trusted {
			wantTrusted = append(wantTrusted, "arn:aws:iam::"+hubAccount+":role/credguard-"+fn)
		}
		sort.Strings(trusted)
		sort.Strings(wantTrusted)
		if !reflect.DeepEqual(trusted, wantTrusted) {
			t.Errorf("%s: trusts %v, want exactly %v", name, trusted, wantTrusted)
		}
		sts := rolePolicies(t, m, role.ID, memberPseudo)
		granted := allowedActions(sts)
		if got := sortedKeys(granted); !reflect.DeepEqual(got, w.actions) {
			t.Errorf("%s: actions\n got %v\nwant %v", name, got, w.actions)
		}
		if holdsAny(granted, imdsWrites) && holdsAny(granted, iamWrites) {
			t.Errorf("%s: holds both IMDS and IAM writes", name)
		}
		for _, r := range granted["iam:UpdateAssumeRolePolicy"] {
			if r != "arn:aws:iam::"+memberAccount+":role/*" {
				t.Errorf("%s: iam:UpdateAssumeRolePolicy on %s, outside the member account", name, r)
			}
		}
		if name == "credguard-trust-remediation" {
			var protected []string
			for _, n := range []string{"credguard-imds-remediation", "credguard-trust-remediation", "credguard-imds-defaults-member", "credguard-remediation"} {
				protected = append(protected, "arn:aws:iam::"+memberAccount+":role/"+n)
			}
			checkProtected(t, name, sts, protected)
		}
		if got := granted["cloudformation:DescribeStackResource"]; got != nil && !reflect.DeepEqual(got, []string{
			"arn:aws:cloudformation:us-east-1:" + memberAccount + ":stack/StackSet-credguard-member-*/*",
			"arn:aws:cloudformation:eu-west-1:" + memberAccount + ":stack/StackSet-credguard-member-*/*",
		}) {
			t.Errorf("%s: cloudformation:DescribeStackResource on %v, want the StackSet's stacks only", name, got)
		}
	}
	for name := range wants {
		if !seen[name] {
			t.Errorf("no member role %s", name)
		}
	}
}

// checkAssumeMemberRoles asserts a hub function's sts:AssumeRole: only the
// member roles its function needs, inside the organization, and only from
// inside the function (lambda:SourceFunctionArn); no event-driven function
// may assume both the IMDS and the trust role.
func checkAssumeMemberRoles(t *testing.T, fn string, sts []map[string]any, resources []string) {
	t.Helper()
	roles := map[string][]string{
		ids.FnIMDSEnforcer: {"credguard-imds-remediation"},
		ids.FnTrustGuard:   {"credguard-trust-remediation"},
		ids.FnSweeper:      {"credguard-imds-remediation", "credguard-trust-remediation"},
		ids.FnIMDSDefaults: {"credguard-imds-defaults-member"},
	}[fn]
	var want []string
	for _, r := range roles {
		want = append(want, "arn:aws:iam::*:role/"+r)
	}
	if !reflect.DeepEqual(resources, want) {
		t.Errorf("%s: sts:AssumeRole on %v, want %v", fn, resources, want)
	}
	var source any = "arn:aws:lambda:us-east-1:" + hubAccount + ":function:credguard-" + fn
	if fn == ids.FnIMDSDefaults { // one copy per watched region
		source = []any{"arn:aws:lambda:us-east-1:" + hubAccount + ":function:credguard-" + fn,
			"arn:aws:lambda:eu-west-1:" + hubAccount + ":function:credguard-" + fn}
	}
	found := false
	for _, st := range sts {
		if st["Action"] != "sts:AssumeRole" {
			continue
		}
		found = true
		if !jsonEqual(st["Condition"], map[string]any{
			"StringEquals": map[string]any{"aws:ResourceOrgID": orgID},
			"ArnEquals":    map[string]any{"lambda:SourceFunctionArn": source},
		}) {
			t.Errorf("%s: sts:AssumeRole condition %v, want the organization and lambda:SourceFunctionArn = %v", fn, st["Condition"], source)
		}
	}
	if !found {
		t.Errorf("%s: no sts:AssumeRole statement", fn)
	}
	if fn != ids.FnSweeper && strings.Contains(strings.Join(resources, ","), "imds-remediation") &&
		strings.Contains(strings.Join(resources, ","), "trust-remediation") {
		t.Errorf("%s: an event-driven function may assume both the IMDS and the trust member role", fn)
	}
}

// In GovCloud the IAM forwarding rule and the member roles live in
// us-gov-west-1, the partition's IAM region, and the config accepts it.
func TestMemberTemplateGovCloud(t *testing.T) {
	cfg, err := stacks.LoadConfig(func(k string) any {
		return map[string]any{
			"mode": "organization", "organizationId": orgID, "targetOuIds": "ou-ab12-cdef3456",
			"hubAccount": hubAccount, "hubRegion": "us-gov-east-1", "regions": "us-gov-east-1,us-gov-west-1",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Partition() != "aws-us-gov" || cfg.IAMRegion() != "us-gov-west-1" || cfg.GlobalRegion() != "us-gov-west-1" || !cfg.WatchesIAM() {
		t.Fatalf("partition %s, IAM region %s, global region %s, watches IAM %v", cfg.Partition(), cfg.IAMRegion(), cfg.GlobalRegion(), cfg.WatchesIAM())
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
	if !jsonEqual(raw["Conditions"].(map[string]any)["InIamRegion"], map[string]any{
		"Fn::Equals": []any{map[string]any{"Ref": "AWS::Region"}, "us-gov-west-1"}}) {
		t.Errorf("InIamRegion = %v, want us-gov-west-1", raw["Conditions"].(map[string]any)["InIamRegion"])
	}
	rule := m.byProp(t, "AWS::Events::Rule", "Name", "credguard-forward-iam-trust-policy")
	if rule.Condition != "InIamRegion" {
		t.Errorf("IAM forwarding rule condition %q, want InIamRegion", rule.Condition)
	}
	gov := pseudo{Partition: "aws-us-gov", Account: memberAccount, Region: "us-gov-west-1"}
	for _, role := range m.ofType("AWS::IAM::Role") {
		if role.Props["RoleName"] == nil {
			continue
		}
		if role.Condition != "InIamRegion" {
			t.Errorf("%v: condition %q, want InIamRegion", role.Props["RoleName"], role.Condition)
		}
		for _, st := range statements(t, role.Props["AssumeRolePolicyDocument"], gov) {
			for _, p := range list(st["Principal"].(map[string]any)["AWS"]) {
				if !strings.HasPrefix(str(p), "arn:aws-us-gov:iam::"+hubAccount+":role/credguard-") {
					t.Errorf("%v trusts %v, want an aws-us-gov hub role", role.Props["RoleName"], p)
				}
			}
		}
	}
}
