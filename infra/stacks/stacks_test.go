package stacks_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/infra/stacks"
	"github.com/credguard/credguard/internal/deploy"
	"github.com/credguard/credguard/internal/ids"
)

var hubPseudo = pseudo{Partition: "aws", Account: hubAccount, Region: "us-east-1"}

func fnTimeout(fn string) float64 {
	switch fn {
	case ids.FnIMDSEnforcer:
		return 120
	case ids.FnTrustGuard, ids.FnSlackForwarder:
		return 60
	case ids.FnSweeper, ids.FnSweepSummary:
		return 900
	case ids.FnIMDSDefaults, ids.FnSweepList:
		return 300
	}
	return 0
}

func hubRoleARNs() string {
	var arns []string
	for _, fn := range ids.SelfRoleFunctions() {
		arns = append(arns, "arn:aws:iam::"+hubAccount+":role/credguard-"+fn)
	}
	return strings.Join(arns, ",")
}

func TestFunctions(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			must(t, "runtime, architecture and handler of every function", func() {
				s.hub.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
				})
			})
			want := stacks.HubFunctions(s.cfg)
			if got := len(s.hubT.ofType("AWS::Lambda::Function")); got != len(want) {
				t.Fatalf("%d functions, want %d (%v)", got, len(want), want)
			}
			topic := s.hubT.ofType("AWS::SNS::Topic")[0].ID
			for _, fn := range want {
				f := s.hubT.byProp(t, "AWS::Lambda::Function", "FunctionName", "credguard-"+fn)
				if got := f.Props["Timeout"]; got != fnTimeout(fn) {
					t.Errorf("%s: Timeout %v, want %v", fn, got, fnTimeout(fn))
				}
				code, _ := f.Props["Code"].(map[string]any)
				if str(code["S3Key"]) == "" {
					t.Errorf("%s: code is not an asset: %v", fn, code)
				}
				role := s.hubT.resources[ref(f.Props["Role"])]
				if role.Props["RoleName"] != "credguard-"+fn {
					t.Errorf("%s: role name %v, want credguard-%s", fn, role.Props["RoleName"], fn)
				}
				trust := statements(t, role.Props["AssumeRolePolicyDocument"], hubPseudo)
				if len(trust) != 1 || !jsonEqual(trust[0]["Principal"], map[string]any{"Service": "lambda.amazonaws.com"}) {
					t.Errorf("%s: role trust %v, want lambda.amazonaws.com alone", fn, trust)
				}
				logCfg, _ := f.Props["LoggingConfig"].(map[string]any)
				logs := s.hubT.resources[ref(logCfg["LogGroup"])]
				if logs.Type != "AWS::Logs::LogGroup" || logs.Props["RetentionInDays"] != float64(s.cfg.LogRetentionDays) {
					t.Errorf("%s: log group %s %v, want retention %d", fn, logs.Type, logs.Props, s.cfg.LogRetentionDays)
				}
				if logCfg["LogFormat"] != "JSON" {
					t.Errorf("%s: LogFormat %v, want JSON", fn, logCfg["LogFormat"])
				}

				env, _ := resolve(f.Props["Environment"], hubPseudo)
				vars, _ := env.(map[string]any)["Variables"].(map[string]any)
				checkEnv(t, s, fn, vars, topic)
			}
		})
	}
}

func checkEnv(t *testing.T, s *scenario, fn string, vars map[string]any, topic string) {
	t.Helper()
	if fn == ids.FnSlackForwarder {
		if !reflect.DeepEqual(vars, map[string]any{"CREDGUARD_SLACK_WEBHOOK_SECRET_ARN": secretARN}) {
			t.Errorf("%s: environment %v, want only the webhook secret ARN", fn, vars)
		}
		return
	}
	if fn == ids.FnIMDSDefaults {
		want := map[string]any{"CREDGUARD_HUB_ACCOUNT": hubAccount, "CREDGUARD_DEFAULTS_ROLE_NAME": "credguard-imds-defaults-member"}
		if !reflect.DeepEqual(vars, want) {
			t.Errorf("%s: environment %v, want %v", fn, vars, want)
		}
		return
	}
	want := map[string]any{
		"CREDGUARD_TOPIC_ARN":           "ref-" + topic,
		"CREDGUARD_IMDS_ROLE_NAME":      "credguard-imds-remediation",
		"CREDGUARD_TRUST_ROLE_NAME":     "credguard-trust-remediation",
		"CREDGUARD_HUB_ACCOUNT":         hubAccount,
		"CREDGUARD_SELF_ROLE_ARNS":      hubRoleARNs(),
		"CREDGUARD_EXEMPT_ROLE_ARNS":    strings.Join(s.cfg.ExemptRoleARNs, ","),
		"CREDGUARD_EXEMPT_INSTANCE_IDS": strings.Join(s.cfg.ExemptInstanceIDs, ","),
		"CREDGUARD_ORGANIZATION_ID":     s.cfg.OrganizationID,
		"CREDGUARD_REGIONS":             "us-east-1,eu-west-1",
		"CREDGUARD_IMDS_SCOPE":          s.cfg.IMDSScope,
	}
	switch fn {
	case ids.FnIMDSEnforcer:
		want["CREDGUARD_DRY_RUN"] = fmt.Sprint(s.cfg.DryRunIMDS)
	case ids.FnTrustGuard:
		want["CREDGUARD_DRY_RUN"] = fmt.Sprint(s.cfg.DryRunTrust)
	case ids.FnSweeper:
		want["CREDGUARD_DRY_RUN_IMDS"] = fmt.Sprint(s.cfg.DryRunIMDS)
		want["CREDGUARD_DRY_RUN_TRUST"] = fmt.Sprint(s.cfg.DryRunTrust)
		// The scopes come from the list step: the per-scope sweeper is
		// not told the accounts.
	case ids.FnSweepList:
		want["CREDGUARD_ACCOUNTS"] = strings.Join(s.cfg.SweepAccounts, ",")
		want["CREDGUARD_SWEEP_BUCKET"] = "ref-" + s.hubT.ofType("AWS::S3::Bucket")[0].ID
	case ids.FnSweepSummary:
		want["CREDGUARD_DRY_RUN_IMDS"] = fmt.Sprint(s.cfg.DryRunIMDS)
		want["CREDGUARD_DRY_RUN_TRUST"] = fmt.Sprint(s.cfg.DryRunTrust)
		want["CREDGUARD_SWEEP_BUCKET"] = "ref-" + s.hubT.ofType("AWS::S3::Bucket")[0].ID
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("%s: environment\n got %v\nwant %v", fn, vars, want)
	}
}

func TestScenarioValues(t *testing.T) {
	// The scenarios must exercise both values of each dry-run flag, or the
	// environment checks above would prove little.
	single.get(t)
	organization.get(t)
	if single.cfg.DryRunIMDS == organization.cfg.DryRunIMDS || single.cfg.DryRunTrust == organization.cfg.DryRunTrust {
		t.Fatal("scenarios must differ in dryRunImds and dryRunTrust")
	}
	if len(single.cfg.ExemptInstanceIDs) == 0 || len(organization.cfg.SweepAccounts) == 0 {
		t.Fatal("scenarios must set the exemption and account lists")
	}
}

// The rules, one per trigger: RunInstances (a delayed second chance after the
// state-change notifications) and metadata drift (fixed at once) have rules,
// and queues, of their own.
var wantRuleIDs = []string{"ec2-state-change", "ec2-run-instances", "ec2-create-fleet", "ec2-metadata-drift", "eks-pod-identity", "iam-trust-policy"}

func TestRulesQueuesAndEventSources(t *testing.T) {
	rules := stacks.Rules()
	var ruleIDs []string
	for _, r := range rules {
		ruleIDs = append(ruleIDs, r.ID)
		if want := r.ID == "ec2-run-instances" || r.ID == "ec2-create-fleet"; r.SecondChance != want {
			t.Errorf("%s: SecondChance %v, want %v (only RunInstances and CreateFleet repeat a faster signal)", r.ID, r.SecondChance, want)
		}
		if want := map[string]string{"ec2-create-fleet": "ec2-run-instances"}[r.ID]; r.Queue != want {
			t.Errorf("%s: Queue %q, want %q (CreateFleet shares the delayed RunInstances queue)", r.ID, r.Queue, want)
		}
	}
	ownQueues := 0
	for _, r := range rules {
		if r.Queue == "" {
			ownQueues++
		}
	}
	if !reflect.DeepEqual(ruleIDs, wantRuleIDs) {
		t.Fatalf("rules %v, want %v", ruleIDs, wantRuleIDs)
	}
	// With cdk.json's context the RunInstances delay is the default that
	// the launch-storm benchmark models (internal/deploy).
	if got := single.get(t).cfg.RunInstancesDelaySeconds; got != deploy.DefaultRunInstancesDelaySeconds {
		t.Errorf("cdk.json deploys a RunInstances delay of %d s, want the default %d s", got, deploy.DefaultRunInstancesDelaySeconds)
	}
	if got := organization.get(t).cfg.RunInstancesDelaySeconds; got != 120 {
		t.Errorf("organization scenario: RunInstances delay %d s, want its runInstancesDelaySeconds 120", got)
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			if got := len(s.hubT.ofType("AWS::Events::Rule")); got != len(rules) {
				t.Fatalf("%d rules, want %d", got, len(rules))
			}
			// A queue and a dead-letter queue per rule (but the one sharing
			// the RunInstances queue), the sweep schedule's dead-letter
			// queue and, with the webhook, the forwarder's.
			wantQueues := 2*ownQueues + 1
			if s.cfg.SlackWebhookSecretARN != "" {
				wantQueues++
			}
			if got := len(s.hubT.ofType("AWS::SQS::Queue")); got != wantQueues {
				t.Errorf("%d queues, want %d", got, wantQueues)
			}
			for _, r := range rules {
				rule := s.hubT.byProp(t, "AWS::Events::Rule", "Name", "credguard-"+r.ID)
				if !jsonEqual(rule.Props["EventPattern"], r.Pattern()) {
					t.Errorf("%s: pattern %v, want %v", r.ID, rule.Props["EventPattern"], r.Pattern())
				}
				if s.cfg.Mode == stacks.Organization {
					bus := s.hubT.ofType("AWS::Events::EventBus")[0]
					if ref(rule.Props["EventBusName"]) != bus.ID {
						t.Errorf("%s: rule on bus %v, want the central bus %s", r.ID, rule.Props["EventBusName"], bus.ID)
					}
				} else if b := rule.Props["EventBusName"]; b != nil && b != "default" {
					t.Errorf("%s: rule on bus %v, want the default bus", r.ID, b)
				}
				targets := list(rule.Props["Targets"])
				if len(targets) != 1 {
					t.Fatalf("%s: %d targets, want 1 (its queue)", r.ID, len(targets))
				}
				target := targets[0].(map[string]any)
				queue := s.hubT.resources[ref(target["Arn"])]
				queueID := r.ID
				if r.Queue != "" {
					queueID = r.Queue
				}
				if queue.Type != "AWS::SQS::Queue" || queue.Props["QueueName"] != "credguard-"+queueID {
					t.Fatalf("%s: target %v is not the rule's queue", r.ID, target["Arn"])
				}
				dlqID := ref(target["DeadLetterConfig"].(map[string]any)["Arn"])
				dlq := s.hubT.resources[dlqID]
				if dlq.Props["QueueName"] != "credguard-"+queueID+"-dlq" || dlq.Props["MessageRetentionPeriod"] != float64(14*24*3600) {
					t.Errorf("%s: target dead-letter queue %v", r.ID, dlq.Props)
				}
				redrive, _ := queue.Props["RedrivePolicy"].(map[string]any)
				if ref(redrive["deadLetterTargetArn"]) != dlqID || redrive["maxReceiveCount"] != float64(5) {
					t.Errorf("%s: queue redrive %v, want %s after 5 receives", r.ID, redrive, dlqID)
				}
				if got, want := queue.Props["VisibilityTimeout"], 6*fnTimeout(r.Function); got != want {
					t.Errorf("%s: visibility timeout %v, want 6 × the function timeout = %v", r.ID, got, want)
				}
				// Only RunInstances waits; drift and everything else is
				// delivered at once.
				var wantDelay any
				if queueID == "ec2-run-instances" {
					wantDelay = float64(s.cfg.RunInstancesDelaySeconds)
				}
				if got := queue.Props["DelaySeconds"]; got != wantDelay {
					t.Errorf("%s: DelaySeconds %v, want %v", r.ID, got, wantDelay)
				}
				if got := dlq.Props["DelaySeconds"]; got != nil {
					t.Errorf("%s: dead-letter queue DelaySeconds %v, want none", r.ID, got)
				}
				for _, q := range []resource{queue, dlq} {
					if q.Props["SqsManagedSseEnabled"] != true {
						t.Errorf("%s: queue %s not encrypted", r.ID, q.ID)
					}
				}

				fn := s.hubT.byProp(t, "AWS::Lambda::Function", "FunctionName", "credguard-"+r.Function)
				var esm []resource
				for _, m := range s.hubT.ofType("AWS::Lambda::EventSourceMapping") {
					if ref(m.Props["EventSourceArn"]) == queue.ID {
						esm = append(esm, m)
					}
				}
				if len(esm) != 1 {
					t.Fatalf("%s: %d event source mappings on the queue, want 1", r.ID, len(esm))
				}
				wantConcurrency := 5.0
				if r.Function == ids.FnTrustGuard {
					wantConcurrency = 2
				}
				m := esm[0].Props
				if ref(m["FunctionName"]) != fn.ID || m["BatchSize"] != float64(10) ||
					!jsonEqual(m["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) ||
					!jsonEqual(m["ScalingConfig"], map[string]any{"MaximumConcurrency": wantConcurrency}) {
					t.Errorf("%s: event source mapping %v", r.ID, m)
				}
			}
		})
	}
}

func TestQueuesRequireTLS(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			secured := map[string]bool{}
			for _, qp := range s.hubT.ofType("AWS::SQS::QueuePolicy") {
				for _, st := range statements(t, qp.Props["PolicyDocument"], hubPseudo) {
					if st["Effect"] == "Deny" && jsonEqual(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
						for _, q := range list(qp.Props["Queues"]) {
							secured[ref(q)] = true
						}
					}
				}
			}
			for _, q := range s.hubT.ofType("AWS::SQS::Queue") {
				if !secured[q.ID] {
					t.Errorf("queue %s (%v) has no policy denying non-TLS requests", q.ID, q.Props["QueueName"])
				}
			}
		})
	}
}

func TestBusPolicy(t *testing.T) {
	s := organization.get(t)
	must(t, "central bus", func() {
		s.hub.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "credguard"})
	})
	policies := s.hubT.ofType("AWS::Events::EventBusPolicy")
	if len(policies) != 1 {
		t.Fatalf("%d bus policies, want 1", len(policies))
	}
	p := policies[0].Props
	bus := s.hubT.ofType("AWS::Events::EventBus")[0]
	if ref(p["EventBusName"]) != bus.ID {
		t.Errorf("policy on %v, want the central bus", p["EventBusName"])
	}
	st, _ := resolve(p["Statement"], hubPseudo)
	want := map[string]any{
		"Sid":       "OrganizationMembersPutEvents",
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": "*"},
		"Action":    "events:PutEvents",
		"Resource":  "arn:aws:iam::" + hubAccount + ":role/" + bus.ID, // GetAtt Arn, as resolve renders it
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID}},
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("bus policy statement\n got %v\nwant %v", st, want)
	}

	single.get(t)
	must(t, "single mode: no bus, no bus policy", func() {
		single.hub.ResourceCountIs(jsii.String("AWS::Events::EventBus"), jsii.Number(0))
		single.hub.ResourceCountIs(jsii.String("AWS::Events::EventBusPolicy"), jsii.Number(0))
	})
}

// The complete permissions of each hub role: least privilege means exactly
// these actions, no more.
func TestHubRolePermissions(t *testing.T) {
	sqs := []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
	common := []string{"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "sns:Publish"}
	imds := []string{"ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions"}
	trust := []string{"iam:GetRole", "iam:GetRolePolicy", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"}
	pods := []string{"eks:DescribeCluster", "eks:DescribePodIdentityAssociation"}
	sweep := []string{"ec2:CreateLaunchTemplateVersion", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates",
		"ec2:ModifyLaunchTemplate", "iam:ListRoles"}
	defaults := []string{"ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults"}
	verify := []string{"cloudformation:DescribeStackResource"}
	logs := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	join := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		sort.Strings(out)
		return out
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			var org []string
			if s.cfg.Mode == stacks.Organization {
				org = []string{"sts:AssumeRole"}
			}
			want := map[string][]string{
				ids.FnIMDSEnforcer: join(common, sqs, imds, org),
				ids.FnTrustGuard:   join(common, sqs, trust, pods, org),
				// The per-scope sweeper acts but does not notify; the list
				// step writes the scopes, the summary step reads the
				// results and notifies.
				ids.FnSweeper:      join(logs, imds, trust, sweep, org),
				ids.FnSweepList:    join(logs, []string{"s3:PutObject"}),
				ids.FnSweepSummary: join(common, []string{"s3:GetObject"}),
				ids.FnIMDSDefaults: join(logs, defaults, verify, org),
			}
			if s.cfg.Mode == stacks.Organization {
				want[ids.FnSweepList] = join(want[ids.FnSweepList], []string{"organizations:ListAccounts"})
				want[ids.FnSlackForwarder] = join([]string{"logs:CreateLogStream", "logs:PutLogEvents",
					"secretsmanager:GetSecretValue", "sqs:SendMessage"})
			}
			for fn, wantActions := range want {
				role := s.hubT.byProp(t, "AWS::IAM::Role", "RoleName", "credguard-"+fn)
				sts := rolePolicies(t, s.hubT, role.ID, hubPseudo)
				granted := allowedActions(sts)
				if got := sortedKeys(granted); !reflect.DeepEqual(got, wantActions) {
					t.Errorf("%s: allowed actions\n got %v\nwant %v", fn, got, wantActions)
				}
				// Writes stay in the hub account and the watched regions.
				for _, a := range []string{"ec2:ModifyInstanceMetadataOptions", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"} {
					for _, r := range granted[a] {
						if !strings.HasPrefix(r, "arn:aws:ec2:us-east-1:"+hubAccount+":") && !strings.HasPrefix(r, "arn:aws:ec2:eu-west-1:"+hubAccount+":") {
							t.Errorf("%s: %s on %s, outside the hub account's watched regions", fn, a, r)
						}
					}
				}
				for _, r := range granted["iam:UpdateAssumeRolePolicy"] {
					if r != "arn:aws:iam::"+hubAccount+":role/*" {
						t.Errorf("%s: iam:UpdateAssumeRolePolicy on %s", fn, r)
					}
				}
				if rs := granted["sts:AssumeRole"]; rs != nil {
					checkAssumeMemberRoles(t, fn, sts, rs)
				}
				for _, a := range defaults {
					if rs := granted[a]; rs != nil && !reflect.DeepEqual(rs, []string{"*"}) {
						t.Errorf("%s: %s on %v, want * (an account setting)", fn, a, rs)
					}
				}
				// The function verifies requests against the hub account's
				// own stacks that declare the resource: the hub stacks
				// (single mode) or the member StackSet's instances.
				if rs := granted["cloudformation:DescribeStackResource"]; rs != nil {
					want := []string{"arn:aws:cloudformation:us-east-1:" + hubAccount + ":stack/CredguardHub/*",
						"arn:aws:cloudformation:eu-west-1:" + hubAccount + ":stack/CredguardHub-eu-west-1/*"}
					if s.cfg.Mode == stacks.Organization {
						want = []string{"arn:aws:cloudformation:us-east-1:" + hubAccount + ":stack/StackSet-credguard-member-*/*",
							"arn:aws:cloudformation:eu-west-1:" + hubAccount + ":stack/StackSet-credguard-member-*/*"}
					}
					if !reflect.DeepEqual(rs, want) {
						t.Errorf("%s: cloudformation:DescribeStackResource on %v, want %v", fn, rs, want)
					}
				}
				for _, st := range sts {
					if jsonEqual(st["Action"], defaults) && !jsonEqual(st["Condition"], map[string]any{
						"StringEquals": map[string]any{"aws:RequestedRegion": []any{"us-east-1", "eu-west-1"}}}) {
						t.Errorf("%s: IMDS defaults not held to the watched regions: %v", fn, st["Condition"])
					}
				}
				if rs := granted["secretsmanager:GetSecretValue"]; rs != nil &&
					!reflect.DeepEqual(rs, []string{secretARN, secretARN + "-??????"}) {
					t.Errorf("%s: secretsmanager:GetSecretValue on %v, want only the webhook secret", fn, rs)
				}
				if fn == ids.FnTrustGuard || fn == ids.FnSweeper {
					protected := []string{
						"arn:aws:iam::" + hubAccount + ":role/credguard-imds-enforcer",
						"arn:aws:iam::" + hubAccount + ":role/credguard-trust-guard",
						"arn:aws:iam::" + hubAccount + ":role/credguard-sweeper",
						"arn:aws:iam::" + hubAccount + ":role/credguard-imds-defaults",
					}
					if s.cfg.Mode == stacks.Organization {
						// Single mode has no member role: a role with its name is judged.
						protected = append(protected[:3:3], "arn:aws:iam::"+hubAccount+":role/credguard-imds-remediation",
							"arn:aws:iam::"+hubAccount+":role/credguard-trust-remediation",
							"arn:aws:iam::"+hubAccount+":role/credguard-imds-defaults-member",
							"arn:aws:iam::"+hubAccount+":role/credguard-remediation", protected[3])
					}
					checkProtected(t, fn, sts, protected)
				}
			}
		})
	}
}

// checkProtected asserts the explicit Deny that keeps a guardrail from
// rewriting Credguard's own roles.
func checkProtected(t *testing.T, who string, sts []map[string]any, roles []string) {
	t.Helper()
	for _, st := range sts {
		if st["Effect"] != "Deny" {
			continue
		}
		var res []string
		for _, r := range list(st["Resource"]) {
			res = append(res, str(r))
		}
		if jsonEqual(st["Action"], []any{"iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"}) && reflect.DeepEqual(res, roles) {
			return
		}
	}
	t.Errorf("%s: no Deny of iam:UpdateAssumeRolePolicy and iam:PutRolePolicy on %v", who, roles)
}

func TestKeyAndTopic(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			must(t, "key rotation", func() {
				s.hub.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
			})
			key := s.hubT.ofType("AWS::KMS::Key")[0]
			topic := s.hubT.ofType("AWS::SNS::Topic")[0]
			if ref(topic.Props["KmsMasterKeyId"]) != key.ID {
				t.Errorf("topic key %v, want %s", topic.Props["KmsMasterKeyId"], key.ID)
			}
			principals := map[string]bool{}
			for _, st := range statements(t, key.Props["KeyPolicy"], hubPseudo) {
				if st["Effect"] != "Allow" || (!jsonEqual(st["Action"], []any{"kms:Decrypt", "kms:GenerateDataKey*"}) &&
					!jsonEqual(st["Action"], []any{"kms:Decrypt", "kms:GenerateDataKey"})) {
					continue
				}
				p := st["Principal"].(map[string]any)
				for _, v := range list(p["Service"]) {
					principals[str(v)] = true
				}
				for _, v := range list(p["AWS"]) {
					principals[str(v)] = true
				}
			}
			for _, want := range []string{"events.amazonaws.com", "cloudwatch.amazonaws.com"} {
				if !principals[want] {
					t.Errorf("key policy does not let %s use the key", want)
				}
			}
			for _, fn := range ids.SelfRoleFunctions() {
				role := s.hubT.byProp(t, "AWS::IAM::Role", "RoleName", "credguard-"+fn)
				if !principals["arn:aws:iam::"+hubAccount+":role/"+role.ID] {
					t.Errorf("key policy does not name the %s role", fn)
				}
			}
			var denyPlain, cloudwatch bool
			for _, tp := range s.hubT.ofType("AWS::SNS::TopicPolicy") {
				for _, st := range statements(t, tp.Props["PolicyDocument"], hubPseudo) {
					if st["Effect"] == "Deny" && st["Action"] == "sns:Publish" && st["Principal"] == "*" &&
						jsonEqual(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
						denyPlain = true
					}
					if st["Effect"] == "Allow" && jsonEqual(st["Principal"], map[string]any{"Service": "cloudwatch.amazonaws.com"}) &&
						jsonEqual(st["Condition"], map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": hubAccount}}) {
						cloudwatch = true
					}
				}
			}
			if !denyPlain {
				t.Error("topic policy does not deny publishing without TLS")
			}
			if !cloudwatch {
				t.Error("topic policy does not let this account's CloudWatch alarms publish")
			}
		})
	}
}

func TestAlarms(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			topic := s.hubT.ofType("AWS::SNS::Topic")[0].ID
			type key struct{ metric, target string }
			alarms := map[key]resource{}
			for _, a := range s.hubT.ofType("AWS::CloudWatch::Alarm") {
				dims := list(a.Props["Dimensions"])
				if len(dims) != 1 {
					t.Errorf("alarm %v: dimensions %v", a.Props["AlarmName"], dims)
					continue
				}
				alarms[key{str(a.Props["MetricName"]), ref(dims[0].(map[string]any)["Value"])}] = a
				for _, actions := range []string{"AlarmActions", "OKActions"} {
					if !jsonEqual(a.Props[actions], []any{map[string]any{"Ref": topic}}) {
						t.Errorf("alarm %v: %s %v, want the topic", a.Props["AlarmName"], actions, a.Props[actions])
					}
				}
				if a.Props["TreatMissingData"] != "notBreaching" || a.Props["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
					t.Errorf("alarm %v: %v", a.Props["AlarmName"], a.Props)
				}
			}
			want := 0
			expect := func(metric, target string, threshold float64) {
				t.Helper()
				want++
				a, ok := alarms[key{metric, target}]
				if !ok {
					t.Errorf("no %s alarm for %s", metric, target)
					return
				}
				if a.Props["Threshold"] != threshold {
					t.Errorf("%s alarm for %s: threshold %v, want %v", metric, target, a.Props["Threshold"], threshold)
				}
			}
			for _, f := range s.hubT.ofType("AWS::Lambda::Function") {
				expect("Errors", f.ID, 1)
				expect("Throttles", f.ID, 1)
			}
			for _, q := range s.hubT.ofType("AWS::SQS::Queue") {
				switch {
				case q.Props["QueueName"] == "credguard-ec2-run-instances":
					// 15 minutes behind, after the delivery delay.
					expect("ApproximateAgeOfOldestMessage", q.ID, 900+float64(s.cfg.RunInstancesDelaySeconds))
				case q.Props["RedrivePolicy"] != nil:
					expect("ApproximateAgeOfOldestMessage", q.ID, 900)
				default:
					expect("ApproximateNumberOfMessagesVisible", q.ID, 1)
				}
			}
			machine := s.hubT.ofType("AWS::StepFunctions::StateMachine")[0].ID
			expect("ExecutionsFailed", machine, 1)
			expect("ExecutionsTimedOut", machine, 1)
			if len(alarms) != want {
				t.Errorf("%d alarms, want %d", len(alarms), want)
			}
		})
	}
}

func TestChatbot(t *testing.T) {
	s := organization.get(t)
	must(t, "Slack channel with read-only guardrails", func() {
		s.hub.HasResourceProperties(jsii.String("AWS::Chatbot::SlackChannelConfiguration"), map[string]any{
			"SlackWorkspaceId": "T0123ABCDEF",
			"SlackChannelId":   "C0123ABCDEF",
			"LoggingLevel":     "ERROR",
		})
	})
	slack := s.hubT.ofType("AWS::Chatbot::SlackChannelConfiguration")[0]
	g, _ := resolve(slack.Props["GuardrailPolicies"], hubPseudo)
	if !jsonEqual(g, []any{"arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"}) {
		t.Errorf("guardrail policies %v, want exactly CloudWatchReadOnlyAccess", g)
	}
	topic := s.hubT.ofType("AWS::SNS::Topic")[0].ID
	if !jsonEqual(slack.Props["SnsTopicArns"], []any{map[string]any{"Ref": topic}}) {
		t.Errorf("Slack channel topics %v, want the notification topic", slack.Props["SnsTopicArns"])
	}
	role := s.hubT.resources[ref(slack.Props["IamRoleArn"])]
	trust := statements(t, role.Props["AssumeRolePolicyDocument"], hubPseudo)
	if len(trust) != 1 || !jsonEqual(trust[0]["Principal"], map[string]any{"Service": "chatbot.amazonaws.com"}) {
		t.Errorf("Chatbot role trust %v", trust)
	}
	got := sortedKeys(allowedActions(rolePolicies(t, s.hubT, role.ID, hubPseudo)))
	if want := []string{"cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Chatbot role actions %v, want %v", got, want)
	}

	single.get(t)
	must(t, "single mode without Slack ids: no Chatbot", func() {
		single.hub.ResourceCountIs(jsii.String("AWS::Chatbot::SlackChannelConfiguration"), jsii.Number(0))
	})
}

func TestSlackForwarder(t *testing.T) {
	s := organization.get(t)
	fn := s.hubT.byProp(t, "AWS::Lambda::Function", "FunctionName", "credguard-slack-forwarder")
	subs := s.hubT.ofType("AWS::SNS::Subscription")
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions, want 1", len(subs))
	}
	sub := subs[0].Props
	dlq := ref(fn.Props["DeadLetterConfig"].(map[string]any)["TargetArn"])
	if sub["Protocol"] != "lambda" || ref(sub["Endpoint"]) != fn.ID || ref(sub["TopicArn"]) != s.hubT.ofType("AWS::SNS::Topic")[0].ID {
		t.Errorf("subscription %v", sub)
	}
	if redrive, _ := sub["RedrivePolicy"].(map[string]any); ref(redrive["deadLetterTargetArn"]) != dlq || dlq == "" {
		t.Errorf("subscription redrive %v, want the forwarder's dead-letter queue %s", sub["RedrivePolicy"], dlq)
	}

	single.get(t)
	must(t, "single mode without a webhook secret: no forwarder", func() {
		single.hub.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
		single.hub.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"),
			map[string]any{"FunctionName": "credguard-slack-forwarder"}, jsii.Number(0))
	})
}

var memberPseudo = pseudo{Partition: "aws", Account: memberAccount, Region: "eu-west-1"}

func TestMemberTemplate(t *testing.T) {
	s := organization.get(t)
	m := s.membT
	if len(s.out.MemberTemplate) > 51200 {
		t.Errorf("template body %d bytes, over CloudFormation's 51,200", len(s.out.MemberTemplate))
	}
	if m.raw["Parameters"] != nil || m.raw["Rules"] != nil {
		t.Errorf("member template needs a bootstrap stack: Parameters %v Rules %v", m.raw["Parameters"], m.raw["Rules"])
	}
	for _, r := range m.resources {
		switch r.Type {
		case "AWS::Events::Rule", "AWS::IAM::Role", "AWS::IAM::Policy", stacks.IMDSDefaultsResourceType:
		default:
			t.Errorf("unexpected resource %s of type %s (the member stack must stay asset-free and small)", r.ID, r.Type)
		}
	}
	conditions, _ := m.raw["Conditions"].(map[string]any)
	regionIs := func(name string) string {
		c, _ := conditions[name].(map[string]any)
		eq := list(c["Fn::Equals"])
		if len(eq) != 2 || !jsonEqual(eq[0], map[string]any{"Ref": "AWS::Region"}) {
			return ""
		}
		return str(eq[1])
	}

	forward := m.ofType("AWS::IAM::Role")
	var forwardRole resource
	for _, r := range forward {
		if r.Props["RoleName"] == nil {
			forwardRole = r
		}
	}
	hubBus := "arn:aws:events:us-east-1:" + hubAccount + ":event-bus/credguard"
	if got := len(m.ofType("AWS::Events::Rule")); got != len(wantRuleIDs) {
		t.Errorf("%d forwarding rules, want %d (one per hub rule)", got, len(wantRuleIDs))
	}
	for _, rule := range stacks.Rules() {
		r := m.byProp(t, "AWS::Events::Rule", "Name", "credguard-forward-"+rule.ID)
		if !jsonEqual(r.Props["EventPattern"], rule.Pattern()) {
			t.Errorf("%s: pattern %v, want %v", rule.ID, r.Props["EventPattern"], rule.Pattern())
		}
		targets, _ := resolve(r.Props["Targets"], memberPseudo)
		want := []any{map[string]any{"Arn": hubBus, "Id": "Target0",
			"RoleArn": "arn:aws:iam::" + memberAccount + ":role/" + forwardRole.ID}}
		if !jsonEqual(targets, want) {
			t.Errorf("%s: targets %v, want %v", rule.ID, targets, want)
		}
		if rule.IAMRegionOnly {
			if regionIs(r.Condition) != "us-east-1" {
				t.Errorf("%s: condition %q, want one that holds only in us-east-1", rule.ID, r.Condition)
			}
		} else if r.Condition != "" {
			t.Errorf("%s: condition %q, want none (every region)", rule.ID, r.Condition)
		}
	}

	ft := statements(t, forwardRole.Props["AssumeRolePolicyDocument"], memberPseudo)
	wantTrust := []map[string]any{{
		"Action":    "sts:AssumeRole",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "events.amazonaws.com"},
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": memberAccount},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:events:eu-west-1:" + memberAccount + ":rule/credguard-forward-*"},
		},
	}}
	if !jsonEqual(ft, wantTrust) {
		t.Errorf("forward role trust\n got %v\nwant %v", ft, wantTrust)
	}
	if got := allowedActions(rolePolicies(t, m, forwardRole.ID, memberPseudo)); !reflect.DeepEqual(got, map[string][]string{"events:PutEvents": {hubBus}}) {
		t.Errorf("forward role may %v, want only events:PutEvents on the hub bus", got)
	}

	checkMemberRoles(t, m, regionIs, "us-east-1")
}

// When us-east-1 is not watched, the remediation role lives in the first
// region, and the IAM forwarding rule stays (its condition never holds).
func TestMemberTemplateWithoutUSEast1(t *testing.T) {
	cfg, err := stacks.LoadConfig(func(k string) any {
		return map[string]any{
			"mode": "organization", "organizationId": orgID, "targetOuIds": "ou-ab12-cdef3456",
			"hubAccount": hubAccount, "hubRegion": "eu-west-1", "regions": "eu-west-1,eu-central-1",
			"imdsRoleName": "guardrails-imds", "imdsDefaultsRoleName": "guardrails-defaults", "imdsDefaults": "on",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := stacks.MemberTemplate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := assertions.Template_FromString(jsii.String(body), nil)
	must(t, "member roles in eu-west-1 only", func() {
		tmpl.HasCondition(jsii.String("InGlobalRegion"), map[string]any{
			"Fn::Equals": []any{map[string]any{"Ref": "AWS::Region"}, "eu-west-1"},
		})
		tmpl.HasResource(jsii.String("AWS::IAM::Role"), map[string]any{
			"Condition":  "InGlobalRegion",
			"Properties": assertions.Match_ObjectLike(&map[string]any{"RoleName": "guardrails-imds"}),
		})
		tmpl.HasResource(jsii.String("AWS::IAM::Role"), map[string]any{
			"Condition":  "InGlobalRegion",
			"Properties": assertions.Match_ObjectLike(&map[string]any{"RoleName": "credguard-trust-remediation"}),
		})
		tmpl.HasResource(jsii.String("AWS::Events::Rule"), map[string]any{
			"Condition":  "InIamRegion",
			"Properties": assertions.Match_ObjectLike(&map[string]any{"Name": "credguard-forward-iam-trust-policy"}),
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"},
					":events:eu-west-1:" + hubAccount + ":event-bus/credguard"}}},
			})},
		})
	})
	must(t, "IMDS defaults resource after the role in eu-west-1, alone elsewhere", func() {
		tmpl.HasCondition(jsii.String("NotInGlobalRegion"), map[string]any{
			"Fn::Not": []any{map[string]any{"Condition": "InGlobalRegion"}},
		})
		role := tmpl.FindResources(jsii.String("AWS::IAM::Role"), map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{"RoleName": "guardrails-defaults"}),
		})
		var roleID string
		for id := range *role {
			roleID = id
		}
		tmpl.HasResource(jsii.String(stacks.IMDSDefaultsResourceType), map[string]any{
			"Condition":  "InGlobalRegion",
			"DependsOn":  []any{roleID},
			"Properties": assertions.Match_ObjectLike(&map[string]any{"Enforce": "false"}),
		})
		tmpl.HasResource(jsii.String(stacks.IMDSDefaultsResourceType), map[string]any{
			"Condition":  "NotInGlobalRegion",
			"DependsOn":  assertions.Match_Absent(),
			"Properties": assertions.Match_ObjectLike(&map[string]any{"Enforce": "false"}),
		})
		tmpl.ResourceCountIs(jsii.String(stacks.IMDSDefaultsResourceType), jsii.Number(2))
	})
}

func TestStackSet(t *testing.T) {
	s := organization.get(t)
	must(t, "StackSet properties", func() {
		s.orgA.ResourceCountIs(jsii.String("AWS::CloudFormation::StackSet"), jsii.Number(1))
		s.orgA.HasResourceProperties(jsii.String("AWS::CloudFormation::StackSet"), map[string]any{
			"StackSetName":     "credguard-member",
			"PermissionModel":  "SERVICE_MANAGED",
			"CallAs":           "DELEGATED_ADMIN",
			"AutoDeployment":   map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false},
			"Capabilities":     []any{"CAPABILITY_NAMED_IAM"},
			"ManagedExecution": map[string]any{"Active": true},
			"OperationPreferences": map[string]any{
				"RegionConcurrencyType":      "PARALLEL",
				"MaxConcurrentPercentage":    25,
				"FailureTolerancePercentage": 10,
			},
			"StackInstancesGroup": []any{map[string]any{
				"DeploymentTargets": map[string]any{"OrganizationalUnitIds": []any{"ou-ab12-cdef3456", "ou-ab12-9876fedc"}},
				"Regions":           []any{"us-east-1", "eu-west-1"},
			}},
			"TemplateBody": s.out.MemberTemplate,
		})
	})
	if n := len(s.org.resources); n != 2 {
		t.Errorf("organization stack has %d resources, want the StackSet and the service control policy", n)
	}
}

func TestSingleModeForwarders(t *testing.T) {
	s := single.get(t)
	if len(s.fwd) != 1 {
		t.Fatalf("%d forwarder stacks, want 1 (eu-west-1)", len(s.fwd))
	}
	if got := *s.out.Forwarders[0].Region(); got != "eu-west-1" {
		t.Errorf("forwarder region %s, want eu-west-1", got)
	}
	f := s.fwd[0]
	if roles := f.ofType("AWS::IAM::Role"); len(roles) != 1 {
		t.Errorf("%d roles, want only the forwarding role (single mode has no member role)", len(roles))
	}
	p := pseudo{Partition: "aws", Account: hubAccount, Region: "eu-west-1"}
	for _, rule := range stacks.Rules() {
		r := f.byProp(t, "AWS::Events::Rule", "Name", "credguard-forward-"+rule.ID)
		targets, _ := resolve(r.Props["Targets"], p)
		arn := targets.([]any)[0].(map[string]any)["Arn"]
		if arn != "arn:aws:events:us-east-1:"+hubAccount+":event-bus/default" {
			t.Errorf("%s forwards to %v, want the hub region's default bus", rule.ID, arn)
		}
	}
}

func TestCheckDist(t *testing.T) {
	empty := t.TempDir()
	err := stacks.CheckDist(empty, []string{ids.FnIMDSEnforcer, ids.FnSweeper})
	if err == nil {
		t.Fatal("no error for a dist directory without bootstraps")
	}
	for _, want := range []string{filepath.Join(empty, "imds-enforcer", "bootstrap"), filepath.Join(empty, "sweeper", "bootstrap"), "make build"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := stacks.CheckDist(distDir, stacks.HubFunctions(organization.get(t).cfg)); err != nil {
		t.Errorf("complete dist: %v", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(empty, "out"))})
	if _, err := stacks.Build(app, single.get(t).cfg, stacks.Options{DistDir: empty}); err == nil {
		t.Error("Build without function code: no error")
	}
}

// The cdk-nag negative control: the checks do run, so "no findings" below
// means something.
func TestNagChecksRun(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stacks.AddChecks(app)
	stack := awscdk.NewStack(app, jsii.String("Control"), nil)
	awssqs.NewQueue(stack, jsii.String("Plain"), &awssqs.QueueProps{})
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-SQS[34]")))
	if len(*errs) < 2 {
		t.Errorf("cdk-nag reported %d of SQS3/SQS4 on a plain queue, want both", len(*errs))
	}
}

func TestWarnsWhenIAMEventsAreNotWatched(t *testing.T) {
	warning := assertions.Match_StringLikeRegexp(jsii.String("IAM delivers CreateRole and UpdateAssumeRolePolicy events only there"))
	out := plain.get(t).out // hub in eu-west-1, us-east-1 not watched
	if got := assertions.Annotations_FromStack(out.Hub.Stack).FindWarning(jsii.String("*"), warning); len(*got) != 1 {
		t.Errorf("%d warnings about unwatched IAM events without us-east-1, want 1", len(*got))
	}
	if got := assertions.Annotations_FromStack(single.get(t).out.Hub.Stack).FindWarning(jsii.String("*"), warning); len(*got) != 0 {
		t.Errorf("%d warnings about unwatched IAM events with us-east-1 watched, want 0", len(*got))
	}
}
