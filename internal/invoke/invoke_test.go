package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
)

// fake fails the events whose body is "bad".
type fake struct{ seen []string }

func (f *fake) Handle(_ context.Context, raw []byte) ([]guardrail.Result, error) {
	f.seen = append(f.seen, string(raw))
	if string(raw) == `"bad"` {
		return []guardrail.Result{{Outcome: outcome.Failed}}, errors.New("failed")
	}
	return []guardrail.Result{{Outcome: outcome.Remediated, Resource: string(raw)}}, nil
}

func TestSQSBatchReportsOnlyFailures(t *testing.T) {
	f := &fake{}
	payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", EventSource: "aws:sqs", Body: `"ok1"`},
		{MessageId: "m2", EventSource: "aws:sqs", Body: `"bad"`},
		{MessageId: "m3", EventSource: "aws:sqs", Body: `"ok2"`},
	}})
	out, err := Handler(f)(context.Background(), payload)
	if err != nil {
		t.Fatalf("a batch never fails as a whole: %v", err)
	}
	resp := out.(events.SQSEventResponse)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Errorf("failures = %+v, want m2 only", resp.BatchItemFailures)
	}
	if len(f.seen) != 3 {
		t.Errorf("handled %d records, want 3", len(f.seen))
	}
}

func TestSQSBatchAllGoodHasEmptyFailures(t *testing.T) {
	payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", EventSource: "aws:sqs", Body: `"ok"`}}})
	out, _ := Handler(&fake{})(context.Background(), payload)
	b, _ := json.Marshal(out)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("response = %s", b)
	}
}

func TestDirectEvent(t *testing.T) {
	f := &fake{}
	out, err := Handler(f)(context.Background(), json.RawMessage(`{"detail-type":"x","Records":"not sqs"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(Response); len(r.Results) != 1 || len(f.seen) != 1 {
		t.Errorf("direct event: %+v", r)
	}
	// A direct event that fails returns the error (Lambda retries async invocations).
	if _, err := Handler(f)(context.Background(), json.RawMessage(`"bad"`)); err == nil {
		t.Error("want the handler's error")
	}
	// Records from another source are not an SQS batch.
	payload := json.RawMessage(`{"Records":[{"eventSource":"aws:sns"}]}`)
	if _, ok := sqsBatch(payload); ok {
		t.Error("an SNS event taken for an SQS batch")
	}
}
