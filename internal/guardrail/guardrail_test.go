package guardrail

import (
	"testing"

	"github.com/credguard/credguard/internal/event"
)

func TestOwn(t *testing.T) {
	self := []string{"arn:aws:iam::111122223333:role/credguard-imds-enforcer", "arn:aws:iam::111122223333:role/credguard-trust-guard"}
	tests := []struct {
		name  string
		actor event.Actor
		want  bool
	}{
		{"hub function role via issuer", event.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/credguard-imds-enforcer/fn", IssuerARN: "arn:aws:iam::111122223333:role/credguard-imds-enforcer"}, true},
		{"hub function role via session arn only", event.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/credguard-trust-guard/fn"}, true},
		{"member role in any account", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::444455556666:role/credguard-remediation"}, true},
		{"member role with a path", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::444455556666:role/security/credguard-remediation"}, true},
		{"imds member role", event.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::444455556666:assumed-role/credguard-imds-remediation/credguard-sweeper"}, true},
		{"trust member role, gov partition", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws-us-gov:iam::444455556666:role/credguard-trust-remediation"}, true},
		{"defaults member role not listed", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::444455556666:role/credguard-imds-defaults-member"}, false},
		{"same name in another account is not a hub role", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::999988887777:role/credguard-imds-enforcer"}, false},
		{"similar name", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::111122223333:role/credguard-imds-enforcer-2"}, false},
		{"prefix is not enough", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws:iam::111122223333:role/credguard-remediation-evil"}, false},
		{"iam user named like the role", event.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/credguard-remediation"}, false},
		{"session name is not trusted", event.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/admin/credguard-remediation"}, false},
		{"empty", event.Actor{}, false},
		{"garbage", event.Actor{ARN: "arn:aws:sts::", IssuerARN: "role/"}, false},
	}
	for _, tt := range tests {
		if got := Own(tt.actor, self, "credguard-imds-remediation", "credguard-trust-remediation", "credguard-remediation"); got != tt.want {
			t.Errorf("%s: Own = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFor(t *testing.T) {
	cases := map[event.Kind]Name{
		event.KindStateChange: IMDS, event.KindRunInstances: IMDS, event.KindModifyMetadataOptions: IMDS,
		event.KindCreatePodIdentityAssociation: Trust, event.KindUpdatePodIdentityAssociation: Trust,
		event.KindCreateRole: Trust, event.KindUpdateAssumeRolePolicy: Trust, event.Kind("other"): None,
	}
	for k, want := range cases {
		if got := For(k); got != want {
			t.Errorf("For(%s) = %s, want %s", k, got, want)
		}
	}
}
