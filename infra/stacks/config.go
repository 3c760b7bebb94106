package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/deploy"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
	"github.com/credguard/credguard/internal/settings"
)

// Mode says how the guardrails are deployed.
type Mode string

const (
	// Single deploys everything into one account: the hub's functions act on
	// that account directly and no member stack or StackSet exists.
	Single Mode = "single"
	// Organization deploys a hub in the security account, a central event bus,
	// and a service-managed StackSet that rolls the member stack out to every
	// account of the target OUs.
	Organization Mode = "organization"
)

// Defaults for the optional context keys (documented in infra/README.md).
const (
	DefaultIMDSRoleName     = ids.IMDSRoleName
	DefaultTrustRoleName    = ids.TrustRoleName
	DefaultDefaultsRoleName = ids.DefaultsRoleName
	DefaultSweepSchedule    = "rate(6 hours)"
	DefaultHubRegion        = "us-east-1"
	DefaultLogRetentionDays = 90
	DefaultStackSetCallAs   = "SELF"
	// DefaultRunInstancesDelaySeconds: see Config.RunInstancesDelaySeconds.
	DefaultRunInstancesDelaySeconds = deploy.DefaultRunInstancesDelaySeconds
)

// Reserved concurrency of the functions (Config.Concurrency), by function.
// A guardrail's reservation covers its queues' MaximumConcurrency, so its
// pollers are never throttled; imds-defaults gets a small one, so that
// requests sent to it (any principal of the organization may invoke it)
// can never use what the guardrails need.
var DefaultConcurrency = map[string]int{
	ids.FnIMDSEnforcer: 3 * imdsMaxConcurrency, // three IMDS queues
	ids.FnTrustGuard:   2 * trustMaxConcurrency,
	ids.FnSweeper:      DefaultSweepMaxConcurrency, // the sweep map's scopes in flight
	ids.FnIMDSDefaults: 10,
}

// concurrencyKeys are the context keys of Config.Concurrency.
var concurrencyKeys = map[string]string{
	ids.FnIMDSEnforcer: "imdsEnforcerConcurrency",
	ids.FnTrustGuard:   "trustGuardConcurrency",
	ids.FnSweeper:      "sweeperConcurrency",
	ids.FnIMDSDefaults: "imdsDefaultsConcurrency",
}

// IMDSDefaults says whether, and how, the stacks set each account's regional
// IMDS defaults (ModifyInstanceMetadataDefaults) through the
// Custom::CredguardImdsDefaults resource.
type IMDSDefaults string

const (
	// IMDSDefaultsOff leaves the account defaults alone (the default).
	IMDSDefaultsOff IMDSDefaults = "off"
	// IMDSDefaultsOn sets tokens required and hop limit 1 as the defaults of
	// new instances; a launch may still ask for IMDSv1 explicitly.
	IMDSDefaultsOn IMDSDefaults = "on"
	// IMDSDefaultsEnforce also sets HttpTokensEnforced: launches that allow
	// IMDSv1 fail.
	IMDSDefaultsEnforce IMDSDefaults = "enforce"
)

// Config is the deployment configuration, read from the CDK context
// (cdk.json or `-c key=value`).
type Config struct {
	Mode           Mode
	OrganizationID string   // o-…; organization mode only
	TargetOUIDs    []string // ou-… or r-…; organization mode only
	Regions        []string // regions to watch; the hub region is always one of them
	HubAccount     string   // 12 digits; required in organization mode
	HubRegion      string

	DryRunIMDS  bool
	DryRunTrust bool

	ExemptRoleARNs    []string
	ExemptInstanceIDs []string

	SlackWorkspaceID      string
	SlackChannelID        string
	SlackWebhookSecretARN string

	// The member roles, one per guardrail (and one for the IMDS defaults
	// resource): no member role holds both IMDS and IAM writes.
	IMDSRoleName     string
	TrustRoleName    string
	DefaultsRoleName string
	SweepSchedule    string
	SweepAccounts    []string // the sweeper's account list; empty: every account of the organization (or the hub alone)
	// SweepMaxConcurrency is the sweep's Distributed Map MaxConcurrency
	// (scopes at once; DefaultSweepMaxConcurrency when 0).
	SweepMaxConcurrency int
	LogRetentionDays    int
	StackSetCallAs      string // SELF or DELEGATED_ADMIN

	// IMDSDefaults: the account IMDS defaults custom resource (off, on, enforce).
	IMDSDefaults IMDSDefaults
	// AttachSCP attaches Credguard's service control policy to TargetOUIDs
	// (organization mode only).
	AttachSCP bool
	// RunInstancesDelaySeconds is the SQS delivery delay of the
	// ec2-run-instances queue (0 to 900). RunInstances is the second chance
	// after the instances' pending state-change notifications: held this
	// long, it normally finds them remediated and does nothing.
	RunInstancesDelaySeconds int
	// Concurrency is each function's reserved concurrency (0: none), by
	// function name (DefaultConcurrency).
	Concurrency map[string]int
	// IMDSScope is settings.IMDSScopeAll (the default) or
	// settings.IMDSScopeEKSNodes: the IMDS guardrail and the sweep then
	// enforce only on instances with an EKS or Karpenter tag.
	IMDSScope string
}

// ContextKeys lists every context key the app reads, in documentation order.
var ContextKeys = []string{
	"mode", "organizationId", "targetOuIds", "regions", "hubAccount", "hubRegion",
	"dryRunImds", "dryRunTrust", "exemptRoleArns", "exemptInstanceIds",
	"slackWorkspaceId", "slackChannelId", "slackWebhookSecretArn",
	"imdsRoleName", "trustRoleName", "imdsDefaultsRoleName", "sweepSchedule", "sweepAccounts", "logRetentionDays", "stackSetCallAs",
	"imdsDefaults", "attachScp", "runInstancesDelaySeconds", "imdsScope",
	"imdsEnforcerConcurrency", "trustGuardConcurrency", "sweeperConcurrency", "imdsDefaultsConcurrency",
}

// Getter returns a context value, or nil when the key is not set. The CDK
// app's `Node().TryGetContext` fits after a small adapter; tests pass a map.
type Getter func(key string) any

var (
	reOrgID       = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reOU          = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
	reRegion      = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	reInstanceID  = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reSlackID     = regexp.MustCompile(`^[A-Z0-9]{9,11}$`)
	reSecretARN   = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+$`)
	reRate        = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)
	reCron        = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)
	retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// LoadConfig reads and validates the configuration. Every problem is
// reported, each naming its context key.
func LoadConfig(get Getter) (Config, error) {
	r := reader{get: get}
	c := Config{
		Mode:                  Mode(r.str("mode", string(Single))),
		OrganizationID:        r.str("organizationId", ""),
		TargetOUIDs:           r.list("targetOuIds"),
		HubAccount:            r.str("hubAccount", ""),
		HubRegion:             r.str("hubRegion", DefaultHubRegion),
		Regions:               r.list("regions"),
		DryRunIMDS:            r.boolean("dryRunImds"),
		DryRunTrust:           r.boolean("dryRunTrust"),
		ExemptRoleARNs:        r.list("exemptRoleArns"),
		ExemptInstanceIDs:     r.list("exemptInstanceIds"),
		SlackWorkspaceID:      r.str("slackWorkspaceId", ""),
		SlackChannelID:        r.str("slackChannelId", ""),
		SlackWebhookSecretARN: r.str("slackWebhookSecretArn", ""),
		IMDSRoleName:          r.str("imdsRoleName", DefaultIMDSRoleName),
		TrustRoleName:         r.str("trustRoleName", DefaultTrustRoleName),
		DefaultsRoleName:      r.str("imdsDefaultsRoleName", DefaultDefaultsRoleName),
		SweepSchedule:         r.str("sweepSchedule", DefaultSweepSchedule),
		SweepAccounts:         r.list("sweepAccounts"),
		SweepMaxConcurrency:   r.integer("sweepMaxConcurrency", DefaultSweepMaxConcurrency),
		LogRetentionDays:      r.integer("logRetentionDays", DefaultLogRetentionDays),
		StackSetCallAs:        r.str("stackSetCallAs", DefaultStackSetCallAs),
		IMDSDefaults:          IMDSDefaults(r.str("imdsDefaults", string(IMDSDefaultsOff))),
		AttachSCP:             r.boolean("attachScp"),

		RunInstancesDelaySeconds: r.integer("runInstancesDelaySeconds", DefaultRunInstancesDelaySeconds),
		IMDSScope:                r.str("imdsScope", settings.IMDSScopeAll),
	}
	c.Concurrency = map[string]int{}
	for fn, key := range concurrencyKeys {
		c.Concurrency[fn] = r.integer(key, DefaultConcurrency[fn])
	}
	if r.get("memberRoleName") != nil {
		r.fail("memberRoleName", "replaced by imdsRoleName and trustRoleName (one member role per guardrail): see \"Moving to the split member roles\" in infra/README.md")
	}
	if len(c.Regions) == 0 {
		c.Regions = []string{c.HubRegion}
	}
	errs := append(r.errs, c.validate()...)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration (cdk.json context):\n  %w", errors.Join(errs...))
	}
	return c, nil
}

func (c Config) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Mode {
	case Single, Organization:
	default:
		bad("mode", "must be %q or %q, got %q", Single, Organization, c.Mode)
	}
	if c.HubAccount != "" && !ids.ValidAccount(c.HubAccount) {
		bad("hubAccount", "must be a 12-digit account id, got %q", c.HubAccount)
	}
	if !reRegion.MatchString(c.HubRegion) {
		bad("hubRegion", "must be a region name such as us-east-1, got %q", c.HubRegion)
	}
	seen := map[string]bool{}
	for _, r := range c.Regions {
		if !reRegion.MatchString(r) {
			bad("regions", "%q is not a region name", r)
		}
		if seen[r] {
			bad("regions", "%q is listed twice", r)
		}
		seen[r] = true
	}
	if !slices.Contains(c.Regions, c.HubRegion) {
		bad("regions", "must include the hub region %s (the hub's own region is always watched)", c.HubRegion)
	}
	if c.Mode == Organization {
		if c.OrganizationID == "" {
			bad("organizationId", "required in organization mode (o-…)")
		} else if !reOrgID.MatchString(c.OrganizationID) {
			bad("organizationId", "must look like o-a1b2c3d4e5, got %q", c.OrganizationID)
		}
		if len(c.TargetOUIDs) == 0 {
			bad("targetOuIds", "required in organization mode (ou-… or the root r-…)")
		}
		for _, ou := range c.TargetOUIDs {
			if !reOU.MatchString(ou) {
				bad("targetOuIds", "%q is not an OU id (ou-…) or root id (r-…)", ou)
			}
		}
		if c.HubAccount == "" {
			bad("hubAccount", "required in organization mode: member accounts forward events to, and trust roles of, this account")
		}
	} else {
		if c.OrganizationID != "" && !reOrgID.MatchString(c.OrganizationID) {
			bad("organizationId", "must look like o-a1b2c3d4e5, got %q", c.OrganizationID)
		}
		if len(c.TargetOUIDs) > 0 {
			bad("targetOuIds", "only used in organization mode (set mode=organization)")
		}
		if c.AttachSCP {
			bad("attachScp", "only used in organization mode: service control policies attach to the organization's OUs")
		}
	}
	switch c.IMDSScope {
	case settings.IMDSScopeAll, settings.IMDSScopeEKSNodes:
	default:
		bad("imdsScope", "must be %q or %q, got %q", settings.IMDSScopeAll, settings.IMDSScopeEKSNodes, c.IMDSScope)
	}
	switch c.IMDSDefaults {
	case IMDSDefaultsOff, IMDSDefaultsOn, IMDSDefaultsEnforce:
	default:
		bad("imdsDefaults", "must be %q, %q or %q, got %q", IMDSDefaultsOff, IMDSDefaultsOn, IMDSDefaultsEnforce, c.IMDSDefaults)
	}
	for _, a := range c.ExemptRoleARNs {
		if _, ok := ids.ParseRoleARN(a); !ok {
			bad("exemptRoleArns", "%q is not an IAM role ARN", a)
		}
	}
	for _, id := range c.ExemptInstanceIDs {
		if !reInstanceID.MatchString(id) {
			bad("exemptInstanceIds", "%q is not an instance id (i- and 8 or 17 hex digits)", id)
		}
	}
	if (c.SlackWorkspaceID == "") != (c.SlackChannelID == "") {
		bad("slackWorkspaceId", "slackWorkspaceId and slackChannelId must be set together")
	}
	if c.SlackWorkspaceID != "" && !reSlackID.MatchString(c.SlackWorkspaceID) {
		bad("slackWorkspaceId", "must be a Slack workspace id such as T0123ABCDEF, got %q", c.SlackWorkspaceID)
	}
	if c.SlackChannelID != "" && !reSlackID.MatchString(c.SlackChannelID) {
		bad("slackChannelId", "must be a Slack channel id such as C0123ABCDEF, got %q", c.SlackChannelID)
	}
	if c.SlackWebhookSecretARN != "" && !reSecretARN.MatchString(c.SlackWebhookSecretARN) {
		bad("slackWebhookSecretArn", "must be a Secrets Manager secret ARN, got %q", c.SlackWebhookSecretARN)
	}
	names := map[string]string{}
	for _, k := range []struct{ key, name string }{
		{"imdsRoleName", c.IMDSRoleName}, {"trustRoleName", c.TrustRoleName}, {"imdsDefaultsRoleName", c.DefaultsRoleName},
	} {
		switch {
		case !ids.ValidRoleName(k.name):
			bad(k.key, "must be a valid IAM role name (1-64 of letters, digits and +=,.@_-), got %q", k.name)
		case names[k.name] != "":
			bad(k.key, "must differ from %s (%q): each member role holds one guardrail's permissions", names[k.name], k.name)
		case k.name == ids.LegacyRoleName || slices.Contains([]string{ids.FnIMDSEnforcer, ids.FnTrustGuard, ids.FnSweeper, ids.FnSlackForwarder, ids.FnIMDSDefaults}, strings.TrimPrefix(k.name, ids.Prefix)):
			bad(k.key, "%q is taken (the legacy member role, or a hub function role)", k.name)
		}
		names[k.name] = k.key
	}
	hubPartition := partition.Of(c.HubRegion)
	for _, r := range c.Regions {
		if p := partition.Of(r); p != hubPartition {
			bad("regions", "%q is in partition %s, the hub region %s in %s: a deployment stays in one partition", r, p, c.HubRegion, hubPartition)
		}
	}
	for fn, key := range concurrencyKeys {
		n, least := c.Concurrency[fn], 1
		switch fn {
		case ids.FnIMDSEnforcer:
			least = 3 * imdsMaxConcurrency
		case ids.FnTrustGuard:
			least = 2 * trustMaxConcurrency
		}
		if n != 0 && (n < least || n > 1000) {
			bad(key, "must be 0 (no reservation) or %d to 1000 (the reservation must cover the function's queue pollers), got %d", least, n)
		}
	}
	if !reRate.MatchString(c.SweepSchedule) && !reCron.MatchString(c.SweepSchedule) {
		bad("sweepSchedule", "must be an EventBridge Scheduler expression such as rate(6 hours) or cron(0 */6 * * ? *), got %q", c.SweepSchedule)
	} else if m := reRate.FindStringSubmatch(c.SweepSchedule); m != nil {
		n, _ := strconv.Atoi(m[1])
		if singular := !strings.HasSuffix(m[2], "s"); (n == 1) != singular {
			bad("sweepSchedule", "use the singular unit with 1 and the plural otherwise (rate(1 hour), rate(6 hours)), got %q", c.SweepSchedule)
		}
	}
	if c.SweepMaxConcurrency < 1 || c.SweepMaxConcurrency > 1000 {
		bad("sweepMaxConcurrency", "must be 1 to 1000 scopes at once (the sweeper's Lambda concurrency), got %d", c.SweepMaxConcurrency)
	} else if n := c.Concurrency[ids.FnSweeper]; n != 0 && n < c.SweepMaxConcurrency {
		bad("sweeperConcurrency", "must be 0 (no reservation) or at least sweepMaxConcurrency (%d): the map would be throttled, got %d", c.SweepMaxConcurrency, n)
	}
	for _, a := range c.SweepAccounts {
		if !ids.ValidAccount(a) {
			bad("sweepAccounts", "%q is not a 12-digit account id", a)
		}
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		bad("logRetentionDays", "must be one of CloudWatch Logs' retention periods %v, got %d", retentionDays, c.LogRetentionDays)
	}
	switch c.StackSetCallAs {
	case "SELF", "DELEGATED_ADMIN":
	default:
		bad("stackSetCallAs", "must be SELF (management account) or DELEGATED_ADMIN, got %q", c.StackSetCallAs)
	}
	if c.RunInstancesDelaySeconds < 0 || c.RunInstancesDelaySeconds > deploy.MaxDeliveryDelaySeconds {
		bad("runInstancesDelaySeconds", "must be 0 to %d seconds (an SQS delivery delay), got %d",
			deploy.MaxDeliveryDelaySeconds, c.RunInstancesDelaySeconds)
	}
	return errs
}

// GlobalRegion is the region where account-wide resources (IAM) are handled:
// IAM delivers its CloudTrail events to EventBridge only in its partition's
// home region (us-east-1, us-gov-west-1, cn-north-1), and the member stack
// creates its named IAM roles in one region only. It is that region when
// watched, else the first configured region.
func (c Config) GlobalRegion() string {
	if r := c.IAMRegion(); slices.Contains(c.Regions, r) {
		return r
	}
	return c.Regions[0]
}

// IAMRegion is where IAM delivers its CloudTrail events in the hub's
// partition.
func (c Config) IAMRegion() string { return partition.IAMRegionOf(c.HubRegion) }

// SetsIMDSDefaults reports whether the account IMDS defaults custom resource
// is deployed.
func (c Config) SetsIMDSDefaults() bool { return c.IMDSDefaults != IMDSDefaultsOff }

// Partition is the ARN partition of the hub region (aws, aws-cn,
// aws-us-gov, aws-iso, aws-iso-b…), for values that cannot be CloudFormation
// tokens, such as the service control policy's text.
func (c Config) Partition() string { return partition.Of(c.HubRegion) }

// WatchesIAM reports whether IAM events reach the guardrails at all (only when
// the partition's IAM region is one of the regions).
func (c Config) WatchesIAM() bool { return slices.Contains(c.Regions, c.IAMRegion()) }

// reader converts context values, which are JSON values from cdk.json or
// plain strings from `-c key=value`, collecting errors.
type reader struct {
	get  Getter
	errs []error
}

func (r *reader) fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (r *reader) str(key, def string) string {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case string:
		if v = strings.TrimSpace(v); v == "" {
			return def
		}
		return v
	default:
		r.fail(key, "must be a string, got %s", jsonKind(v))
		return def
	}
}

func (r *reader) boolean(key string) bool {
	switch v := r.get(key).(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true
		case "false", "":
			return false
		}
		r.fail(key, `must be true or false, got %q`, v)
	default:
		r.fail(key, "must be true or false, got %s", jsonKind(v))
	}
	return false
}

func (r *reader) integer(key string, def int) int {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case float64:
		if v != float64(int(v)) {
			r.fail(key, "must be a whole number, got %v", v)
			return def
		}
		return int(v)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			r.fail(key, "must be a whole number, got %q", v)
			return def
		}
		return n
	default:
		r.fail(key, "must be a whole number, got %s", jsonKind(v))
		return def
	}
}

// list accepts a JSON array of strings, a string holding a JSON array (what
// `-c 'key=["a","b"]'` gives), or a comma-separated string.
func (r *reader) list(key string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	switch v := r.get(key).(type) {
	case nil:
		return nil
	case []any:
		for i, el := range v {
			s, ok := el.(string)
			if !ok {
				r.fail(key, "element %d must be a string, got %s", i, jsonKind(el))
				continue
			}
			add(s)
		}
	case []string:
		for _, s := range v {
			add(s)
		}
	case string:
		t := strings.TrimSpace(v)
		if strings.HasPrefix(t, "[") {
			var arr []string
			if err := json.Unmarshal([]byte(t), &arr); err != nil {
				r.fail(key, "must be a JSON array of strings or a comma-separated list: %v", err)
				return nil
			}
			for _, s := range arr {
				add(s)
			}
			break
		}
		for _, s := range strings.Split(t, ",") {
			add(s)
		}
	default:
		r.fail(key, "must be a list of strings, got %s", jsonKind(v))
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, int:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
