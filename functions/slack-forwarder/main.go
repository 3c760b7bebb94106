// Command slack-forwarder is the Lambda that posts the notification topic's
// messages to a Slack incoming webhook, for teams without AWS Chatbot. The
// webhook URL is read from the Secrets Manager secret named by
// CREDGUARD_SLACK_WEBHOOK_SECRET_ARN. The logic lives in internal/slack.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/credguard/credguard/internal/slack"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())

	secretARN := os.Getenv("CREDGUARD_SLACK_WEBHOOK_SECRET_ARN")
	if secretARN == "" {
		log.Error("CREDGUARD_SLACK_WEBHOOK_SECRET_ARN is not set")
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", "error", err.Error())
		os.Exit(1)
	}

	urls := slack.NewWebhookSecret(secretsmanager.NewFromConfig(cfg), secretARN, slack.DefaultSecretTTL)
	poster := slack.NewWebhookClient(slack.WebhookOptions{Logger: log})
	lambda.Start(slack.NewForwarder(urls, poster, log).Handle)
}
