// Package settings reads the guardrail functions' configuration from their
// environment (the variables the infrastructure sets).
package settings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
)

// Environment variable names (a contract with infra/).
const (
	EnvTopicARN          = "CREDGUARD_TOPIC_ARN"
	EnvIMDSRoleName      = "CREDGUARD_IMDS_ROLE_NAME"
	EnvTrustRoleName     = "CREDGUARD_TRUST_ROLE_NAME"
	EnvDefaultsRoleName  = "CREDGUARD_DEFAULTS_ROLE_NAME"
	EnvHubAccount        = "CREDGUARD_HUB_ACCOUNT"
	EnvDryRun            = "CREDGUARD_DRY_RUN"
	EnvSelfRoleARNs      = "CREDGUARD_SELF_ROLE_ARNS"
	EnvExemptRoleARNs    = "CREDGUARD_EXEMPT_ROLE_ARNS"
	EnvExemptInstanceIDs = "CREDGUARD_EXEMPT_INSTANCE_IDS"
	EnvOrganizationID    = "CREDGUARD_ORGANIZATION_ID"
	EnvRegions           = "CREDGUARD_REGIONS"
	EnvAccounts          = "CREDGUARD_ACCOUNTS"
	EnvIMDSScope         = "CREDGUARD_IMDS_SCOPE"
)

// IMDS scopes (the imdsScope option; the words of package imds).
const (
	IMDSScopeAll      = "all"
	IMDSScopeEKSNodes = "eks-nodes"
)

// Settings is the configuration every guardrail function shares.
type Settings struct {
	TopicARN string
	// The member roles, one per guardrail (ids.IMDSRoleName,
	// TrustRoleName and DefaultsRoleName unless renamed): each function
	// assumes only its own, and every guardrail treats all of them (and
	// ids.LegacyRoleName) as Credguard's (MemberRoleNames).
	IMDSRoleName      string
	TrustRoleName     string
	DefaultsRoleName  string
	HubAccount        string
	DryRun            bool
	SelfRoleARNs      []string
	ExemptRoleARNs    []string
	ExemptInstanceIDs []string
	OrganizationID    string
	Regions           []string
	Accounts          []string
	// IMDSScope is IMDSScopeAll (the default) or IMDSScopeEKSNodes: the
	// IMDS guardrail, the sweep and scan then enforce only on instances
	// with an EKS or Karpenter tag.
	IMDSScope string
}

// FromEnv reads the settings through getenv (os.Getenv in a function).
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		TopicARN:          strings.TrimSpace(getenv(EnvTopicARN)),
		IMDSRoleName:      strings.TrimSpace(getenv(EnvIMDSRoleName)),
		TrustRoleName:     strings.TrimSpace(getenv(EnvTrustRoleName)),
		DefaultsRoleName:  strings.TrimSpace(getenv(EnvDefaultsRoleName)),
		HubAccount:        strings.TrimSpace(getenv(EnvHubAccount)),
		SelfRoleARNs:      List(getenv(EnvSelfRoleARNs)),
		ExemptRoleARNs:    List(getenv(EnvExemptRoleARNs)),
		ExemptInstanceIDs: List(getenv(EnvExemptInstanceIDs)),
		OrganizationID:    strings.TrimSpace(getenv(EnvOrganizationID)),
		Regions:           List(getenv(EnvRegions)),
		Accounts:          List(getenv(EnvAccounts)),
	}
	s = s.WithDefaultRoles()
	switch s.IMDSScope = strings.TrimSpace(getenv(EnvIMDSScope)); s.IMDSScope {
	case "":
		s.IMDSScope = IMDSScopeAll
	case IMDSScopeAll, IMDSScopeEKSNodes:
	default:
		return Settings{}, fmt.Errorf("%s=%q: want %s or %s", EnvIMDSScope, s.IMDSScope, IMDSScopeAll, IMDSScopeEKSNodes)
	}
	if v := strings.TrimSpace(getenv(EnvDryRun)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Settings{}, fmt.Errorf("%s=%q: want true or false", EnvDryRun, v)
		}
		s.DryRun = b
	}
	return s, nil
}

// WithDefaultRoles fills in the default name of every member role left blank.
func (s Settings) WithDefaultRoles() Settings {
	if s.IMDSRoleName == "" {
		s.IMDSRoleName = ids.IMDSRoleName
	}
	if s.TrustRoleName == "" {
		s.TrustRoleName = ids.TrustRoleName
	}
	if s.DefaultsRoleName == "" {
		s.DefaultsRoleName = ids.DefaultsRoleName
	}
	return s
}

// MemberRoleNames are every member role name Credguard may act as: the
// configured ones, the defaults and the legacy single role.
func (s Settings) MemberRoleNames() []string {
	return ids.MemberRoleNames(s.IMDSRoleName, s.TrustRoleName, s.DefaultsRoleName)
}

// SelfRoleARNs are the roles of the hub functions that change resources
// (ids.SelfRoleFunctions) in the hub account: the guardrails
// never rewrite them and ignore their changes. The deployed functions get the
// list from CREDGUARD_SELF_ROLE_ARNS; the CLI and tests use this one. The
// ARNs are in the partition of region (the hub region).
func SelfRoleARNs(region, hub string) []string {
	fns := ids.SelfRoleFunctions()
	out := make([]string, 0, len(fns))
	for _, fn := range fns {
		out = append(out, ids.RoleARN{Partition: partition.Of(region), Account: hub, Name: ids.FunctionName(fn)}.String())
	}
	return out
}

// List splits a comma-separated value, dropping blanks.
func List(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
