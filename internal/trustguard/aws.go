package trustguard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/credguard/credguard/internal/event"
)

// IAM lists the IAM calls the guardrail makes.
type IAM interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// EKS lists the EKS calls the guardrail makes.
type EKS interface {
	DescribePodIdentityAssociation(ctx context.Context, in *eks.DescribePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
}

// IAMFor returns the IAM client acting in account.
type IAMFor func(ctx context.Context, account string) (IAM, error)

// EKSFor returns the EKS client acting in account and region.
type EKSFor func(ctx context.Context, account, region string) (EKS, error)

// role is what the guardrail reads of a role.
type role struct {
	Name, ARN, Path string
	EncodedPolicy   string // as GetRole returns it: URL-encoded
	Tags            map[string]string
}

func getRole(ctx context.Context, client IAM, name string) (role, error) {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return role{}, fmt.Errorf("get role %s: %w", name, err)
	}
	if out.Role == nil {
		return role{}, fmt.Errorf("get role %s: empty response", name)
	}
	r := role{
		Name: aws.ToString(out.Role.RoleName), ARN: aws.ToString(out.Role.Arn), Path: aws.ToString(out.Role.Path),
		EncodedPolicy: aws.ToString(out.Role.AssumeRolePolicyDocument), Tags: map[string]string{},
	}
	for _, t := range out.Role.Tags {
		r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return r, nil
}

func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

func updateTrust(ctx context.Context, client IAM, name, doc string) error {
	_, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("role %s: %w", name, err)
	}
	return nil
}

// RevokeDocument is the inline policy that denies everything to sessions
// issued before now (the IAM console's "Revoke active sessions").
func RevokeDocument(now time.Time) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`,
		now.UTC().Format(time.RFC3339))
}

func revokeSessions(ctx context.Context, client IAM, name string, now time.Time) error {
	_, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(name), PolicyName: aws.String(RevokePolicyName), PolicyDocument: aws.String(RevokeDocument(now)),
	})
	if err != nil {
		return fmt.Errorf("put %s on %s: %w", RevokePolicyName, name, err)
	}
	return nil
}

func describeAssociation(ctx context.Context, client EKS, cluster, id string) (event.PodIdentityAssociation, error) {
	out, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(id),
	})
	if err != nil {
		return event.PodIdentityAssociation{}, fmt.Errorf("describe pod identity association %s in cluster %s: %w", id, cluster, err)
	}
	a := out.Association
	if a == nil {
		return event.PodIdentityAssociation{}, fmt.Errorf("describe pod identity association %s: empty response", id)
	}
	return event.PodIdentityAssociation{
		ClusterName: aws.ToString(a.ClusterName), AssociationID: aws.ToString(a.AssociationId), AssociationARN: aws.ToString(a.AssociationArn),
		Namespace: aws.ToString(a.Namespace), ServiceAccount: aws.ToString(a.ServiceAccount),
		RoleARN: aws.ToString(a.RoleArn), TargetRoleARN: aws.ToString(a.TargetRoleArn),
	}, nil
}
