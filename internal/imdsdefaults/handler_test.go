package imdsdefaults

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/settings"
)

const (
	hub    = "111122223333"
	member = "444455556666"
)

var (
	lambdaTrust = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	memberTrust = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/credguard-imds-defaults"},"Action":"sts:AssumeRole"}]}`)
)

// The stacks that declare the resource: the hub's own (single mode) and a
// StackSet instance in the member account.
func stackID(account, region string) string {
	if account == hub {
		return "arn:aws:cloudformation:" + region + ":" + account + ":stack/CredguardHub/0a1b2c3d-0b1a-11ef-9d4c-0a1b2c3d4e5f"
	}
	return "arn:aws:cloudformation:" + region + ":" + account + ":stack/StackSet-credguard-member-5f1c7a40/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f"
}

const logicalID = "ImdsDefaults"

// stack is a stack holding the resource (in the status given) and a role.
func stack(account, region, status, physical string) sandbox.Stack {
	return sandbox.Stack{StackID: stackID(account, region), Resources: []sandbox.StackResource{
		{LogicalID: logicalID, PhysicalID: physical, Type: ResourceType, Status: status},
		{LogicalID: "ForwardRole", PhysicalID: "credguard-forward", Type: "AWS::IAM::Role", Status: "CREATE_COMPLETE"},
	}}
}

// fixture: the hub (its stack in us-east-1) and a member with the member
// role, IMDS defaults and a StackSet stack in eu-west-1. Both resources are
// being created.
func fixture() *sandbox.Fixture {
	return &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub: {Roles: []sandbox.Role{{Name: "credguard-imds-defaults", TrustPolicy: lambdaTrust}},
			Regions: map[string]*sandbox.Region{"us-east-1": {Stacks: []sandbox.Stack{stack(hub, "us-east-1", "CREATE_IN_PROGRESS", "")}}}},
		member: {
			Roles: []sandbox.Role{{Name: ids.DefaultsRoleName, TrustPolicy: memberTrust}},
			Regions: map[string]*sandbox.Region{"eu-west-1": {
				MetadataDefaults: &sandbox.MetadataDefaults{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPTokensEnforced: "disabled", HTTPEndpoint: "enabled"},
				Stacks:           []sandbox.Stack{stack(member, "eu-west-1", "CREATE_IN_PROGRESS", "")},
			}},
		},
	}}
}

// progress moves the resource to a status, as CloudFormation does before it
// sends the next request.
func progress(t *testing.T, s *sandbox.Server, account, region, status, physical string) {
	t.Helper()
	if err := s.PutStackResource(account, region, stackID(account, region), sandbox.StackResource{
		LogicalID: logicalID, PhysicalID: physical, Type: ResourceType, Status: status}); err != nil {
		t.Fatal(err)
	}
}

// clock records the handler's waits instead of sleeping; then, when set,
// runs after the nth wait (a change in the sandbox between attempts).
type clock struct {
	waits []time.Duration
	then  func(n int)
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	if c.then != nil {
		c.then(len(c.waits))
	}
	return ctx.Err()
}

func (c *clock) total() time.Duration {
	var t time.Duration
	for _, w := range c.waits {
		t += w
	}
	return t
}

func start(t *testing.T, f *sandbox.Fixture) (*sandbox.Server, *Handler, *clock) {
	t.Helper()
	s := sandboxtest.Start(t, f)
	// The function runs in the hub's region with the hub's credentials.
	base, err := s.AWSConfig(context.Background(), hub, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	base.Retryer = accounts.Retryer
	c := &clock{}
	return s, FromConfig(base, settings.Settings{HubAccount: hub, DefaultsRoleName: ids.DefaultsRoleName},
		Options{Sleep: c.sleep, Reserve: testReserve}), c
}

// testReserve fits the tests' 30-second deadline; the clock's waits take
// no time.
const testReserve = 5 * time.Second

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func event(kind cfn.RequestType, account, region, physical string, props, old map[string]any) cfn.Event {
	return cfn.Event{
		RequestType: kind, RequestID: "0b8b1a7e-9e2b-4a8e-9d4c-5f6a7b8c9d0e", ResponseURL: "https://cloudformation-custom-resource-response.example/",
		ResourceType: ResourceType, LogicalResourceID: logicalID, StackID: stackID(account, region),
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

// modifications counts ModifyInstanceMetadataDefaults calls, whatever their outcome.
func modifications(s *sandbox.Server) int {
	n := 0
	for _, c := range s.Journal() {
		if c.Operation == "ModifyInstanceMetadataDefaults" {
			n++
		}
	}
	return n
}

func TestLifecycleInItsOwnAccount(t *testing.T) {
	s, h, clk := start(t, fixture())
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
		progress(t, s, hub, "us-east-1", "UPDATE_IN_PROGRESS", id)
		got, _, err := h.Handle(c, event(cfn.RequestUpdate, hub, "us-east-1", id, st.props, st.old))
		if err != nil || got != id {
			t.Fatalf("update %d: %q %v", i, got, err)
		}
		if d := defaultsIn(t, s, hub, "us-east-1"); d != st.want {
			t.Errorf("after update %d: %+v, want %+v", i, d, st.want)
		}
	}

	progress(t, s, hub, "us-east-1", "DELETE_IN_PROGRESS", id)
	if _, _, err := h.Handle(c, event(cfn.RequestDelete, hub, "us-east-1", id, enforce("true"), nil)); err != nil {
		t.Fatal(err)
	}
	if d := defaultsIn(t, s, hub, "us-east-1"); d != (sandbox.MetadataDefaults{}) {
		t.Errorf("after delete: %+v, want no preference everywhere", d)
	}
	if len(clk.waits) != 0 {
		t.Errorf("genuine requests waited %v", clk.waits)
	}
	// Every request was checked, in the hub's own account, before its write.
	checked := 0
	for _, call := range s.Journal() {
		if call.Operation == "DescribeStackResource" {
			checked++
			if call.Account != hub || call.Region != "us-east-1" || call.Resource != stackID(hub, "us-east-1") || call.Outcome != "ok" {
				t.Errorf("verified with %+v", call)
			}
		}
	}
	if checked != 5 {
		t.Errorf("%d verifications for 5 requests", checked)
	}
}

func TestLifecycleInAMemberAccountRestoresWhatWasThere(t *testing.T) {
	s, h, _ := start(t, fixture())
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
		switch call.Operation {
		case "ModifyInstanceMetadataDefaults", "DescribeStackResource":
			if call.Account != member || !strings.Contains(call.Principal, "assumed-role/credguard-imds-defaults-member/credguard-imds-defaults") {
				t.Errorf("%s as %s in %s", call.Operation, call.Principal, call.Account)
			}
			assumed = assumed || call.Operation == "ModifyInstanceMetadataDefaults"
		}
	}
	if !assumed {
		t.Error("no ModifyInstanceMetadataDefaults call")
	}
	if d := defaultsIn(t, s, hub, "eu-west-1"); d != (sandbox.MetadataDefaults{}) {
		t.Errorf("the hub's defaults changed: %+v", d)
	}

	progress(t, s, member, "eu-west-1", "UPDATE_IN_PROGRESS", id)
	if got, _, err := h.Handle(c, event(cfn.RequestUpdate, member, "eu-west-1", id, enforce("false"), enforce("true"))); err != nil || got != id {
		t.Fatalf("update: %q %v", got, err)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d.HTTPTokensEnforced != "disabled" || d.HTTPTokens != "required" {
		t.Errorf("after update: %+v", d)
	}

	progress(t, s, member, "eu-west-1", "DELETE_IN_PROGRESS", id)
	if _, _, err := h.Handle(c, event(cfn.RequestDelete, member, "eu-west-1", id, enforce("false"), nil)); err != nil {
		t.Fatal(err)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d != before {
		t.Errorf("after delete: %+v, want %+v", d, before)
	}
}

func TestRequestsThatChangeNothing(t *testing.T) {
	s, h, _ := start(t, fixture())
	c := ctx(t)
	noLogical := event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil)
	noLogical.LogicalResourceID = ""
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
		{"no logical id", noLogical, "refused, nothing changed: the request names no LogicalResourceId"},
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
	if n := len(s.Journal()); n != 0 {
		t.Errorf("%d AWS calls for requests that need none", n)
	}
}

func TestUpdateOfAForeignIDStartsAfresh(t *testing.T) {
	s, h, _ := start(t, fixture())
	progress(t, s, member, "eu-west-1", "UPDATE_IN_PROGRESS", "some-older-id")
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

// Requests CloudFormation did not send: any principal of the organization
// may invoke the function. None may write; each is answered FAILED, but a
// Delete naming a stack that does not exist, answered SUCCESS (no stack
// waits for it, and nothing is restored).
func TestForgedRequestsAreRefused(t *testing.T) {
	genuine := PhysicalID(member, "eu-west-1", Defaults{HTTPTokens: "required", HopLimit: 1})
	crafted := PhysicalID(member, "eu-west-1", Defaults{HTTPTokens: "optional", HopLimit: 64, HTTPTokensEnforced: "disabled"})
	hubStackInMember := strings.Replace(stackID(hub, "us-east-1"), "us-east-1:"+hub, "eu-west-1:"+member, 1)
	for _, tc := range []struct {
		name           string
		status, physID string // the genuine resource's record
		e              cfn.Event
		err            string // "" for SUCCESS
		settles        bool   // waited for CloudFormation's record to settle
	}{
		{"delete while the stack is idle", "CREATE_COMPLETE", genuine,
			event(cfn.RequestDelete, member, "eu-west-1", genuine, enforce("true"), nil), "is CREATE_COMPLETE, not DELETE_IN_PROGRESS", true},
		{"delete with a crafted physical id", "DELETE_IN_PROGRESS", genuine,
			event(cfn.RequestDelete, member, "eu-west-1", crafted, enforce("true"), nil), `has physical id "` + genuine + `", not the request's`, false},
		{"update with a crafted physical id", "UPDATE_IN_PROGRESS", genuine,
			event(cfn.RequestUpdate, member, "eu-west-1", crafted, enforce("false"), enforce("true")), "not the request's", false},
		{"update while the stack is idle", "CREATE_COMPLETE", genuine,
			event(cfn.RequestUpdate, member, "eu-west-1", genuine, enforce("false"), enforce("true")), "is CREATE_COMPLETE, not UPDATE_IN_PROGRESS", true},
		{"create of a resource that exists", "CREATE_COMPLETE", genuine,
			event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil), "is CREATE_COMPLETE, not CREATE_IN_PROGRESS", true},
		{"another resource type", "DELETE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestDelete, member, "eu-west-1", "credguard-forward", enforce("true"), nil)
				e.LogicalResourceID = "ForwardRole"
				return e
			}(), "", false}, // credguard-forward is no physical id of ours: nothing to restore, nothing checked
		{"another resource type, our physical id", "DELETE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestDelete, member, "eu-west-1", genuine, enforce("true"), nil)
				e.LogicalResourceID = "ForwardRole"
				return e
			}(), "ForwardRole of stack " + stackID(member, "eu-west-1") + " is a AWS::IAM::Role, not a Custom::CredguardImdsDefaults", false},
		{"unknown logical id", "DELETE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestDelete, member, "eu-west-1", genuine, enforce("true"), nil)
				e.LogicalResourceID = "Nope"
				return e
			}(), "CloudFormation knows no resource Nope", true},
		{"update naming another account's stack", "UPDATE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestUpdate, member, "eu-west-1", genuine, enforce("false"), enforce("true"))
				e.StackID = hubStackInMember
				return e
			}(), "stack " + hubStackInMember + " does not exist", true},
		{"delete naming another account's stack", "DELETE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestDelete, member, "eu-west-1", genuine, enforce("true"), nil)
				e.StackID = hubStackInMember
				return e
			}(), "", false},
		{"delete naming an unknown stack", "DELETE_IN_PROGRESS", genuine,
			func() cfn.Event {
				e := event(cfn.RequestDelete, member, "eu-west-1", genuine, enforce("true"), nil)
				e.StackID = strings.Replace(e.StackID, "5f1c7a40-0b1a", "00000000-0b1a", 1)
				return e
			}(), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixture()
			f.Accounts[member].Regions["eu-west-1"].Stacks = []sandbox.Stack{stack(member, "eu-west-1", tc.status, tc.physID)}
			s, h, clk := start(t, f)
			before := defaultsIn(t, s, member, "eu-west-1")
			id, _, err := h.Handle(ctx(t), tc.e)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("err %v, want SUCCESS", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), "refused, nothing changed: ") || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("err %v, want refused with %q", err, tc.err)
			}
			if tc.e.RequestType != cfn.RequestCreate && id != tc.e.PhysicalResourceID {
				t.Errorf("answered physical id %q", id)
			}
			if n := modifications(s); n != 0 {
				t.Errorf("%d ModifyInstanceMetadataDefaults calls", n)
			}
			if d := defaultsIn(t, s, member, "eu-west-1"); d != before {
				t.Errorf("defaults %+v, want %+v", d, before)
			}
			if got := clk.total(); (got > 0) != tc.settles || got > DefaultSettleWait {
				t.Errorf("waited %v (%v)", got, clk.waits)
			}
		})
	}
}

// A first rollout: the StackSet creates the member role in one region while
// the resource of another region already calls. Create waits for it.
func TestCreateWaitsForTheMemberRole(t *testing.T) {
	f := fixture()
	f.Accounts[member].Roles = nil
	s, h, clk := start(t, f)
	memberCfg, err := s.AWSConfig(context.Background(), member, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	clk.then = func(n int) {
		if n == 2 { // the role's region creates it after the second failed attempt
			if _, err := iam.NewFromConfig(memberCfg).CreateRole(context.Background(), &iam.CreateRoleInput{
				RoleName: aws.String(ids.DefaultsRoleName), AssumeRolePolicyDocument: aws.String(string(memberTrust))}); err != nil {
				t.Error(err)
			}
		}
	}
	id, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("false"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "credguard-imds-defaults:444455556666:eu-west-1:") {
		t.Errorf("physical id %q", id)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d.HTTPTokens != "required" || d.HTTPPutResponseHopLimit != 1 {
		t.Errorf("after create: %+v", d)
	}
	if !reflect.DeepEqual(clk.waits, []time.Duration{2 * time.Second, 4 * time.Second}) {
		t.Errorf("waits %v", clk.waits)
	}
	var assumes []string
	for _, call := range s.Journal() {
		if call.Operation == "AssumeRole" {
			assumes = append(assumes, call.Outcome)
		}
	}
	if !reflect.DeepEqual(assumes, []string{"AccessDenied", "AccessDenied", "ok"}) {
		t.Errorf("AssumeRole outcomes %v", assumes)
	}
}

func TestCreateGivesUpWhenTheRoleNeverComes(t *testing.T) {
	f := fixture()
	f.Accounts[member].Roles = nil
	s, h, clk := start(t, f)
	_, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "the member role cannot be assumed") ||
		!strings.Contains(err.Error(), "arn:aws:iam::444455556666:role/credguard-imds-defaults-member") || !strings.Contains(err.Error(), "over 4m0s") {
		t.Errorf("err %v", err)
	}
	if clk.total() != DefaultAccessWait {
		t.Errorf("waited %v in all (%v), want %v", clk.total(), clk.waits, DefaultAccessWait)
	}
	for _, w := range clk.waits {
		if w > 20*time.Second {
			t.Errorf("a wait of %v", w)
		}
	}
	if n := writes(s); n != 0 {
		t.Errorf("%d writes", n)
	}
}

// No wait runs into the time kept for the answer before the deadline.
func TestWaitsEndBeforeTheDeadline(t *testing.T) {
	f := fixture()
	f.Accounts[member].Roles = nil
	_, h, clk := start(t, f)
	c, cancel := context.WithTimeout(context.Background(), testReserve+3*time.Second)
	defer cancel()
	_, _, err := h.Handle(c, event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "still so after 2 attempts over 2s") {
		t.Errorf("err %v", err)
	}
	if !reflect.DeepEqual(clk.waits, []time.Duration{2 * time.Second}) {
		t.Errorf("waits %v", clk.waits)
	}
}

// An account leaving: the StackSet deletes the role's region first. The
// other regions' deletes cannot verify or restore anything: SUCCESS, and
// the defaults stay as they are (protected).
func TestDeleteWithTheMemberRoleGone(t *testing.T) {
	f := fixture()
	f.Accounts[member].Roles = nil
	id := PhysicalID(member, "eu-west-1", Defaults{HTTPTokens: "optional"})
	f.Accounts[member].Regions["eu-west-1"].Stacks = []sandbox.Stack{stack(member, "eu-west-1", "DELETE_IN_PROGRESS", id)}
	s, h, clk := start(t, f)
	before := defaultsIn(t, s, member, "eu-west-1")
	got, _, err := h.Handle(ctx(t), event(cfn.RequestDelete, member, "eu-west-1", id, enforce("true"), nil))
	if err != nil || got != id {
		t.Fatalf("%q %v, want SUCCESS", got, err)
	}
	if n := modifications(s); n != 0 || len(clk.waits) != 0 {
		t.Errorf("%d modifications, waits %v", n, clk.waits)
	}
	if d := defaultsIn(t, s, member, "eu-west-1"); d != before {
		t.Errorf("defaults %+v, want %+v", d, before)
	}
}

// A member role without cloudformation:DescribeStackResource (a member
// stack older than the function): Create and Update wait for it, then fail;
// Delete fails at once. Nothing is written either way.
func TestVerificationNotPermitted(t *testing.T) {
	f := fixture()
	f.Faults = &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{
		"cloudformation:DescribeStackResource": {Rate: 1, Code: "AccessDenied", Account: member}}}
	id := PhysicalID(member, "eu-west-1", Defaults{})
	s, h, clk := start(t, f)
	_, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "may not call cloudformation:DescribeStackResource") || clk.total() != DefaultAccessWait {
		t.Errorf("create: err %v after %v", err, clk.total())
	}
	clk.waits = nil
	progress(t, s, member, "eu-west-1", "DELETE_IN_PROGRESS", id)
	_, _, err = h.Handle(ctx(t), event(cfn.RequestDelete, member, "eu-west-1", id, enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "update the member stack (StackSet), then retry") || len(clk.waits) != 0 {
		t.Errorf("delete: err %v after %v", err, clk.waits)
	}
	if n := modifications(s); n != 0 {
		t.Errorf("%d modifications", n)
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

// creating is a small fake CloudFormation: the resource is being created.
type creating struct{}

func (creating) DescribeStackResource(_ context.Context, in *cloudformation.DescribeStackResourceInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourceOutput, error) {
	return &cloudformation.DescribeStackResourceOutput{StackResourceDetail: &cfntypes.StackResourceDetail{
		StackId: in.StackName, LogicalResourceId: in.LogicalResourceId, ResourceType: aws.String(ResourceType),
		ResourceStatus: cfntypes.ResourceStatusCreateInProgress,
	}}, nil
}

func TestDeclarativePolicyIsReported(t *testing.T) {
	fake := &declarative{}
	h := New(func(context.Context, string, string) (Clients, error) {
		return Clients{EC2: fake, CloudFormation: creating{}}, nil
	}, Options{})
	_, _, err := h.Handle(ctx(t), event(cfn.RequestCreate, member, "eu-west-1", "", enforce("true"), nil))
	if err == nil || !strings.Contains(err.Error(), "declarative policy (Set by the security team)") || fake.modified {
		t.Errorf("err %v, modified %v", err, fake.modified)
	}
}
