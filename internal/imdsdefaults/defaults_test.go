package imdsdefaults

import (
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	prev := Defaults{HTTPTokens: "optional", HopLimit: 2, HTTPTokensEnforced: "disabled"}
	for _, tc := range []struct {
		name                 string
		enforce, wasEnforced bool
		previous             Defaults
		want                 Change
	}{
		{"create without enforcement", false, false, prev, Change{HTTPTokens: "required", HopLimit: 1}},
		{"create with enforcement", true, false, prev, Change{HTTPTokens: "required", HopLimit: 1, HTTPTokensEnforced: "enabled"}},
		{"update keeps enforcement", true, true, prev, Change{HTTPTokens: "required", HopLimit: 1, HTTPTokensEnforced: "enabled"}},
		{"update turns enforcement off: previous value back", false, true, prev, Change{HTTPTokens: "required", HopLimit: 1, HTTPTokensEnforced: "disabled"}},
		{"update turns enforcement off: no previous value", false, true, Defaults{}, Change{HTTPTokens: "required", HopLimit: 1, HTTPTokensEnforced: NoPreference}},
	} {
		if got := Target(tc.enforce, tc.wasEnforced, tc.previous); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestRestore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		previous Defaults
		enforced bool
		want     Change
	}{
		{"nothing before", Defaults{}, false, Change{HTTPTokens: NoPreference, HopLimit: -1}},
		{"nothing before, enforced", Defaults{}, true, Change{HTTPTokens: NoPreference, HopLimit: -1, HTTPTokensEnforced: NoPreference}},
		{"values before", Defaults{HTTPTokens: "optional", HopLimit: 2, HTTPTokensEnforced: "disabled"}, true,
			Change{HTTPTokens: "optional", HopLimit: 2, HTTPTokensEnforced: "disabled"}},
		{"enforcement never set is left alone", Defaults{HTTPTokens: "required", HopLimit: 3, HTTPTokensEnforced: "disabled"}, false,
			Change{HTTPTokens: "required", HopLimit: 3}},
	} {
		if got := Restore(tc.previous, tc.enforced); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPhysicalIDRoundTrip(t *testing.T) {
	for _, d := range []Defaults{
		{},
		{HTTPTokens: "optional", HopLimit: 2, HTTPTokensEnforced: "disabled"},
		{HTTPTokens: "required", HopLimit: 64, HTTPTokensEnforced: "enabled"},
		{HopLimit: 1},
	} {
		id := PhysicalID("444455556666", "eu-west-1", d)
		a, r, got, ok := ParsePhysicalID(id)
		if !ok || a != "444455556666" || r != "eu-west-1" || got != d {
			t.Errorf("%q read back as %s %s %+v %v", id, a, r, got, ok)
		}
		if len(id) > 1024 {
			t.Errorf("physical id over CloudFormation's 1 KB: %d", len(id))
		}
	}
	if id := PhysicalID("111122223333", "us-east-1", Defaults{}); id != "credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=-,enforced=-" {
		t.Errorf("format changed: %s", id)
	}
	for _, bad := range []string{
		"", "0b8b1a7e-9e2b-4a8e-9d4c-5f6a7b8c9d0e", // the request id a failed create leaves
		"credguard-imds-defaults:1111:us-east-1:tokens=-,hop=-,enforced=-",
		"credguard-imds-defaults:111122223333:us-east-1:tokens=maybe,hop=-,enforced=-",
		"credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=0,enforced=-",
		"credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=65,enforced=-",
		"credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=-",
	} {
		if _, _, _, ok := ParsePhysicalID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestStackLocation(t *testing.T) {
	a, r, err := StackLocation("arn:aws:cloudformation:eu-west-1:444455556666:stack/StackSet-credguard-member-abc/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f")
	if err != nil || a != "444455556666" || r != "eu-west-1" {
		t.Errorf("%s %s %v", a, r, err)
	}
	for _, bad := range []string{"", "stack/x", "arn:aws:s3:::bucket", "arn:aws:cloudformation:eu-west-1:4444:stack/x/y", "arn:aws:cloudformation::444455556666:stack/x/y",
		"arn:aws:cloudformation:x.evil:444455556666:stack/x/y", "arn:aws:cloudformation:EU-WEST-1:444455556666:stack/x/y",
		"arn:aws:cloudformation:eu-west-1.:444455556666:stack/x/y", "arn:aws:cloudformation:eu-west:444455556666:stack/x/y",
		"arn:aws-cn:cloudformation:eu-west-1:444455556666:stack/x/y", "arn:aws:cloudformation:cn-north-1:444455556666:stack/x/y"} {
		if _, _, err := StackLocation(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		props   map[string]any
		enforce bool
		err     string
	}{
		{props: nil},
		{props: map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:credguard-imds-defaults"}},
		{props: map[string]any{"Enforce": "true"}, enforce: true},
		{props: map[string]any{"Enforce": "false"}},
		{props: map[string]any{"Enforce": true}, enforce: true},
		{props: map[string]any{"Enforce": "yes"}, err: `property Enforce: want true or false, got "yes"`},
		{props: map[string]any{"Enforce": 1.0}, err: "property Enforce: want true or false, got 1"},
		{props: map[string]any{"Enforced": "true"}, err: `unknown property "Enforced"`},
	} {
		p, err := ParseProperties(tc.props)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: err %v, want %q", tc.props, err, tc.err)
		case tc.err == "" && (err != nil || p.Enforce != tc.enforce):
			t.Errorf("%v: %+v %v", tc.props, p, err)
		}
	}
}

func TestChangeString(t *testing.T) {
	if got := (Change{HTTPTokens: "required", HopLimit: 1}).String(); got != "HttpTokens=required HttpPutResponseHopLimit=1 HttpTokensEnforced=unchanged" {
		t.Error(got)
	}
	if got := Restore(Defaults{}, true).String(); got != "HttpTokens=no-preference HttpPutResponseHopLimit=no-preference HttpTokensEnforced=no-preference" {
		t.Error(got)
	}
}
