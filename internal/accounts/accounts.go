// Package accounts hands out AWS configurations for an account and region:
// the hub's own credentials for the hub account, and the member remediation
// role's credentials (assumed once, cached until near expiry) for any other.
package accounts

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultRoleName is the member role every member account carries.
const DefaultRoleName = "credguard-remediation"

// STS lists the calls the provider makes.
type STS interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// Provider is safe for concurrent use. Keep one per process so credentials are
// reused across Lambda invocations.
type Provider struct {
	base        aws.Config
	sts         STS
	roleName    string
	sessionName string

	mu    sync.Mutex
	hub   string
	creds map[string]*aws.CredentialsCache
}

// Options configure a Provider.
type Options struct {
	HubAccount  string // the account the base credentials act in; looked up with GetCallerIdentity when empty
	RoleName    string // member role name; DefaultRoleName when empty
	SessionName string // role session name, e.g. "credguard-imds-enforcer"
}

// New returns a provider over the base configuration (the hub's credentials).
func New(base aws.Config, stsClient STS, o Options) *Provider {
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if o.SessionName == "" {
		o.SessionName = "credguard"
	}
	return &Provider{
		base:        base,
		sts:         stsClient,
		roleName:    o.RoleName,
		sessionName: o.SessionName,
		hub:         o.HubAccount,
		creds:       map[string]*aws.CredentialsCache{},
	}
}

// RoleName is the member role's name.
func (p *Provider) RoleName() string { return p.roleName }

// RoleARN is the member role's ARN in account.
func (p *Provider) RoleARN(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, p.roleName)
}

// HubAccount returns the account the base credentials act in.
func (p *Provider) HubAccount(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hub != "" {
		return p.hub, nil
	}
	out, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	p.hub = aws.ToString(out.Account)
	return p.hub, nil
}

// Config returns a configuration acting in account and region. For the hub
// account it is the base configuration; for any other it carries the member
// role's credentials, retrieved now (so an AssumeRole failure is reported
// here, with the role's ARN) and cached until five minutes before expiry.
func (p *Provider) Config(ctx context.Context, account, region string) (aws.Config, error) {
	if !accountID.MatchString(account) {
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
