package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

const topic = "arn:aws:sns:us-east-1:111122223333:credguard-notifications"

// snsServer answers the SNS query protocol's Publish and records the forms.
type snsServer struct {
	mu     sync.Mutex
	forms  []url.Values
	status int // 0: success
	code   string
}

func (s *snsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.forms = append(s.forms, r.PostForm)
	status, code := s.status, s.code
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>denied for test</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, code)
		return
	}
	fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>`)
}

func snsClient(t *testing.T, endpoint string) *sns.Client {
	t.Helper()
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	}
	return sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func TestPublisherSendsMessageAndAttributes(t *testing.T) {
	srv := &snsServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	m, a, err := Build(goldenIncidents()["imds-mixed"])
	if err != nil {
		t.Fatal(err)
	}
	p := NewPublisher(snsClient(t, ts.URL), topic)
	if err := p.Publish(context.Background(), m, a); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	if len(srv.forms) != 1 {
		t.Fatalf("%d requests, want 1", len(srv.forms))
	}
	f := srv.forms[0]
	if f.Get("Action") != "Publish" || f.Get("TopicArn") != topic {
		t.Errorf("Action %q TopicArn %q", f.Get("Action"), f.Get("TopicArn"))
	}
	var sent Message
	if err := json.Unmarshal([]byte(f.Get("Message")), &sent); err != nil {
		t.Fatalf("Message is not JSON: %v", err)
	}
	if sent.Content.Title != m.Content.Title || sent.Content.Description != m.Content.Description || sent.Source != "custom" {
		t.Errorf("sent message differs from the built one: %+v", sent.Content)
	}
	attrs := map[string]string{}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := f.Get(prefix + "Name")
		if name == "" {
			break
		}
		if dt := f.Get(prefix + "Value.DataType"); dt != "String" {
			t.Errorf("attribute %s has DataType %q", name, dt)
		}
		attrs[name] = f.Get(prefix + "Value.StringValue")
	}
	want := map[string]string{"guardrail": "imds", "outcome": "failed", "severity": "critical", "account": "111122223333"}
	if fmt.Sprint(attrs) != fmt.Sprint(want) {
		t.Errorf("attributes %v, want %v", attrs, want)
	}
	if f.Get("Subject") != "" {
		t.Errorf("Subject %q set", f.Get("Subject"))
	}
}

func TestPublisherWrapsSNSErrors(t *testing.T) {
	srv := &snsServer{status: http.StatusForbidden, code: "AuthorizationError"}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	m, a, err := Build(goldenIncidents()["trust-warned"])
	if err != nil {
		t.Fatal(err)
	}
	err = NewPublisher(snsClient(t, ts.URL), topic).Publish(context.Background(), m, a)
	if err == nil {
		t.Fatal("Publish succeeded")
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AuthorizationError" {
		t.Errorf("error %v does not wrap the SNS AuthorizationError", err)
	}
	if !strings.Contains(err.Error(), topic) || !strings.Contains(err.Error(), m.ID) {
		t.Errorf("error %q names neither topic nor message", err)
	}
}

// fakeSNS records inputs; used where the wire format is not the point.
type fakeSNS struct{ in *sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{}, nil
}

func TestPublisherLeavesOutEmptyAttributes(t *testing.T) {
	f := &fakeSNS{}
	m := Message{Version: SchemaVersion, Source: SourceCustom, Content: Content{Title: "t"}}
	if err := NewPublisher(f, topic).Publish(context.Background(), m, Attributes{Guardrail: "imds"}); err != nil {
		t.Fatal(err)
	}
	if len(f.in.MessageAttributes) != 1 || aws.ToString(f.in.MessageAttributes["guardrail"].StringValue) != "imds" {
		t.Errorf("attributes %v", f.in.MessageAttributes)
	}
}
