// Package notify builds the notifications the guardrails send: AWS Chatbot
// (Amazon Q Developer in chat applications) custom notifications published to
// SNS, with message attributes for subscription filters, and a plain-text
// rendering of how Slack shows them.
package notify

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
)

// Fixed values of the Chatbot custom-notification schema.
const (
	SchemaVersion          = "1.0"
	SourceCustom           = "custom"
	TextTypeClientMarkdown = "client-markdown"
)

// Size limits the builder keeps to. Chatbot renders long descriptions poorly
// and drops oversized ones; SNS accepts up to 256 KB per message. The builder
// stays far below both.
const (
	MaxTitleChars       = 250
	MaxDescriptionChars = 4000
	MaxNextStepChars    = 500
	MaxMessageBytes     = 64 * 1024
	maxRelatedResources = 25
)

// Message is a Chatbot custom notification. Field names and JSON keys follow
// the Chatbot admin guide ("Custom notifications", event schema).
type Message struct {
	Version  string   `json:"version"`
	Source   string   `json:"source"`
	ID       string   `json:"id,omitempty"`
	Content  Content  `json:"content"`
	Metadata Metadata `json:"metadata"`
}

// Content is what the chat client shows.
type Content struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// Metadata groups and describes the notification.
type Metadata struct {
	ThreadID          string            `json:"threadId,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	EventType         string            `json:"eventType,omitempty"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// Keys of Metadata.AdditionalContext that Build always sets (the Slack
// forwarder reads them to lay out its fields). Values are plain text.
const (
	CtxGuardrail = "guardrail"
	CtxOutcome   = "outcome"
	CtxSeverity  = "severity"
	CtxAccount   = "account"
	CtxRegion    = "region"
	CtxResource  = "resource"  // the resource label, or "3 instances"
	CtxChange    = "change"    // before → after, or a summary of the change
	CtxActor     = "actor"     // who launched or changed it; absent when unknown
	CtxEventID   = "eventId"   // the EventBridge event id
	CtxEventName = "eventName" // RunInstances, CreateRole, …
	CtxExempt    = "exempt"    // how to exempt the resource
	CtxDryRun    = "dryRun"    // "true" in dry-run mode
)

// ErrNotChatbot is returned by Parse for input that is not a Chatbot custom
// notification.
var ErrNotChatbot = errors.New("not a chatbot custom notification")

// Parse decodes a Chatbot custom notification. It fails with ErrNotChatbot
// when the input is not JSON of that schema (version 1.0, source custom, and a
// title or description).
func Parse(data []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotChatbot, err)
	}
	if m.Version != SchemaVersion || m.Source != SourceCustom {
		return Message{}, fmt.Errorf("%w: version %q, source %q", ErrNotChatbot, m.Version, m.Source)
	}
	if m.Content.Title == "" && m.Content.Description == "" {
		return Message{}, fmt.Errorf("%w: no title and no description", ErrNotChatbot)
	}
	return m, nil
}

// Attributes are the SNS message attributes of a notification, for
// subscription filter policies.
type Attributes struct {
	Guardrail guardrail.Name
	Outcome   outcome.Outcome // the most significant outcome of the event
	Severity  guardrail.Severity
	Account   string
}

// SNS message attribute names. Filter policies match on these.
const (
	AttrGuardrail = "guardrail"
	AttrOutcome   = "outcome"
	AttrSeverity  = "severity"
	AttrAccount   = "account"
)

// Map returns the attributes by SNS attribute name, leaving out empty values
// (SNS rejects empty attribute values).
func (a Attributes) Map() map[string]string {
	return nonEmpty(map[string]string{
		AttrGuardrail: string(a.Guardrail),
		AttrOutcome:   string(a.Outcome),
		AttrSeverity:  string(a.Severity),
		AttrAccount:   a.Account,
	})
}
