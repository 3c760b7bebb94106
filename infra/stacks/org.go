package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsorganizations"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/scp"
)

// StackSetName names the StackSet that rolls the member stack out.
const StackSetName = ids.Prefix + "member"

// SCPName names the service control policy (attachScp).
const SCPName = ids.Prefix + "imds"

// StackSet rollout preferences: every region of an account at once, a quarter
// of the accounts at a time, and stop when more than a tenth fail.
const (
	stackSetMaxConcurrentPercentage    = 25
	stackSetFailureTolerancePercentage = 10
)

// OrgProps configures the organization stack.
type OrgProps struct {
	awscdk.StackProps
	Config Config
	// MemberTemplate is the member stack's template body (MemberTemplate).
	MemberTemplate string
}

// Org is the stack for the organization's management account (or a
// CloudFormation delegated administrator): the service-managed StackSet that
// deploys the member stack to every account of the target OUs, new accounts
// included, and, with attachScp, Credguard's service control policy attached
// to the same OUs.
type Org struct {
	awscdk.Stack
	StackSet awscdk.CfnStackSet
	SCP      awsorganizations.CfnPolicy // nil unless attachScp
}

// SCPOptions are the service control policy's settings for cfg: the member
// role and the hub account's function roles may change instance metadata
// options.
func SCPOptions(cfg Config) scp.Options {
	return scp.Options{
		RemediationRoleName: cfg.IMDSRoleName,
		HubAccount:          cfg.HubAccount,
		Partition:           cfg.Partition(),
	}
}

// scpContent is scp.JSON's policy as a JSON value (CloudFormation's
// Content property takes an object).
func scpContent(cfg Config) (map[string]any, error) {
	body, err := scp.JSON(SCPOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("service control policy: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("service control policy: %w", err)
	}
	return doc, nil
}

// NewOrg builds the organization stack.
func NewOrg(scope constructs.Construct, id string, props *OrgProps) (*Org, error) {
	cfg := props.Config
	var policy map[string]any
	if cfg.AttachSCP {
		var err error
		if policy, err = scpContent(cfg); err != nil {
			return nil, err
		}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Credguard organization: StackSet deploying the member stack to the target OUs")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	set := awscdk.NewCfnStackSet(stack, jsii.String("MemberStackSet"), &awscdk.CfnStackSetProps{
		StackSetName:    jsii.String(StackSetName),
		Description:     jsii.String("Credguard member stack: forwards guardrail events to the hub and lets the hub remediate"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(cfg.StackSetCallAs),
		AutoDeployment: &awscdk.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		Capabilities: jsii.Strings("CAPABILITY_NAMED_IAM"),
		// The CDK types this property as plain JSON: a map keeps the
		// CloudFormation key's case (a Go struct would render "active").
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscdk.CfnStackSet_OperationPreferencesProperty{
			RegionConcurrencyType:      jsii.String("PARALLEL"),
			MaxConcurrentPercentage:    jsii.Number(stackSetMaxConcurrentPercentage),
			FailureTolerancePercentage: jsii.Number(stackSetFailureTolerancePercentage),
		},
		StackInstancesGroup: []any{&awscdk.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscdk.CfnStackSet_DeploymentTargetsProperty{
				OrganizationalUnitIds: jsii.Strings(cfg.TargetOUIDs...),
			},
			Regions: jsii.Strings(cfg.Regions...),
		}},
		TemplateBody: jsii.String(props.MemberTemplate),
	})
	org := &Org{Stack: stack, StackSet: set}
	if cfg.AttachSCP {
		org.SCP = awsorganizations.NewCfnPolicy(stack, jsii.String("ServiceControlPolicy"), &awsorganizations.CfnPolicyProps{
			Name:        jsii.String(SCPName),
			Type:        jsii.String("SERVICE_CONTROL_POLICY"),
			Description: jsii.String("Credguard: IMDSv2 with hop limit 1 on every launch; only Credguard changes instance metadata options; no IMDSv1 credentials"),
			Content:     policy,
			TargetIds:   jsii.Strings(cfg.TargetOUIDs...),
		})
	}
	return org, nil
}
