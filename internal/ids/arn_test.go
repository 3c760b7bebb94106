package ids_test

import (
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/ids"
)

func TestParseRoleARN(t *testing.T) {
	long := "/" + strings.Repeat("p", 510) + "/"
	for _, tc := range []struct {
		in   string
		want ids.RoleARN
		ok   bool
	}{
		{"arn:aws:iam::111122223333:role/web", ids.RoleARN{"aws", "111122223333", "/", "web"}, true},
		{"arn:aws-us-gov:iam::111122223333:role/web", ids.RoleARN{"aws-us-gov", "111122223333", "/", "web"}, true},
		{"arn:aws-cn:iam::111122223333:role/web", ids.RoleARN{"aws-cn", "111122223333", "/", "web"}, true},
		{"arn:aws-iso-b:iam::111122223333:role/web", ids.RoleARN{"aws-iso-b", "111122223333", "/", "web"}, true},
		{"arn:aws:iam::111122223333:role/app/web", ids.RoleARN{"aws", "111122223333", "/app/", "web"}, true},
		{"arn:aws:iam::111122223333:role/a/b/c/web", ids.RoleARN{"aws", "111122223333", "/a/b/c/", "web"}, true},
		{"arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
			ids.RoleARN{"aws", "111122223333", "/aws-service-role/eks.amazonaws.com/", "AWSServiceRoleForAmazonEKS"}, true},
		{"arn:aws:iam::111122223333:role/A_b+c=d,e.f@g-h", ids.RoleARN{"aws", "111122223333", "/", "A_b+c=d,e.f@g-h"}, true},
		{"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 64), ids.RoleARN{"aws", "111122223333", "/", strings.Repeat("r", 64)}, true},
		{"arn:aws:iam::111122223333:role" + long + "web", ids.RoleARN{"aws", "111122223333", long, "web"}, true},
		{"arn:aws:iam::111122223333:role/p!q/web", ids.RoleARN{"aws", "111122223333", "/p!q/", "web"}, true},

		{"", ids.RoleARN{}, false},
		{"web", ids.RoleARN{}, false},
		{"arn:aws:iam::111122223333:role/", ids.RoleARN{}, false},              // no name
		{"arn:aws:iam::111122223333:role/app/", ids.RoleARN{}, false},          // path, no name
		{"arn:aws:iam::111122223333:role", ids.RoleARN{}, false},               // no resource
		{"arn:aws:iam::111122223333:roles/web", ids.RoleARN{}, false},          // other resource type
		{"arn:aws:iam::111122223333:user/web", ids.RoleARN{}, false},           // a user
		{"arn:aws:iam::111122223333:root", ids.RoleARN{}, false},               // the account
		{"arn:aws:sts::111122223333:assumed-role/web/s", ids.RoleARN{}, false}, // a session
		{"arn:aws:iam:us-east-1:111122223333:role/web", ids.RoleARN{}, false},  // IAM ARNs carry no region
		{"arn::iam::111122223333:role/web", ids.RoleARN{}, false},              // no partition
		{"arn:azure:iam::111122223333:role/web", ids.RoleARN{}, false},
		{"arn:aws:iam::11112222333:role/web", ids.RoleARN{}, false},   // 11 digits
		{"arn:aws:iam::*:role/web", ids.RoleARN{}, false},             // a pattern, not an ARN
		{"arn:aws:iam::111122223333:role/we*b", ids.RoleARN{}, false}, // not a role name
		{"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 65), ids.RoleARN{}, false},
		{"arn:aws:iam::111122223333:role/p q/web", ids.RoleARN{}, false}, // space in the path
		{"arn:aws:iam::111122223333:role/" + strings.Repeat("p", 512) + "/web", ids.RoleARN{}, false},
		{"ARN:aws:iam::111122223333:role/web", ids.RoleARN{}, false},
		{" arn:aws:iam::111122223333:role/web", ids.RoleARN{}, false},
	} {
		got, ok := ids.ParseRoleARN(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseRoleARN(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("ParseRoleARN(%q).String() = %q, want the input back", tc.in, got.String())
		}
	}
}

func TestRoleARNString(t *testing.T) {
	for _, tc := range []struct {
		in   ids.RoleARN
		want string
	}{
		{ids.RoleARN{Partition: "aws", Account: "111122223333", Name: "web"}, "arn:aws:iam::111122223333:role/web"},
		{ids.RoleARN{Partition: "aws", Account: "111122223333", Path: "/", Name: "web"}, "arn:aws:iam::111122223333:role/web"},
		{ids.RoleARN{Partition: "aws-us-gov", Account: "111122223333", Path: "/app/", Name: "web"}, "arn:aws-us-gov:iam::111122223333:role/app/web"},
		{ids.RoleARN{Partition: "aws-cn", Account: "111122223333", Name: "web"}, "arn:aws-cn:iam::111122223333:role/web"},
		// Resource patterns of policies: any account, any role.
		{ids.RoleARN{Partition: "aws", Account: "*", Name: "credguard-imds-remediation"}, "arn:aws:iam::*:role/credguard-imds-remediation"},
		{ids.RoleARN{Partition: "aws", Account: "111122223333", Name: "*"}, "arn:aws:iam::111122223333:role/*"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseAssumedRoleARN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ids.RoleARN
		ok   bool
	}{
		{"arn:aws:sts::111122223333:assumed-role/web/session", ids.RoleARN{Partition: "aws", Account: "111122223333", Name: "web"}, true},
		{"arn:aws-us-gov:sts::111122223333:assumed-role/web/i-0123456789abcdef0", ids.RoleARN{Partition: "aws-us-gov", Account: "111122223333", Name: "web"}, true},
		{"arn:aws-cn:sts::111122223333:assumed-role/credguard-sweeper/a@b.c", ids.RoleARN{Partition: "aws-cn", Account: "111122223333", Name: "credguard-sweeper"}, true},

		{"", ids.RoleARN{}, false},
		{"arn:aws:sts::111122223333:assumed-role/web", ids.RoleARN{}, false},         // no session
		{"arn:aws:sts::111122223333:assumed-role/web/", ids.RoleARN{}, false},        // empty session
		{"arn:aws:sts::111122223333:assumed-role//session", ids.RoleARN{}, false},    // no role
		{"arn:aws:sts::111122223333:assumed-role/a/b/session", ids.RoleARN{}, false}, // sessions carry no path
		{"arn:aws:sts::111122223333:federated-user/bob", ids.RoleARN{}, false},
		{"arn:aws:iam::111122223333:role/web", ids.RoleARN{}, false}, // a role, not a session
		{"arn:aws:sts:us-east-1:111122223333:assumed-role/web/s", ids.RoleARN{}, false},
		{"arn:aws:sts::nope:assumed-role/web/s", ids.RoleARN{}, false},
		{"arn::sts::111122223333:assumed-role/web/s", ids.RoleARN{}, false},
		{"arn:aws:sts::111122223333:assumed-role/we*b/s", ids.RoleARN{}, false},
		{"arn:aws:sts::", ids.RoleARN{}, false},
	} {
		got, ok := ids.ParseAssumedRoleARN(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseAssumedRoleARN(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRoleListed(t *testing.T) {
	list := []string{" arn:aws:iam::111122223333:role/credguard-imds-enforcer ", "not an arn", "arn:aws:iam::111122223333:role/team/app"}
	for _, tc := range []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::111122223333:role/credguard-imds-enforcer", true},
		{"arn:aws:iam::111122223333:role/ops/credguard-imds-enforcer", true}, // the path aside
		{"arn:aws:iam::111122223333:role/app", true},
		{"arn:aws:iam::444455556666:role/credguard-imds-enforcer", false}, // another account
		{"arn:aws:iam::111122223333:role/credguard-imds-enforcer-2", false},
		{"arn:aws:iam::111122223333:role/credguard", false},
		{"arn:aws:iam::111122223333:user/credguard-imds-enforcer", false},
		{"not an arn", false},
		{"", false},
	} {
		if got := ids.RoleListed(tc.arn, list); got != tc.want {
			t.Errorf("RoleListed(%q) = %v, want %v", tc.arn, got, tc.want)
		}
	}
	if (ids.RoleARN{}).In([]string{"", "arn:aws:iam::111122223333:role/"}) {
		t.Error("the zero RoleARN is in a list")
	}
	if ids.RoleListed("arn:aws:iam::111122223333:role/app", nil) {
		t.Error("a role is in the empty list")
	}
}

func TestValidPartition(t *testing.T) {
	for in, want := range map[string]bool{
		"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true, "aws-iso-b": true,
		"": false, "AWS": false, "aws-": false, "azure": false, "aws:cn": false, "aws-cn ": false,
	} {
		if got := ids.ValidPartition(in); got != want {
			t.Errorf("ValidPartition(%q) = %v, want %v", in, got, want)
		}
	}
}
