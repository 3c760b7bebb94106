package event_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/event"
)

const (
	hub    = "111122223333"
	member = "444455556666"
	oidc   = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)

// readSample returns an embedded file of the events package.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data
}

// globSample lists embedded files matching pattern.
func globSample(t testing.TB, pattern string) []string {
	t.Helper()
	names, err := fs.Glob(events.Files, pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no embedded files match %s", pattern)
	}
	return names
}

func opts(tokens string, hop int, endpoint string) event.MetadataOptions {
	return event.MetadataOptions{
		HTTPTokens: tokens, HopLimit: hop, HTTPEndpoint: endpoint, State: "pending",
		HTTPProtocolIPv6: "disabled", InstanceTags: "disabled",
	}
}

// sampleWant is everything a sample event must decode to. Policy documents
// are compared as parsed JSON (policy), the rest field by field.
type sampleWant struct {
	kind        event.Kind
	id          string
	account     string
	region      string
	time        string
	eventName   string
	actor       event.Actor
	errorCode   string
	stateChange *event.StateChange
	run         *event.RunInstances
	fleet       *event.Fleet
	modify      *event.MetadataOptionsChange
	pod         *event.PodIdentityAssociation
	role        *event.RoleChange // PolicyDocument compared via policy
	policy      string            // expected trust policy JSON ("" = none)
	describe    string
}

var (
	alice = event.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/alice", AccountID: hub, PrincipalID: "AIDAEXAMPLEALICE00001"}
	bob   = event.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/bob", AccountID: hub, PrincipalID: "AIDAEXAMPLEBOB0000001"}
	carol = event.Actor{
		Type: "AssumedRole", AccountID: hub, PrincipalID: "AROAEXAMPLEPLATFORMADM:carol@example.com",
		ARN:       "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformAdmin_4f1d2c3b5a697887/carol@example.com",
		IssuerARN: "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_4f1d2c3b5a697887",
	}
	ciRunner = event.Actor{
		Type: "AssumedRole", AccountID: hub, PrincipalID: "AROAEXAMPLECIDEPLOYER:gitlab-runner",
		ARN:       "arn:aws:sts::111122223333:assumed-role/ci-deployer/gitlab-runner",
		IssuerARN: "arn:aws:iam::111122223333:role/ci-deployer",
	}
	imdsEnforcer = event.Actor{
		Type: "AssumedRole", AccountID: hub, PrincipalID: "AROAEXAMPLEIMDSENFRCR:credguard-imds-enforcer",
		ARN:       "arn:aws:sts::111122223333:assumed-role/credguard-imds-enforcer/credguard-imds-enforcer",
		IssuerARN: "arn:aws:iam::111122223333:role/credguard-imds-enforcer",
	}
	karpenter = event.Actor{
		Type: "AssumedRole", AccountID: hub, PrincipalID: "AROAEXAMPLEKARPENTER1:1772443900123456789",
		ARN:       "arn:aws:sts::111122223333:assumed-role/KarpenterController-prod/1772443900123456789",
		IssuerARN: "arn:aws:iam::111122223333:role/KarpenterController-prod",
	}
	trustGuard = event.Actor{
		Type: "AssumedRole", AccountID: hub, PrincipalID: "AROAEXAMPLETRUSTGUARD:credguard-trust-guard",
		ARN:       "arn:aws:sts::111122223333:assumed-role/credguard-trust-guard/credguard-trust-guard",
		IssuerARN: "arn:aws:iam::111122223333:role/credguard-trust-guard",
	}
)

var sampleWants = map[string]sampleWant{
	"ec2-state-change-pending.json": {
		kind: event.KindStateChange, id: "7bf73129-1428-4cd3-a780-95db273d1602",
		account: hub, region: "us-east-1", time: "2026-03-02T09:14:07Z",
		stateChange: &event.StateChange{InstanceID: "i-0aaa0000000000001", State: "pending"},
		describe:    "EC2 instance i-0aaa0000000000001 is pending in 111122223333/us-east-1",
	},
	"ec2-state-change-running.json": {
		kind: event.KindStateChange, id: "0d1c58e6-6a9e-4b6b-9c55-3f4e2a7d8b21",
		account: hub, region: "us-east-1", time: "2026-03-02T09:15:42Z",
		stateChange: &event.StateChange{InstanceID: "i-0aaa0000000000002", State: "running"},
		describe:    "EC2 instance i-0aaa0000000000002 is running in 111122223333/us-east-1",
	},
	"ec2-state-change-pending-cross-account.json": {
		kind: event.KindStateChange, id: "b3f0c4a1-2d7e-4f18-8a6c-51e9d0b7c3f4",
		account: member, region: "eu-west-1", time: "2026-03-02T09:16:30Z",
		stateChange: &event.StateChange{InstanceID: "i-0bbb0000000000001", State: "pending"},
		describe:    "EC2 instance i-0bbb0000000000001 is pending in 444455556666/eu-west-1",
	},
	"cloudtrail-run-instances-one.json": {
		kind: event.KindRunInstances, id: "4c9b2a6e-8f1d-4e3a-b5c7-9d0e1f2a3b4c",
		account: hub, region: "us-east-1", time: "2026-03-02T09:20:47Z", eventName: "RunInstances", actor: alice,
		run: &event.RunInstances{Instances: []event.LaunchedInstance{
			{InstanceID: "i-0aaa0000000000003", MetadataOptions: opts("optional", 2, "enabled")},
		}},
		describe: "RunInstances by arn:aws:iam::111122223333:user/alice: 1 instance (i-0aaa0000000000003) in 111122223333/us-east-1",
	},
	"cloudtrail-run-instances-many.json": {
		kind: event.KindRunInstances, id: "e2d4f6a8-1b3c-4d5e-9f70-8a9b0c1d2e3f",
		account: hub, region: "us-east-1", time: "2026-03-02T09:22:10Z", eventName: "RunInstances", actor: ciRunner,
		run: &event.RunInstances{Instances: []event.LaunchedInstance{
			{InstanceID: "i-0aaa0000000000004", MetadataOptions: opts("optional", 2, "enabled")},
			{InstanceID: "i-0aaa0000000000005", MetadataOptions: opts("optional", 2, "enabled")},
			{InstanceID: "i-0aaa0000000000006", MetadataOptions: opts("optional", 2, "enabled")},
		}},
		describe: "RunInstances by arn:aws:sts::111122223333:assumed-role/ci-deployer/gitlab-runner: 3 instances " +
			"(i-0aaa0000000000004, i-0aaa0000000000005, i-0aaa0000000000006) in 111122223333/us-east-1",
	},
	"cloudtrail-create-fleet-one.json": {
		kind: event.KindCreateFleet, id: "5d2e8f1a-3b4c-4d5e-8f6a-7b8c9d0e1f09",
		account: hub, region: "us-east-1", time: "2026-03-02T09:33:20Z", eventName: "CreateFleet", actor: karpenter,
		fleet: &event.Fleet{FleetID: "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09", Type: event.FleetInstant,
			InstanceIDs: []string{"i-0aaa0000000000009"}},
		describe: "CreateFleet by " + karpenter.ARN + ": instant fleet fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09, " +
			"1 instance (i-0aaa0000000000009) in 111122223333/us-east-1",
	},
	"cloudtrail-create-fleet-many.json": {
		kind: event.KindCreateFleet, id: "6e3f9a2b-4c5d-4e6f-9a7b-8c9d0e1f2a10",
		account: hub, region: "us-east-1", time: "2026-03-02T09:35:41Z", eventName: "CreateFleet", actor: karpenter,
		fleet: &event.Fleet{FleetID: "fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10", Type: event.FleetInstant,
			InstanceIDs: []string{"i-0aaa000000000000a", "i-0aaa000000000000b", "i-0aaa000000000000c"}},
		describe: "CreateFleet by " + karpenter.ARN + ": instant fleet fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10, " +
			"3 instances (i-0aaa000000000000a, i-0aaa000000000000b, i-0aaa000000000000c) in 111122223333/us-east-1",
	},
	"cloudtrail-run-instances-compliant.json": {
		kind: event.KindRunInstances, id: "a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c07",
		account: hub, region: "us-east-1", time: "2026-03-02T09:24:31Z", eventName: "RunInstances", actor: carol,
		run: &event.RunInstances{Instances: []event.LaunchedInstance{
			{InstanceID: "i-0aaa0000000000007", MetadataOptions: opts("required", 1, "enabled")},
		}},
		describe: "RunInstances by " + carol.ARN + ": 1 instance (i-0aaa0000000000007) in 111122223333/us-east-1",
	},
	"cloudtrail-run-instances-failed.json": {
		kind: event.KindRunInstances, id: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e99",
		account: hub, region: "us-east-1", time: "2026-03-02T09:26:02Z", eventName: "RunInstances", actor: bob,
		errorCode: "Client.UnauthorizedOperation",
		run:       &event.RunInstances{},
		describe:  "RunInstances by arn:aws:iam::111122223333:user/bob: 0 instances in 111122223333/us-east-1 — the call failed: Client.UnauthorizedOperation",
	},
	"cloudtrail-modify-metadata-options-optional.json": {
		kind: event.KindModifyMetadataOptions, id: "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f08",
		account: hub, region: "us-east-1", time: "2026-03-02T09:31:18Z", eventName: "ModifyInstanceMetadataOptions", actor: bob,
		modify: &event.MetadataOptionsChange{
			InstanceID: "i-0aaa0000000000008",
			Requested:  event.MetadataOptions{HTTPTokens: "optional"},
			Resulting:  opts("optional", 1, "enabled"),
		},
		describe: "ModifyInstanceMetadataOptions by arn:aws:iam::111122223333:user/bob: i-0aaa0000000000008 set httpTokens=optional in 111122223333/us-east-1",
	},
	"cloudtrail-modify-metadata-options-by-credguard.json": {
		kind: event.KindModifyMetadataOptions, id: "f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f7a8b01",
		account: hub, region: "us-east-1", time: "2026-03-02T09:14:09Z", eventName: "ModifyInstanceMetadataOptions", actor: imdsEnforcer,
		modify: &event.MetadataOptionsChange{
			InstanceID: "i-0aaa0000000000001",
			Requested:  event.MetadataOptions{HTTPTokens: "required", HopLimit: 1},
			Resulting:  opts("required", 1, "enabled"),
		},
		describe: "ModifyInstanceMetadataOptions by " + imdsEnforcer.ARN + ": i-0aaa0000000000001 set httpTokens=required hop=1 in 111122223333/us-east-1",
	},
	"eks-create-pod-identity-association.json": {
		kind: event.KindCreatePodIdentityAssociation, id: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c11",
		account: hub, region: "us-east-1", time: "2026-03-02T09:40:26Z", eventName: "CreatePodIdentityAssociation", actor: carol,
		pod: &event.PodIdentityAssociation{
			ClusterName: "prod", AssociationID: "a-0payments00000001",
			AssociationARN: "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-0payments00000001",
			Namespace:      "payments", ServiceAccount: "payments-api", RoleARN: "arn:aws:iam::111122223333:role/payments-api",
		},
		describe: "CreatePodIdentityAssociation by " + carol.ARN + ": cluster prod, payments/payments-api (a-0payments00000001) → arn:aws:iam::111122223333:role/payments-api in 111122223333/us-east-1",
	},
	"eks-update-pod-identity-association.json": {
		kind: event.KindUpdatePodIdentityAssociation, id: "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d12",
		account: hub, region: "us-east-1", time: "2026-03-02T09:45:03Z", eventName: "UpdatePodIdentityAssociation", actor: carol,
		pod: &event.PodIdentityAssociation{
			ClusterName: "prod", AssociationID: "a-0analytics0000001",
			AssociationARN: "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-0analytics0000001",
			Namespace:      "analytics", ServiceAccount: "reporter", RoleARN: "arn:aws:iam::111122223333:role/analytics-reporter",
		},
		describe: "UpdatePodIdentityAssociation by " + carol.ARN + ": cluster prod, analytics/reporter (a-0analytics0000001) → arn:aws:iam::111122223333:role/analytics-reporter in 111122223333/us-east-1",
	},
	"iam-create-role.json": {
		kind: event.KindCreateRole, id: "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e13",
		account: hub, region: "us-east-1", time: "2026-03-02T10:02:11Z", eventName: "CreateRole", actor: alice,
		role:     &event.RoleChange{RoleName: "ci-deployer", RoleARN: "arn:aws:iam::111122223333:role/ci-deployer", Path: "/"},
		policy:   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
		describe: "CreateRole by arn:aws:iam::111122223333:user/alice: role arn:aws:iam::111122223333:role/ci-deployer",
	},
	"iam-update-assume-role-policy.json": {
		kind: event.KindUpdateAssumeRolePolicy, id: "8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f14",
		account: hub, region: "us-east-1", time: "2026-03-02T10:05:37Z", eventName: "UpdateAssumeRolePolicy", actor: carol,
		role: &event.RoleChange{RoleName: "billing-api", RoleARN: "arn:aws:iam::111122223333:role/billing-api"},
		policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + oidc + `"},
			"Action":"sts:AssumeRoleWithWebIdentity",
			"Condition":{"StringEquals":{"` + oidc + `:sub":"system:serviceaccount:billing:billing-api","` + oidc + `:aud":"sts.amazonaws.com"}}}]}`,
		describe: "UpdateAssumeRolePolicy by " + carol.ARN + ": role arn:aws:iam::111122223333:role/billing-api",
	},
	"iam-update-assume-role-policy-mixed.json": {
		kind: event.KindUpdateAssumeRolePolicy, id: "8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f16",
		account: hub, region: "us-east-1", time: "2026-03-02T10:12:03Z", eventName: "UpdateAssumeRolePolicy", actor: carol,
		role:     &event.RoleChange{RoleName: "s3-replication", RoleARN: "arn:aws:iam::111122223333:role/s3-replication"},
		policy:   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		describe: "UpdateAssumeRolePolicy by " + carol.ARN + ": role arn:aws:iam::111122223333:role/s3-replication",
	},
	"iam-update-assume-role-policy-by-credguard.json": {
		kind: event.KindUpdateAssumeRolePolicy, id: "9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a15",
		account: hub, region: "us-east-1", time: "2026-03-02T10:02:41Z", eventName: "UpdateAssumeRolePolicy", actor: trustGuard,
		role: &event.RoleChange{RoleName: "ci-deployer", RoleARN: "arn:aws:iam::111122223333:role/ci-deployer"},
		policy: `{"Version":"2012-10-17","Statement":[{"Sid":"CredguardDenyAll","Effect":"Deny","Principal":{"AWS":"*"},
			"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity","sts:AssumeRoleWithSAML","sts:TagSession"]}]}`,
		describe: "UpdateAssumeRolePolicy by " + trustGuard.ARN + ": role arn:aws:iam::111122223333:role/ci-deployer",
	},
}

func TestDecodeSamples(t *testing.T) {
	names := globSample(t, "*.json")
	seen := map[string]bool{}
	for _, name := range names {
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := sampleWants[name]
			if !ok {
				t.Fatalf("no expectation for sample %s: add one to sampleWants", name)
			}
			ev, err := event.Decode(readSample(t, name))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkSample(t, ev, want)
		})
	}
	for name := range sampleWants {
		if !seen[name] {
			t.Errorf("expected sample %s is not embedded", name)
		}
	}
}

func checkSample(t *testing.T, ev event.Event, want sampleWant) {
	t.Helper()
	wantSource := map[event.Kind]string{
		event.KindStateChange: "aws.ec2", event.KindRunInstances: "aws.ec2", event.KindModifyMetadataOptions: "aws.ec2",
		event.KindCreateFleet:                  "aws.ec2",
		event.KindCreatePodIdentityAssociation: "aws.eks", event.KindUpdatePodIdentityAssociation: "aws.eks",
		event.KindCreateRole: "aws.iam", event.KindUpdateAssumeRolePolicy: "aws.iam",
	}[want.kind]
	if ev.Kind != want.kind || ev.ID != want.id || ev.Account != want.account || ev.Region != want.region || ev.Source != wantSource {
		t.Errorf("envelope = kind %q id %q account %q region %q source %q; want %q %q %q %q %q",
			ev.Kind, ev.ID, ev.Account, ev.Region, ev.Source, want.kind, want.id, want.account, want.region, wantSource)
	}
	if wantTime, _ := time.Parse(time.RFC3339, want.time); !ev.Time.Equal(wantTime) {
		t.Errorf("Time = %v, want %s", ev.Time, want.time)
	}
	if ev.EventName != want.eventName {
		t.Errorf("EventName = %q, want %q", ev.EventName, want.eventName)
	}
	if want.eventName != "" && ev.EventSource != strings.TrimPrefix(wantSource, "aws.")+".amazonaws.com" {
		t.Errorf("EventSource = %q", ev.EventSource)
	}
	if ev.Actor != want.actor {
		t.Errorf("Actor = %+v\nwant    %+v", ev.Actor, want.actor)
	}
	if ev.ErrorCode != want.errorCode || ev.Failed() != (want.errorCode != "") {
		t.Errorf("ErrorCode = %q (Failed %v), want %q", ev.ErrorCode, ev.Failed(), want.errorCode)
	}
	if want.errorCode != "" && ev.ErrorMessage == "" {
		t.Error("ErrorMessage is empty for a failed call")
	}
	if !reflect.DeepEqual(ev.StateChange, want.stateChange) {
		t.Errorf("StateChange = %+v, want %+v", ev.StateChange, want.stateChange)
	}
	if !reflect.DeepEqual(ev.RunInstances, want.run) {
		t.Errorf("RunInstances = %+v\nwant %+v", ev.RunInstances, want.run)
	}
	if !reflect.DeepEqual(ev.Fleet, want.fleet) {
		t.Errorf("Fleet = %+v\nwant %+v", ev.Fleet, want.fleet)
	}
	if !reflect.DeepEqual(ev.MetadataOptions, want.modify) {
		t.Errorf("MetadataOptions = %+v\nwant %+v", ev.MetadataOptions, want.modify)
	}
	if !reflect.DeepEqual(ev.PodIdentity, want.pod) {
		t.Errorf("PodIdentity = %+v\nwant %+v", ev.PodIdentity, want.pod)
	}
	var gotRole *event.RoleChange
	if ev.Role != nil {
		r := *ev.Role
		gotPolicy := r.PolicyDocument
		r.PolicyDocument = ""
		gotRole = &r
		if !sameJSON(t, gotPolicy, want.policy) {
			t.Errorf("PolicyDocument = %s\nwant %s", gotPolicy, want.policy)
		}
	}
	if !reflect.DeepEqual(gotRole, want.role) {
		t.Errorf("Role = %+v, want %+v", gotRole, want.role)
	}
	if got := event.Describe(ev); got != want.describe {
		t.Errorf("Describe =\n  %s\nwant\n  %s", got, want.describe)
	}
	var wantIDs []string
	switch {
	case want.stateChange != nil:
		wantIDs = []string{want.stateChange.InstanceID}
	case want.run != nil:
		for _, i := range want.run.Instances {
			wantIDs = append(wantIDs, i.InstanceID)
		}
	case want.fleet != nil:
		wantIDs = want.fleet.InstanceIDs
	case want.modify != nil:
		wantIDs = []string{want.modify.InstanceID}
	}
	if got := ev.InstanceIDs(); !reflect.DeepEqual(got, wantIDs) {
		t.Errorf("InstanceIDs = %v, want %v", got, wantIDs)
	}
}

// sameJSON reports whether two JSON texts hold the same value ("" matches "").
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	if got == "" || want == "" {
		return got == want
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("decoded policy is not JSON: %v", err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected policy is not JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

// TestDecodeInvalidSamples checks each file under events/invalid/ fails with
// the right class and a message that names what is wrong.
func TestDecodeInvalidSamples(t *testing.T) {
	wants := map[string]struct {
		class error
		field string
		msg   string // the whole error text
	}{
		"truncated.json":           {event.ErrMalformed, "", "decode event: unexpected end of JSON input"},
		"empty.json":               {event.ErrMalformed, "", "decode event: empty input"},
		"not-an-object.json":       {event.ErrMalformed, "", "decode event: want a JSON object, got array"},
		"missing-detail.json":      {event.ErrMalformed, "detail", "decode event: detail: missing"},
		"wrong-types.json":         {event.ErrMalformed, "detail.instance-id", "decode event: detail.instance-id: want string, got number"},
		"wrong-types-items.json":   {event.ErrMalformed, "detail.responseElements.instancesSet.items", "decode event: detail.responseElements.instancesSet.items: want array, got object"},
		"bad-instance-id.json":     {event.ErrMalformed, "detail.instance-id", `decode event: detail.instance-id: "i-XYZ" is not an instance id`},
		"bad-account.json":         {event.ErrMalformed, "account", `decode event: account: "1111-2222-3333" is not a 12-digit account id`},
		"unknown-detail-type.json": {event.ErrUnsupported, "detail-type", `decode event: detail-type: "EC2 Spot Instance Interruption Warning" is not handled`},
	}
	names := globSample(t, "invalid/*.json")
	seen := map[string]bool{}
	for _, name := range names {
		base := path.Base(name)
		seen[base] = true
		t.Run(base, func(t *testing.T) {
			want, ok := wants[base]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			ev, err := event.Decode(readSample(t, name))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", ev)
			}
			if !errors.Is(err, want.class) {
				t.Errorf("error %q is not %v", err, want.class)
			}
			other := event.ErrUnsupported
			if want.class == event.ErrUnsupported {
				other = event.ErrMalformed
			}
			if errors.Is(err, other) {
				t.Errorf("error %q is also %v", err, other)
			}
			if err.Error() != want.msg {
				t.Errorf("error = %q\nwant    %q", err, want.msg)
			}
			if got := event.FieldOf(err); got != want.field {
				t.Errorf("FieldOf = %q, want %q", got, want.field)
			}
			if !reflect.DeepEqual(ev, event.Event{}) {
				t.Errorf("Decode returned a non-zero event with an error: %+v", ev)
			}
		})
	}
	var missing []string
	for name := range wants {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("expected invalid samples not embedded: %v", missing)
	}
}
