package imdsdefaults

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
)

func TestCheck(t *testing.T) {
	const (
		stackARN = "arn:aws:cloudformation:eu-west-1:444455556666:stack/StackSet-credguard-member-1/5f1c7a40"
		ours     = "credguard-imds-defaults:444455556666:eu-west-1:tokens=-,hop=-,enforced=-"
		other    = "credguard-imds-defaults:444455556666:eu-west-1:tokens=optional,hop=-,enforced=-"
	)
	req := func(kind cfn.RequestType) Request {
		r := Request{Kind: kind, StackID: stackARN, LogicalID: "ImdsDefaults", PhysicalID: ours}
		if kind == cfn.RequestCreate {
			r.PhysicalID = ""
		}
		return r
	}
	described := func(typ, status, physical string) Finding {
		return Finding{Evidence: Described, Resource: Reported{Type: typ, Status: status, PhysicalID: physical}}
	}
	create, update, del := cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete
	for _, tc := range []struct {
		name   string
		req    Request
		f      Finding
		want   Verdict
		reason string
	}{
		// Genuine requests.
		{"create", req(create), described(ResourceType, "CREATE_IN_PROGRESS", ""), Proceed, ""},
		{"create ignores the physical id", req(create), described(ResourceType, "CREATE_IN_PROGRESS", "left-over"), Proceed, ""},
		{"update", req(update), described(ResourceType, "UPDATE_IN_PROGRESS", ours), Proceed, ""},
		{"delete", req(del), described(ResourceType, "DELETE_IN_PROGRESS", ours), Proceed, ""},

		// Another type: never ours, refused at once.
		{"create of another type", req(create), described("AWS::IAM::Role", "CREATE_IN_PROGRESS", ""), Refuse, "is a AWS::IAM::Role, not a Custom::CredguardImdsDefaults"},
		{"update of another type", req(update), described("AWS::IAM::Role", "UPDATE_IN_PROGRESS", ours), Refuse, "is a AWS::IAM::Role"},
		{"delete of another type", req(del), described("AWS::IAM::Role", "DELETE_IN_PROGRESS", ours), Refuse, "is a AWS::IAM::Role"},

		// Another physical id: refused at once (CloudFormation sends the id it holds).
		{"update of another physical id", req(update), described(ResourceType, "UPDATE_IN_PROGRESS", other), Refuse, `has physical id "` + other + `", not the request's "` + ours + `"`},
		{"delete of another physical id", req(del), described(ResourceType, "DELETE_IN_PROGRESS", other), Refuse, "not the request's"},
		{"delete of a resource with no physical id", req(del), described(ResourceType, "DELETE_IN_PROGRESS", ""), Refuse, `has physical id "", not the request's`},

		// Another status: CloudFormation is not waiting for this request (its record may lag: look again shortly).
		{"create while complete", req(create), described(ResourceType, "CREATE_COMPLETE", ours), AwaitSettle, "is CREATE_COMPLETE, not CREATE_IN_PROGRESS"},
		{"update while deleting", req(update), described(ResourceType, "DELETE_IN_PROGRESS", ours), AwaitSettle, "is DELETE_IN_PROGRESS, not UPDATE_IN_PROGRESS"},
		{"update while complete", req(update), described(ResourceType, "UPDATE_COMPLETE", ours), AwaitSettle, "not UPDATE_IN_PROGRESS"},
		{"delete while idle", req(del), described(ResourceType, "CREATE_COMPLETE", ours), AwaitSettle, "is CREATE_COMPLETE, not DELETE_IN_PROGRESS"},
		{"delete while updating", req(del), described(ResourceType, "UPDATE_IN_PROGRESS", ours), AwaitSettle, "not DELETE_IN_PROGRESS"},
		{"delete after delete", req(del), described(ResourceType, "DELETE_COMPLETE", ours), AwaitSettle, "is DELETE_COMPLETE"},
		{"no status", req(update), described(ResourceType, "", ours), AwaitSettle, "is in no status, not UPDATE_IN_PROGRESS"},

		// The member role cannot be assumed: Create and Update wait for it; Delete leaves the defaults alone.
		{"create without the role", req(create), Finding{Evidence: RoleUnavailable, Detail: "AccessDenied"}, AwaitAccess, "cannot be assumed in the stack's account (AccessDenied): it does not exist (yet)"},
		{"update without the role", req(update), Finding{Evidence: RoleUnavailable}, AwaitAccess, "cannot be assumed"},
		{"delete without the role", req(del), Finding{Evidence: RoleUnavailable}, Skip, "the account's IMDS defaults are left as they are"},

		// The role may not describe the stack.
		{"create not permitted", req(create), Finding{Evidence: NotPermitted}, AwaitAccess, "may not call cloudformation:DescribeStackResource"},
		{"update not permitted", req(update), Finding{Evidence: NotPermitted}, AwaitAccess, "may still be propagating"},
		{"delete not permitted", req(del), Finding{Evidence: NotPermitted}, Refuse, "update the member stack (StackSet), then retry"},

		// No such stack: nothing is deleting the resource.
		{"create in no stack", req(create), Finding{Evidence: StackMissing}, AwaitSettle, "stack " + stackARN + " does not exist"},
		{"update in no stack", req(update), Finding{Evidence: StackMissing}, AwaitSettle, "does not exist"},
		{"delete in no stack", req(del), Finding{Evidence: StackMissing}, Skip, "nothing is restored"},

		// No such resource.
		{"create of no resource", req(create), Finding{Evidence: ResourceMissing}, AwaitSettle, "CloudFormation knows no resource ImdsDefaults of stack " + stackARN},
		{"update of no resource", req(update), Finding{Evidence: ResourceMissing}, AwaitSettle, "knows no resource"},
		{"delete of no resource", req(del), Finding{Evidence: ResourceMissing}, AwaitSettle, "knows no resource"},

		// Nonsense never proceeds.
		{"unknown request type", Request{Kind: "Replace"}, described(ResourceType, "CREATE_IN_PROGRESS", ""), Refuse, `unknown request type "Replace"`},
		{"unknown evidence", req(create), Finding{Evidence: Evidence(42)}, Refuse, "unknown evidence 42"},
	} {
		got, reason := Check(tc.req, tc.f)
		if got != tc.want || !strings.Contains(reason, tc.reason) || (got == Proceed) != (reason == "") {
			t.Errorf("%s: %s %q, want %s with %q", tc.name, got, reason, tc.want, tc.reason)
		}
	}
}

// Whatever CloudFormation reports, only the matching record proceeds.
func TestCheckProceedsOnlyOnAnExactMatch(t *testing.T) {
	const ours = "credguard-imds-defaults:444455556666:eu-west-1:tokens=-,hop=-,enforced=-"
	types := []string{ResourceType, "AWS::IAM::Role", "Custom::Other", ""}
	physical := []string{ours, "other", ""}
	for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete} {
		for _, typ := range types {
			for _, status := range resourceStatusesForTest {
				for _, p := range physical {
					r := Request{Kind: kind, StackID: "arn:aws:cloudformation:eu-west-1:444455556666:stack/s/1", LogicalID: "R", PhysicalID: ours}
					got, _ := Check(r, Finding{Evidence: Described, Resource: Reported{Type: typ, Status: status, PhysicalID: p}})
					match := typ == ResourceType && status == expectedStatus(kind) && (kind == cfn.RequestCreate || p == ours)
					if (got == Proceed) != match {
						t.Errorf("%s of %s %s %q: %s", kind, typ, status, p, got)
					}
					if got == Skip {
						t.Errorf("%s of %s %s %q: skip on a described resource", kind, typ, status, p)
					}
				}
			}
		}
	}
}

var resourceStatusesForTest = []string{
	"CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_COMPLETE", "DELETE_SKIPPED",
	"UPDATE_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_COMPLETE", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS",
	"UPDATE_ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE", "",
}

func TestClassifyError(t *testing.T) {
	for _, tc := range []struct {
		role          bool
		code, message string
		want          Evidence
		ok            bool
	}{
		{true, "AccessDenied", "User: x is not authorized to perform: sts:AssumeRole", RoleUnavailable, true},
		{true, "AccessDeniedException", "", RoleUnavailable, true},
		{false, "AccessDenied", "User: x is not authorized to perform: cloudformation:DescribeStackResource", NotPermitted, true},
		{false, "ValidationError", "Stack with id arn:aws:cloudformation:eu-west-1:444455556666:stack/s/1 does not exist", StackMissing, true},
		{false, "ValidationError", "Stack with id s does not exist", StackMissing, true},
		{false, "ValidationError", "Resource ImdsDefaults does not exist for stack s", ResourceMissing, true},
		// Anything else fails the request as an error.
		{false, "ValidationError", "1 validation error detected: Value null at 'logicalResourceId'", 0, false},
		{true, "ValidationError", "Stack with id s does not exist", 0, false},
		{false, "Throttling", "Rate exceeded", 0, false},
		{true, "ExpiredToken", "", 0, false},
		{false, "InternalFailure", "", 0, false},
	} {
		got, ok := classifyError(tc.role, tc.code, tc.message)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v %s %q: %d %v, want %d %v", tc.role, tc.code, tc.message, got, ok, tc.want, tc.ok)
		}
	}
}
