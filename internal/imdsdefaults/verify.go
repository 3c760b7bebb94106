package imdsdefaults

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
)

// Before it writes anything, the handler checks the request against
// CloudFormation in the target account: the function may be invoked by any
// principal of the organization, so a request is only a claim. A genuine
// request names a stack and logical resource of this type that CloudFormation
// reports in the matching *_IN_PROGRESS status, with (for Update and Delete)
// the request's physical id. Anything else is refused: nothing is written and
// CloudFormation (or whoever sent it) is answered FAILED.
//
// Two exceptions, for a Delete only, answer SUCCESS without writing: the
// member role cannot be assumed (the account is leaving, or the StackSet
// removed the role's region first) and the stack does not exist. Both leave
// the account's defaults as they are, which is the protected state (tokens
// required): the values the resource replaced are then not restored. Failing
// instead would leave a stack that can never be deleted (DELETE_FAILED until
// the resource is retained) for no protection gained. A Delete that names an
// existing stack but does not match it is refused.

// Request is what a custom resource request claims.
type Request struct {
	Kind       cfn.RequestType
	StackID    string
	LogicalID  string
	PhysicalID string // "" for Create
}

// Evidence is what the handler found when it looked the request up.
type Evidence int

const (
	// Described: CloudFormation described the resource (Finding.Resource).
	Described Evidence = iota
	// RoleUnavailable: the member role could not be assumed in the account.
	RoleUnavailable
	// NotPermitted: the role may not call cloudformation:DescribeStackResource.
	NotPermitted
	// StackMissing: the account and region hold no such stack.
	StackMissing
	// ResourceMissing: the stack holds no such logical resource.
	ResourceMissing
)

// Reported is CloudFormation's record of the resource.
type Reported struct {
	Type, Status, PhysicalID string
}

// Finding is the evidence for one request, with the AWS error text behind it
// (for the reason given to CloudFormation).
type Finding struct {
	Evidence Evidence
	Resource Reported // when Described
	Detail   string
}

// Verdict is what the handler does with a request.
type Verdict int

const (
	// Proceed: the request is genuine; act on it.
	Proceed Verdict = iota
	// Skip: answer SUCCESS and write nothing (Delete only).
	Skip
	// Refuse: answer FAILED and write nothing.
	Refuse
	// AwaitAccess: look again later; the member role or its permissions may
	// still be on their way (a first rollout creates the role in one region
	// while the other regions' resources already call).
	AwaitAccess
	// AwaitSettle: look again shortly; CloudFormation's record may lag the
	// request. Refuse when it does not settle.
	AwaitSettle
)

func (v Verdict) String() string {
	switch v {
	case Proceed:
		return "proceed"
	case Skip:
		return "skip"
	case Refuse:
		return "refuse"
	case AwaitAccess:
		return "await-access"
	case AwaitSettle:
		return "await-settle"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// expectedStatus is the status CloudFormation reports for a resource while it
// waits for the answer to a request of that kind.
func expectedStatus(kind cfn.RequestType) string {
	switch kind {
	case cfn.RequestCreate:
		return "CREATE_IN_PROGRESS"
	case cfn.RequestUpdate:
		return "UPDATE_IN_PROGRESS"
	case cfn.RequestDelete:
		return "DELETE_IN_PROGRESS"
	}
	return ""
}

// Check decides what to do with a request given what CloudFormation (and
// STS) answered. The reason explains any verdict but Proceed.
func Check(r Request, f Finding) (Verdict, string) {
	want := expectedStatus(r.Kind)
	if want == "" {
		return Refuse, fmt.Sprintf("unknown request type %q", r.Kind)
	}
	del := r.Kind == cfn.RequestDelete
	what := fmt.Sprintf("resource %s of stack %s", r.LogicalID, r.StackID)
	detail := ""
	if f.Detail != "" {
		detail = " (" + f.Detail + ")"
	}
	switch f.Evidence {
	case RoleUnavailable:
		if del {
			return Skip, "the member role cannot be assumed in the stack's account" + detail +
				": nothing can be verified or restored; the account's IMDS defaults are left as they are"
		}
		return AwaitAccess, "the member role cannot be assumed in the stack's account" + detail +
			": it does not exist (yet) there, or does not trust this function"
	case NotPermitted:
		if del {
			return Refuse, "the member role may not call cloudformation:DescribeStackResource" + detail +
				", so the request cannot be verified: update the member stack (StackSet), then retry"
		}
		return AwaitAccess, "the member role may not call cloudformation:DescribeStackResource" + detail +
			": its permissions may still be propagating, or the member stack (StackSet) predates them"
	case StackMissing:
		if del {
			return Skip, "stack " + r.StackID + " does not exist" + detail +
				": no stack is deleting this resource, so nothing is restored"
		}
		return AwaitSettle, "stack " + r.StackID + " does not exist" + detail + ": the request does not come from CloudFormation"
	case ResourceMissing:
		return AwaitSettle, "CloudFormation knows no " + what + detail + ": the request does not come from CloudFormation"
	case Described:
	default:
		return Refuse, fmt.Sprintf("unknown evidence %d", int(f.Evidence))
	}
	got := f.Resource
	switch {
	case got.Type != ResourceType:
		return Refuse, fmt.Sprintf("%s is a %s, not a %s: the request does not come from CloudFormation", what, got.Type, ResourceType)
	case r.Kind != cfn.RequestCreate && got.PhysicalID != r.PhysicalID:
		return Refuse, fmt.Sprintf("%s has physical id %q, not the request's %q: the request does not come from CloudFormation",
			what, got.PhysicalID, r.PhysicalID)
	case got.Status != want:
		return AwaitSettle, fmt.Sprintf("%s is %s, not %s: the request does not come from CloudFormation acting on it",
			what, orNone(got.Status), want)
	}
	return Proceed, ""
}

func orNone(v string) string {
	if v == "" {
		return "in no status"
	}
	return v
}

// classifyError reads an AWS error answered to AssumeRole (role true) or to
// DescribeStackResource as evidence; ok is false for any other error (a
// transient failure the SDK gave up on, a bug), which fails the request.
func classifyError(role bool, code, message string) (Evidence, bool) {
	switch code {
	case "AccessDenied", "AccessDeniedException":
		if role {
			return RoleUnavailable, true
		}
		return NotPermitted, true
	case "ValidationError":
		if role {
			return 0, false
		}
		switch {
		case strings.HasPrefix(message, "Stack with id ") && strings.HasSuffix(message, " does not exist"):
			return StackMissing, true
		case strings.HasPrefix(message, "Resource ") && strings.Contains(message, " does not exist for stack "):
			return ResourceMissing, true
		}
	}
	return 0, false
}
