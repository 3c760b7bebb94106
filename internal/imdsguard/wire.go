package imdsguard

import (
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/settings"
)

// FromConfig wires a handler from the hub's AWS configuration and the
// function settings: the Lambda and `credguard replay` both build it this way.
func FromConfig(base aws.Config, s settings.Settings, log *slog.Logger, metricsOut io.Writer) *Handler {
	prov := accounts.New(base, sts.NewFromConfig(base), accounts.Options{
		HubAccount: s.HubAccount, RoleName: s.IMDSRoleName, SessionName: ids.FunctionName(ids.FnIMDSEnforcer),
	})
	var pub Publisher
	if s.TopicARN != "" {
		pub = notify.NewPublisher(sns.NewFromConfig(base), s.TopicARN)
	}
	return New(EC2Clients(prov), pub, Config{
		DryRun:            s.DryRun,
		ExemptInstanceIDs: s.ExemptInstanceIDs,
		SelfRoleARNs:      s.SelfRoleARNs,
		MemberRoleName:    s.IMDSRoleName,
		OrganizationID:    s.OrganizationID,
		Scope:             s.IMDSScope,
	}, log, metricsOut)
}

// EC2Clients returns a ClientFor that caches one EC2 client per account and
// region (credentials are cached by the provider).
func EC2Clients(p *accounts.Provider) ClientFor {
	return accounts.Clients(p, func(cfg aws.Config) EC2 { return ec2.NewFromConfig(cfg) })
}
