package events_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/ids"
)

const (
	hub    = "111122223333"
	member = "444455556666"
)

// The sample names are a contract other parts of the project rely on.
var (
	samples = []string{
		"ec2-state-change-pending.json",
		"ec2-state-change-running.json",
		"ec2-state-change-pending-cross-account.json",
		"cloudtrail-run-instances-one.json",
		"cloudtrail-run-instances-many.json",
		"cloudtrail-run-instances-compliant.json",
		"cloudtrail-run-instances-failed.json",
		"cloudtrail-create-fleet-one.json",
		"cloudtrail-create-fleet-many.json",
		"cloudtrail-modify-metadata-options-optional.json",
		"cloudtrail-modify-metadata-options-by-credguard.json",
		"eks-create-pod-identity-association.json",
		"eks-update-pod-identity-association.json",
		"iam-create-role.json",
		"iam-update-assume-role-policy.json",
		"iam-update-assume-role-policy-mixed.json",
		"iam-update-assume-role-policy-by-credguard.json",
	}
	invalid = []string{
		"invalid/truncated.json",
		"invalid/missing-detail.json",
		"invalid/wrong-types.json",
		"invalid/unknown-detail-type.json",
		"invalid/not-an-object.json",
		"invalid/empty.json",
	}
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data
}

func TestEmbeddedNames(t *testing.T) {
	for _, name := range append(append([]string{"fixtures/demo.json"}, samples...), invalid...) {
		if _, err := fs.Stat(events.Files, name); err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
		}
	}
	top, err := fs.Glob(events.Files, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string(nil), samples...)
	sort.Strings(want)
	if strings.Join(top, " ") != strings.Join(want, " ") {
		t.Errorf("top-level samples = %v\nwant %v", top, want)
	}
}

// envelope and cloudTrail hold the fields every sample must carry, with the
// real EventBridge and CloudTrail names.
type envelope struct {
	Version    *string          `json:"version"`
	ID         *string          `json:"id"`
	DetailType *string          `json:"detail-type"`
	Source     *string          `json:"source"`
	Account    *string          `json:"account"`
	Time       *string          `json:"time"`
	Region     *string          `json:"region"`
	Resources  []string         `json:"resources"`
	Detail     *json.RawMessage `json:"detail"`
}

type cloudTrail struct {
	EventVersion       *string          `json:"eventVersion"`
	UserIdentity       *json.RawMessage `json:"userIdentity"`
	EventTime          *string          `json:"eventTime"`
	EventSource        *string          `json:"eventSource"`
	EventName          *string          `json:"eventName"`
	AWSRegion          *string          `json:"awsRegion"`
	SourceIPAddress    *string          `json:"sourceIPAddress"`
	UserAgent          *string          `json:"userAgent"`
	RequestParameters  *json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage  `json:"responseElements"` // may be null, but must be present
	RequestID          *string          `json:"requestID"`
	EventID            *string          `json:"eventID"`
	ReadOnly           *bool            `json:"readOnly"`
	EventType          *string          `json:"eventType"`
	ManagementEvent    *bool            `json:"managementEvent"`
	RecipientAccountID *string          `json:"recipientAccountId"`
	EventCategory      *string          `json:"eventCategory"`
}

// missing lists the nil pointer fields of a struct of pointers, by JSON name.
func missing(fields map[string]bool) []string {
	var out []string
	for name, present := range fields {
		if !present {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func TestSamplesAreRealShaped(t *testing.T) {
	for _, name := range samples {
		t.Run(name, func(t *testing.T) {
			data := read(t, name)
			var env envelope
			if err := json.Unmarshal(data, &env); err != nil {
				t.Fatal(err)
			}
			if m := missing(map[string]bool{
				"version": env.Version != nil, "id": env.ID != nil, "detail-type": env.DetailType != nil,
				"source": env.Source != nil, "account": env.Account != nil, "time": env.Time != nil,
				"region": env.Region != nil, "resources": env.Resources != nil, "detail": env.Detail != nil,
			}); len(m) > 0 {
				t.Fatalf("envelope lacks %v", m)
			}
			if *env.Version != "0" {
				t.Errorf("version = %q", *env.Version)
			}
			if *env.Account == hub && *env.Region != "us-east-1" || *env.Account == member && *env.Region != "eu-west-1" {
				t.Errorf("account %s in region %s", *env.Account, *env.Region)
			}
			if *env.Source == "aws.iam" && *env.Region != "us-east-1" {
				t.Errorf("IAM event in %s: IAM delivers in us-east-1 only", *env.Region)
			}
			if *env.DetailType == ids.DetailTypeStateChange {
				if len(env.Resources) != 1 || !strings.HasPrefix(env.Resources[0], fmt.Sprintf("arn:aws:ec2:%s:%s:instance/i-", *env.Region, *env.Account)) {
					t.Errorf("resources = %v, want the instance ARN", env.Resources)
				}
				return
			}
			var ct cloudTrail
			if err := json.Unmarshal(*env.Detail, &ct); err != nil {
				t.Fatal(err)
			}
			if m := missing(map[string]bool{
				"eventVersion": ct.EventVersion != nil, "userIdentity": ct.UserIdentity != nil, "eventTime": ct.EventTime != nil,
				"eventSource": ct.EventSource != nil, "eventName": ct.EventName != nil, "awsRegion": ct.AWSRegion != nil,
				"sourceIPAddress": ct.SourceIPAddress != nil, "userAgent": ct.UserAgent != nil,
				"requestParameters": ct.RequestParameters != nil, "responseElements": ct.ResponseElements != nil,
				"requestID": ct.RequestID != nil, "eventID": ct.EventID != nil, "readOnly": ct.ReadOnly != nil,
				"eventType": ct.EventType != nil, "managementEvent": ct.ManagementEvent != nil,
				"recipientAccountId": ct.RecipientAccountID != nil, "eventCategory": ct.EventCategory != nil,
			}); len(m) > 0 {
				t.Fatalf("CloudTrail detail lacks %v", m)
			}
			if *ct.EventTime != *env.Time || *ct.AWSRegion != *env.Region || *ct.RecipientAccountID != *env.Account {
				t.Errorf("detail (%s, %s, %s) disagrees with the envelope (%s, %s, %s)",
					*ct.EventTime, *ct.AWSRegion, *ct.RecipientAccountID, *env.Time, *env.Region, *env.Account)
			}
			if *ct.EventType != "AwsApiCall" || *ct.ReadOnly || !*ct.ManagementEvent || *ct.EventCategory != "Management" {
				t.Errorf("eventType %q readOnly %v managementEvent %v eventCategory %q",
					*ct.EventType, *ct.ReadOnly, *ct.ManagementEvent, *ct.EventCategory)
			}
		})
	}
}

// demoFixture is the part of the fixture format the consistency check needs.
type demoFixture struct {
	HubAccount string                     `json:"hubAccount"`
	Faults     map[string]json.RawMessage `json:"faults"`
	Accounts   map[string]struct {
		Roles []struct {
			Name        string            `json:"name"`
			Path        string            `json:"path"`
			Tags        map[string]string `json:"tags"`
			TrustPolicy json.RawMessage   `json:"trustPolicy"`
		} `json:"roles"`
		Regions map[string]struct {
			Instances []struct {
				ID              string            `json:"id"`
				State           string            `json:"state"`
				Tags            map[string]string `json:"tags"`
				MetadataOptions struct {
					HTTPTokens   string `json:"httpTokens"`
					HopLimit     int    `json:"httpPutResponseHopLimit"`
					HTTPEndpoint string `json:"httpEndpoint"`
				} `json:"metadataOptions"`
			} `json:"instances"`
			PodIdentityAssociations []struct {
				ClusterName    string `json:"clusterName"`
				AssociationID  string `json:"associationId"`
				Namespace      string `json:"namespace"`
				ServiceAccount string `json:"serviceAccount"`
				RoleARN        string `json:"roleArn"`
			} `json:"podIdentityAssociations"`
		} `json:"regions"`
	} `json:"accounts"`
}

// TestDemoFixtureCoversSamples checks that every resource a sample event
// names exists in the demo fixture, in the event's account and region, so
// that `make demo` exercises each case rather than reporting "gone".
func TestDemoFixtureCoversSamples(t *testing.T) {
	var fx demoFixture
	if err := json.Unmarshal(read(t, "fixtures/demo.json"), &fx); err != nil {
		t.Fatal(err)
	}
	if fx.HubAccount != hub || len(fx.Faults) != 0 {
		t.Errorf("hubAccount %q, faults %v: want the hub and no faults", fx.HubAccount, fx.Faults)
	}
	type where struct{ account, region, id string }
	instances := map[where]string{} // → Name tag
	roles := map[string]bool{}      // role ARN
	assocs := map[where]string{}    // cluster/id → "ns/sa role"
	for account, a := range fx.Accounts {
		for _, r := range a.Roles {
			roles[ids.RoleARN{Partition: "aws", Account: account, Path: r.Path, Name: r.Name}.String()] = true
			var doc map[string]any
			if err := json.Unmarshal(r.TrustPolicy, &doc); err != nil || doc["Version"] != "2012-10-17" {
				t.Errorf("role %s/%s: trust policy is not a policy document (%v)", account, r.Name, err)
			}
		}
		for region, rg := range a.Regions {
			for _, i := range rg.Instances {
				instances[where{account, region, i.ID}] = i.Tags["Name"]
			}
			for _, p := range rg.PodIdentityAssociations {
				assocs[where{account, region, p.ClusterName + "/" + p.AssociationID}] = p.Namespace + "/" + p.ServiceAccount + " " + p.RoleARN
			}
		}
	}
	for _, name := range []string{"credguard-imds-remediation", "credguard-trust-remediation"} {
		if !roles["arn:aws:iam::444455556666:role/"+name] {
			t.Errorf("member account lacks the %s role", name)
		}
	}
	for _, fn := range []string{"credguard-imds-enforcer", "credguard-trust-guard"} {
		if !roles["arn:aws:iam::111122223333:role/"+fn] {
			t.Errorf("hub lacks the %s role", fn)
		}
	}

	for _, name := range samples {
		ev, err := event.Decode(read(t, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ev.Failed() {
			continue
		}
		for _, id := range ev.InstanceIDs() {
			if _, ok := instances[where{ev.Account, ev.Region, id}]; !ok {
				t.Errorf("%s: instance %s is not in the fixture's %s/%s", name, id, ev.Account, ev.Region)
			}
		}
		if ev.Role != nil && !roles[ev.Role.RoleARN] {
			t.Errorf("%s: role %s is not in the fixture", name, ev.Role.RoleARN)
		}
		if p := ev.PodIdentity; p != nil {
			got, ok := assocs[where{ev.Account, ev.Region, p.ClusterName + "/" + p.AssociationID}]
			if w := p.Namespace + "/" + p.ServiceAccount + " " + p.RoleARN; !ok || got != w {
				t.Errorf("%s: association %s is %q in the fixture, want %q", name, p.AssociationID, got, w)
			}
			if !roles[p.RoleARN] {
				t.Errorf("%s: role %s is not in the fixture", name, p.RoleARN)
			}
		}
	}
}

// TestInvalidSamplesFail makes sure nothing under invalid/ decodes.
func TestInvalidSamplesFail(t *testing.T) {
	names, err := fs.Glob(events.Files, "invalid/*.json")
	if err != nil || len(names) < len(invalid) {
		t.Fatalf("invalid samples: %v (%v)", names, err)
	}
	for _, name := range names {
		_, err := event.Decode(read(t, name))
		if !errors.Is(err, event.ErrMalformed) && !errors.Is(err, event.ErrUnsupported) {
			t.Errorf("%s: Decode error = %v, want malformed or unsupported", path.Base(name), err)
		}
	}
}
