package sweep

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// IAM lists the IAM call the sweep makes itself (roles worth a look are then
// handed to the trust guardrail, which reads each one afresh).
type IAM interface {
	ListRoles(ctx context.Context, in *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
}

// listedRole is what ListRoles tells of a role. ListRoles returns the trust
// policy (URL-encoded, like GetRole) but not the tags.
type listedRole struct {
	ARN, Name     string
	EncodedPolicy string
}

// listRoles pages through every role of the account.
func listRoles(ctx context.Context, client IAM, each func(listedRole)) error {
	p := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: aws.Int32(rolePage)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list roles: %w", err)
		}
		for _, r := range out.Roles {
			each(listedRole{ARN: aws.ToString(r.Arn), Name: aws.ToString(r.RoleName), EncodedPolicy: aws.ToString(r.AssumeRolePolicyDocument)})
		}
	}
	return nil
}
