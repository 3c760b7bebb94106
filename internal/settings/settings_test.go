package settings

import (
	"reflect"
	"testing"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvTopicARN:          "arn:aws:sns:us-east-1:111122223333:credguard",
		EnvDryRun:            "TRUE",
		EnvSelfRoleARNs:      " arn:aws:iam::111122223333:role/a, ,arn:aws:iam::111122223333:role/b ",
		EnvExemptInstanceIDs: "i-0aaa0000000000004",
	}
	s, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !s.DryRun || s.IMDSRoleName != "credguard-imds-remediation" || s.TrustRoleName != "credguard-trust-remediation" || s.TopicARN != env[EnvTopicARN] {
		t.Errorf("settings = %+v", s)
	}
	if want := []string{"arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"}; !reflect.DeepEqual(s.SelfRoleARNs, want) {
		t.Errorf("SelfRoleARNs = %q, want %q", s.SelfRoleARNs, want)
	}
	if want := []string{"credguard-imds-remediation", "credguard-trust-remediation", "credguard-imds-defaults-member", "credguard-remediation"}; !reflect.DeepEqual(s.MemberRoleNames(), want) {
		t.Errorf("MemberRoleNames = %q, want %q", s.MemberRoleNames(), want)
	}
	renamed, err := FromEnv(func(k string) string {
		return map[string]string{EnvIMDSRoleName: "x-imds", EnvTrustRoleName: "x-trust"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"x-imds", "x-trust", "credguard-imds-defaults-member", "credguard-imds-remediation", "credguard-trust-remediation", "credguard-remediation"}; !reflect.DeepEqual(renamed.MemberRoleNames(), want) {
		t.Errorf("renamed MemberRoleNames = %q, want %q", renamed.MemberRoleNames(), want)
	}
	if got, want := SelfRoleARNs("us-gov-west-1", "111122223333")[0], "arn:aws-us-gov:iam::111122223333:role/credguard-imds-enforcer"; got != want {
		t.Errorf("SelfRoleARNs[0] = %q, want %q", got, want)
	}
	if len(s.ExemptRoleARNs) != 0 {
		t.Errorf("ExemptRoleARNs = %q, want none", s.ExemptRoleARNs)
	}
}

func TestFromEnvBadDryRun(t *testing.T) {
	_, err := FromEnv(func(k string) string {
		if k == EnvDryRun {
			return "maybe"
		}
		return ""
	})
	if err == nil {
		t.Fatal("want an error for CREDGUARD_DRY_RUN=maybe")
	}
}

func TestFromEnvIMDSScope(t *testing.T) {
	for _, tt := range []struct {
		value, want string
		ok          bool
	}{
		{"", IMDSScopeAll, true},
		{"all", IMDSScopeAll, true},
		{" eks-nodes ", IMDSScopeEKSNodes, true},
		{"eks", "", false},
		{"ALL", "", false},
	} {
		s, err := FromEnv(func(k string) string {
			if k == EnvIMDSScope {
				return tt.value
			}
			return ""
		})
		if (err == nil) != tt.ok || s.IMDSScope != tt.want {
			t.Errorf("%s=%q: scope %q, err %v; want %q (ok %v)", EnvIMDSScope, tt.value, s.IMDSScope, err, tt.want, tt.ok)
		}
	}
}
