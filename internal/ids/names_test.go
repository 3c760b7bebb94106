package ids_test

import (
	"slices"
	"testing"

	"github.com/credguard/credguard/internal/ids"
)

func TestFunctionName(t *testing.T) {
	for fn, want := range map[string]string{
		ids.FnIMDSEnforcer: "credguard-imds-enforcer",
		ids.FnTrustGuard:   "credguard-trust-guard",
		ids.FnSweeper:      "credguard-sweeper",
		ids.FnIMDSDefaults: "credguard-imds-defaults",
	} {
		if got := ids.FunctionName(fn); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", fn, got, want)
		}
	}
}

// Every function that writes through a member role is one of the self
// roles, and every self role writes something.
func TestSelfRoleFunctions(t *testing.T) {
	writers := append(ids.IMDSFunctions(), ids.TrustFunctions()...)
	slices.Sort(writers)
	writers = slices.Compact(writers)
	self := ids.SelfRoleFunctions()
	slices.Sort(self)
	if !slices.Equal(writers, self) {
		t.Errorf("IMDS and trust writers %v, self roles %v", writers, self)
	}
}

func TestCloudTrailEventSource(t *testing.T) {
	for _, tc := range []struct {
		source, want string
		ok           bool
	}{
		{ids.SourceEC2, "ec2.amazonaws.com", true},
		{ids.SourceEKS, "eks.amazonaws.com", true},
		{ids.SourceIAM, "iam.amazonaws.com", true},
		{"aws.s3", "", false},
		{"", "", false},
		{"AWS.EC2", "", false},
	} {
		if got, ok := ids.CloudTrailEventSource(tc.source); got != tc.want || ok != tc.ok {
			t.Errorf("CloudTrailEventSource(%q) = %q, %v; want %q, %v", tc.source, got, ok, tc.want, tc.ok)
		}
	}
}
