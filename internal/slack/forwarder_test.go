package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/credguard/credguard/internal/notify"
)

const topicARN = "arn:aws:sns:us-east-1:111122223333:credguard-notifications"

func snsRecord(id, subject, message string) events.SNSEventRecord {
	return events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{
		MessageID: id, TopicArn: topicARN, Subject: subject, Message: message, Timestamp: time.Now(),
	}}
}

type forwarderFixture struct {
	*fixture
	secrets *fakeSecrets
	fwd     *Forwarder
}

func newForwarder(t *testing.T, script ...func(http.ResponseWriter, *http.Request)) *forwarderFixture {
	t.Helper()
	f := newFixture(t, WebhookOptions{MaxAttempts: 3}, script...)
	secrets := &fakeSecrets{value: aws.String(`{"url":"` + f.url + `"}`)}
	log := slog.New(slog.NewJSONHandler(f.logs, nil))
	return &forwarderFixture{fixture: f, secrets: secrets, fwd: NewForwarder(NewWebhookSecret(secrets, secretARN, time.Minute), f.client, log)}
}

// logLines decodes the JSON log lines with the given message.
func logLines(t *testing.T, buf *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestForwarderDeliversChatbotAndPlainMessages(t *testing.T) {
	f := newForwarder(t)
	m, _, err := notify.Build(incidents(t)["imds-remediated"])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(m)
	ev := events.SNSEvent{Records: []events.SNSEventRecord{
		snsRecord("msg-1", "", string(body)),
		snsRecord("msg-2", "ALARM: disk", `{"AlarmName":"disk","NewStateValue":"ALARM"}`),
	}}
	if err := f.fwd.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if f.stub.requests() != 2 {
		t.Fatalf("%d posts, want 2", f.stub.requests())
	}
	var first, second Payload
	if err := json.Unmarshal(f.stub.bodies[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.stub.bodies[1], &second); err != nil {
		t.Fatal(err)
	}
	if first.Blocks[0].Text.Text != m.Content.Title || first.Blocks[1].Text == nil || first.Blocks[1].Text.Text != m.Content.Description {
		t.Errorf("chatbot message not laid out: %+v", first.Blocks[:2])
	}
	if second.Blocks[0].Text.Text != "ALARM: disk" || !strings.Contains(second.Blocks[1].Text.Text, `"AlarmName":"disk"`) {
		t.Errorf("plain message not shown: %+v", second.Blocks)
	}
	lines := logLines(t, f.logs, "slack message delivered")
	if len(lines) != 2 {
		t.Fatalf("%d delivered lines, want 2: %s", len(lines), f.logs)
	}
	if lines[0]["snsMessageId"] != "msg-1" || lines[0]["kind"] != "chatbot" || lines[0]["guardrail"] != "imds" || lines[0]["outcome"] != "remediated" {
		t.Errorf("first log line %v", lines[0])
	}
	if lines[1]["snsMessageId"] != "msg-2" || lines[1]["kind"] != "plain" || lines[1]["title"] != "ALARM: disk" {
		t.Errorf("second log line %v", lines[1])
	}
	f.assertNoSecret(t, nil)
}

func TestForwarderReadsTheSecretOnceAcrossInvocations(t *testing.T) {
	f := newForwarder(t)
	for i := range 3 {
		if err := f.fwd.Handle(context.Background(), events.SNSEvent{Records: []events.SNSEventRecord{snsRecord("m", "", "hello")}}); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	if f.secrets.calls != 1 {
		t.Errorf("GetSecretValue called %d times, want 1", f.secrets.calls)
	}
}

func TestForwarderReportsFailuresForRetry(t *testing.T) {
	f := newForwarder(t, status(http.StatusInternalServerError, "internal_error"))
	ev := events.SNSEvent{Records: []events.SNSEventRecord{snsRecord("msg-9", "", "text")}}
	err := f.fwd.Handle(context.Background(), ev)
	if err == nil {
		t.Fatal("Handle succeeded although Slack failed")
	}
	if !strings.Contains(err.Error(), "1 of 1 messages not delivered") || !strings.Contains(err.Error(), "msg-9") {
		t.Errorf("error %q", err)
	}
	if f.stub.requests() != 3 {
		t.Errorf("%d posts, want 3 (bounded retries)", f.stub.requests())
	}
	lines := logLines(t, f.logs, "slack message failed")
	if len(lines) != 1 || lines[0]["snsMessageId"] != "msg-9" || lines[0]["permanent"] != false || lines[0]["level"] != "ERROR" {
		t.Errorf("failure log %v", lines)
	}
	f.assertNoSecret(t, err)
}

func TestForwarderPartialFailure(t *testing.T) {
	f := newForwarder(t, ok200, status(http.StatusBadRequest, "invalid_blocks"))
	ev := events.SNSEvent{Records: []events.SNSEventRecord{snsRecord("a", "", "one"), snsRecord("b", "", "two")}}
	err := f.fwd.Handle(context.Background(), ev)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "1 of 2 messages") {
		t.Fatalf("error %v", err)
	}
	if n := len(logLines(t, f.logs, "slack message delivered")); n != 1 {
		t.Errorf("%d delivered lines", n)
	}
	failed := logLines(t, f.logs, "slack message failed")
	if len(failed) != 1 || failed[0]["snsMessageId"] != "b" || failed[0]["permanent"] != true {
		t.Errorf("failed lines %v", failed)
	}
}

func TestForwarderSecretFailure(t *testing.T) {
	f := newForwarder(t)
	f.secrets.err = errors.New("ResourceNotFoundException: no such secret")
	ev := events.SNSEvent{Records: []events.SNSEventRecord{snsRecord("a", "", "one"), snsRecord("b", "", "two")}}
	err := f.fwd.Handle(context.Background(), ev)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("error %v", err)
	}
	if f.stub.requests() != 0 {
		t.Errorf("%d posts without a URL", f.stub.requests())
	}
	if n := len(logLines(t, f.logs, "slack message failed")); n != 2 {
		t.Errorf("%d failed lines, want one per message", n)
	}
}

func TestForwarderEmptyEvent(t *testing.T) {
	f := newForwarder(t)
	if err := f.fwd.Handle(context.Background(), events.SNSEvent{}); err != nil {
		t.Fatal(err)
	}
	if n := len(logLines(t, f.logs, "sns event without records")); n != 1 {
		t.Errorf("empty event not logged: %s", f.logs)
	}
	if f.secrets.calls != 0 {
		t.Error("secret read for an empty event")
	}
}

func TestForwarderDecodesLambdaEvent(t *testing.T) {
	// The event as Lambda delivers it from SNS.
	raw := `{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","EventSubscriptionArn":"arn:aws:sns:us-east-1:111122223333:credguard-notifications:1f2e",
	  "Sns":{"Type":"Notification","MessageId":"95df01b4-ee98-5cb9-9903-4c221d41eb5e","TopicArn":"arn:aws:sns:us-east-1:111122223333:credguard-notifications",
	  "Subject":null,"Message":"{\"version\":\"1.0\",\"source\":\"custom\",\"content\":{\"textType\":\"client-markdown\",\"title\":\"IMDSv2 enforced\",\"description\":\"d\"},\"metadata\":{}}",
	  "Timestamp":"2025-01-02T03:04:05.000Z","SignatureVersion":"1","MessageAttributes":{"outcome":{"Type":"String","Value":"remediated"}}}}]}`
	var ev events.SNSEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	f := newForwarder(t)
	if err := f.fwd.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(f.stub.bodies[0], &p); err != nil || p.Blocks[0].Text.Text != "IMDSv2 enforced" {
		t.Errorf("payload %s (%v)", f.stub.bodies[0], err)
	}
}
