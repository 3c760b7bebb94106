package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/trustguard"
)

// Environment variables the sweeper function reads besides the shared
// settings: per-guardrail dry-run switches (each falls back to
// CREDGUARD_DRY_RUN).
const (
	EnvDryRunIMDS  = "CREDGUARD_DRY_RUN_IMDS"
	EnvDryRunTrust = "CREDGUARD_DRY_RUN_TRUST"
)

// DryRunFromEnv reads the two dry-run switches; fallback is the value of
// CREDGUARD_DRY_RUN (settings.Settings.DryRun).
func DryRunFromEnv(getenv func(string) string, fallback bool) (dryRunIMDS, dryRunTrust bool, err error) {
	read := func(name string) (bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return fallback, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s=%q: want true or false", name, v)
		}
		return b, nil
	}
	if dryRunIMDS, err = read(EnvDryRunIMDS); err != nil {
		return false, false, err
	}
	if dryRunTrust, err = read(EnvDryRunTrust); err != nil {
		return false, false, err
	}
	return dryRunIMDS, dryRunTrust, nil
}

// FromConfig wires a sweeper from the hub's AWS configuration: member
// accounts through the member roles (s.IMDSRoleName for instances and
// launch templates, s.TrustRoleName for roles), the IMDS and trust
// guardrails with s's exemptions and Credguard's own roles, and cfg's
// dry-run switches applied to both guardrails and to launch templates.
// The sweeper Lambda and `credguard scan` both build it this way.
func FromConfig(base aws.Config, s settings.Settings, cfg Config, log *slog.Logger) *Sweeper {
	return fromProviders(newProviders(base, s), s, cfg, log)
}

// providers hand out the sweep's configurations: the hub's own for the hub
// account, a member role's (session credguard-sweeper) for any other: the IMDS
// role for EC2, the trust role for IAM. No member role holds both.
type providers struct{ imds, trust *accounts.Provider }

func newProviders(base aws.Config, s settings.Settings) providers {
	s = s.WithDefaultRoles()
	imds := accounts.New(base, sts.NewFromConfig(base), accounts.Options{HubAccount: s.HubAccount, RoleName: s.IMDSRoleName, SessionName: ids.FunctionName(ids.FnSweeper)})
	return providers{imds: imds, trust: imds.ForRole(s.TrustRoleName)}
}

// fromProviders wires the sweeper and both guardrails over the providers
// and one client cache per service.
func fromProviders(prov providers, s settings.Settings, cfg Config, log *slog.Logger) *Sweeper {
	s = s.WithDefaultRoles()
	if cfg.IMDSScope == "" {
		cfg.IMDSScope = s.IMDSScope
	}
	clients := accounts.Clients(prov.imds, func(c aws.Config) *ec2.Client { return ec2.NewFromConfig(c) })
	iamClients := accounts.Clients(prov.trust, func(c aws.Config) *iam.Client { return iam.NewFromConfig(c) })
	iamFor := func(ctx context.Context, account string) (*iam.Client, error) { return iamClients(ctx, account, "") }
	instances := imdsguard.New(func(ctx context.Context, account, region string) (imdsguard.EC2, error) {
		return clients(ctx, account, region)
	}, nil, imdsguard.Config{
		DryRun: cfg.DryRunIMDS, ExemptInstanceIDs: s.ExemptInstanceIDs,
		SelfRoleARNs: s.SelfRoleARNs, MemberRoleName: s.IMDSRoleName, Scope: s.IMDSScope,
	}, log, nil)
	roles := trustguard.New(func(ctx context.Context, account string) (trustguard.IAM, error) {
		return iamFor(ctx, account)
	}, func(context.Context, string, string) (trustguard.EKS, error) {
		return nil, fmt.Errorf("the sweep reads no EKS pod identity associations")
	}, nil, trustguard.Config{
		DryRun: cfg.DryRunTrust, ExemptRoleARNs: s.ExemptRoleARNs,
		SelfRoleARNs: s.SelfRoleARNs, MemberRoleName: s.TrustRoleName, MemberRoleNames: s.MemberRoleNames(),
		OrganizationID: s.OrganizationID, MemberTrustees: trustguard.MemberTrustees(s.SelfRoleARNs),
	}, log, nil)
	return New(func(ctx context.Context, account, region string) (EC2, error) {
		return clients(ctx, account, region)
	}, func(ctx context.Context, account string) (IAM, error) {
		return iamFor(ctx, account)
	}, instances, roles, cfg)
}

// Organizations lists the call the sweep makes to find the organization's accounts.
type Organizations interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// OrganizationAccounts pages through the organization's accounts and returns
// the ids of the active ones, in the order listed. It must run in the
// management account or a delegated administrator.
func OrganizationAccounts(ctx context.Context, client Organizations) ([]string, error) {
	var ids []string
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list organization accounts: %w", err)
		}
		for _, a := range out.Accounts {
			active := a.State == orgtypes.AccountStateActive ||
				(a.State == "" && a.Status == orgtypes.AccountStatusActive) // Status predates State
			if active {
				ids = append(ids, aws.ToString(a.Id))
			}
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("list organization accounts: no active account")
	}
	return ids, nil
}
