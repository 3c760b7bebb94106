package event_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/event"
)

// edit is one change to a sample: set the value at a dotted path (array
// indexes as numbers), or delete it when del is true.
type edit struct {
	path  string
	value any
	del   bool
}

func set(path string, v any) edit { return edit{path: path, value: v} }
func del(path string) edit        { return edit{path: path, del: true} }

// variant loads a sample and applies edits to it.
func variant(t testing.TB, name string, edits ...edit) []byte {
	t.Helper()
	var root any
	if err := json.Unmarshal(readSample(t, name), &root); err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		keys := strings.Split(e.path, ".")
		parent := root
		for _, k := range keys[:len(keys)-1] {
			parent = child(t, parent, k, e.path)
		}
		last := keys[len(keys)-1]
		switch p := parent.(type) {
		case map[string]any:
			if e.del {
				delete(p, last)
			} else {
				p[last] = e.value
			}
		case []any:
			p[atoi(t, last)] = e.value
		default:
			t.Fatalf("edit %s: parent is %T", e.path, parent)
		}
	}
	data, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func child(t testing.TB, v any, k, full string) any {
	t.Helper()
	switch p := v.(type) {
	case map[string]any:
		c, ok := p[k]
		if !ok {
			c = map[string]any{}
			p[k] = c
		}
		return c
	case []any:
		return p[atoi(t, k)]
	default:
		t.Fatalf("edit %s: %s is inside a %T", full, k, v)
		return nil
	}
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("bad index %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}

const (
	stateChange = "ec2-state-change-pending.json"
	runOne      = "cloudtrail-run-instances-one.json"
	runMany     = "cloudtrail-run-instances-many.json"
	runFailed   = "cloudtrail-run-instances-failed.json"
	modify      = "cloudtrail-modify-metadata-options-optional.json"
	podCreate   = "eks-create-pod-identity-association.json"
	podUpdate   = "eks-update-pod-identity-association.json"
	createRole  = "iam-create-role.json"
	updateTrust = "iam-update-assume-role-policy.json"
)

// TestDecodeErrors covers every rejection: the class, the field named and a
// fragment of the message.
func TestDecodeErrors(t *testing.T) {
	items := "detail.responseElements.instancesSet.items"
	nested := "detail.requestParameters.ModifyInstanceMetadataOptionsRequest"
	tests := []struct {
		name   string
		data   []byte
		class  error
		field  string
		reason string
	}{
		// input as a whole
		{"whitespace only", []byte(" \n\t "), event.ErrMalformed, "", "empty input"},
		{"syntax error", []byte(`{"detail-type": x}`), event.ErrMalformed, "", "invalid JSON at byte 17: invalid character 'x'"},
		{"trailing data", []byte(`{} {}`), event.ErrMalformed, "", "data after the top-level value"},
		{"trailing garbage", []byte(`{}]`), event.ErrMalformed, "", "invalid JSON"},
		{"string", []byte(`"event"`), event.ErrMalformed, "", "want a JSON object, got string"},
		{"null", []byte(`null`), event.ErrMalformed, "", "want a JSON object, got null"},

		// envelope
		{"no detail-type", variant(t, stateChange, del("detail-type")), event.ErrMalformed, "detail-type", "missing"},
		{"empty detail-type", variant(t, stateChange, set("detail-type", "")), event.ErrMalformed, "detail-type", "missing"},
		{"no source", variant(t, stateChange, del("source")), event.ErrMalformed, "source", "missing"},
		{"no account", variant(t, stateChange, del("account")), event.ErrMalformed, "account", "missing"},
		{"no region", variant(t, stateChange, del("region")), event.ErrMalformed, "region", "missing"},
		{"null detail", variant(t, stateChange, set("detail", nil)), event.ErrMalformed, "detail", "missing"},
		{"detail a string", variant(t, stateChange, set("detail", "x")), event.ErrMalformed, "detail", "want object, got string"},
		{"account a number", variant(t, stateChange, set("account", 111122223333)), event.ErrMalformed, "account", "want string, got number"},
		{"account 11 digits", variant(t, stateChange, set("account", "11112222333")), event.ErrMalformed, "account", "not a 12-digit account id"},
		{"region bad", variant(t, stateChange, set("region", "US East")), event.ErrMalformed, "region", "not a region name"},
		{"time bad", variant(t, stateChange, set("time", "yesterday")), event.ErrMalformed, "time", "not an RFC 3339 time"},
		{"time a number", variant(t, stateChange, set("time", 1)), event.ErrMalformed, "time", "want string, got number"},
		{"id an object", variant(t, stateChange, set("id", map[string]any{})), event.ErrMalformed, "id", "want string, got object"},
		{"version a number", variant(t, stateChange, set("version", 0)), event.ErrMalformed, "version", "want string, got number"},
		{"resources an object", variant(t, stateChange, set("resources", map[string]any{})), event.ErrMalformed, "resources", "want array, got object"},
		{"resource a number", variant(t, stateChange, set("resources", []any{"arn:x", 7})), event.ErrMalformed, "resources[1]", "want string, got number"},

		// dispatch
		{"other detail-type", variant(t, stateChange, set("detail-type", "EBS Snapshot Notification")), event.ErrUnsupported, "detail-type", `"EBS Snapshot Notification" is not handled`},
		{"state change from another source", variant(t, stateChange, set("source", "aws.autoscaling")), event.ErrUnsupported, "source", `"aws.autoscaling" is not handled for detail-type`},
		{"cloudtrail from another source", variant(t, runOne, set("source", "aws.s3")), event.ErrUnsupported, "source", `"aws.s3" is not handled`},
		{"other eventName", variant(t, runOne, set("detail.eventName", "TerminateInstances")), event.ErrUnsupported, "detail.eventName", `"TerminateInstances" from aws.ec2 is not handled`},
		{"IAM eventName on the EC2 source", variant(t, runOne, set("detail.eventName", "CreateRole")), event.ErrUnsupported, "detail.eventName", `"CreateRole" from aws.ec2`},
		{"eventSource mismatch", variant(t, runOne, set("detail.eventSource", "iam.amazonaws.com")), event.ErrMalformed, "detail.eventSource", `does not match source "aws.ec2"`},
		{"no eventSource", variant(t, runOne, del("detail.eventSource")), event.ErrMalformed, "detail.eventSource", "missing"},
		{"no eventName", variant(t, runOne, del("detail.eventName")), event.ErrMalformed, "detail.eventName", "missing"},
		{"awsRegion mismatch", variant(t, runOne, set("detail.awsRegion", "eu-west-1")), event.ErrMalformed, "detail.awsRegion", `does not match the event's region "us-east-1"`},
		{"eventID a number", variant(t, runOne, set("detail.eventID", 3)), event.ErrMalformed, "detail.eventID", "want string"},
		{"errorCode a number", variant(t, runOne, set("detail.errorCode", 403)), event.ErrMalformed, "detail.errorCode", "want string, got number"},
		{"errorMessage an array", variant(t, runFailed, set("detail.errorMessage", []any{})), event.ErrMalformed, "detail.errorMessage", "want string, got array"},
		{"userIdentity a string", variant(t, runOne, set("detail.userIdentity", "alice")), event.ErrMalformed, "detail.userIdentity", "want object, got string"},
		{"userIdentity.arn a number", variant(t, runOne, set("detail.userIdentity.arn", 1)), event.ErrMalformed, "detail.userIdentity.arn", "want string"},
		{"sessionIssuer.arn a bool", variant(t, runMany, set("detail.userIdentity.sessionContext.sessionIssuer.arn", true)), event.ErrMalformed, "detail.userIdentity.sessionContext.sessionIssuer.arn", "want string, got boolean"},
		{"sessionContext an array", variant(t, runMany, set("detail.userIdentity.sessionContext", []any{})), event.ErrMalformed, "detail.userIdentity.sessionContext", "want object, got array"},
		{"requestParameters an array", variant(t, runOne, set("detail.requestParameters", []any{})), event.ErrMalformed, "detail.requestParameters", "want object, got array"},
		{"responseElements a string", variant(t, runOne, set("detail.responseElements", "ok")), event.ErrMalformed, "detail.responseElements", "want object, got string"},

		// state change
		{"no instance-id", variant(t, stateChange, del("detail.instance-id")), event.ErrMalformed, "detail.instance-id", "missing"},
		{"instance id upper case", variant(t, stateChange, set("detail.instance-id", "i-0AAA0000000000001")), event.ErrMalformed, "detail.instance-id", "not an instance id"},
		{"instance id 10 hex", variant(t, stateChange, set("detail.instance-id", "i-0123456789")), event.ErrMalformed, "detail.instance-id", "not an instance id"},
		{"instance id no prefix", variant(t, stateChange, set("detail.instance-id", "0aaa0000000000001")), event.ErrMalformed, "detail.instance-id", "not an instance id"},
		{"no state", variant(t, stateChange, del("detail.state")), event.ErrMalformed, "detail.state", "missing"},
		{"unknown state", variant(t, stateChange, set("detail.state", "hibernating")), event.ErrMalformed, "detail.state", `unknown instance state "hibernating"`},

		// RunInstances
		{"no responseElements", variant(t, runOne, set("detail.responseElements", nil)), event.ErrMalformed, "detail.responseElements.instancesSet", "missing"},
		{"no items", variant(t, runOne, del(items)), event.ErrMalformed, items, "no instances"},
		{"empty items", variant(t, runOne, set(items, []any{})), event.ErrMalformed, items, "no instances"},
		{"item a string", variant(t, runMany, set(items+".1", "i-0aaa0000000000005")), event.ErrMalformed, items + "[1]", "want object, got string"},
		{"item without id", variant(t, runMany, del(items+".2.instanceId")), event.ErrMalformed, items + "[2].instanceId", "missing"},
		{"item with bad id", variant(t, runMany, set(items+".0.instanceId", "i-zz")), event.ErrMalformed, items + "[0].instanceId", `"i-zz" is not an instance id`},
		{"metadataOptions a string", variant(t, runOne, set(items+".0.metadataOptions", "optional")), event.ErrMalformed, items + "[0].metadataOptions", "want object, got string"},
		{"httpTokens unknown", variant(t, runOne, set(items+".0.metadataOptions.httpTokens", "sometimes")), event.ErrMalformed, items + "[0].metadataOptions.httpTokens", `"sometimes" is not "optional" or "required"`},
		{"httpEndpoint unknown", variant(t, runOne, set(items+".0.metadataOptions.httpEndpoint", "on")), event.ErrMalformed, items + "[0].metadataOptions.httpEndpoint", `is not "enabled" or "disabled"`},
		{"state unknown", variant(t, runOne, set(items+".0.metadataOptions.state", "done")), event.ErrMalformed, items + "[0].metadataOptions.state", `is not "pending" or "applied"`},
		{"hop zero", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", 0)), event.ErrMalformed, items + "[0].metadataOptions.httpPutResponseHopLimit", "hop limit 0 is outside 1-64"},
		{"hop 65 as a string", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", "65")), event.ErrMalformed, items + "[0].metadataOptions.httpPutResponseHopLimit", "hop limit 65 is outside 1-64"},
		{"hop a word", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", "two")), event.ErrMalformed, items + "[0].metadataOptions.httpPutResponseHopLimit", `want integer, got "two"`},
		{"hop a fraction", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", 1.5)), event.ErrMalformed, items + "[0].metadataOptions.httpPutResponseHopLimit", `want integer, got "1.5"`},
		{"hop a bool", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", true)), event.ErrMalformed, items + "[0].metadataOptions.httpPutResponseHopLimit", "want integer, got boolean"},

		// ModifyInstanceMetadataOptions
		{"modify without instance", variant(t, modify, del(nested+".InstanceId"), del("detail.responseElements")), event.ErrMalformed, nested + ".InstanceId", "missing"},
		{"modify bad instance", variant(t, modify, set(nested+".InstanceId", "i-1")), event.ErrMalformed, nested + ".InstanceId", `"i-1" is not an instance id`},
		{"modify ids disagree", variant(t, modify, set("detail.responseElements.ModifyInstanceMetadataOptionsResponse.instanceId", "i-0aaa0000000000009")), event.ErrMalformed,
			"detail.responseElements.ModifyInstanceMetadataOptionsResponse.instanceId", `does not match the requested instance "i-0aaa0000000000008"`},
		{"modify nested request a string", variant(t, modify, set(nested, "x")), event.ErrMalformed, nested, "want object, got string"},
		{"modify tokens unknown", variant(t, modify, set(nested+".HttpTokens", "Optional")), event.ErrMalformed, nested + ".HttpTokens", `"Optional" is not "optional" or "required"`},
		{"modify hop too big", variant(t, modify, set(nested+".HttpPutResponseHopLimit", "100")), event.ErrMalformed, nested + ".HttpPutResponseHopLimit", "hop limit 100 is outside 1-64"},
		{"modify response options bad", variant(t, modify, set("detail.responseElements.ModifyInstanceMetadataOptionsResponse.instanceMetadataOptions", 1)), event.ErrMalformed,
			"detail.responseElements.ModifyInstanceMetadataOptionsResponse.instanceMetadataOptions", "want object, got number"},

		// Pod Identity
		{"pod without cluster", variant(t, podCreate, del("detail.requestParameters.clusterName"), del("detail.responseElements.association.clusterName")), event.ErrMalformed, "detail.requestParameters.clusterName", "missing"},
		{"pod update without association id", variant(t, podUpdate, del("detail.requestParameters.associationId"), set("detail.responseElements", nil)), event.ErrMalformed, "detail.requestParameters.associationId", "missing"},
		{"pod create with nothing to find", variant(t, podCreate, set("detail.responseElements", nil), del("detail.requestParameters.namespace")), event.ErrMalformed, "detail.requestParameters.namespace", "missing"},
		{"pod association a list", variant(t, podCreate, set("detail.responseElements.association", []any{})), event.ErrMalformed, "detail.responseElements.association", "want object, got array"},
		{"pod role not a role ARN", variant(t, podCreate, set("detail.responseElements.association.roleArn", "arn:aws:iam::111122223333:user/payments")), event.ErrMalformed,
			"detail.responseElements.association.roleArn", "is not an iam role ARN"},
		{"pod request role bad account", variant(t, podUpdate, set("detail.responseElements", nil), set("detail.requestParameters.roleArn", "arn:aws:iam::1:role/x")), event.ErrMalformed,
			"detail.requestParameters.roleArn", "is not an iam role ARN"},
		{"pod target role bad", variant(t, podCreate, set("detail.requestParameters.targetRoleArn", "payments")), event.ErrMalformed, "detail.requestParameters.targetRoleArn", "is not an iam role ARN"},
		{"pod association id bad", variant(t, podUpdate, set("detail.responseElements.association.associationId", "A-1")), event.ErrMalformed, "detail.responseElements.association.associationId", "not a pod identity association id"},
		{"pod association ARN bad", variant(t, podUpdate, set("detail.responseElements.association.associationArn", "arn:aws:eks:us-east-1:111122223333:cluster/prod")), event.ErrMalformed,
			"detail.responseElements.association.associationArn", "is not an eks podidentityassociation ARN"},
		{"pod namespace a number", variant(t, podCreate, set("detail.responseElements.association.namespace", 7)), event.ErrMalformed, "detail.responseElements.association.namespace", "want string, got number"},

		// IAM
		{"create role without name", variant(t, createRole, del("detail.requestParameters.roleName"), del("detail.responseElements.role.roleName")), event.ErrMalformed, "detail.requestParameters.roleName", "missing"},
		{"create role bad name", variant(t, createRole, set("detail.requestParameters.roleName", "ci deployer")), event.ErrMalformed, "detail.requestParameters.roleName", `"ci deployer" is not a role name`},
		{"create role bad path", variant(t, createRole, set("detail.requestParameters.path", "ci")), event.ErrMalformed, "detail.requestParameters.path", `"ci" must begin and end with /`},
		{"create role bad ARN", variant(t, createRole, set("detail.responseElements.role.arn", "ci-deployer")), event.ErrMalformed, "detail.responseElements.role.arn", "is not an iam role ARN"},
		{"create role document an object", variant(t, createRole, set("detail.requestParameters.assumeRolePolicyDocument", map[string]any{})), event.ErrMalformed,
			"detail.requestParameters.assumeRolePolicyDocument", "want string, got object"},
		{"create role bad URL encoding", variant(t, createRole, del("detail.requestParameters.assumeRolePolicyDocument"), set("detail.responseElements.role.assumeRolePolicyDocument", "%7B%zz")), event.ErrMalformed,
			"detail.responseElements.role.assumeRolePolicyDocument", "bad URL encoding"},
		{"update trust without role", variant(t, updateTrust, del("detail.requestParameters.roleName")), event.ErrMalformed, "detail.requestParameters.roleName", "missing"},
		{"update trust bad role", variant(t, updateTrust, set("detail.requestParameters.roleName", "a/b")), event.ErrMalformed, "detail.requestParameters.roleName", `"a/b" is not a role name`},
		{"update trust document a number", variant(t, updateTrust, set("detail.requestParameters.policyDocument", 1)), event.ErrMalformed, "detail.requestParameters.policyDocument", "want string, got number"},
		{"IAM event outside us-east-1 keeps its checks", variant(t, updateTrust, set("region", "eu-west-1")), event.ErrMalformed, "detail.awsRegion", "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := event.Decode(tt.data)
			if err == nil {
				t.Fatalf("Decode succeeded: %s", event.Describe(ev))
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("error %q: want class %v", err, tt.class)
			}
			if got := event.FieldOf(err); got != tt.field {
				t.Errorf("field = %q, want %q (error %q)", got, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "decode event: ") {
				t.Errorf("error %q lacks the decode event prefix", err)
			}
		})
	}
}

// TestDecodeForms covers the accepted variations of real events.
func TestDecodeForms(t *testing.T) {
	items := "detail.responseElements.instancesSet.items"
	nested := "detail.requestParameters.ModifyInstanceMetadataOptionsRequest"
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},` +
		`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"a+b%2Fc d"}}}}`
	tests := []struct {
		name  string
		data  []byte
		check func(t *testing.T, ev event.Event)
	}{
		{"8-digit instance id", variant(t, stateChange, set("detail.instance-id", "i-0123abcd")), func(t *testing.T, ev event.Event) {
			want(t, ev.StateChange.InstanceID, "i-0123abcd")
		}},
		{"every instance state", variant(t, stateChange, set("detail.state", "shutting-down")), func(t *testing.T, ev event.Event) {
			want(t, ev.StateChange.State, "shutting-down")
		}},
		{"no id, time or resources", variant(t, stateChange, del("id"), del("time"), del("resources"), del("version")), func(t *testing.T, ev event.Event) {
			want(t, ev.ID, "")
			if !ev.Time.IsZero() || ev.Resources != nil {
				t.Errorf("time %v resources %v", ev.Time, ev.Resources)
			}
		}},
		{"fractional-second time", variant(t, stateChange, set("time", "2026-03-02T09:14:07.123Z")), func(t *testing.T, ev event.Event) {
			want(t, ev.Time.Nanosecond(), 123000000)
		}},
		{"GovCloud region", variant(t, stateChange, set("region", "us-gov-west-1")), func(t *testing.T, ev event.Event) {
			want(t, ev.Region, "us-gov-west-1")
		}},
		{"hop limit as a string", variant(t, runOne, set(items+".0.metadataOptions.httpPutResponseHopLimit", "3")), func(t *testing.T, ev event.Event) {
			want(t, ev.RunInstances.Instances[0].MetadataOptions.HopLimit, 3)
		}},
		{"item without metadataOptions", variant(t, runOne, del(items+".0.metadataOptions")), func(t *testing.T, ev event.Event) {
			want(t, ev.RunInstances.Instances[0], event.LaunchedInstance{InstanceID: "i-0aaa0000000000003"})
		}},
		{"duplicate instance listed once", variant(t, runMany, set(items+".2.instanceId", "i-0aaa0000000000004")), func(t *testing.T, ev event.Event) {
			want(t, len(ev.RunInstances.Instances), 3)
			want(t, ev.InstanceIDs(), []string{"i-0aaa0000000000004", "i-0aaa0000000000005"})
		}},
		{"no userIdentity", variant(t, runOne, del("detail.userIdentity")), func(t *testing.T, ev event.Event) {
			want(t, ev.Actor, event.Actor{})
			want(t, strings.HasPrefix(event.Describe(ev), "RunInstances: 1 instance"), true)
		}},
		{"service caller", variant(t, runOne, set("detail.userIdentity", map[string]any{"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"})), func(t *testing.T, ev event.Event) {
			want(t, ev.Actor, event.Actor{Type: "AWSService", InvokedBy: "autoscaling.amazonaws.com"})
			want(t, ev.Actor.String(), "autoscaling.amazonaws.com")
		}},
		{"modify flat camelCase request with number hop", variant(t, modify,
			set("detail.requestParameters", map[string]any{"instanceId": "i-0aaa0000000000008", "httpTokens": "optional", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"}),
			set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, *ev.MetadataOptions, event.MetadataOptionsChange{
				InstanceID: "i-0aaa0000000000008",
				Requested:  event.MetadataOptions{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"},
			})
		}},
		{"modify flat PascalCase request", variant(t, modify,
			set("detail.requestParameters", map[string]any{"InstanceId": "i-0aaa0000000000008", "HttpPutResponseHopLimit": "4", "InstanceMetadataTags": "enabled", "HttpProtocolIpv6": "disabled"})),
			func(t *testing.T, ev event.Event) {
				want(t, ev.MetadataOptions.Requested, event.MetadataOptions{HopLimit: 4, InstanceTags: "enabled", HTTPProtocolIPv6: "disabled"})
			}},
		{"modify nested request with number hop", variant(t, modify, set(nested+".HttpPutResponseHopLimit", 2)), func(t *testing.T, ev event.Event) {
			want(t, ev.MetadataOptions.Requested, event.MetadataOptions{HTTPTokens: "optional", HopLimit: 2})
		}},
		{"modify instance only in the response", variant(t, modify, del(nested+".InstanceId")), func(t *testing.T, ev event.Event) {
			want(t, ev.MetadataOptions.InstanceID, "i-0aaa0000000000008")
		}},
		{"modify flat response", variant(t, modify, set("detail.responseElements", map[string]any{
			"instanceId": "i-0aaa0000000000008", "instanceMetadataOptions": map[string]any{"state": "applied", "httpTokens": "optional", "httpPutResponseHopLimit": 1}})),
			func(t *testing.T, ev event.Event) {
				want(t, ev.MetadataOptions.Resulting, event.MetadataOptions{State: "applied", HTTPTokens: "optional", HopLimit: 1})
			}},
		{"pod update response without namespace and service account", variant(t, podUpdate,
			del("detail.responseElements.association.namespace"), del("detail.responseElements.association.serviceAccount")),
			func(t *testing.T, ev event.Event) {
				want(t, ev.PodIdentity.Namespace, "")
				want(t, ev.PodIdentity.ServiceAccount, "")
				want(t, ev.PodIdentity.AssociationID, "a-0analytics0000001")
				want(t, strings.Contains(event.Describe(ev), "cluster prod (a-0analytics0000001) → arn:aws:iam::111122223333:role/analytics-reporter"), true)
			}},
		{"pod update with no response", variant(t, podUpdate, set("detail.responseElements", nil), set("detail.requestParameters.targetRoleArn", "arn:aws:iam::444455556666:role/reports-reader")),
			func(t *testing.T, ev event.Event) {
				want(t, *ev.PodIdentity, event.PodIdentityAssociation{
					ClusterName: "prod", AssociationID: "a-0analytics0000001",
					RoleARN:       "arn:aws:iam::111122223333:role/analytics-reporter",
					TargetRoleARN: "arn:aws:iam::444455556666:role/reports-reader",
				})
			}},
		{"pod request names the cluster 'name'", variant(t, podCreate, del("detail.requestParameters.clusterName"), set("detail.requestParameters.name", "staging"),
			set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, *ev.PodIdentity, event.PodIdentityAssociation{
				ClusterName: "staging", Namespace: "payments", ServiceAccount: "payments-api",
				RoleARN: "arn:aws:iam::111122223333:role/payments-api",
			})
		}},
		{"pod response wins over request", variant(t, podCreate, set("detail.requestParameters.roleArn", "arn:aws:iam::111122223333:role/other")), func(t *testing.T, ev event.Event) {
			want(t, ev.PodIdentity.RoleARN, "arn:aws:iam::111122223333:role/payments-api")
		}},
		{"create role document only URL-encoded: decoded exactly once", variant(t, createRole,
			del("detail.requestParameters.assumeRolePolicyDocument"), set("detail.responseElements.role.assumeRolePolicyDocument", url.PathEscape(doc))),
			func(t *testing.T, ev event.Event) {
				want(t, ev.Role.PolicyDocument, doc)
			}},
		{"create role with a path and no response", variant(t, createRole, set("detail.requestParameters.path", "/ci/"), set("detail.responseElements", nil)),
			func(t *testing.T, ev event.Event) {
				want(t, *ev.Role, event.RoleChange{
					RoleName: "ci-deployer", Path: "/ci/", RoleARN: "arn:aws:iam::111122223333:role/ci/ci-deployer",
					PolicyDocument: ev.Role.PolicyDocument,
				})
				want(t, strings.Contains(ev.Role.PolicyDocument, `"Federated": "*"`), true)
			}},
		{"create role name and path from the response", variant(t, createRole, del("detail.requestParameters.roleName"),
			set("detail.responseElements.role.path", "/aws-reserved/sso.amazonaws.com/"), set("detail.responseElements.role.arn", nil)),
			func(t *testing.T, ev event.Event) {
				want(t, ev.Role.RoleARN, "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/ci-deployer")
			}},
		{"update trust without a document", variant(t, updateTrust, del("detail.requestParameters.policyDocument")), func(t *testing.T, ev event.Event) {
			want(t, *ev.Role, event.RoleChange{RoleName: "billing-api", RoleARN: "arn:aws:iam::111122223333:role/billing-api"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := event.Decode(tt.data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tt.check(t, ev)
		})
	}
}

// TestDecodeFailedCalls: a call with errorCode decodes, with its detail as
// far as the event allows, because the guardrail must report it as ignored.
func TestDecodeFailedCalls(t *testing.T) {
	failed := func(name string, edits ...edit) []byte {
		return variant(t, name, append([]edit{
			set("detail.errorCode", "Client.InvalidParameterValue"),
			set("detail.errorMessage", "bad request"),
		}, edits...)...)
	}
	tests := []struct {
		name  string
		data  []byte
		check func(t *testing.T, ev event.Event)
	}{
		{"RunInstances with no response", failed(runOne, set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, *ev.RunInstances, event.RunInstances{})
		}},
		{"modify with an invalid hop limit", failed(modify, set("detail.requestParameters.ModifyInstanceMetadataOptionsRequest.HttpPutResponseHopLimit", "100"),
			set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, ev.MetadataOptions.InstanceID, "i-0aaa0000000000008")
		}},
		{"modify without an instance", failed(modify, set("detail.requestParameters", map[string]any{}), set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, *ev.MetadataOptions, event.MetadataOptionsChange{})
		}},
		{"pod update for a missing association", failed(podUpdate, set("detail.responseElements", nil), set("detail.requestParameters.associationId", "nope")), func(t *testing.T, ev event.Event) {
			want(t, ev.PodIdentity.ClusterName, "prod")
		}},
		{"create role with a bad name", failed(createRole, set("detail.requestParameters.roleName", "bad name"), set("detail.responseElements", nil)), func(t *testing.T, ev event.Event) {
			want(t, *ev.Role, event.RoleChange{})
		}},
		{"update trust on a missing role", failed(updateTrust, set("detail.errorCode", "NoSuchEntityException")), func(t *testing.T, ev event.Event) {
			want(t, ev.Role.RoleName, "billing-api")
			want(t, ev.ErrorCode, "NoSuchEntityException")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := event.Decode(tt.data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !ev.Failed() || ev.ErrorMessage != "bad request" {
				t.Errorf("Failed() = %v, ErrorMessage %q", ev.Failed(), ev.ErrorMessage)
			}
			tt.check(t, ev)
		})
	}

	// A failed call still needs a valid envelope and CloudTrail header.
	for name, data := range map[string][]byte{
		"bad account":          failed(runOne, set("account", "x")),
		"no detail":            failed(runOne, del("detail")),
		"unknown eventName":    failed(runOne, set("detail.eventName", "StopInstances")),
		"eventSource mismatch": failed(runOne, set("detail.eventSource", "eks.amazonaws.com")),
		"detail wrong type":    failed(runOne, set("detail.requestParameters", 1)),
	} {
		if _, err := event.Decode(data); err == nil {
			t.Errorf("failed call with %s: decoded without error", name)
		}
	}
}

func want[T any](t *testing.T, got, expected T) {
	t.Helper()
	if !reflect.DeepEqual(got, expected) {
		t.Errorf("got %+v, want %+v", got, expected)
	}
}

func TestHelpers(t *testing.T) {
	ids := map[string]bool{
		"i-0123abcd": true, "i-0aaa0000000000001": true, "i-0123456789abcdef0": true,
		"i-0123ABCD": false, "i-0123abc": false, "i-0123456789": false, "": false, "i-": false,
		"x-0123abcd": false, "i-0123456789abcdef01": false, "i-0123abcg": false,
	}
	for id, ok := range ids {
		if event.ValidInstanceID(id) != ok {
			t.Errorf("ValidInstanceID(%q) = %v", id, !ok)
		}
	}
	if got := event.FieldOf(errors.New("plain")); got != "" {
		t.Errorf("FieldOf(plain error) = %q", got)
	}
	if got := event.FormatOptions(event.MetadataOptions{}); got != "" {
		t.Errorf("FormatOptions(zero) = %q", got)
	}
	all := event.MetadataOptions{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", HTTPProtocolIPv6: "disabled", InstanceTags: "enabled", State: "applied"}
	if got, w := event.FormatOptions(all), "httpTokens=required hop=1 httpEndpoint=enabled httpProtocolIpv6=disabled instanceMetadataTags=enabled"; got != w {
		t.Errorf("FormatOptions = %q, want %q", got, w)
	}
}

func TestDescribeLongAndUnknown(t *testing.T) {
	var list []any
	for i := 0; i < 7; i++ {
		list = append(list, map[string]any{"instanceId": "i-0aaa000000000001" + string(rune('0'+i))})
	}
	ev, err := event.Decode(variant(t, runOne, set("detail.responseElements.instancesSet.items", list)))
	if err != nil {
		t.Fatal(err)
	}
	w := "RunInstances by arn:aws:iam::111122223333:user/alice: 7 instances (i-0aaa0000000000010, i-0aaa0000000000011, " +
		"i-0aaa0000000000012, i-0aaa0000000000013, i-0aaa0000000000014, … 2 more) in 111122223333/us-east-1"
	if got := event.Describe(ev); got != w {
		t.Errorf("Describe =\n  %s\nwant\n  %s", got, w)
	}
	if got := event.Describe(event.Event{}); got != "unknown event in /" {
		t.Errorf("Describe(zero) = %q", got)
	}
}
