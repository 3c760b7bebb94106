package scp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decode reads the policy back as plain JSON values, as Organizations would.
func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return doc
}

func TestPolicyStatementsExactly(t *testing.T) {
	data, err := JSON(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid": "CredguardRequireIMDSv2", "Effect": "Deny", "Action": "ec2:RunInstances",
				"Resource":  "arn:aws:ec2:*:*:instance/*",
				"Condition": map[string]any{"StringNotEquals": map[string]any{"ec2:MetadataHttpTokens": "required"}},
			},
			map[string]any{
				"Sid": "CredguardMaxHopLimitOne", "Effect": "Deny", "Action": "ec2:RunInstances",
				"Resource":  "arn:aws:ec2:*:*:instance/*",
				"Condition": map[string]any{"NumericGreaterThan": map[string]any{"ec2:MetadataHttpPutResponseHopLimit": "1"}},
			},
			map[string]any{
				"Sid": "CredguardOnlyCredguardChangesIMDSOptions", "Effect": "Deny", "Action": "ec2:ModifyInstanceMetadataOptions",
				"Resource": "*",
				"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalARN": []any{
					"arn:aws:iam::*:role/credguard-imds-remediation",
					"arn:aws:iam::*:role/credguard-imds-enforcer",
					"arn:aws:iam::*:role/credguard-sweeper",
				}}},
			},
			map[string]any{
				"Sid": "CredguardDenyIMDSv1Credentials", "Effect": "Deny", "Action": "*", "Resource": "*",
				"Condition": map[string]any{"NumericLessThan": map[string]any{"ec2:RoleDelivery": "2.0"}},
			},
		},
	}
	if got := decode(t, data); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("policy\n%s\nwant\n%s", g, w)
	}
	if len(data) > MaxSize || strings.ContainsAny(string(data), "\n\t") {
		t.Errorf("policy is %d characters or not compact", len(data))
	}
}

func TestPolicyOptions(t *testing.T) {
	data, err := JSON(Options{RemediationRoleName: "guardrails-fixer", HubAccount: "111122223333", Partition: "aws-us-gov"})
	if err != nil {
		t.Fatal(err)
	}
	st := decode(t, data)["Statement"].([]any)
	principals := st[2].(map[string]any)["Condition"].(map[string]any)["ArnNotLike"].(map[string]any)["aws:PrincipalARN"]
	want := []any{
		"arn:aws-us-gov:iam::*:role/guardrails-fixer",
		"arn:aws-us-gov:iam::111122223333:role/credguard-imds-enforcer",
		"arn:aws-us-gov:iam::111122223333:role/credguard-sweeper",
	}
	if !reflect.DeepEqual(principals, want) {
		t.Errorf("principals %v", principals)
	}
	if r := st[0].(map[string]any)["Resource"]; r != "arn:aws-us-gov:ec2:*:*:instance/*" {
		t.Errorf("resource %v", r)
	}
	// The longest role name still fits the quota.
	if _, err := JSON(Options{RemediationRoleName: strings.Repeat("r", 64), HubAccount: "111122223333"}); err != nil {
		t.Error(err)
	}
}

func TestPolicyRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{RemediationRoleName: "has space"},
		{RemediationRoleName: strings.Repeat("r", 65)},
		{RemediationRoleName: "a*"},
		{HubAccount: "1111"},
		{Partition: "gcp"},
	} {
		if _, err := JSON(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
