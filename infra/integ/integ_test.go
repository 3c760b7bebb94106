//go:build integ

package integ

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	hubStack       = "CredguardHub"
	topicName      = "credguard-notifications"
	deployTimeout  = 20 * time.Minute
	remediateLimit = 5 * time.Minute
	notifyLimit    = 5 * time.Minute
)

// repoRoot is where cdk.json, dist/ and node_modules/ live.
var repoRoot = filepath.Join("..", "..")

func TestDeployRemediateNotifyTeardown(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Skipf("skipping: no usable AWS configuration (%v); configure credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and AWS_REGION to run it", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		t.Skipf("skipping: no AWS credentials configured (%v); configure credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and AWS_REGION to run it", err)
	}
	if cfg.Region == "" {
		t.Skip("skipping: no AWS region configured; set AWS_REGION to the region to deploy to")
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("AWS credentials are configured but do not work: sts GetCallerIdentity: %v", err)
	}
	account, region := aws.ToString(id.Account), cfg.Region
	t.Logf("deploying to account %s, region %s, as %s", account, region, aws.ToString(id.Arn))

	for _, p := range []string{filepath.Join(repoRoot, "node_modules", ".bin", "cdk"),
		filepath.Join(repoRoot, "dist", "imds-enforcer", "bootstrap")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: run this test through `make integ`, which builds the functions and installs the CDK CLI", p)
		}
	}
	refuseIfDeployed(ctx, t, cfg)

	// Deploy (single-account mode), and always tear down.
	cdkArgs := []string{"-c", "mode=single", "-c", "hubAccount=" + account, "-c", "hubRegion=" + region, "-c", "regions=" + region}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deployTimeout)
		defer cancel()
		if out, err := cdk(ctx, region, append([]string{"destroy", hubStack, "--force"}, cdkArgs...)...); err != nil {
			t.Errorf("cdk destroy: %v\n%s", err, out)
		}
		t.Log("torn down; the functions' log groups are kept by design (RemovalPolicy RETAIN) and the topic key is scheduled for deletion")
	})
	deployCtx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	if out, err := cdk(deployCtx, region, append([]string{"deploy", hubStack, "--require-approval", "never"}, cdkArgs...)...); err != nil {
		t.Fatalf("cdk deploy: %v\n%s", err, out)
	}

	topicARN := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, topicName)
	queueURL := subscribeQueue(ctx, t, cfg, topicARN)

	// Launch an instance that allows IMDSv1.
	ec2c := ec2.NewFromConfig(cfg)
	ami := latestAL2023(ctx, t, ec2c)
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:      aws.String(ami),
		InstanceType: ec2types.InstanceTypeT4gNano,
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{
			HttpTokens:              ec2types.HttpTokensStateOptional,
			HttpPutResponseHopLimit: aws.Int32(2),
			HttpEndpoint:            ec2types.InstanceMetadataEndpointStateEnabled,
		},
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeInstance,
			Tags:         []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("credguard-integ")}},
		}},
	})
	if err != nil {
		t.Fatalf("launch a t4g.nano with IMDSv1 (the account needs a default VPC, and no IMDS default that enforces tokens): %v", err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)
	t.Cleanup(func() {
		if _, err := ec2c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{instance}}); err != nil {
			t.Errorf("terminate %s: %v", instance, err)
		}
	})
	t.Logf("launched %s (%s) with httpTokens=optional hop=2", instance, ami)

	waitRemediated(ctx, t, ec2c, instance)
	waitNotification(ctx, t, cfg, queueURL, instance)
}

// refuseIfDeployed stops the test in an account that already runs Credguard:
// deploying would collide with its named resources, and the teardown would
// remove them.
func refuseIfDeployed(ctx context.Context, t *testing.T, cfg aws.Config) {
	t.Helper()
	_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("credguard-imds-enforcer")})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case err == nil:
		t.Fatal("this account already runs Credguard (role credguard-imds-enforcer exists): run the integration test in a sandbox account")
	case !errors.As(err, &missing):
		t.Fatalf("iam GetRole credguard-imds-enforcer: %v", err)
	}
}

func cdk(ctx context.Context, region string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join("node_modules", ".bin", "cdk"), append(args, "--no-notices")...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true", "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// subscribeQueue creates a temporary queue subscribed to the topic, and
// removes both when the test ends.
func subscribeQueue(ctx context.Context, t *testing.T, cfg aws.Config, topicARN string) string {
	t.Helper()
	sqsc, snsc := sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	name := fmt.Sprintf("credguard-integ-%d", time.Now().Unix())
	created, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameSqsManagedSseEnabled): "true"},
	})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	url := aws.ToString(created.QueueUrl)
	t.Cleanup(func() {
		if _, err := sqsc.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("delete queue %s: %v", name, err)
		}
	})
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "sns.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicARN}},
		}},
	})
	if _, err := sqsc.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(url), Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(policy)},
	}); err != nil {
		t.Fatalf("queue policy: %v", err)
	}
	sub, err := snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN),
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		t.Fatalf("subscribe the queue to %s: %v", topicARN, err)
	}
	t.Cleanup(func() {
		if _, err := snsc.Unsubscribe(context.Background(), &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn}); err != nil {
			t.Errorf("unsubscribe: %v", err)
		}
	})
	return url
}

// latestAL2023 finds the newest Amazon Linux 2023 arm64 image.
func latestAL2023(ctx context.Context, t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"amazon"},
		Filters: []ec2types.Filter{
			{Name: aws.String("name"), Values: []string{"al2023-ami-2023.*-kernel-*-arm64"}},
			{Name: aws.String("architecture"), Values: []string{"arm64"}},
			{Name: aws.String("state"), Values: []string{"available"}},
		},
	})
	if err != nil {
		t.Fatalf("find an Amazon Linux 2023 arm64 image: %v", err)
	}
	if len(out.Images) == 0 {
		t.Fatal("no Amazon Linux 2023 arm64 image in this region")
	}
	sort.Slice(out.Images, func(i, j int) bool {
		return aws.ToString(out.Images[i].CreationDate) > aws.ToString(out.Images[j].CreationDate)
	})
	return aws.ToString(out.Images[0].ImageId)
}

func waitRemediated(ctx context.Context, t *testing.T, c *ec2.Client, instance string) {
	t.Helper()
	deadline := time.Now().Add(remediateLimit)
	last := ""
	for time.Now().Before(deadline) {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
		if err == nil && len(out.Reservations) > 0 && len(out.Reservations[0].Instances) > 0 {
			m := out.Reservations[0].Instances[0].MetadataOptions
			if m != nil {
				last = fmt.Sprintf("httpTokens=%s hop=%d state=%s", m.HttpTokens, aws.ToInt32(m.HttpPutResponseHopLimit), m.State)
				if m.HttpTokens == ec2types.HttpTokensStateRequired && aws.ToInt32(m.HttpPutResponseHopLimit) == 1 &&
					m.State == ec2types.InstanceMetadataOptionsStateApplied {
					t.Logf("%s remediated: %s", instance, last)
					return
				}
			}
		}
		time.Sleep(5 * time.Second)
	}
	t.Fatalf("%s not remediated within %s (last seen: %s)", instance, remediateLimit, last)
}

// waitNotification waits for a message on the topic that names the instance.
func waitNotification(ctx context.Context, t *testing.T, cfg aws.Config, queueURL, instance string) {
	t.Helper()
	c := sqs.NewFromConfig(cfg)
	deadline := time.Now().Add(notifyLimit)
	for time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 20,
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			var envelope struct {
				Message           string                       `json:"Message"`
				MessageAttributes map[string]map[string]string `json:"MessageAttributes"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &envelope); err != nil {
				t.Fatalf("SNS envelope: %v\n%s", err, aws.ToString(m.Body))
			}
			if strings.Contains(envelope.Message, instance) {
				t.Logf("notification for %s: attributes %v", instance, envelope.MessageAttributes)
				if o := envelope.MessageAttributes["outcome"]["Value"]; o != "" && o != "remediated" {
					t.Errorf("notification outcome %q, want remediated", o)
				}
				return
			}
		}
	}
	t.Fatalf("no notification naming %s within %s", instance, notifyLimit)
}
