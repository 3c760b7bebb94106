package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/credguard/credguard/internal/notify"
)

// URLSource gives the webhook URL (WebhookSecret).
type URLSource interface {
	URL(ctx context.Context) (string, error)
}

// Poster posts a payload to a webhook (WebhookClient).
type Poster interface {
	Post(ctx context.Context, webhookURL string, p Payload) error
}

// Forwarder is the handler of the Slack forwarder Lambda: it receives the
// notification topic's messages and posts each to the webhook.
type Forwarder struct {
	urls   URLSource
	poster Poster
	log    *slog.Logger
}

// NewForwarder returns a forwarder; log gets one line per message.
func NewForwarder(urls URLSource, poster Poster, log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{urls: urls, poster: poster, log: log}
}

// PayloadFor turns one SNS message into a Slack payload: Block Kit for a
// Chatbot custom notification, plain text for anything else (never dropped).
// kind is "chatbot" or "plain".
func PayloadFor(e events.SNSEntity) (p Payload, m notify.Message, kind string) {
	m, err := notify.Parse([]byte(e.Message))
	if err != nil {
		return PlainPayload(e.Subject, e.Message, e.TopicArn), notify.Message{}, "plain"
	}
	return FromMessage(m), m, "chatbot"
}

// Handle posts every record and logs one line per message, delivered or
// failed. It returns an error when any message was not delivered, so that
// the delivery is retried.
func (f *Forwarder) Handle(ctx context.Context, ev events.SNSEvent) error {
	if len(ev.Records) == 0 {
		f.log.WarnContext(ctx, "sns event without records")
		return nil
	}
	webhookURL, urlErr := f.urls.URL(ctx)
	var failed []error
	for _, r := range ev.Records {
		p, m, kind := PayloadFor(r.SNS)
		attrs := []any{
			"snsMessageId", r.SNS.MessageID,
			"topic", r.SNS.TopicArn,
			"kind", kind,
			"title", p.Text,
		}
		if kind == "chatbot" {
			c := m.Metadata.AdditionalContext
			attrs = append(attrs, "id", m.ID, "guardrail", c[notify.CtxGuardrail], "outcome", c[notify.CtxOutcome], "account", c[notify.CtxAccount])
		}
		err := urlErr
		if err == nil {
			err = f.poster.Post(ctx, webhookURL, p)
		}
		if err != nil {
			f.log.ErrorContext(ctx, "slack message failed", append(attrs, "error", err.Error(), "permanent", errors.Is(err, ErrPermanent))...)
			failed = append(failed, fmt.Errorf("sns message %s: %w", r.SNS.MessageID, err))
			continue
		}
		f.log.InfoContext(ctx, "slack message delivered", attrs...)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d messages not delivered to slack: %w", len(failed), len(ev.Records), errors.Join(failed...))
	}
	return nil
}
