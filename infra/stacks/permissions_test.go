package stacks

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

func TestAcceptedWildcard(t *testing.T) {
	tests := []struct {
		resource string
		want     bool
	}{
		{"*", true},
		{"arn:aws:ec2:us-east-1:111122223333:instance/*", true},
		{"arn:aws:ec2:eu-west-1:111122223333:launch-template/*", true},
		{"arn:aws:iam::111122223333:role/*", true},
		{"arn:aws:eks:us-east-1:111122223333:podidentityassociation/*", true},
		{"arn:aws:eks:us-east-1:111122223333:cluster/*", true},
		{"arn:aws:iam::*:role/credguard-remediation", true},
		{"arn:aws:cloudformation:us-east-1:111122223333:stack/CredguardHub/*", true},                // one stack, any of its ids
		{"arn:aws:cloudformation:eu-west-1:111122223333:stack/StackSet-credguard-member-*/*", true}, // the StackSet's instances
		{"arn:aws:cloudformation:*:111122223333:stack/CredguardHub/*", false},                       // any region
		{"arn:aws:cloudformation:us-east-1:*:stack/CredguardHub/*", false},                          // any account
		{"arn:aws:cloudformation:us-east-1:111122223333:stack/*/*", false},                          // every stack
		{"arn:aws:cloudformation:us-east-1:111122223333:stack/Credguard*Hub*/*", false},             // a pattern, not a prefix
		{"arn:aws:cloudformation:us-east-1:111122223333:stackset/credguard-member:*", false},        // another kind
		{"arn:aws:ec2:*:111122223333:instance/*", false},                                            // any region: not scoped to the watched ones
		{"arn:aws:ec2:us-east-1:*:instance/*", false},                                               // any account
		{"arn:aws:iam::*:role/*", false},                                                            // every role everywhere
		{"arn:aws:s3:::bucket/*", false},                                                            // a kind the guardrails never touch
		{"arn:aws:sns:us-east-1:111122223333:*", false},                                             // every topic
		{"arn:aws:ec2:us-east-1:111122223333:instance/i-1", false},                                  // no wildcard: nothing to accept
	}
	for _, tt := range tests {
		if got := acceptedWildcard(tt.resource); got != tt.want {
			t.Errorf("acceptedWildcard(%q) = %v, want %v", tt.resource, got, tt.want)
		}
	}
}

func TestWildcardFindingsSkipsActionsAndDenies(t *testing.T) {
	st := func(effect awsiam.Effect, actions []string, resources ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Effect: effect, Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...),
		})
	}
	got := wildcardFindings([]awsiam.PolicyStatement{
		st(awsiam.Effect_ALLOW, []string{"ec2:DescribeInstances"}, "*"),
		st(awsiam.Effect_ALLOW, []string{"kms:*"}, "arn:aws:kms:us-east-1:111122223333:key/k"),
		st(awsiam.Effect_ALLOW, []string{"iam:GetRole"}, "arn:aws:iam::111122223333:role/*", "arn:aws:iam::*:role/*"),
		st(awsiam.Effect_DENY, []string{"iam:PutRolePolicy"}, "arn:aws:ec2:us-east-1:111122223333:instance/*"),
	})
	want := []any{"Resource::*", "Resource::arn:aws:iam::111122223333:role/*"}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("wildcardFindings = %v, want %v (no Action:: entries, no unaccepted or Deny resources)", *got, want)
	}
}
