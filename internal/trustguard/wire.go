package trustguard

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/announce"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/settings"
)

// FromConfig wires a handler from the hub's AWS configuration and the
// function settings: the Lambda and `credguard replay` both build it this way.
func FromConfig(base aws.Config, s settings.Settings, log *slog.Logger, metricsOut io.Writer) *Handler {
	prov := accounts.New(base, sts.NewFromConfig(base), accounts.Options{
		HubAccount: s.HubAccount, RoleName: s.TrustRoleName, SessionName: ids.FunctionName(ids.FnTrustGuard),
	})
	var pub announce.Publisher
	if s.TopicARN != "" {
		pub = notify.NewPublisher(sns.NewFromConfig(base), s.TopicARN)
	}
	iamClients := accounts.Clients(prov, func(cfg aws.Config) IAM { return iam.NewFromConfig(cfg) })
	iamFor := func(ctx context.Context, account string) (IAM, error) { return iamClients(ctx, account, "") }
	eksFor := accounts.Clients(prov, func(cfg aws.Config) EKS { return eks.NewFromConfig(cfg) })
	return New(iamFor, eksFor, pub, Config{
		DryRun: s.DryRun, ExemptRoleARNs: s.ExemptRoleARNs, SelfRoleARNs: s.SelfRoleARNs,
		MemberRoleName: s.TrustRoleName, MemberRoleNames: s.MemberRoleNames(),
		OrganizationID: s.OrganizationID, MemberTrustees: MemberTrustees(s.SelfRoleARNs),
	}, log, metricsOut)
}

// MemberTrustees are the hub roles a deployed member role may trust: the
// function roles in selfRoleARNs and, in their account and partition, the
// IMDS defaults function's role.
func MemberTrustees(selfRoleARNs []string) []string {
	out := append([]string(nil), selfRoleARNs...)
	for _, arn := range selfRoleARNs {
		if r, ok := ids.ParseRoleARN(arn); ok {
			out = append(out, ids.RoleARN{Partition: r.Partition, Account: r.Account, Name: ids.FunctionName(ids.FnIMDSDefaults)}.String())
			break
		}
	}
	return out
}
