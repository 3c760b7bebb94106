package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackSetName names the StackSet that rolls the member stack out.
const StackSetName = "credguard-member"

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
// included.
type Org struct {
	awscdk.Stack
	StackSet awscdk.CfnStackSet
}

// NewOrg builds the organization stack.
func NewOrg(scope constructs.Construct, id string, props *OrgProps) *Org {
	cfg := props.Config
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
	return &Org{Stack: stack, StackSet: set}
}
