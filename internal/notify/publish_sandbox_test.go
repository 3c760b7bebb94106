package notify

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

func startSandbox(t *testing.T, faults *sandbox.Faults) *sandbox.Server {
	t.Helper()
	s := sandboxtest.Start(t, &sandbox.Fixture{HubAccount: hub, Faults: faults, Accounts: map[string]*sandbox.Account{hub: {}}})
	return s
}

func sandboxSNS(t *testing.T, s *sandbox.Server) *sns.Client {
	t.Helper()
	cfg, err := s.AWSConfig(context.Background(), hub, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return sns.NewFromConfig(cfg, func(o *sns.Options) { o.RetryMaxAttempts = 1 })
}

func TestPublisherAgainstSandbox(t *testing.T) {
	s := startSandbox(t, nil)
	m, a, err := Build(goldenIncidents()["trust-revoked"])
	if err != nil {
		t.Fatal(err)
	}
	if err := NewPublisher(sandboxSNS(t, s), topic).Publish(context.Background(), m, a); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := s.Notifications()
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	n := got[0]
	if n.TopicARN != topic {
		t.Errorf("topic %q", n.TopicARN)
	}
	want := map[string]string{"guardrail": "trust", "outcome": "revoked", "severity": "critical", "account": hub}
	for k, v := range want {
		if n.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q (all: %v)", k, n.Attributes[k], v, n.Attributes)
		}
	}
	back, err := Parse([]byte(n.Message))
	if err != nil {
		t.Fatalf("published message does not parse: %v", err)
	}
	sent, _ := json.Marshal(m)
	again, _ := json.Marshal(back)
	if string(sent) != string(again) {
		t.Errorf("published message differs:\n%s\n%s", sent, again)
	}
}

func TestPublisherSandboxFaultIsReturned(t *testing.T) {
	s := startSandbox(t, &sandbox.Faults{Errors: map[string]sandbox.ErrorFault{"sns:Publish": {Rate: 1, Code: "InternalError"}}})
	m, a, err := Build(goldenIncidents()["imds-dry-run"])
	if err != nil {
		t.Fatal(err)
	}
	err = NewPublisher(sandboxSNS(t, s), topic).Publish(context.Background(), m, a)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalError" {
		t.Fatalf("error %v, want the injected InternalError", err)
	}
	if len(s.Notifications()) != 0 {
		t.Error("a failed publish was recorded")
	}
}

func TestPublisherSandboxRejectsOtherAccountsTopic(t *testing.T) {
	s := startSandbox(t, nil)
	m, a, err := Build(goldenIncidents()["imds-dry-run"])
	if err != nil {
		t.Fatal(err)
	}
	err = NewPublisher(sandboxSNS(t, s), "arn:aws:sns:us-east-1:999999999999:elsewhere").Publish(context.Background(), m, a)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AuthorizationError" {
		t.Fatalf("error %v, want AuthorizationError", err)
	}
}
