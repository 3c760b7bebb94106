package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/ids"
)

const maxMessageBytes = 256 * 1024

type publishResult struct {
	MessageID      string `xml:"MessageId"`
	SequenceNumber string `xml:"SequenceNumber,omitempty"`
}

func snsInvalid(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameter", format, args...)
}

// snsPublish records the message. Any topic ARN of the caller's account and
// region is accepted: the sandbox has no topic list.
func (s *Server) snsPublish(r *request) (any, error) {
	topic := r.p.str("TopicArn")
	if topic == "" {
		topic = r.p.str("TargetArn")
	}
	r.resource = topic
	if topic == "" {
		if r.p.str("PhoneNumber") != "" {
			return nil, snsInvalid("Invalid parameter: PhoneNumber (the credguard sandbox publishes to topics only)")
		}
		return nil, snsInvalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	parts := strings.Split(topic, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5] == "" || !ids.ValidAccount(parts[4]) {
		return nil, snsInvalid("Invalid parameter: TopicArn")
	}
	if parts[4] != r.account() {
		return nil, newError(http.StatusForbidden, "AuthorizationError",
			"User: %s is not authorized to perform: SNS:Publish on resource: %s", r.id.arn, topic)
	}
	if parts[3] != r.region {
		return nil, snsInvalid("Invalid parameter: TopicArn (the topic is in %s, the request in %s)", parts[3], r.region)
	}
	msg := r.p.str("Message")
	if msg == "" {
		return nil, snsInvalid("Invalid parameter: Empty message")
	}
	if len(msg) > maxMessageBytes {
		return nil, snsInvalid("Invalid parameter: Message too long")
	}
	subject := r.p.str("Subject")
	if r.p.has("Subject") {
		if subject == "" || len(subject) > 100 {
			return nil, snsInvalid("Invalid parameter: Subject")
		}
		for _, c := range subject {
			if c < 0x20 || c > 0x7e {
				return nil, snsInvalid("Invalid parameter: Subject")
			}
		}
	}
	if r.p.str("MessageStructure") == "json" {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(msg), &m) != nil {
			return nil, snsInvalid("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		if _, ok := m["default"]; !ok {
			return nil, snsInvalid("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
	}
	fifo := strings.HasSuffix(parts[5], ".fifo")
	if fifo && r.p.str("MessageGroupId") == "" {
		return nil, snsInvalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	}
	attrs := map[string]string{}
	for _, i := range r.p.indexes("MessageAttributes.entry") {
		pre := "MessageAttributes.entry." + strconv.Itoa(i)
		name := r.p.str(pre + ".Name")
		typ := r.p.str(pre + ".Value.DataType")
		if name == "" {
			return nil, snsInvalid("Invalid parameter: MessageAttributes entry %d has no Name", i)
		}
		base, _, _ := strings.Cut(typ, ".")
		switch base {
		case "String", "Number":
			if !r.p.has(pre + ".Value.StringValue") {
				return nil, newError(http.StatusBadRequest, "ParameterValueInvalid", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, typ)
			}
			attrs[name] = r.p.str(pre + ".Value.StringValue")
		case "Binary":
			attrs[name] = r.p.str(pre + ".Value.BinaryValue")
		default:
			return nil, newError(http.StatusBadRequest, "ParameterValueInvalid", "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
	}
	s.notifications = append(s.notifications, Notification{
		TopicARN: topic, Account: r.account(), Region: r.region,
		Subject: subject, Message: msg, Attributes: attrs, Time: r.now,
	})
	out := &publishResult{MessageID: newRequestID()}
	if fifo {
		out.SequenceNumber = strconv.Itoa(10000000000000000 + len(s.notifications))
	}
	return out, nil
}
