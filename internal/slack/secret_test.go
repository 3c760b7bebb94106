package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeSecrets struct {
	calls  int
	ids    []string
	value  *string
	binary []byte
	err    error
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	f.ids = append(f.ids, aws.ToString(in.SecretId))
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value, SecretBinary: f.binary}, nil
}

const secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credguard/slack-AbCdEf"

func TestWebhookSecretCachesWithinTTL(t *testing.T) {
	f := &fakeSecrets{value: aws.String("https://hooks.slack.com/services/T1/B1/abc")}
	s := NewWebhookSecret(f, secretARN, time.Minute)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	for i := range 5 {
		u, err := s.URL(context.Background())
		if err != nil || u != "https://hooks.slack.com/services/T1/B1/abc" {
			t.Fatalf("call %d: %q %v", i, u, err)
		}
		now = now.Add(10 * time.Second)
	}
	if f.calls != 1 {
		t.Errorf("GetSecretValue called %d times within the TTL, want 1", f.calls)
	}
	if f.ids[0] != secretARN {
		t.Errorf("read secret %q", f.ids[0])
	}
	now = now.Add(time.Minute)
	f.value = aws.String(`{"url": "https://hooks.slack.com/services/T1/B1/rotated"}`)
	u, err := s.URL(context.Background())
	if err != nil || u != "https://hooks.slack.com/services/T1/B1/rotated" {
		t.Fatalf("after the TTL: %q %v", u, err)
	}
	if f.calls != 2 {
		t.Errorf("GetSecretValue called %d times, want 2 after the TTL", f.calls)
	}
}

func TestWebhookSecretErrorsAreNotCached(t *testing.T) {
	f := &fakeSecrets{err: errors.New("AccessDeniedException: no")}
	s := NewWebhookSecret(f, secretARN, 0)
	if s.ttl != DefaultSecretTTL {
		t.Errorf("ttl %s", s.ttl)
	}
	_, err := s.URL(context.Background())
	if err == nil || !strings.Contains(err.Error(), "read slack webhook secret "+secretARN) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("error %v", err)
	}
	f.err = nil
	f.binary = []byte("https://hooks.slack.com/services/T1/B1/bin")
	u, err := s.URL(context.Background())
	if err != nil || u != "https://hooks.slack.com/services/T1/B1/bin" || f.calls != 2 {
		t.Errorf("after the error: %q %v, %d calls", u, err, f.calls)
	}
}

func TestParseWebhookSecret(t *testing.T) {
	good := map[string]string{
		"https://hooks.slack.com/services/T1/B1/x":            "https://hooks.slack.com/services/T1/B1/x",
		"  https://hooks.slack.com/services/T1/B1/x\n":        "https://hooks.slack.com/services/T1/B1/x",
		`{"url": "https://hooks.slack.com/services/T1/B1/x"}`: "https://hooks.slack.com/services/T1/B1/x",
		`{"url": "https://h.example/x", "channel": "#sec"}`:   "https://h.example/x",
		"http://127.0.0.1:8080/services/x":                    "http://127.0.0.1:8080/services/x",
		"http://localhost/x":                                  "http://localhost/x",
		"http://[::1]:9/x":                                    "http://[::1]:9/x",
	}
	for in, want := range good {
		got, err := parseWebhookSecret(in)
		if err != nil || got != want {
			t.Errorf("parseWebhookSecret(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                   "empty",
		"   ":                                "empty",
		`{"url": ""}`:                        `no "url" field`,
		`{"webhook": "https://SECRETVALUE"}`: `no "url" field`,
		`{"url": "https://SECRETVALUE"`:      "not valid JSON",
		"SECRETVALUE":                        "not a URL",
		"ftp://SECRETVALUE/x":                "must use https",
		"http://SECRETVALUE.slack.com/x":     "must use https",
		"http://10.0.0.1/SECRETVALUE":        "must use https",
		"https://SECRETVALUE\x7f/":           "not a URL",
	}
	for in, want := range bad {
		_, err := parseWebhookSecret(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseWebhookSecret(%q) error %v, want %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRETVALUE") {
			t.Errorf("error %q quotes the secret", err)
		}
	}
}
