package sandbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

func TestGetSecretValue(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Parse(t, `{"hubAccount":"111122223333","accounts":{"111122223333":{"regions":{"us-east-1":{
		"secrets":{"credguard/slack-webhook":"https://hooks.slack.example/services/T0/B0/x"}}}}}}`))
	ctx := context.Background()
	cfg, err := sb.AWSConfig(ctx, "111122223333", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	c := secretsmanager.NewFromConfig(cfg)
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("credguard/slack-webhook")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != "https://hooks.slack.example/services/T0/B0/x" || aws.ToString(out.Name) != "credguard/slack-webhook" {
		t.Errorf("secret = %+v", out)
	}
	// By ARN, as the infrastructure passes it.
	byARN, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: out.ARN})
	if err != nil || aws.ToString(byARN.SecretString) != aws.ToString(out.SecretString) {
		t.Errorf("by ARN %s: %v", aws.ToString(out.ARN), err)
	}
	var nf *smtypes.ResourceNotFoundException
	if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown secret: %v", err)
	}
	// Another region has no such secret.
	cfg.Region = "eu-west-1"
	if _, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("credguard/slack-webhook")}); !errors.As(err, &nf) {
		t.Errorf("other region: %v", err)
	}
}
