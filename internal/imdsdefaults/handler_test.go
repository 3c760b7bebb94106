package imdsdefaults

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
)

const (
	hub    = "111122223333"
	member = "444455556666"
)

func fixture() *sandbox.Fixture {
	lambdaTrust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	memberTrust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/credguard-imds-defaults"},"Action":"sts:AssumeRole"}]}`)
	return &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub: {Roles: []sandbox.Role{{Name: "credguard-imds-defaults", TrustPolicy: lambdaTrust}}},
		member: {
			Roles: []sandbox.Role{{Name: accounts.DefaultRoleName, TrustPolicy: memberTrust}},
			Regions: map[string]*sandbox.Region{"eu-west-1": {MetadataDefaults: &sandbox.MetadataDefaults{
				HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPTokensEnforced: "disabled", HTTPEndpoint: "enabled",
			}}},
		},
	}}
}

func start(t *testing.T, f *sandbox.Fixture) (*sandbox.Server, *Handler) {
	t.Helper()
	s, err := sandbox.New(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The function runs in the hub's region with the hub's credentials.
	base, err := s.AWSConfig(context.Background(), hub, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	base.Retryer = accounts.Retryer
	return s, FromConfig(base, settings.Settings{HubAccount: hub, MemberRoleName: accounts.DefaultRoleName}, nil)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func stackID(account, region string) string {
	return "arn:aws:cloudformation:" + region + ":" + account + ":stack/credguard-member/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f"
}

func event(kind cfn.RequestType, account, region, physical string, props, old map[string]any) cfn.Event {
	return cfn.Event{
		RequestType: kind, RequestID: "0b8b1a7e-9e2b-4a8e-9d4c-5f6a7b8c9d0e", ResponseURL: "https://cloudformation-custom-resource-response.example/",
		ResourceType: ResourceType, LogicalResourceID: "ImdsDefaults", StackID: stackID(account, region),
		PhysicalResourceID: physical, ResourceProperties: props, OldResourceProperties: old,
	}
}

func enforce(v string) map[string]any {
	return map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:credguard-imds-defaults", "Enforce": v}
}

func defaultsIn(t *testing.T, s *sandbox.Server, account, region string) sandbox.MetadataDefaults {
	t.Helper()
	r := s.State().Accounts[account].Regions[region]
	if r == nil || r.MetadataDefaults == nil {
		return sandbox.MetadataDefaults{}
	}
	return *r.MetadataDefaults
}

func writes(s *sandbox.Server) int {
	n := 0
	for _, c := range s.Journal() {
		if c.Write && c.Outcome == "ok" {
			n++
		}
	}
	return n
}

func TestLifecycleInItsOwnAccount(t *testing.T) {
	s, h := start(t, fixture())
	c := ctx(t)

	id, data, err := h.Handle(c, event(cfn.RequestCreate, hub, "us-east-1", "", enforce("false"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if id != "credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=-,enforced=-" {
		t.Errorf("physical id %q", id)
	}
	if data["PreviousHttpTokens"] != NoPreference || data["PreviousHttpPutResponseHopLimit"] != NoPreference || data["Enforce"] != "false" {
		t.Errorf("data %v", data)
	}
	if d := defaultsIn(t, s, hub, "us-east-1"); d != (sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}) {
		t.Errorf("after create: %+v", d)
	}

	// Turn enforcement on, then off again: the same physical id throughout.
	steps := []struct {
		props, old map[string]any
		want       sandbox.MetadataDefaults
	}{
		{enforce("true"), enforce("false"), sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1, HTTPTokensEnforced: "enabled"}},
		{enforce("false"), enforce("true"), sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}},
		{enforce("true"), enforce("false"), sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1, HTTPTokensEnforced: "enabled"}},
	}
	for i, st := range steps {
		got, _, err := h.Handle(c, event(cfn.RequestUpdate, hub, "us-east-1", id, st.props, st.old))
		if err != nil || got != id {
			t.Fatalf("update %d: %q %v", i, got, err)
		}
		if d := defaultsIn(t, s, hub, "us-east-1"); d != st.want {
			t.Errorf("after update %d: %+v, want %+v", i, d, st.want)
		}
	}

	if _, _, err := h.Handle(c, event(cfn.RequestDelete, hub, "us-east-1", id, enforce("true"), nil)); err != nil {
		t.Fatal(err)
	}
	if d := defaultsIn(t, s, hub, "us-east-1"); d != (sandbox.MetadataDefaults{}) {
		t.Errorf("after delete: %+v, want no preference everywhere", d)
	}
}

func TestLifecycleInAMemberAccountRestoresWhatWasThere(t *testing.T) {
	s, h := start(t, fixture())
	c := ctx(t)
	before := defaultsIn(t, s, member, "eu-west-1")

	id, data, err := h.Handle(c, event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if id != "credguard-imds-defaults:444455556666:eu-west-1:tokens=optional,hop=2,enforced=disabled" || data["PreviousHttpPutResponseHopLimit"] != "2" {
		t.Errorf("physical id %q, data %v", id, data)
	}
	want := sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1, HTTPTokensEnforced: "enabled", HTTPEndpoint: "enabled"}
	if d := defaultsIn(t, s, member, "eu-west-1"); d != want {
		t.Errorf("after create: %+v, want %+v", d, want)
	}
	assumed := false
	for _, call := range s.Journal() {
		if call.Operation == "ModifyInstanceMetadataDefaults" {
			if call.Account != member || !strings.Contains(call.Principal, "assumed-role/credguard-remediation/"+SessionName) {
				t.Errorf("modified as %s in %s", call.Principal, call.Account)
			}
			assumed = true
		}
	}
	if !assumed {
		t.Error("no ModifyInstanceMetadataDefaults call")
	}
	if d := defaultsIn(t, s, hub, "eu-west-1"); d != (sandbox.MetadataDefaults{}) {
		t.Errorf("the hub's defaults changed: %+v", d)
	}

	if _, _, err := h.Handle(c, event(cfn.RequestDelete, member, "eu-west-1", id, enforce("true"), nil)); err != nil {
		t.Fatal(err)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d != before {
		t.Errorf("after delete: %+v, want %+v", d, before)
	}
}

func TestRequestsThatChangeNothing(t *testing.T) {
	s, h := start(t, fixture())
	c := ctx(t)
	for _, tc := range []struct {
		name string
		e    cfn.Event
		err  string
	}{
		// A create that failed leaves the request id as physical id; the rollback's delete must succeed.
		{"delete after a failed create", event(cfn.RequestDelete, member, "eu-west-1", "0b8b1a7e-9e2b-4a8e-9d4c-5f6a7b8c9d0e", enforce("true"), nil), ""},
		{"delete of another region's id", event(cfn.RequestDelete, member, "eu-west-1", PhysicalID(member, "us-east-1", Defaults{}), enforce("true"), nil), ""},
		{"bad property", event(cfn.RequestCreate, member, "eu-west-1", "", enforce("sometimes"), nil), "property Enforce"},
		{"unknown property", event(cfn.RequestCreate, member, "eu-west-1", "", map[string]any{"HopLimit": "1"}, nil), `unknown property "HopLimit"`},
		{"bad stack id", cfn.Event{RequestType: cfn.RequestCreate, StackID: "stack/credguard"}, "not a CloudFormation stack ARN"},
		{"unknown request type", event("Replace", member, "eu-west-1", "", nil, nil), `unknown request type "Replace"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _, err := h.Handle(c, tc.e)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("err %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("err %v, want %q", err, tc.err)
			}
			if tc.e.RequestType == cfn.RequestDelete && id != tc.e.PhysicalResourceID {
				t.Errorf("delete answered physical id %q", id)
			}
		})
	}
	if n := writes(s); n != 0 {
		t.Errorf("%d writes", n)
	}
}

func TestUpdateOfAForeignIDStartsAfresh(t *testing.T) {
	s, h := start(t, fixture())
	id, _, err := h.Handle(ctx(t), event(cfn.RequestUpdate, member, "eu-west-1", "some-older-id", enforce("false"), enforce("false")))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, prev, ok := ParsePhysicalID(id); !ok || prev.HTTPTokens != "optional" || prev.HopLimit != 2 {
		t.Errorf("new physical id %q", id)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d.HTTPTokens != "required" || d.HTTPPutResponseHopLimit != 1 || d.HTTPTokensEnforced != "disabled" {
		t.Errorf("after update: %+v", d)
	}
}

func TestMemberRoleMissing(t *testing.T) {
	f := fixture()
	f.Accounts[member].Roles = nil
	_, h := start(t, f)
	_, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "arn:aws:iam::444455556666:role/credguard-remediation") {
		t.Errorf("err %v", err)
	}
}

// declarative is a small fake: EC2 answering that a declarative policy
// manages the defaults (the sandbox does not model declarative policies).
type declarative struct{ modified bool }

func (d *declarative) GetInstanceMetadataDefaults(context.Context, *ec2.GetInstanceMetadataDefaultsInput, ...func(*ec2.Options)) (*ec2.GetInstanceMetadataDefaultsOutput, error) {
	return &ec2.GetInstanceMetadataDefaultsOutput{AccountLevel: &ec2types.InstanceMetadataDefaultsResponse{
		HttpTokens: "required", ManagedBy: ec2types.ManagedByDeclarativePolicy, ManagedExceptionMessage: aws.String("Set by the security team"),
	}}, nil
}

func (d *declarative) ModifyInstanceMetadataDefaults(context.Context, *ec2.ModifyInstanceMetadataDefaultsInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataDefaultsOutput, error) {
	d.modified = true
	return &ec2.ModifyInstanceMetadataDefaultsOutput{}, nil
}

func TestDeclarativePolicyIsReported(t *testing.T) {
	fake := &declarative{}
	h := New(func(context.Context, string, string) (EC2, error) { return fake, nil }, nil)
	_, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "declarative policy (Set by the security team)") || fake.modified {
		t.Errorf("err %v, modified %v", err, fake.modified)
	}
}
