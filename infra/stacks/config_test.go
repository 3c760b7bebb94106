package stacks

import (
	"reflect"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/ids"
)

func getter(m map[string]any) Getter {
	return func(key string) any { return m[key] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(getter(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Mode:             Single,
		HubRegion:        "us-east-1",
		Regions:          []string{"us-east-1"},
		IMDSRoleName:     "credguard-imds-remediation",
		TrustRoleName:    "credguard-trust-remediation",
		DefaultsRoleName: "credguard-imds-defaults-member",
		Concurrency:      map[string]int{ids.FnIMDSEnforcer: 15, ids.FnTrustGuard: 4, ids.FnSweeper: DefaultSweepMaxConcurrency, ids.FnIMDSDefaults: 10},
		SweepSchedule:    "rate(6 hours)",
		LogRetentionDays: 90,
		StackSetCallAs:   "SELF",
		IMDSDefaults:     IMDSDefaultsOff,
		IMDSScope:        "all",

		RunInstancesDelaySeconds: 90,
		SweepMaxConcurrency:      DefaultSweepMaxConcurrency,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if c.GlobalRegion() != "us-east-1" || !c.WatchesIAM() {
		t.Errorf("GlobalRegion %q WatchesIAM %v, want us-east-1 true", c.GlobalRegion(), c.WatchesIAM())
	}
}

func TestLoadConfigOrganization(t *testing.T) {
	// cdk.json gives JSON types; -c gives strings. Both forms are accepted.
	forms := map[string]map[string]any{
		"cdk.json": {
			"mode": "organization", "organizationId": "o-a1b2c3d4e5", "hubAccount": "111122223333",
			"targetOuIds": []any{"ou-ab12-cdef3456", "r-ab12"}, "regions": []any{"eu-west-1", "us-east-1"},
			"hubRegion": "eu-west-1", "dryRunImds": true, "dryRunTrust": false,
			"exemptRoleArns":    []any{"arn:aws:iam::444455556666:role/break-glass"},
			"exemptInstanceIds": []any{"i-0123456789abcdef0", "i-01234567"},
			"slackWorkspaceId":  "T0123ABCDEF", "slackChannelId": "C0123ABCDEF",
			"slackWebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:credguard/slack-AbCdEf",
			"imdsRoleName":          "guardrails-imds", "trustRoleName": "guardrails-trust", "sweepSchedule": "cron(0 */4 * * ? *)",
			"imdsEnforcerConcurrency": float64(20), "trustGuardConcurrency": float64(0),
			"sweepAccounts": []any{"444455556666"}, "logRetentionDays": float64(365), "stackSetCallAs": "DELEGATED_ADMIN",
			"imdsDefaults": "enforce", "attachScp": true, "runInstancesDelaySeconds": float64(0), "imdsScope": "eks-nodes",
		},
		"-c flags": {
			"mode": "organization", "organizationId": "o-a1b2c3d4e5", "hubAccount": "111122223333",
			"targetOuIds": "ou-ab12-cdef3456, r-ab12", "regions": `["eu-west-1","us-east-1"]`,
			"hubRegion": "eu-west-1", "dryRunImds": "true", "dryRunTrust": "false",
			"exemptRoleArns":    "arn:aws:iam::444455556666:role/break-glass",
			"exemptInstanceIds": "i-0123456789abcdef0,i-01234567",
			"slackWorkspaceId":  "T0123ABCDEF", "slackChannelId": "C0123ABCDEF",
			"slackWebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:credguard/slack-AbCdEf",
			"imdsRoleName":          "guardrails-imds", "trustRoleName": "guardrails-trust", "sweepSchedule": "cron(0 */4 * * ? *)",
			"imdsEnforcerConcurrency": "20", "trustGuardConcurrency": "0",
			"sweepAccounts": "444455556666", "logRetentionDays": "365", "stackSetCallAs": "DELEGATED_ADMIN",
			"imdsDefaults": "enforce", "attachScp": "true", "runInstancesDelaySeconds": "0", "imdsScope": "eks-nodes",
		},
	}
	want := Config{
		Mode: Organization, OrganizationID: "o-a1b2c3d4e5", HubAccount: "111122223333",
		TargetOUIDs: []string{"ou-ab12-cdef3456", "r-ab12"}, Regions: []string{"eu-west-1", "us-east-1"},
		HubRegion: "eu-west-1", DryRunIMDS: true,
		ExemptRoleARNs:    []string{"arn:aws:iam::444455556666:role/break-glass"},
		ExemptInstanceIDs: []string{"i-0123456789abcdef0", "i-01234567"},
		SlackWorkspaceID:  "T0123ABCDEF", SlackChannelID: "C0123ABCDEF",
		SlackWebhookSecretARN: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:credguard/slack-AbCdEf",
		IMDSRoleName:          "guardrails-imds", TrustRoleName: "guardrails-trust", DefaultsRoleName: "credguard-imds-defaults-member",
		SweepSchedule: "cron(0 */4 * * ? *)",
		Concurrency:   map[string]int{ids.FnIMDSEnforcer: 20, ids.FnTrustGuard: 0, ids.FnSweeper: DefaultSweepMaxConcurrency, ids.FnIMDSDefaults: 10},
		SweepAccounts: []string{"444455556666"}, LogRetentionDays: 365, StackSetCallAs: "DELEGATED_ADMIN",
		IMDSDefaults: IMDSDefaultsEnforce, AttachSCP: true, RunInstancesDelaySeconds: 0, IMDSScope: "eks-nodes",
		SweepMaxConcurrency: DefaultSweepMaxConcurrency,
	}
	for name, ctx := range forms {
		t.Run(name, func(t *testing.T) {
			c, err := LoadConfig(getter(ctx))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("\n got %+v\nwant %+v", c, want)
			}
			if c.GlobalRegion() != "us-east-1" {
				t.Errorf("GlobalRegion = %q, want us-east-1 (watched)", c.GlobalRegion())
			}
		})
	}
}

// The delivery delay's bounds are SQS's: 0 and 900 seconds are accepted.
func TestRunInstancesDelayBounds(t *testing.T) {
	for _, tt := range []struct {
		value any
		want  int
	}{{float64(0), 0}, {"0", 0}, {float64(900), 900}, {"900", 900}, {" 45 ", 45}} {
		c, err := LoadConfig(getter(map[string]any{"runInstancesDelaySeconds": tt.value}))
		if err != nil {
			t.Errorf("runInstancesDelaySeconds %q: %v", tt.value, err)
			continue
		}
		if c.RunInstancesDelaySeconds != tt.want {
			t.Errorf("runInstancesDelaySeconds %q: got %d, want %d", tt.value, c.RunInstancesDelaySeconds, tt.want)
		}
	}
}

func TestGlobalRegionWithoutUSEast1(t *testing.T) {
	c, err := LoadConfig(getter(map[string]any{"hubRegion": "eu-west-1", "regions": "eu-central-1,eu-west-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.GlobalRegion() != "eu-central-1" || c.WatchesIAM() {
		t.Errorf("GlobalRegion %q WatchesIAM %v, want eu-central-1 (first region) false", c.GlobalRegion(), c.WatchesIAM())
	}
}

func TestSetsIMDSDefaults(t *testing.T) {
	for v, want := range map[IMDSDefaults]bool{IMDSDefaultsOff: false, IMDSDefaultsOn: true, IMDSDefaultsEnforce: true} {
		if got := (Config{IMDSDefaults: v}).SetsIMDSDefaults(); got != want {
			t.Errorf("imdsDefaults %s: SetsIMDSDefaults %v, want %v", v, got, want)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "ap-southeast-2": "aws",
		"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e",
	} {
		if got := (Config{HubRegion: region}).Partition(); got != want {
			t.Errorf("Partition() with hub region %s = %s, want %s", region, got, want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	org := func(extra map[string]any) map[string]any {
		m := map[string]any{"mode": "organization", "organizationId": "o-a1b2c3d4e5",
			"targetOuIds": "ou-ab12-cdef3456", "hubAccount": "111122223333"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		ctx  map[string]any
		want []string // fragments; every one must appear
	}{
		{"unknown mode", map[string]any{"mode": "multi"}, []string{`mode: must be "single" or "organization", got "multi"`}},
		{"organization needs ids", map[string]any{"mode": "organization"}, []string{
			"organizationId: required in organization mode", "targetOuIds: required in organization mode",
			"hubAccount: required in organization mode"}},
		{"bad organization id", org(map[string]any{"organizationId": "org-1"}), []string{`organizationId: must look like o-a1b2c3d4e5, got "org-1"`}},
		{"bad OU", org(map[string]any{"targetOuIds": []any{"ou-1"}}), []string{`targetOuIds: "ou-1" is not an OU id`}},
		{"OU in single mode", map[string]any{"targetOuIds": "ou-ab12-cdef3456"}, []string{"targetOuIds: only used in organization mode"}},
		{"bad hub account", map[string]any{"hubAccount": "1234"}, []string{`hubAccount: must be a 12-digit account id, got "1234"`}},
		{"bad region", map[string]any{"regions": "us-east-1,mars-1"}, []string{`regions: "mars-1" is not a region name`}},
		{"duplicate region", map[string]any{"regions": "us-east-1,us-east-1"}, []string{`regions: "us-east-1" is listed twice`}},
		{"hub region not watched", map[string]any{"regions": "eu-west-1"}, []string{"regions: must include the hub region us-east-1"}},
		{"bad hub region", map[string]any{"hubRegion": "east"}, []string{`hubRegion: must be a region name`}},
		{"bad exempt role", map[string]any{"exemptRoleArns": "billing-api"}, []string{`exemptRoleArns: "billing-api" is not an IAM role ARN`}},
		{"bad exempt instance", map[string]any{"exemptInstanceIds": "i-xyz"}, []string{`exemptInstanceIds: "i-xyz" is not an instance id`}},
		{"slack half configured", map[string]any{"slackWorkspaceId": "T0123ABCDEF"}, []string{"slackWorkspaceId and slackChannelId must be set together"}},
		{"bad slack ids", map[string]any{"slackWorkspaceId": "workspace", "slackChannelId": "#general"}, []string{
			`slackWorkspaceId: must be a Slack workspace id`, `slackChannelId: must be a Slack channel id`}},
		{"bad secret", map[string]any{"slackWebhookSecretArn": "slack-webhook"}, []string{`slackWebhookSecretArn: must be a Secrets Manager secret ARN`}},
		{"bad role name", map[string]any{"imdsRoleName": "no spaces allowed"}, []string{"imdsRoleName: must be a valid IAM role name"}},
		{"old key", map[string]any{"memberRoleName": "credguard-remediation"}, []string{"memberRoleName: replaced by imdsRoleName and trustRoleName"}},
		{"one role for both", map[string]any{"imdsRoleName": "x", "trustRoleName": "x"}, []string{"trustRoleName: must differ from imdsRoleName"}},
		{"legacy name", map[string]any{"trustRoleName": "credguard-remediation"}, []string{"trustRoleName: \"credguard-remediation\" is taken"}},
		{"mixed partitions", map[string]any{"hubRegion": "us-gov-west-1", "regions": "us-gov-west-1,us-east-1"}, []string{`regions: "us-east-1" is in partition aws`}},
		{"concurrency below the pollers", map[string]any{"imdsEnforcerConcurrency": float64(5)}, []string{"imdsEnforcerConcurrency: must be 0 (no reservation) or 15 to 1000"}},
		{"sweeper reservation below the map", map[string]any{"sweeperConcurrency": float64(10), "sweepMaxConcurrency": float64(20)}, []string{"sweeperConcurrency: must be 0 (no reservation) or at least sweepMaxConcurrency (20)"}},
		{"bad schedule", map[string]any{"sweepSchedule": "every 6 hours"}, []string{"sweepSchedule: must be an EventBridge Scheduler expression"}},
		{"plural schedule", map[string]any{"sweepSchedule": "rate(1 hours)"}, []string{"sweepSchedule: use the singular unit with 1"}},
		{"singular schedule", map[string]any{"sweepSchedule": "rate(6 hour)"}, []string{"sweepSchedule: use the singular unit with 1"}},
		{"bad sweep account", map[string]any{"sweepAccounts": "12"}, []string{`sweepAccounts: "12" is not a 12-digit account id`}},
		{"bad retention", map[string]any{"logRetentionDays": float64(42)}, []string{"logRetentionDays: must be one of CloudWatch Logs' retention periods"}},
		{"fractional retention", map[string]any{"logRetentionDays": 1.5}, []string{"logRetentionDays: must be a whole number"}},
		{"bad call-as", map[string]any{"stackSetCallAs": "ADMIN"}, []string{"stackSetCallAs: must be SELF"}},
		{"delay past SQS's limit", map[string]any{"runInstancesDelaySeconds": float64(901)},
			[]string{"runInstancesDelaySeconds: must be 0 to 900 seconds (an SQS delivery delay), got 901"}},
		{"unknown imdsScope", map[string]any{"imdsScope": "eks"}, []string{`imdsScope: must be "all" or "eks-nodes", got "eks"`}},
		{"negative delay", map[string]any{"runInstancesDelaySeconds": "-1"},
			[]string{"runInstancesDelaySeconds: must be 0 to 900 seconds (an SQS delivery delay), got -1"}},
		{"fractional delay", map[string]any{"runInstancesDelaySeconds": 1.5}, []string{"runInstancesDelaySeconds: must be a whole number"}},
		{"delay not a number", map[string]any{"runInstancesDelaySeconds": "soon"}, []string{`runInstancesDelaySeconds: must be a whole number, got "soon"`}},
		{"bad IMDS defaults", map[string]any{"imdsDefaults": "true"}, []string{`imdsDefaults: must be "off", "on" or "enforce", got "true"`}},
		{"SCP in single mode", map[string]any{"attachScp": true}, []string{"attachScp: only used in organization mode"}},
		{"bad SCP flag", org(map[string]any{"attachScp": "always"}), []string{`attachScp: must be true or false, got "always"`}},
		{"wrong types", map[string]any{"mode": 1.0, "dryRunImds": "yes", "regions": 3.0, "targetOuIds": []any{1.0}}, []string{
			"mode: must be a string, got a number", `dryRunImds: must be true or false, got "yes"`,
			"regions: must be a list of strings, got a number", "targetOuIds: element 0 must be a string"}},
		{"bad JSON list", map[string]any{"regions": `["us-east-1"`}, []string{"regions: must be a JSON array of strings or a comma-separated list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(getter(tt.ctx))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "invalid configuration (cdk.json context):") {
				t.Errorf("error %q does not start with the configuration heading", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
