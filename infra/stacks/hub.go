package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/credguard/credguard/internal/deploy"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/settings"
)

// CentralBusName is the hub's event bus in organization mode.
const CentralBusName = "credguard"

// Sizing of the functions and their queues.
const (
	imdsTimeoutSeconds  = deploy.IMDSTimeoutSeconds // describe, modify, then poll until "applied"
	trustTimeoutSeconds = 60
	sweepTimeoutSeconds = 900 // the Lambda maximum: one scope (an account's roles, or one region) per invocation
	slackTimeoutSeconds = 60  // honours Slack's Retry-After within one invocation

	// visibilityFactor: AWS recommends a queue visibility timeout of at least
	// six times the function timeout for SQS event sources.
	visibilityFactor = 6
	maxReceiveCount  = deploy.MaxReceiveCount
	batchSize        = deploy.BatchSize

	// MaximumConcurrency of the SQS event sources. EC2 throttles each API per
	// account and region with a token bucket, and mutating calls such as
	// ModifyInstanceMetadataOptions have a small refill rate. Five pollers
	// per queue, each handling up to ten events, keep a launch storm's
	// writes near that refill rate (the delayed RunInstances queue normally
	// finds the storm's instances fixed and writes nothing); what is left is
	// absorbed by the SDK's adaptive retry and by the queue itself (the
	// messages wait instead of failing). IAM writes are rarer and IAM's
	// control plane is slower: two.
	imdsMaxConcurrency  = deploy.IMDSMaxConcurrency
	trustMaxConcurrency = 2

	queueAgeAlarmSeconds = 900 // an event older than 15 minutes means the guardrail is behind
)

// publishingServices may publish to the encrypted topic: CloudWatch for the
// alarms, EventBridge for rules that route AWS events (for example a
// StackSet or Scheduler failure) straight to the same people.
var publishingServices = []struct{ name, principal string }{
	{"EventBridge", "events.amazonaws.com"},
	{"CloudWatch", "cloudwatch.amazonaws.com"},
}

// HubProps configures the hub stack.
type HubProps struct {
	awscdk.StackProps
	Config Config
	// DistDir holds <function>/bootstrap for every deployed function (the
	// Makefile's `build` writes dist/).
	DistDir string
}

// Hub is the security account's stack: bus, rules, queues, functions, topic,
// alarms and the optional Slack integrations.
type Hub struct {
	awscdk.Stack
	Bus       awsevents.IEventBus
	Key       awskms.Key
	Topic     awssns.Topic
	Functions map[string]awslambda.Function
	Roles     map[string]awsiam.Role
	Queues    map[string]awssqs.Queue // by rule id
	// Sweep is the scheduled sweep's state machine and bucket.
	Sweep *SweepMachine
	// IMDSDefaults is the account IMDS defaults resource (single mode with
	// imdsDefaults on or enforce; nil otherwise).
	IMDSDefaults awscdk.CustomResource
}

// HubFunctions lists the functions the hub deploys for a configuration.
func HubFunctions(cfg Config) []string {
	fns := []string{ids.FnIMDSEnforcer, ids.FnTrustGuard, ids.FnSweeper, ids.FnSweepList, ids.FnSweepSummary}
	if cfg.SlackWebhookSecretARN != "" {
		fns = append(fns, ids.FnSlackForwarder)
	}
	if cfg.SetsIMDSDefaults() {
		fns = append(fns, ids.FnIMDSDefaults)
	}
	return fns
}

// CheckDist reports a missing bootstrap as an error (the CDK would otherwise
// fail with a stack trace).
func CheckDist(distDir string, functions []string) error {
	var missing []string
	for _, fn := range functions {
		p := filepath.Join(distDir, fn, "bootstrap")
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("function code not built: %s missing (`make build` builds dist/<function>/bootstrap from functions/<function>)", strings.Join(missing, ", "))
	}
	return nil
}

// NewHub builds the hub stack.
func NewHub(scope constructs.Construct, id string, props *HubProps) (*Hub, error) {
	cfg := props.Config
	if err := CheckDist(props.DistDir, HubFunctions(cfg)); err != nil {
		return nil, err
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Credguard hub: IMDSv2 and IAM trust guardrails (" + string(cfg.Mode) + " mode)")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	h := &Hub{
		Stack:     stack,
		Functions: map[string]awslambda.Function{},
		Roles:     map[string]awsiam.Role{},
		Queues:    map[string]awssqs.Queue{},
	}
	partition, account := *stack.Partition(), *stack.Account()
	hubRoleARN := func(fn string) string {
		return ids.RoleARN{Partition: partition, Account: account, Name: ids.FunctionName(fn)}.String()
	}
	var selfRoles []string
	for _, fn := range ids.SelfRoleFunctions() {
		selfRoles = append(selfRoles, hubRoleARN(fn))
	}

	h.addBus(cfg)
	alarmAction := h.addNotifications(account)
	withEnv := h.functionEnv(cfg, account, selfRoles)
	acctScope := hubAccountScope(cfg, partition, account, selfRoles, hubRoleARN)
	sweeper := h.addGuardrailFunctions(cfg, props.DistDir, partition, account, acctScope, withEnv, alarmAction)
	h.grantTopicKeyToFunctions()

	// One rule per trigger, each feeding its own queue in front of its function.
	for _, r := range Rules() {
		h.addRule(cfg, r, alarmAction)
	}

	h.Sweep = h.addSweepMachine(cfg, props.DistDir, sweeper, withEnv, alarmAction)
	h.addDashboard(cfg)

	if cfg.SlackWorkspaceID != "" {
		h.addChatbot(cfg)
	}
	if cfg.SlackWebhookSecretARN != "" {
		h.addSlackForwarder(cfg, props.DistDir, alarmAction)
	}
	if cfg.SetsIMDSDefaults() {
		h.addIMDSDefaults(cfg, props.DistDir, acctScope, alarmAction)
	}
	if !cfg.WatchesIAM() {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("credguard:iam-events"), jsii.String(
			"regions does not include "+cfg.IAMRegion()+": IAM delivers CreateRole and UpdateAssumeRolePolicy events only there (the partition's IAM region), so the trust guardrail sees only EKS Pod Identity changes and the scheduled sweep"), nil)
	}
	return h, nil
}

// addBus sets h.Bus: in organization mode a central bus that every member
// account of the organization may put events on; in single mode the
// account's default bus.
func (h *Hub) addBus(cfg Config) {
	stack := h.Stack
	if cfg.Mode == Organization {
		bus := awsevents.NewEventBus(stack, jsii.String("Bus"), &awsevents.EventBusProps{
			EventBusName: jsii.String(CentralBusName),
			Description:  jsii.String("Credguard: events forwarded by every member account of the organization"),
		})
		// A raw resource: the typed ones (L1 and L2) pass the deprecated
		// Principal property, which makes every synth print a warning.
		awscdk.NewCfnResource(stack, jsii.String("BusPolicy"), &awscdk.CfnResourceProps{
			Type: jsii.String("AWS::Events::EventBusPolicy"),
			Properties: &map[string]any{
				"EventBusName": bus.EventBusName(),
				"StatementId":  "OrganizationMembersPutEvents",
				"Statement": map[string]any{
					"Sid":       "OrganizationMembersPutEvents",
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": "*"},
					"Action":    "events:PutEvents",
					"Resource":  bus.EventBusArn(),
					"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": cfg.OrganizationID}},
				},
			},
		})
		h.Bus = bus
	} else {
		h.Bus = awsevents.EventBus_FromEventBusName(stack, jsii.String("DefaultBus"), jsii.String("default"))
	}
}

// functionEnv returns withEnv, which adds a function's own variables to the
// environment shared by the guardrail functions (the contract of issue 5).
func (h *Hub) functionEnv(cfg Config, account string, selfRoles []string) func(map[string]*string) *map[string]*string {
	hubAccount := cfg.HubAccount
	if hubAccount == "" {
		hubAccount = account
	}
	common := map[string]*string{
		"CREDGUARD_TOPIC_ARN":           h.Topic.TopicArn(),
		"CREDGUARD_IMDS_ROLE_NAME":      jsii.String(cfg.IMDSRoleName),
		"CREDGUARD_TRUST_ROLE_NAME":     jsii.String(cfg.TrustRoleName),
		"CREDGUARD_HUB_ACCOUNT":         jsii.String(hubAccount),
		"CREDGUARD_SELF_ROLE_ARNS":      jsii.String(strings.Join(selfRoles, ",")),
		"CREDGUARD_EXEMPT_ROLE_ARNS":    jsii.String(strings.Join(cfg.ExemptRoleARNs, ",")),
		"CREDGUARD_EXEMPT_INSTANCE_IDS": jsii.String(strings.Join(cfg.ExemptInstanceIDs, ",")),
		"CREDGUARD_ORGANIZATION_ID":     jsii.String(cfg.OrganizationID),
		"CREDGUARD_REGIONS":             jsii.String(strings.Join(cfg.Regions, ",")),
		settings.EnvIMDSScope:           jsii.String(cfg.IMDSScope),
	}
	return func(extra map[string]*string) *map[string]*string {
		env := map[string]*string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return &env
	}
}

// hubAccountScope is what the functions may do in the hub account.
func hubAccountScope(cfg Config, partition, account string, selfRoles []string, hubRoleARN func(fn string) string) accountScope {
	// In a member account the guardrails act through the member role; in the
	// hub account directly. Protected roles are never rewritten. In single
	// mode no member role exists: a role with its name is judged like any other.
	protected := append([]string{}, selfRoles...)
	if cfg.Mode == Organization {
		for _, name := range MemberRoleNames(cfg) {
			protected = append(protected, ids.RoleARN{Partition: partition, Account: account, Name: name}.String())
		}
	}
	if cfg.SetsIMDSDefaults() {
		protected = append(protected, hubRoleARN(ids.FnIMDSDefaults))
	}
	acctScope := accountScope{Partition: partition, Account: account, Regions: cfg.Regions, Protected: protected,
		// The IMDS defaults resource of the hub account itself: in the hub
		// stacks (single mode) or, when the hub is in a target OU, in the
		// member StackSet's stack instances (organization mode).
		DefaultsStacks: hubStacks(cfg.HubRegion)}
	if cfg.Mode == Organization {
		acctScope.DefaultsStacks = memberStackSetStacks
	}
	return acctScope
}

// addGuardrailFunctions adds the IMDS enforcer, the trust guard and the
// sweeper, with their roles' permissions, and returns the sweeper.
func (h *Hub) addGuardrailFunctions(cfg Config, distDir, partition, account string, acctScope accountScope,
	withEnv func(map[string]*string) *map[string]*string, alarmAction awscloudwatch.IAlarmAction) awslambda.Function {
	stack := h.Stack
	build := func(fn, description string, timeout, memory int, env *map[string]*string, n needs, memberRoles ...string) awslambda.Function {
		f := h.newFunction(cfg, distDir, fn, fnOptions{
			description: description, timeout: timeout, memory: memory, env: env,
			reserved: cfg.Concurrency[fn],
		}, alarmAction)
		statements := accountStatements(acctScope, n)
		if fn != ids.FnSweeper { // the sweep's summary step notifies, not its per-scope sweeper
			statements = append(statements, h.publishStatements()...)
		}
		if cfg.Mode == Organization {
			statements = append(statements, assumeMemberRoles(cfg, partition, memberRoles,
				functionARNs(partition, account, fn, []string{*stack.Region()})))
		}
		for _, st := range statements {
			h.Roles[fn].AddToPolicy(st)
		}
		suppressWildcards(h.Roles[fn], statements)
		return f
	}

	build(ids.FnIMDSEnforcer, "Credguard: enforces IMDSv2 with hop limit 1 on EC2 instances",
		imdsTimeoutSeconds, 256, withEnv(map[string]*string{
			"CREDGUARD_DRY_RUN": jsii.String(strconv.FormatBool(cfg.DryRunIMDS)),
		}), needs{imds: true}, cfg.IMDSRoleName)
	build(ids.FnTrustGuard, "Credguard: revokes wildcard IAM role trust policies",
		trustTimeoutSeconds, 256, withEnv(map[string]*string{
			"CREDGUARD_DRY_RUN": jsii.String(strconv.FormatBool(cfg.DryRunTrust)),
		}), needs{trust: true, pods: true}, cfg.TrustRoleName)
	sweeper := build(ids.FnSweeper, "Credguard: scheduled sweep of instances, launch templates and roles",
		sweepTimeoutSeconds, 512, withEnv(map[string]*string{
			"CREDGUARD_DRY_RUN_IMDS":  jsii.String(strconv.FormatBool(cfg.DryRunIMDS)),
			"CREDGUARD_DRY_RUN_TRUST": jsii.String(strconv.FormatBool(cfg.DryRunTrust)),
		}), needs{imds: true, templates: true, trust: true, listRoles: true}, cfg.IMDSRoleName, cfg.TrustRoleName)
	return sweeper
}

// grantTopicKeyToFunctions lets the functions' roles use the topic key
// (besides their IAM grants, the key policy names them, as the issue asks).
func (h *Hub) grantTopicKeyToFunctions() {
	var fnPrincipals []awsiam.IPrincipal
	for _, fn := range ids.SelfRoleFunctions() {
		fnPrincipals = append(fnPrincipals, awsiam.NewArnPrincipal(h.Roles[fn].RoleArn()))
	}
	h.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PublishFromCredguardFunctions"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &fnPrincipals,
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(false))
}

type fnOptions struct {
	description string
	timeout     int // seconds
	memory      int // MiB
	env         *map[string]*string
	dlq         awssqs.IQueue // for asynchronous invocations (SNS); nil for queue-fed functions
	// failed and throttled describe the error and throttle alarms (what the
	// failure leaves behind, what to do); empty for the guardrails' wording.
	failed, throttled string
	// reserved is the function's reserved concurrency (0: none).
	reserved int
}

// assumeMemberRoles lets a hub function assume the named member roles in
// any account of the organization, and only from inside the function:
// Lambda sets lambda:SourceFunctionArn on every call made with the
// function's execution-role credentials, so credentials taken out of the
// function cannot reach the member accounts. (The key works in identity
// policies and SCPs, not in a role's trust policy.)
func assumeMemberRoles(cfg Config, partition string, roleNames, functionARNs []string) awsiam.PolicyStatement {
	var resources []string
	for _, name := range roleNames {
		resources = append(resources, ids.RoleARN{Partition: partition, Account: "*", Name: name}.String())
	}
	var source any = functionARNs
	if len(functionARNs) == 1 {
		source = functionARNs[0]
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeMemberRoles"),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(resources...),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:ResourceOrgID": cfg.OrganizationID},
			"ArnEquals":    map[string]any{"lambda:SourceFunctionArn": source},
		},
	})
}

// functionARNs are the ARNs of function fn (credguard-<fn>) in regions of
// the account, built from its fixed name (a reference to the function would
// make its role's policy depend on the function, which depends on the
// policy).
func functionARNs(partition, account, fn string, regions []string) []string {
	out := make([]string, 0, len(regions))
	for _, r := range regions {
		out = append(out, fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s%s", partition, r, account, ids.Prefix, fn))
	}
	return out
}

// publishStatements allow publishing to the encrypted topic: sns:Publish and
// the two KMS calls SNS makes with the publisher's credentials.
func (h *Hub) publishStatements() []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PublishNotifications"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("sns:Publish"),
			Resources: jsii.Strings(*h.Topic.TopicArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EncryptNotifications"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: jsii.Strings(*h.Key.KeyArn()),
		}),
	}
}

// newFunction creates a function with its own named role and log group, and
// its error and throttle alarms.
func (h *Hub) newFunction(cfg Config, distDir, fn string, o fnOptions, alarm awscloudwatch.IAlarmAction) awslambda.Function {
	stack := h.Stack
	id := constructID(fn)
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    jsii.String(ids.FunctionName(fn)),
		Description: jsii.String("Credguard " + fn + " function"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN, // audit trail of what the guardrails changed
	})
	logs.GrantWrite(role)
	f := awslambda.NewFunction(stack, jsii.String(id), functionProps(distDir, fn, o, role, logs))
	h.Functions[fn] = f
	h.Roles[fn] = role
	failed, throttled := o.failed, o.throttled
	if failed == "" {
		failed = "an event may be waiting in a dead-letter queue"
	}
	if throttled == "" {
		throttled = "raise the account's Lambda concurrency or lower the event sources' maximum concurrency"
	}
	newAlarm(stack, id+"Errors", ids.Prefix+fn+"-errors",
		"Credguard "+fn+" failed: "+failed,
		f.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}), 1, alarm)
	newAlarm(stack, id+"Throttles", ids.Prefix+fn+"-throttles",
		"Credguard "+fn+" was throttled: "+throttled,
		f.MetricThrottles(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}), 1, alarm)
	return f
}

// functionProps are every function's settings: Go on arm64 (provided.al2023),
// code from distDir/<fn>, JSON logs to its own log group.
func functionProps(distDir, fn string, o fnOptions, role awsiam.IRole, logs awslogs.ILogGroup) *awslambda.FunctionProps {
	return &awslambda.FunctionProps{
		FunctionName:    jsii.String(ids.Prefix + fn),
		Description:     jsii.String(o.description),
		Runtime:         awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:    awslambda.Architecture_ARM_64(),
		Handler:         jsii.String("bootstrap"),
		Code:            awslambda.Code_FromAsset(jsii.String(filepath.Join(distDir, fn)), nil),
		Role:            role,
		LogGroup:        logs,
		LoggingFormat:   awslambda.LoggingFormat_JSON,
		Timeout:         awscdk.Duration_Seconds(jsii.Number(float64(o.timeout))),
		MemorySize:      jsii.Number(float64(o.memory)),
		Environment:     o.env,
		DeadLetterQueue: o.dlq,

		ReservedConcurrentExecutions: reservedConcurrency(o.reserved),
	}
}

func reservedConcurrency(n int) *float64 {
	if n <= 0 {
		return nil
	}
	return jsii.Number(float64(n))
}

// newDLQ creates a dead-letter queue and its "any message" alarm.
func (h *Hub) newDLQ(name string, alarm awscloudwatch.IAlarmAction) awssqs.Queue {
	id := constructID(name)
	q := awssqs.NewQueue(h.Stack, jsii.String(id+"DLQ"), &awssqs.QueueProps{
		QueueName:       jsii.String(ids.Prefix + name + "-dlq"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	newAlarm(h.Stack, id+"DLQMessages", ids.Prefix+name+"-dlq-messages",
		"Credguard: a message reached the "+name+" dead-letter queue; inspect it and redrive it once the cause is fixed",
		q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}), 1, alarm)
	return q
}

// addRule wires rule → queue → function, with a dead-letter queue that takes
// both events EventBridge could not deliver and messages the function failed
// maxReceiveCount times. A second-chance rule's queue delays delivery by
// cfg.RunInstancesDelaySeconds.
func (h *Hub) addRule(cfg Config, r Rule, alarm awscloudwatch.IAlarmAction) {
	stack := h.Stack
	id := constructID(r.ID)
	if r.Queue != "" {
		h.addRuleTo(r, h.Queues[r.Queue])
		return
	}
	fn := h.Functions[r.Function]
	timeout := imdsTimeoutSeconds
	concurrency := imdsMaxConcurrency
	if r.Function == ids.FnTrustGuard {
		timeout, concurrency = trustTimeoutSeconds, trustMaxConcurrency
	}
	dlq := h.newDLQ(r.ID, alarm)
	props := &awssqs.QueueProps{
		QueueName:         jsii.String(ids.Prefix + r.ID),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(visibilityFactor * timeout))),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(maxReceiveCount)},
	}
	// The queue-age alarm means "behind by 15 minutes" on every queue: on a
	// delayed one it allows for the delay (whether SQS counts a message's
	// delay in its age is not documented; counted, it would otherwise fire
	// on every delayed message once the delay nears 15 minutes).
	ageThreshold, behind := queueAgeAlarmSeconds, "wait longer than 15 minutes"
	if r.SecondChance {
		props.DeliveryDelay = awscdk.Duration_Seconds(jsii.Number(float64(cfg.RunInstancesDelaySeconds)))
		ageThreshold += cfg.RunInstancesDelaySeconds
		behind = fmt.Sprintf("wait longer than 15 minutes after their %d-second delivery delay", cfg.RunInstancesDelaySeconds)
	}
	q := awssqs.NewQueue(stack, jsii.String(id+"Queue"), props)
	h.addRuleTo(r, q)
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(batchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(float64(concurrency)),
	}))
	newAlarm(stack, id+"QueueAge", ids.Prefix+r.ID+"-queue-age",
		"Credguard: events for "+r.Function+" "+behind+"; the guardrail is behind or failing",
		q.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}),
		float64(ageThreshold), alarm)
}

// addRuleTo creates the rule r, delivering to the queue q (recorded as r's
// queue) with q's dead-letter queue for events EventBridge could not deliver.
func (h *Hub) addRuleTo(r Rule, q awssqs.Queue) {
	h.Queues[r.ID] = q
	rule := awsevents.NewRule(h.Stack, jsii.String(constructID(r.ID)+"Rule"), &awsevents.RuleProps{
		RuleName:     jsii.String(ids.Prefix + r.ID),
		Description:  jsii.String("Credguard: " + r.Description),
		EventBus:     h.Bus,
		EventPattern: r.eventPattern(),
	})
	rule.AddTarget(awseventstargets.NewSqsQueue(q, &awseventstargets.SqsQueueProps{
		DeadLetterQueue: q.DeadLetterQueue().Queue,
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
		RetryAttempts:   jsii.Number(185),
	}))
}

// suppressNotRedriven explains why a dead-letter queue has no dead-letter
// queue of its own: cdk-nag's AwsSolutions-SQS3 recognises only SQS redrive
// policies, not Scheduler, SNS or Lambda dead-letter configurations.
func suppressNotRedriven(q awssqs.Queue, what string) {
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is " + what + ", a dead-letter queue cdk-nag cannot recognise as one; " +
			"a further dead-letter queue would only move the failure, and an alarm fires on its first message."),
	}}, jsii.Bool(true))
}

func newAlarm(scope constructs.Construct, id, name, description string, metric awscloudwatch.IMetric, threshold float64, action awscloudwatch.IAlarmAction) {
	a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.AddAlarmAction(action)
	a.AddOkAction(action)
}

// constructID turns "imds-enforcer" into "ImdsEnforcer".
func constructID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func retention(days int) awslogs.RetentionDays {
	switch days {
	case 1:
		return awslogs.RetentionDays_ONE_DAY
	case 3:
		return awslogs.RetentionDays_THREE_DAYS
	case 5:
		return awslogs.RetentionDays_FIVE_DAYS
	case 7:
		return awslogs.RetentionDays_ONE_WEEK
	case 14:
		return awslogs.RetentionDays_TWO_WEEKS
	case 30:
		return awslogs.RetentionDays_ONE_MONTH
	case 60:
		return awslogs.RetentionDays_TWO_MONTHS
	case 120:
		return awslogs.RetentionDays_FOUR_MONTHS
	case 150:
		return awslogs.RetentionDays_FIVE_MONTHS
	case 180:
		return awslogs.RetentionDays_SIX_MONTHS
	case 365:
		return awslogs.RetentionDays_ONE_YEAR
	case 400:
		return awslogs.RetentionDays_THIRTEEN_MONTHS
	case 545:
		return awslogs.RetentionDays_EIGHTEEN_MONTHS
	case 731:
		return awslogs.RetentionDays_TWO_YEARS
	case 1096:
		return awslogs.RetentionDays_THREE_YEARS
	case 1827:
		return awslogs.RetentionDays_FIVE_YEARS
	case 2192:
		return awslogs.RetentionDays_SIX_YEARS
	case 2557:
		return awslogs.RetentionDays_SEVEN_YEARS
	case 2922:
		return awslogs.RetentionDays_EIGHT_YEARS
	case 3288:
		return awslogs.RetentionDays_NINE_YEARS
	case 3653:
		return awslogs.RetentionDays_TEN_YEARS
	default: // 90, the default; LoadConfig rejects anything not listed here
		return awslogs.RetentionDays_THREE_MONTHS
	}
}
