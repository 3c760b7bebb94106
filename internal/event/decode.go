package event

import (
	"fmt"
	"regexp"
	"time"

	"github.com/credguard/credguard/internal/ids"
)

var (
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// ValidInstanceID reports whether id looks like an EC2 instance id: "i-"
// followed by 8 or 17 lowercase hexadecimal digits.
func ValidInstanceID(id string) bool { return instanceIDPattern.MatchString(id) }

// Decode parses one EventBridge event (the JSON a Lambda receives from an
// EventBridge rule) into an Event. Errors are *DecodeError values that wrap
// ErrMalformed (not JSON, missing or mistyped fields, ids of the wrong form)
// or ErrUnsupported (a well-formed event of a detail-type, source or
// CloudTrail eventName no guardrail handles), and name the field at fault.
//
// A CloudTrail event whose errorCode is set records a call that failed and
// changed nothing: it decodes without error, with ErrorCode set and its detail
// filled in as far as the event allows, so that the guardrail can report it
// as ignored. Its envelope must still be valid.
func Decode(data []byte) (Event, error) {
	root, err := parseJSON(data)
	if err != nil {
		return Event{}, err
	}
	top, err := asObject("", root)
	if err != nil {
		return Event{}, malformed("", fmt.Sprintf("want a JSON object, got %s", typeName(root)))
	}
	env, err := decodeEnvelope(top)
	if err != nil {
		return Event{}, err
	}
	detail, err := top.requiredObj("detail")
	if err != nil {
		return Event{}, err
	}
	ev := Event{Envelope: env}
	switch env.DetailType {
	case ids.DetailTypeStateChange:
		if env.Source != ids.SourceEC2 {
			return Event{}, unsupported("source", fmt.Sprintf("%q is not handled for detail-type %q", env.Source, env.DetailType))
		}
		sc, err := decodeStateChange(detail)
		if err != nil {
			return Event{}, err
		}
		ev.Kind, ev.StateChange = KindStateChange, sc
		return ev, nil
	case ids.DetailTypeCloudTrail:
		return decodeCloudTrail(ev, detail)
	default:
		return Event{}, unsupported("detail-type", fmt.Sprintf("%q is not handled", env.DetailType))
	}
}

func decodeEnvelope(top object) (Envelope, error) {
	var env Envelope
	var err error
	if env.DetailType, err = top.required("detail-type"); err != nil {
		return env, err
	}
	if env.Source, err = top.required("source"); err != nil {
		return env, err
	}
	if env.Account, err = top.required("account"); err != nil {
		return env, err
	}
	if !ids.ValidAccount(env.Account) {
		return env, malformed("account", fmt.Sprintf("%q is not a 12-digit account id", env.Account))
	}
	if env.Region, err = top.required("region"); err != nil {
		return env, err
	}
	if !regionPattern.MatchString(env.Region) {
		return env, malformed("region", fmt.Sprintf("%q is not a region name", env.Region))
	}
	if env.ID, err = top.str("id"); err != nil {
		return env, err
	}
	if _, err = top.str("version"); err != nil {
		return env, err
	}
	ts, err := top.str("time")
	if err != nil {
		return env, err
	}
	if ts != "" {
		if env.Time, err = time.Parse(time.RFC3339, ts); err != nil {
			return env, malformed("time", fmt.Sprintf("%q is not an RFC 3339 time", ts))
		}
	}
	resources, _, err := top.arr("resources")
	if err != nil {
		return env, err
	}
	for i, r := range resources {
		s, ok := r.(string)
		if !ok {
			return env, wrongType(index("resources", i), "string", r)
		}
		env.Resources = append(env.Resources, s)
	}
	return env, nil
}

// validInstanceState reports whether s is an EC2 instance state name.
func validInstanceState(s string) bool {
	switch s {
	case "pending", "running", "stopping", "stopped", "shutting-down", "terminated":
		return true
	default:
		return false
	}
}

func decodeStateChange(detail object) (*StateChange, error) {
	id, err := detail.required("instance-id")
	if err != nil {
		return nil, err
	}
	if !ValidInstanceID(id) {
		return nil, malformed(join(detail.path, "instance-id"), fmt.Sprintf("%q is not an instance id", id))
	}
	state, err := detail.required("state")
	if err != nil {
		return nil, err
	}
	if !validInstanceState(state) {
		return nil, malformed(join(detail.path, "state"), fmt.Sprintf("unknown instance state %q", state))
	}
	return &StateChange{InstanceID: id, State: state}, nil
}

// decodeCloudTrail fills in the CloudTrail fields common to every API call and
// then the detail of the call by eventName.
func decodeCloudTrail(ev Event, detail object) (Event, error) {
	wantSource, ok := ids.CloudTrailEventSource(ev.Source)
	if !ok {
		return Event{}, unsupported("source", fmt.Sprintf("%q is not handled", ev.Source))
	}
	var err error
	if ev.EventSource, err = detail.required("eventSource"); err != nil {
		return Event{}, err
	}
	if ev.EventSource != wantSource {
		return Event{}, malformed(join(detail.path, "eventSource"),
			fmt.Sprintf("%q does not match source %q (want %q)", ev.EventSource, ev.Source, wantSource))
	}
	if ev.EventName, err = detail.required("eventName"); err != nil {
		return Event{}, err
	}
	if region, err := detail.str("awsRegion"); err != nil {
		return Event{}, err
	} else if region != "" && region != ev.Region {
		return Event{}, malformed(join(detail.path, "awsRegion"),
			fmt.Sprintf("%q does not match the event's region %q", region, ev.Region))
	}
	for _, key := range []string{"eventID", "eventType", "recipientAccountId", "eventTime"} {
		if _, err := detail.str(key); err != nil {
			return Event{}, err
		}
	}
	if ev.ErrorCode, err = detail.str("errorCode"); err != nil {
		return Event{}, err
	}
	if ev.ErrorMessage, err = detail.str("errorMessage"); err != nil {
		return Event{}, err
	}
	if ev.Actor, err = decodeActor(detail); err != nil {
		return Event{}, err
	}

	var decode func(*Event, call) error
	switch ev.Source + " " + ev.EventName {
	case ids.SourceEC2 + " RunInstances":
		ev.Kind, decode = KindRunInstances, decodeRunInstances
	case ids.SourceEC2 + " CreateFleet":
		ev.Kind, decode = KindCreateFleet, decodeCreateFleet
	case ids.SourceEC2 + " ModifyInstanceMetadataOptions":
		ev.Kind, decode = KindModifyMetadataOptions, decodeModifyMetadataOptions
	case ids.SourceEKS + " CreatePodIdentityAssociation":
		ev.Kind, decode = KindCreatePodIdentityAssociation, decodePodIdentity
	case ids.SourceEKS + " UpdatePodIdentityAssociation":
		ev.Kind, decode = KindUpdatePodIdentityAssociation, decodePodIdentity
	case ids.SourceIAM + " CreateRole":
		ev.Kind, decode = KindCreateRole, decodeCreateRole
	case ids.SourceIAM + " UpdateAssumeRolePolicy":
		ev.Kind, decode = KindUpdateAssumeRolePolicy, decodeUpdateAssumeRolePolicy
	default:
		return Event{}, unsupported(join(detail.path, "eventName"),
			fmt.Sprintf("%q from %s is not handled", ev.EventName, ev.Source))
	}

	c, err := newCall(detail, ev.Failed())
	if err != nil {
		return Event{}, err
	}
	if err := decode(&ev, c); err != nil {
		if !ev.Failed() {
			return Event{}, err
		}
		// A failed call changed nothing and its request may be incomplete or
		// invalid (that may be why it failed): keep what could be read.
	}
	return ev, nil
}

// call holds the request and response of a CloudTrail record. Either may be
// absent (a failed call has no response); the per-event decoders say which
// they need.
type call struct {
	failed      bool
	request     object
	hasRequest  bool
	response    object
	hasResponse bool
}

func newCall(detail object, failed bool) (call, error) {
	c := call{failed: failed}
	var err error
	if c.request, c.hasRequest, err = detail.obj("requestParameters"); err != nil {
		return c, err
	}
	if c.response, c.hasResponse, err = detail.obj("responseElements"); err != nil {
		return c, err
	}
	if !c.hasRequest {
		c.request = object{path: join(detail.path, "requestParameters"), m: map[string]any{}}
	}
	if !c.hasResponse {
		c.response = object{path: join(detail.path, "responseElements"), m: map[string]any{}}
	}
	return c, nil
}

// decodeActor reads detail.userIdentity; an absent userIdentity leaves the
// Actor empty.
func decodeActor(detail object) (Actor, error) {
	var a Actor
	ui, ok, err := detail.obj("userIdentity")
	if err != nil || !ok {
		return a, err
	}
	fields := []struct {
		key string
		dst *string
	}{
		{"type", &a.Type}, {"arn", &a.ARN}, {"accountId", &a.AccountID},
		{"principalId", &a.PrincipalID}, {"invokedBy", &a.InvokedBy},
	}
	for _, f := range fields {
		if *f.dst, err = ui.str(f.key); err != nil {
			return a, err
		}
	}
	sc, ok, err := ui.obj("sessionContext")
	if err != nil || !ok {
		return a, err
	}
	issuer, ok, err := sc.obj("sessionIssuer")
	if err != nil || !ok {
		return a, err
	}
	a.IssuerARN, err = issuer.str("arn")
	return a, err
}
