package kubesource

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/k8saudit"
	"github.com/credguard/credguard/internal/trust"
)

// EKSAPI lists the EKS calls the audit makes.
type EKSAPI interface {
	DescribeCluster(context.Context, *eks.DescribeClusterInput, ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	ListPodIdentityAssociations(context.Context, *eks.ListPodIdentityAssociationsInput, ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error)
	DescribePodIdentityAssociation(context.Context, *eks.DescribePodIdentityAssociationInput, ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
}

// IAMAPI lists the IAM call the audit makes.
type IAMAPI interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// TokenPrefix starts an EKS bearer token.
const TokenPrefix = "k8s-aws-v1."

// clusterIDHeader names the cluster in the presigned request; its signature
// binds the token to that cluster.
const clusterIDHeader = "x-k8s-aws-id"

// Token builds the EKS bearer token for the cluster from the configuration's
// credentials, as aws eks get-token does: a presigned sts:GetCallerIdentity
// URL signing the x-k8s-aws-id header, base64url without padding, after
// "k8s-aws-v1.".
func Token(ctx context.Context, cfg aws.Config, cluster string) (string, error) {
	presigner := sts.NewPresignClient(sts.NewFromConfig(cfg))
	req, err := presigner.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(so *sts.Options) {
			so.APIOptions = append(so.APIOptions,
				smithyhttp.SetHeaderValue(clusterIDHeader, cluster),
				smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		return "", fmt.Errorf("presign sts:GetCallerIdentity: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL)), nil
}

// Cluster describes the cluster and returns its identity and a client
// configuration for its endpoint, CA and a fresh token.
func Cluster(ctx context.Context, cfg aws.Config, api EKSAPI, name string) (k8saudit.Cluster, *rest.Config, error) {
	out, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		return k8saudit.Cluster{}, nil, fmt.Errorf("eks:DescribeCluster %s: %w", name, err)
	}
	c := out.Cluster
	if c == nil || aws.ToString(c.Endpoint) == "" {
		return k8saudit.Cluster{}, nil, fmt.Errorf("eks:DescribeCluster %s: no endpoint (is the cluster active?)", name)
	}
	info := k8saudit.Cluster{Name: name, ARN: aws.ToString(c.Arn)}
	if p := strings.SplitN(info.ARN, ":", 6); len(p) == 6 {
		info.Account = p[4]
	}
	if c.Identity != nil && c.Identity.Oidc != nil {
		info.OIDCIssuer = aws.ToString(c.Identity.Oidc.Issuer)
	}
	rc := &rest.Config{Host: aws.ToString(c.Endpoint)}
	if c.CertificateAuthority != nil && aws.ToString(c.CertificateAuthority.Data) != "" {
		ca, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
		if err != nil {
			return k8saudit.Cluster{}, nil, fmt.Errorf("eks:DescribeCluster %s: certificate authority is not base64: %w", name, err)
		}
		rc.TLSClientConfig.CAData = ca
	}
	if rc.BearerToken, err = Token(ctx, cfg, name); err != nil {
		return k8saudit.Cluster{}, nil, err
	}
	return info, rc, nil
}

// Associations lists the cluster's Pod Identity associations with their roles.
func Associations(ctx context.Context, api EKSAPI, cluster string) ([]k8saudit.Association, error) {
	var out []k8saudit.Association
	p := eks.NewListPodIdentityAssociationsPaginator(api, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("eks:ListPodIdentityAssociations %s: %w", cluster, err)
		}
		for _, s := range page.Associations {
			d, err := api.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
				ClusterName: aws.String(cluster), AssociationId: s.AssociationId,
			})
			if err != nil {
				return nil, fmt.Errorf("eks:DescribePodIdentityAssociation %s: %w", aws.ToString(s.AssociationId), err)
			}
			a := k8saudit.Association{
				Namespace: aws.ToString(s.Namespace), ServiceAccount: aws.ToString(s.ServiceAccount),
				AssociationID: aws.ToString(s.AssociationId),
			}
			if d.Association != nil {
				a.RoleARN = aws.ToString(d.Association.RoleArn)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// Roles reads the trust policy of every role ARN with GetRole. Roles of
// another account than account cannot be read with GetRole and are marked
// unreadable, as are roles whose read fails for another reason than
// NoSuchEntity (reported as Missing).
func Roles(ctx context.Context, api IAMAPI, account string, arns []string) map[string]k8saudit.RoleTrust {
	out := map[string]k8saudit.RoleTrust{}
	for _, arn := range arns {
		if _, done := out[arn]; done {
			continue
		}
		out[arn] = roleTrust(ctx, api, account, arn)
	}
	return out
}

func roleTrust(ctx context.Context, api IAMAPI, account, arn string) k8saudit.RoleTrust {
	role, ok := ids.ParseRoleARN(arn)
	if !ok {
		return k8saudit.RoleTrust{Err: "not an IAM role ARN"}
	}
	if account != "" && role.Account != account {
		return k8saudit.RoleTrust{Err: "role of account " + role.Account + ", not the cluster's account " + account}
	}
	name := role.Name
	out, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &nse):
		return k8saudit.RoleTrust{Missing: true}
	case err != nil:
		return k8saudit.RoleTrust{Err: fmt.Sprintf("iam:GetRole %s: %v", name, err)}
	case out.Role == nil:
		return k8saudit.RoleTrust{Err: "iam:GetRole " + name + ": no role in the answer"}
	}
	if got := aws.ToString(out.Role.Arn); got != "" && got != arn {
		// Same name, other path: the annotation's ARN names no existing role.
		return k8saudit.RoleTrust{Missing: true}
	}
	pol, err := trust.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
	if err != nil {
		return k8saudit.RoleTrust{Err: fmt.Sprintf("trust policy of %s not understood: %v", name, err)}
	}
	return k8saudit.RoleTrust{Policy: pol}
}
