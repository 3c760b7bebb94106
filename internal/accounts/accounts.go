// Package accounts hands out AWS configurations for an account and region:
// the hub's own credentials for the hub account, and the member remediation
// role's credentials (assumed once, cached until near expiry) for any other.
package accounts

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
)

// STS lists the calls the provider makes.
type STS interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Provider is safe for concurrent use. Keep one per process so credentials are
// reused across Lambda invocations.
type Provider struct {
	base        aws.Config
	sts         STS
	roleName    string
	sessionName string

	hub *hubAccount // shared by the providers of ForRole

	mu    sync.Mutex
	creds map[string]*aws.CredentialsCache
}

// hubAccount is the account the base credentials act in, looked up once.
type hubAccount struct {
	mu sync.Mutex
	id string
}

// Options configure a Provider.
type Options struct {
	HubAccount  string // the account the base credentials act in; looked up with GetCallerIdentity when empty
	RoleName    string // member role name (required: IMDSRoleName, TrustRoleName, …)
	SessionName string // role session name: the function's name (ids.FunctionName)
}

// New returns a provider over the base configuration (the hub's credentials).
func New(base aws.Config, stsClient STS, o Options) *Provider {
	if o.SessionName == "" {
		o.SessionName = "credguard"
	}
	return &Provider{
		base:        base,
		sts:         stsClient,
		roleName:    o.RoleName,
		sessionName: o.SessionName,
		hub:         &hubAccount{id: o.HubAccount},
		creds:       map[string]*aws.CredentialsCache{},
	}
}

// ForRole is a provider over the same base configuration, STS client,
// session name and hub account (looked up once for both) that assumes
// another member role.
func (p *Provider) ForRole(roleName string) *Provider {
	return &Provider{base: p.base, sts: p.sts, roleName: roleName, sessionName: p.sessionName, hub: p.hub,
		creds: map[string]*aws.CredentialsCache{}}
}

// RoleName is the member role's name.
func (p *Provider) RoleName() string { return p.roleName }

// RoleARN is the member role's ARN in account, in the partition of the base
// configuration's region (the hub region: a hub only serves accounts of its
// own partition).
func (p *Provider) RoleARN(account string) string {
	return ids.RoleARN{Partition: partition.Of(p.base.Region), Account: account, Name: p.roleName}.String()
}

// HubAccount returns the account the base credentials act in.
func (p *Provider) HubAccount(ctx context.Context) (string, error) {
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.id != "" {
		return h.id, nil
	}
	out, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	h.id = aws.ToString(out.Account)
	return h.id, nil
}

// Config returns a configuration acting in account and region. For the hub
// account it is the base configuration; for any other it carries the member
// role's credentials, retrieved now (so an AssumeRole failure is reported
// here, with the role's ARN) and cached until five minutes before expiry.
func (p *Provider) Config(ctx context.Context, account, region string) (aws.Config, error) {
	if !ids.ValidAccount(account) {
		return aws.Config{}, fmt.Errorf("account %q: not a 12-digit account id", account)
	}
	hub, err := p.HubAccount(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := p.base.Copy()
	if region != "" {
		cfg.Region = region
	}
	if account == hub {
		return cfg, nil
	}
	if p.roleName == "" {
		return aws.Config{}, fmt.Errorf("account %s: no member role name configured", account)
	}
	cache := p.cache(account)
	if _, err := cache.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("assume %s: %w", p.RoleARN(account), err)
	}
	cfg.Credentials = cache
	return cfg, nil
}

func (p *Provider) cache(account string) *aws.CredentialsCache {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[account]; ok {
		return c
	}
	provider := stscreds.NewAssumeRoleProvider(p.sts, p.RoleARN(account), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = p.sessionName
		o.Duration = time.Hour
	})
	c := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = 5 * time.Minute
	})
	p.creds[account] = c
	return c
}
