// Package invoke adapts a guardrail to the Lambda payloads it receives: an SQS
// batch (the deployed path: rule → queue → function, with partial batch
// failures) or a single EventBridge event (direct invocation, the emulator,
// tests).
package invoke

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/credguard/credguard/internal/guardrail"
)

// Guardrail handles one raw EventBridge event.
type Guardrail interface {
	Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error)
}

// Response answers a direct invocation.
type Response struct {
	Results []guardrail.Result `json:"results"`
}

// Handler returns the function given to lambda.Start.
func Handler(g Guardrail) func(ctx context.Context, payload json.RawMessage) (any, error) {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		if batch, ok := sqsBatch(payload); ok {
			return handleBatch(ctx, g, batch), nil
		}
		results, err := g.Handle(ctx, payload)
		return Response{Results: results}, err
	}
}

// sqsBatch recognises an SQS event: an object whose Records all come from aws:sqs.
func sqsBatch(payload json.RawMessage) (events.SQSEvent, bool) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &probe) != nil || len(probe.Records) == 0 {
		return events.SQSEvent{}, false
	}
	for _, r := range probe.Records {
		if r.EventSource != "aws:sqs" {
			return events.SQSEvent{}, false
		}
	}
	var batch events.SQSEvent
	if json.Unmarshal(payload, &batch) != nil {
		return events.SQSEvent{}, false
	}
	return batch, true
}

// handleBatch runs every message and reports the failed ones so that only
// they are retried (ReportBatchItemFailures) and, in the end, dead-lettered.
func handleBatch(ctx context.Context, g Guardrail, batch events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, rec := range batch.Records {
		if _, err := g.Handle(ctx, []byte(rec.Body)); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	if resp.BatchItemFailures == nil {
		resp.BatchItemFailures = []events.SQSBatchItemFailure{}
	}
	return resp
}
