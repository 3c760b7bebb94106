package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNSPublisher is the one SNS call the publisher makes.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher sends notifications to one SNS topic.
type Publisher struct {
	client   SNSPublisher
	topicARN string
}

// NewPublisher returns a publisher to topicARN.
func NewPublisher(client SNSPublisher, topicARN string) *Publisher {
	return &Publisher{client: client, topicARN: topicARN}
}

// TopicARN is the topic the publisher sends to.
func (p *Publisher) TopicARN() string { return p.topicARN }

// Publish sends the message as JSON with the attributes as String message
// attributes (for subscription filter policies).
func (p *Publisher) Publish(ctx context.Context, m Message, a Attributes) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("publish notification %q: encode: %w", m.ID, err)
	}
	attrs := a.Map()
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	in := &sns.PublishInput{
		TopicArn:          aws.String(p.topicARN),
		Message:           aws.String(string(body)),
		MessageAttributes: make(map[string]types.MessageAttributeValue, len(attrs)),
	}
	for _, k := range names {
		in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(attrs[k])}
	}
	if _, err := p.client.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish notification %q to %s: %w", m.ID, p.topicARN, err)
	}
	return nil
}
