package trustguard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/credguard/credguard/internal/event"
)

// IAM lists the IAM calls the guardrail makes.
type IAM interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
}

// EKS lists the EKS calls the guardrail makes.
type EKS interface {
	DescribePodIdentityAssociation(ctx context.Context, in *eks.DescribePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
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

// revokedUntil reads the role's AWSRevokeOlderSessions policy and returns the
// time up to which it revokes sessions (the aws:TokenIssueTime bound of a
// Deny-everything statement); the zero time when there is no such policy or
// it revokes nothing recognisable. Only a failed call is an error.
func revokedUntil(ctx context.Context, client IAM, name string) (time.Time, error) {
	out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokePolicyName)})
	if err != nil {
		if isNoSuchEntity(err) {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("get %s of %s: %w", RevokePolicyName, name, err)
	}
	doc, err := url.PathUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		return time.Time{}, nil
	}
	t, err := revokeTime(doc)
	if err != nil {
		return time.Time{}, nil
	}
	return t, nil
}

// revokeTime finds the DateLessThan aws:TokenIssueTime bound of a statement
// that denies every action on every resource.
func revokeTime(doc string) (time.Time, error) {
	var p struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return time.Time{}, fmt.Errorf("revocation policy: %w", err)
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(p.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return time.Time{}, fmt.Errorf("revocation policy: Statement: %w", err)
		}
		stmts = []map[string]json.RawMessage{one}
	}
	var latest time.Time
	for _, st := range stmts {
		var effect string
		var cond map[string]map[string]json.RawMessage
		if json.Unmarshal(st["Effect"], &effect) != nil || effect != "Deny" || !everything(st["Action"]) || !everything(st["Resource"]) ||
			json.Unmarshal(st["Condition"], &cond) != nil {
			continue
		}
		for op, keys := range cond {
			if !strings.EqualFold(op, "DateLessThan") {
				continue
			}
			for key, v := range keys {
				var ts string
				if !strings.EqualFold(key, "aws:TokenIssueTime") || json.Unmarshal(v, &ts) != nil {
					continue
				}
				if t, err := time.Parse(time.RFC3339, ts); err == nil && t.After(latest) {
					latest = t
				}
			}
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("revocation policy has no Deny-everything statement bounded by aws:TokenIssueTime")
	}
	return latest, nil
}

// everything reports whether an Action or Resource value is "*" (or ["*"]).
func everything(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == "*"
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && len(many) == 1 && many[0] == "*"
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

// clusterIssuer reads the cluster's OIDC issuer URL (identity.oidc.issuer).
// found is false when the cluster no longer exists; issuer is "" when it has
// none.
func clusterIssuer(ctx context.Context, client EKS, cluster string) (issuer string, found bool, err error) {
	out, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cluster)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("describe cluster %s: %w", cluster, err)
	}
	if c := out.Cluster; c != nil && c.Identity != nil && c.Identity.Oidc != nil {
		issuer = aws.ToString(c.Identity.Oidc.Issuer)
	}
	return issuer, true, nil
}
