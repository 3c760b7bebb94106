// Package event decodes the EventBridge events the guardrails react to into
// the project's own types (no AWS SDK types). Decode never panics: malformed or
// unknown input gives an error that says what is wrong.
package event

import (
	"errors"
	"time"

	"github.com/credguard/credguard/internal/ids"
)

// Kind says which of the supported events this is.
type Kind string

const (
	KindStateChange                  Kind = "ec2-state-change"              // EC2 Instance State-change Notification
	KindRunInstances                 Kind = "ec2-run-instances"             // CloudTrail RunInstances
	KindModifyMetadataOptions        Kind = "ec2-modify-metadata-options"   // CloudTrail ModifyInstanceMetadataOptions
	KindCreateFleet                  Kind = "ec2-create-fleet"              // CloudTrail CreateFleet
	KindCreatePodIdentityAssociation Kind = "eks-create-pod-identity"       // CloudTrail CreatePodIdentityAssociation
	KindUpdatePodIdentityAssociation Kind = "eks-update-pod-identity"       // CloudTrail UpdatePodIdentityAssociation
	KindCreateRole                   Kind = "iam-create-role"               // CloudTrail CreateRole
	KindUpdateAssumeRolePolicy       Kind = "iam-update-assume-role-policy" // CloudTrail UpdateAssumeRolePolicy
)

// Guardrail names the guardrail whose EventBridge rule matches events of
// kind k: ids.GuardrailIMDS, ids.GuardrailTrust, or ids.GuardrailNone for a
// kind no guardrail handles. The dispatchers route by it and each guardrail
// checks it.
func (k Kind) Guardrail() string {
	switch k {
	case KindStateChange, KindRunInstances, KindCreateFleet, KindModifyMetadataOptions:
		return ids.GuardrailIMDS
	case KindCreatePodIdentityAssociation, KindUpdatePodIdentityAssociation,
		KindCreateRole, KindUpdateAssumeRolePolicy:
		return ids.GuardrailTrust
	default:
		return ids.GuardrailNone
	}
}

// ErrMalformed wraps every error about input that is not a well-formed
// EventBridge event of a supported shape (bad JSON, missing or mistyped fields).
var ErrMalformed = errors.New("malformed event")

// ErrUnsupported wraps the error for a well-formed event no guardrail handles
// (another detail-type, source or CloudTrail eventName).
var ErrUnsupported = errors.New("unsupported event")

// Envelope is the EventBridge envelope common to every event.
type Envelope struct {
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Region     string    `json:"region"`
	Time       time.Time `json:"time"`
	Resources  []string  `json:"resources"`
}

// Actor is the caller CloudTrail recorded (detail.userIdentity).
type Actor struct {
	Type        string // IAMUser, AssumedRole, Root, AWSService, …
	ARN         string // the caller's ARN (for AssumedRole: the session ARN)
	AccountID   string
	PrincipalID string
	// IssuerARN is sessionContext.sessionIssuer.arn for assumed roles: the
	// role's own ARN (arn:aws:iam::123:role/path/name), used to recognise the
	// guardrails' own calls.
	IssuerARN string
	// InvokedBy is set when an AWS service made the call on the caller's behalf.
	InvokedBy string
}

// Role finds the role behind an assumed-role caller: from the session
// issuer's ARN when CloudTrail recorded it, else from the session ARN
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION, which carries no path).
// ok is false for any other caller.
func (a Actor) Role() (ids.RoleARN, bool) {
	if r, ok := ids.ParseRoleARN(a.IssuerARN); ok {
		return r, true
	}
	return ids.ParseAssumedRoleARN(a.ARN)
}

// String is a short readable form for notifications ("" when unknown).
func (a Actor) String() string {
	switch {
	case a.IssuerARN != "" && a.ARN != "":
		return a.ARN
	case a.ARN != "":
		return a.ARN
	case a.InvokedBy != "":
		return a.InvokedBy
	default:
		return a.Type
	}
}

// MetadataOptions is the IMDS configuration as an event reports it. Zero
// values mean "not present in the event".
type MetadataOptions struct {
	HTTPTokens       string // "optional" | "required"
	HopLimit         int    // 1–64; 0 when absent
	HTTPEndpoint     string // "enabled" | "disabled"
	State            string // "pending" | "applied"
	HTTPProtocolIPv6 string
	InstanceTags     string // instanceMetadataTags: "enabled" | "disabled"
}

// LaunchedInstance is one item of RunInstances' responseElements.instancesSet.
type LaunchedInstance struct {
	InstanceID      string
	MetadataOptions MetadataOptions
}

// StateChange is the detail of an EC2 Instance State-change Notification.
type StateChange struct {
	InstanceID string
	State      string // pending, running, stopping, stopped, shutting-down, terminated
}

// RunInstances is the useful part of a CloudTrail RunInstances event.
type RunInstances struct {
	Instances []LaunchedInstance
}

// Fleet types (CreateFleet's Type; EC2 defaults to maintain).
const (
	FleetInstant  = "instant"
	FleetRequest  = "request"
	FleetMaintain = "maintain"
)

// Fleet is the useful part of a CloudTrail CreateFleet event. Only an
// instant fleet names its instances: request and maintain fleets launch
// them later, asynchronously.
type Fleet struct {
	FleetID     string
	Type        string   // FleetInstant, FleetRequest or FleetMaintain
	InstanceIDs []string // responseElements…fleetInstanceSet.item[].instanceIds.item[], in event order
}

// MetadataOptionsChange is a CloudTrail ModifyInstanceMetadataOptions event
// (request nested under ModifyInstanceMetadataOptionsRequest, or flat).
type MetadataOptionsChange struct {
	InstanceID string
	Requested  MetadataOptions // what the caller asked for (zero fields: not asked)
	// Resulting is the instance's options as the response reported them
	// (responseElements…instanceMetadataOptions); zero when absent.
	Resulting MetadataOptions
}

// PodIdentityAssociation is a CloudTrail Create/UpdatePodIdentityAssociation
// event. Fields come from responseElements.association when present, else from
// requestParameters; any may be empty (the guardrail then describes the
// association).
type PodIdentityAssociation struct {
	ClusterName    string
	AssociationID  string
	AssociationARN string
	Namespace      string
	ServiceAccount string
	RoleARN        string
	TargetRoleARN  string
}

// RoleChange is a CloudTrail CreateRole or UpdateAssumeRolePolicy event.
type RoleChange struct {
	RoleName string
	RoleARN  string // from responseElements.role.arn (CreateRole) or built from account + name
	// Path is the role's path for CreateRole ("/" by default); empty for
	// UpdateAssumeRolePolicy, whose event does not carry it (RoleARN is then
	// built without a path: GetRole gives the real one).
	Path string
	// PolicyDocument is the trust policy the caller set, as raw JSON:
	// requestParameters.assumeRolePolicyDocument or .policyDocument, else
	// CreateRole's responseElements copy, URL-decoded. It may be empty; the
	// guardrail always reads the live document with GetRole.
	PolicyDocument string
}

// Event is one decoded EventBridge event. Exactly one of the detail pointers
// matching Kind is set.
type Event struct {
	Envelope
	Kind Kind

	// CloudTrail fields (empty for the EC2 state-change notification).
	EventName    string
	EventSource  string
	Actor        Actor
	ErrorCode    string // set when the recorded API call failed: the event must be ignored
	ErrorMessage string

	StateChange     *StateChange
	RunInstances    *RunInstances
	Fleet           *Fleet
	MetadataOptions *MetadataOptionsChange
	PodIdentity     *PodIdentityAssociation
	Role            *RoleChange
}

// Failed reports whether the event records an API call that failed.
func (e Event) Failed() bool { return e.ErrorCode != "" }

// InstanceIDs lists the EC2 instance ids the event is about (deduplicated, in
// event order); nil for non-EC2 events.
func (e Event) InstanceIDs() []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	switch {
	case e.StateChange != nil:
		add(e.StateChange.InstanceID)
	case e.RunInstances != nil:
		for _, i := range e.RunInstances.Instances {
			add(i.InstanceID)
		}
	case e.Fleet != nil:
		for _, id := range e.Fleet.InstanceIDs {
			add(id)
		}
	case e.MetadataOptions != nil:
		add(e.MetadataOptions.InstanceID)
	}
	return ids
}

// Launch reports whether the event announces instances that were just
// launched: a pending or running state change, RunInstances or CreateFleet.
// EC2 may not describe such instances yet (eventual consistency).
func (e Event) Launch() bool {
	switch {
	case e.StateChange != nil:
		return e.StateChange.State == "pending" || e.StateChange.State == "running"
	case e.RunInstances != nil, e.Fleet != nil:
		return true
	}
	return false
}
