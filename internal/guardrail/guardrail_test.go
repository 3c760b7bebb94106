package guardrail

import (
	"testing"

	"github.com/credguard/credguard/internal/ids"
)

// caller is a CloudTrail caller whose role is the role ARN (or STS session
// ARN) arn; any other value is a caller that is no role.
type caller string

func (c caller) Role() (ids.RoleARN, bool) {
	if r, ok := ids.ParseRoleARN(string(c)); ok {
		return r, true
	}
	return ids.ParseAssumedRoleARN(string(c))
}

func TestOwn(t *testing.T) {
	self := []string{"arn:aws:iam::111122223333:role/credguard-imds-enforcer", " arn:aws:iam::111122223333:role/credguard-trust-guard"}
	tests := []struct {
		name   string
		caller caller
		want   bool
	}{
		{"hub function role", "arn:aws:iam::111122223333:role/credguard-imds-enforcer", true},
		{"hub function role via session arn", "arn:aws:sts::111122223333:assumed-role/credguard-trust-guard/fn", true},
		{"hub function role with a path", "arn:aws:iam::111122223333:role/ops/credguard-imds-enforcer", true},
		{"member role in any account", "arn:aws:iam::444455556666:role/credguard-remediation", true},
		{"member role with a path", "arn:aws:iam::444455556666:role/security/credguard-remediation", true},
		{"imds member role via session arn", "arn:aws:sts::444455556666:assumed-role/credguard-imds-remediation/credguard-sweeper", true},
		{"trust member role, gov partition", "arn:aws-us-gov:iam::444455556666:role/credguard-trust-remediation", true},
		{"member role, china partition", "arn:aws-cn:iam::444455556666:role/credguard-imds-remediation", true},
		{"defaults member role not listed", "arn:aws:iam::444455556666:role/credguard-imds-defaults-member", false},
		{"same name in another account is not a hub role", "arn:aws:iam::999988887777:role/credguard-imds-enforcer", false},
		{"similar name", "arn:aws:iam::111122223333:role/credguard-imds-enforcer-2", false},
		{"prefix is not enough", "arn:aws:iam::111122223333:role/credguard-remediation-evil", false},
		{"iam user named like the role", "arn:aws:iam::111122223333:user/credguard-remediation", false},
		{"session name is not trusted", "arn:aws:sts::111122223333:assumed-role/admin/credguard-remediation", false},
		{"empty", "", false},
		{"garbage", "arn:aws:sts::", false},
	}
	for _, tt := range tests {
		if got := Own(tt.caller, self, "credguard-imds-remediation", "credguard-trust-remediation", "", "credguard-remediation"); got != tt.want {
			t.Errorf("%s: Own = %v, want %v", tt.name, got, tt.want)
		}
	}
	if Own(caller("arn:aws:iam::111122223333:role/credguard-imds-enforcer"), nil) {
		t.Error("Own with no self roles and no member roles is true")
	}
}
