package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/credguard/credguard/internal/ids"
)

// The account IMDS defaults custom resource (context key imdsDefaults).
//
// CloudFormation invokes a custom resource's ServiceToken function in the
// stack's own region, and the StackSet's member template must carry no
// assets, so the function lives in the hub account, once per watched region:
// in the hub stack for the hub region, in a small CredguardHub-<region> stack
// for each other region. The resource goes into the member template
// (organization mode, every account and region of the StackSet) or into
// those hub stacks themselves (single mode). The function reads the account
// and region from the request's StackId and acts through the member role in
// any account but its own, after verifying the request with
// cloudformation:DescribeStackResource (accountStatements).
const (
	// IMDSDefaultsResourceType is the custom resource type (the handler's
	// imdsdefaults.ResourceType).
	IMDSDefaultsResourceType = "Custom::CredguardImdsDefaults"

	// The handler verifies the request, then reads, sets and, on delete,
	// restores the defaults: a few calls, but in a member account only after
	// assuming the member role, which a first rollout may not have created
	// yet. It waits for the role up to 4 minutes and keeps the last 30
	// seconds for the answer (imdsdefaults.DefaultAccessWait and
	// DefaultReserve).
	imdsDefaultsTimeoutSeconds = 300
)

// RegionalStackID names the per-region hub stacks: CredguardHub-<region>.
func RegionalStackID(region string) string { return HubStackID + "-" + region }

// imdsDefaultsEnvironment is the function's environment: the hub account
// (served with the function's own credentials) and its own member role
// (assumed in every other account).
func imdsDefaultsEnvironment(cfg Config, account string) *map[string]*string {
	hub := cfg.HubAccount
	if hub == "" {
		hub = account
	}
	return &map[string]*string{
		"CREDGUARD_HUB_ACCOUNT":        jsii.String(hub),
		"CREDGUARD_DEFAULTS_ROLE_NAME": jsii.String(cfg.DefaultsRoleName),
	}
}

var imdsDefaultsFnOptions = fnOptions{
	description: "Credguard: sets the account's regional IMDS defaults for the Custom::CredguardImdsDefaults resource",
	timeout:     imdsDefaultsTimeoutSeconds,
	memory:      128,
	failed:      "a stack's Custom::CredguardImdsDefaults resource failed; its stack events and this function's logs say why",
	throttled:   "raise the account's Lambda concurrency; stack operations wait for the resource meanwhile",
}

// imdsDefaultsProperties are the resource's properties (the handler's
// imdsdefaults.Properties): CloudFormation passes every value as a string.
func imdsDefaultsProperties(cfg Config) *map[string]any {
	return &map[string]any{"Enforce": fmt.Sprint(cfg.IMDSDefaults == IMDSDefaultsEnforce)}
}

// newIMDSDefaultsResource declares the custom resource.
func newIMDSDefaultsResource(scope constructs.Construct, id string, cfg Config, serviceToken *string) awscdk.CustomResource {
	return awscdk.NewCustomResource(scope, jsii.String(id), &awscdk.CustomResourceProps{
		ServiceToken: serviceToken,
		ResourceType: jsii.String(IMDSDefaultsResourceType),
		Properties:   imdsDefaultsProperties(cfg),
		// Delete restores the values the resource replaced.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
}

// IMDSDefaultsServiceToken is the function's ARN in the region of the stack
// that uses it, for the member template (no cross-stack reference, no asset).
func IMDSDefaultsServiceToken(hubAccount string) *string {
	return awscdk.Fn_Sub(jsii.String(fmt.Sprintf("arn:${AWS::Partition}:lambda:${AWS::Region}:%s:function:%s%s",
		hubAccount, ids.Prefix, ids.FnIMDSDefaults)), nil)
}

// allowOrganizationStacks lets CloudFormation, acting for any principal of
// the organization (service-managed StackSets deploy with an execution role
// in each member account), invoke the function for a custom resource.
func allowOrganizationStacks(fn awslambda.Function, organizationID string) awslambda.CfnPermission {
	return awslambda.NewCfnPermission(fn, jsii.String("InvokeFromOrganizationStacks"), &awslambda.CfnPermissionProps{
		Action:         jsii.String("lambda:InvokeFunction"),
		FunctionName:   fn.FunctionArn(),
		Principal:      jsii.String("*"),
		PrincipalOrgId: jsii.String(organizationID),
	})
}

// addIMDSDefaults adds the hub region's function (organization mode: with the
// organization's invoke permission; single mode: with the custom resource for
// this account and region).
func (h *Hub) addIMDSDefaults(cfg Config, distDir string, acct accountScope, alarm awscloudwatch.IAlarmAction) {
	o := imdsDefaultsFnOptions
	o.env = imdsDefaultsEnvironment(cfg, acct.Account)
	o.reserved = cfg.Concurrency[ids.FnIMDSDefaults]
	fn := h.newFunction(cfg, distDir, ids.FnIMDSDefaults, o, alarm)
	statements := accountStatements(acct, needs{defaults: true})
	if cfg.Mode == Organization {
		// Only its own member role, from inside any of its regional copies.
		statements = append(statements, assumeMemberRoles(cfg, acct.Partition, []string{cfg.DefaultsRoleName},
			functionARNs(acct.Partition, acct.Account, ids.FnIMDSDefaults, cfg.Regions)))
	}
	for _, st := range statements {
		h.Roles[ids.FnIMDSDefaults].AddToPolicy(st)
	}
	suppressWildcards(h.Roles[ids.FnIMDSDefaults], statements)
	if cfg.Mode == Organization {
		allowOrganizationStacks(fn, cfg.OrganizationID)
		return
	}
	h.IMDSDefaults = newIMDSDefaultsResource(h.Stack, "ImdsDefaultsResource", cfg, fn.FunctionArn())
}

// RegionalProps configures a per-region hub stack.
type RegionalProps struct {
	awscdk.StackProps
	Config  Config
	DistDir string
}

// Regional is a hub account's stack in a watched region other than the hub
// region: the imds-defaults function of that region (its role is the hub
// stack's) and, in single mode, the custom resource for that region.
type Regional struct {
	awscdk.Stack
	Function     awslambda.Function
	IMDSDefaults awscdk.CustomResource // single mode only
}

// NewRegional builds a per-region hub stack.
func NewRegional(scope constructs.Construct, id string, props *RegionalProps) (*Regional, error) {
	cfg := props.Config
	if err := CheckDist(props.DistDir, []string{ids.FnIMDSDefaults}); err != nil {
		return nil, err
	}
	sp := props.StackProps
	stack := awscdk.NewStack(scope, &id, &sp)
	r := &Regional{Stack: stack}
	// IAM is global: the hub stack owns the role; this stack adds the
	// permission to write its own region's log group.
	role := awsiam.Role_FromRoleName(stack, jsii.String("ImdsDefaultsRole"), jsii.String(ids.FunctionName(ids.FnIMDSDefaults)), nil)
	logs := awslogs.NewLogGroup(stack, jsii.String("ImdsDefaultsLogs"), &awslogs.LogGroupProps{
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	logs.GrantWrite(role)
	o := imdsDefaultsFnOptions
	o.env = imdsDefaultsEnvironment(cfg, *stack.Account())
	o.reserved = cfg.Concurrency[ids.FnIMDSDefaults]
	r.Function = awslambda.NewFunction(stack, jsii.String("ImdsDefaults"), functionProps(props.DistDir, ids.FnIMDSDefaults, o, role, logs))
	if cfg.Mode == Organization {
		allowOrganizationStacks(r.Function, cfg.OrganizationID)
	} else {
		r.IMDSDefaults = newIMDSDefaultsResource(stack, "ImdsDefaultsResource", cfg, r.Function.FunctionArn())
	}
	return r, nil
}
