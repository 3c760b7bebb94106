package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awschatbot"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/credguard/credguard/internal/ids"
)

// addNotifications adds the topic and its key and returns the alarm action
// that publishes to the topic.
func (h *Hub) addNotifications(account string) awscloudwatch.IAlarmAction {
	stack := h.Stack
	// A customer-managed key, so that EventBridge and CloudWatch alarms may
	// publish to the encrypted topic.
	h.Key = awskms.NewKey(stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/credguard-notifications"),
		Description:       jsii.String("Credguard: encrypts the notification topic"),
		EnableKeyRotation: jsii.Bool(true),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY, // deletion is scheduled, recoverable for 30 days
	})
	for _, svc := range publishingServices {
		h.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PublishFrom" + svc.name),
			Effect:     awsiam.Effect_ALLOW,
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc.principal), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), jsii.Bool(false))
	}
	h.Topic = awssns.NewTopic(stack, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(ids.Prefix + "notifications"),
		DisplayName: jsii.String("Credguard"),
		MasterKey:   h.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, svc := range publishingServices {
		h.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PublishFrom" + svc.name),
			Effect:     awsiam.Effect_ALLOW,
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc.principal), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*h.Topic.TopicArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
		}))
	}
	return awscloudwatchactions.NewSnsAction(h.Topic)
}

// addChatbot subscribes an AWS Chatbot Slack channel to the topic. Its
// guardrail policy caps what anyone in the channel can do through Chatbot:
// CloudWatchReadOnlyAccess (read alarms, metrics and logs), never the
// AdministratorAccess default.
func (h *Hub) addChatbot(cfg Config) {
	stack := h.Stack
	role := awsiam.NewRole(stack, jsii.String("ChatbotRole"), &awsiam.RoleProps{
		Description: jsii.String("Credguard: AWS Chatbot channel role (render alarm notifications)"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("chatbot.amazonaws.com"), nil),
	})
	// AWS Chatbot's "Notification permissions" policy template.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RenderAlarmNotifications"),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings("cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"),
		Resources: jsii.Strings("*"),
	}))
	awschatbot.NewSlackChannelConfiguration(stack, jsii.String("SlackChannel"), &awschatbot.SlackChannelConfigurationProps{
		SlackChannelConfigurationName: jsii.String("credguard"),
		SlackWorkspaceId:              jsii.String(cfg.SlackWorkspaceID),
		SlackChannelId:                jsii.String(cfg.SlackChannelID),
		NotificationTopics:            &[]awssns.ITopic{h.Topic},
		Role:                          role,
		GuardrailPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("CloudWatchReadOnlyAccess")),
		},
		LoggingLevel:     awschatbot.LoggingLevel_ERROR,
		UserRoleRequired: jsii.Bool(false),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("AWS Chatbot's notification template: CloudWatch Describe/Get/List to render alarm graphs; read-only, and CloudWatch read actions have no resource-level scoping."),
		AppliesTo: &[]any{"Action::cloudwatch:Describe*", "Action::cloudwatch:Get*", "Action::cloudwatch:List*", "Resource::*"},
	}}, jsii.Bool(true))
}

// addSlackForwarder deploys the webhook forwarder, subscribed to the topic,
// allowed to read the one webhook secret.
func (h *Hub) addSlackForwarder(cfg Config, distDir string, alarm awscloudwatch.IAlarmAction) {
	// One dead-letter queue for both failure paths: messages SNS could not
	// deliver, and invocations that still failed after Lambda's two retries.
	dlq := h.newDLQ(ids.FnSlackForwarder, alarm)
	suppressNotRedriven(dlq, "the Slack forwarder's dead-letter queue (SNS subscription redrive and failed asynchronous invocations)")
	fn := h.newFunction(cfg, distDir, ids.FnSlackForwarder, fnOptions{
		description: "Credguard: forwards notifications to a Slack incoming webhook",
		timeout:     slackTimeoutSeconds,
		memory:      128,
		env: &map[string]*string{
			"CREDGUARD_SLACK_WEBHOOK_SECRET_ARN": jsii.String(cfg.SlackWebhookSecretARN),
		},
		dlq: dlq,
	}, alarm)
	// A secret ARN given without Secrets Manager's 6-character suffix matches
	// only with the suffix wildcard.
	h.Roles[ids.FnSlackForwarder].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadSlackWebhookSecret"),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(cfg.SlackWebhookSecretARN, cfg.SlackWebhookSecretARN+"-??????"),
	}))
	h.Topic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(fn, &awssnssubscriptions.LambdaSubscriptionProps{
		DeadLetterQueue: dlq,
	}))
}
