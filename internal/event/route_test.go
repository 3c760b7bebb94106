package event_test

import (
	"testing"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/ids"
)

func TestKindGuardrail(t *testing.T) {
	for k, want := range map[event.Kind]string{
		event.KindStateChange: ids.GuardrailIMDS, event.KindRunInstances: ids.GuardrailIMDS,
		event.KindCreateFleet: ids.GuardrailIMDS, event.KindModifyMetadataOptions: ids.GuardrailIMDS,
		event.KindCreatePodIdentityAssociation: ids.GuardrailTrust, event.KindUpdatePodIdentityAssociation: ids.GuardrailTrust,
		event.KindCreateRole: ids.GuardrailTrust, event.KindUpdateAssumeRolePolicy: ids.GuardrailTrust,
		event.Kind("other"): ids.GuardrailNone, event.Kind(""): ids.GuardrailNone,
	} {
		if got := k.Guardrail(); got != want {
			t.Errorf("%q.Guardrail() = %q, want %q", k, got, want)
		}
	}
}

func TestActorRole(t *testing.T) {
	for _, tc := range []struct {
		name  string
		actor event.Actor
		want  ids.RoleARN
		ok    bool
	}{
		{"issuer and session", event.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/app/s", IssuerARN: "arn:aws:iam::111122223333:role/team/app"},
			ids.RoleARN{Partition: "aws", Account: "111122223333", Path: "/team/", Name: "app"}, true},
		{"session only", event.Actor{Type: "AssumedRole", ARN: "arn:aws-cn:sts::111122223333:assumed-role/app/s"},
			ids.RoleARN{Partition: "aws-cn", Account: "111122223333", Name: "app"}, true},
		{"issuer only, gov partition", event.Actor{Type: "AssumedRole", IssuerARN: "arn:aws-us-gov:iam::111122223333:role/app"},
			ids.RoleARN{Partition: "aws-us-gov", Account: "111122223333", Path: "/", Name: "app"}, true},
		{"malformed issuer, session read", event.Actor{ARN: "arn:aws:sts::111122223333:assumed-role/app/s", IssuerARN: "role/"},
			ids.RoleARN{Partition: "aws", Account: "111122223333", Name: "app"}, true},
		{"iam user", event.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/app"}, ids.RoleARN{}, false},
		{"root", event.Actor{Type: "Root", ARN: "arn:aws:iam::111122223333:root"}, ids.RoleARN{}, false},
		{"aws service", event.Actor{Type: "AWSService", InvokedBy: "eks.amazonaws.com"}, ids.RoleARN{}, false},
		{"empty", event.Actor{}, ids.RoleARN{}, false},
		{"garbage", event.Actor{ARN: "arn:aws:sts::", IssuerARN: "role/"}, ids.RoleARN{}, false},
	} {
		got, ok := tc.actor.Role()
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: Role() = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
