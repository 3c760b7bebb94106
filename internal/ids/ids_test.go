package ids_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/ids"
)

func TestValidAccount(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"123456789012", true},
		{"000000000000", true},
		{"", false},
		{"12345678901", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{"123456789012\n", false},
		{" 123456789012", false},
		{"１２３４５６７８９０１２", false}, // full-width digits
		{"-12345678901", false},
	} {
		if got := ids.ValidAccount(tc.in); got != tc.ok {
			t.Errorf("ValidAccount(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestValidRoleName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"a", true},
		{"credguard-imds-remediation", true},
		{"A_b+c=d,e.f@g-h", true},
		{strings.Repeat("r", 64), true},
		{strings.Repeat("r", 65), false},
		{"", false},
		{"has space", false},
		{"path/name", false},
		{"name\n", false},
		{"é", false},
		{"a*", false},
	} {
		if got := ids.ValidRoleName(tc.in); got != tc.ok {
			t.Errorf("ValidRoleName(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestMemberRoleNames(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, []string{ids.IMDSRoleName, ids.TrustRoleName, ids.DefaultsRoleName, ids.LegacyRoleName}},
		{[]string{"custom", "", ids.TrustRoleName, "custom"}, []string{"custom", ids.TrustRoleName, ids.IMDSRoleName, ids.DefaultsRoleName, ids.LegacyRoleName}},
	} {
		if got := ids.MemberRoleNames(tc.in...); !slices.Equal(got, tc.want) {
			t.Errorf("MemberRoleNames(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
