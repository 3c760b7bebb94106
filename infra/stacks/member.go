package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/internal/ids"
)

// MemberStackID is the construct id (and CloudFormation stack name prefix) of
// the member stack the StackSet carries.
const MemberStackID = "CredguardMember"

// maxTemplateBody is CloudFormation's limit for an inline StackSet template.
const maxTemplateBody = 51200

// MemberProps configures a member stack.
type MemberProps struct {
	awscdk.StackProps
	Config Config
	// TargetBusARN is the bus the forwarding rules send to: the hub's central
	// bus (organization mode) or the hub region's default bus of the same
	// account (single mode, other regions).
	TargetBusARN string
	// RemediationRole creates the member roles the hub functions assume
	// (organization mode).
	RemediationRole bool
}

// Member role kinds (Member.Roles keys).
const (
	MemberIMDS     = "imds"
	MemberTrust    = "trust"
	MemberDefaults = "defaults"
)

// Member is a member account's stack. It holds no assets, so that one template
// serves every account and region of a StackSet.
type Member struct {
	awscdk.Stack
	ForwardRole awsiam.Role
	// Roles are the member roles by kind (MemberIMDS, MemberTrust and, with
	// imdsDefaults, MemberDefaults); empty unless MemberProps.RemediationRole.
	Roles map[string]awsiam.Role
	// IMDSDefaults are the account IMDS defaults resources (with the
	// remediation role, when imdsDefaults is on or enforce): one for the
	// region that creates the role, after it, one for every other region.
	// A condition keeps exactly one of them in each stack.
	IMDSDefaults []awscdk.CustomResource
}

// NewMember builds a member (or, in single mode, forwarder) stack.
func NewMember(scope constructs.Construct, id string, props *MemberProps) *Member {
	cfg := props.Config
	sp := props.StackProps
	stack := awscdk.NewStack(scope, &id, &sp)
	m := &Member{Stack: stack, Roles: map[string]awsiam.Role{}}
	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()

	// IAM events exist only in the partition's IAM region (us-east-1,
	// us-gov-west-1, cn-north-1): one template, a condition.
	inIAMRegion := awscdk.NewCfnCondition(stack, jsii.String("InIamRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(cfg.IAMRegion())),
	})

	m.ForwardRole = awsiam.NewRole(stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		Description: jsii.String("Credguard: forwards guardrail events to the hub event bus"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
			"ArnLike": map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:events:%s:%s:rule/%sforward-*",
				partition, region, account, ids.Prefix)},
		}),
	})
	hubBus := awsevents.EventBus_FromEventBusArn(stack, jsii.String("HubBus"), jsii.String(props.TargetBusARN))
	for _, r := range Rules() {
		rule := awsevents.NewRule(stack, jsii.String(constructID(r.ID)+"Forward"), &awsevents.RuleProps{
			RuleName:     jsii.String(ids.Prefix + "forward-" + r.ID),
			Description:  jsii.String("Credguard: forward to the hub: " + r.Description),
			EventPattern: r.eventPattern(),
		})
		rule.AddTarget(awseventstargets.NewEventBus(hubBus, &awseventstargets.EventBusProps{Role: m.ForwardRole}))
		if r.IAMRegionOnly {
			rule.Node().DefaultChild().(awsevents.CfnRule).CfnOptions().SetCondition(inIAMRegion)
		}
	}

	if props.RemediationRole {
		inGlobalRegion := inIAMRegion
		if cfg.GlobalRegion() != cfg.IAMRegion() {
			inGlobalRegion = awscdk.NewCfnCondition(stack, jsii.String("InGlobalRegion"), &awscdk.CfnConditionProps{
				Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(cfg.GlobalRegion())),
			})
		}
		for _, spec := range memberRoleSpecs(cfg) {
			m.Roles[spec.kind] = newMemberRole(stack, cfg, spec, inGlobalRegion)
		}
		if cfg.SetsIMDSDefaults() {
			m.addIMDSDefaults(cfg, inGlobalRegion)
		}
	}
	return m
}

// addIMDSDefaults declares the account IMDS defaults resource, served by the
// hub's imds-defaults function in the stack's region (an ARN, not an asset).
// In the region that creates the member role, the resource waits for the
// role (a DependsOn on a resource that may not exist is invalid, hence two
// resources under complementary conditions).
func (m *Member) addIMDSDefaults(cfg Config, inGlobalRegion awscdk.CfnCondition) {
	token := IMDSDefaultsServiceToken(cfg.HubAccount)
	elsewhere := awscdk.NewCfnCondition(m.Stack, jsii.String("NotInGlobalRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(inGlobalRegion),
	})
	withRole := newIMDSDefaultsResource(m.Stack, "ImdsDefaultsWithRole", cfg, token)
	cfn := withRole.Node().DefaultChild().(awscdk.CfnResource)
	cfn.CfnOptions().SetCondition(inGlobalRegion)
	cfn.AddResourceDependency(m.Roles[MemberDefaults].Node().DefaultChild().(awscdk.CfnResource),
		jsii.String("the function assumes its member role to act in this account"))
	other := newIMDSDefaultsResource(m.Stack, "ImdsDefaults", cfg, token)
	other.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(elsewhere)
	m.IMDSDefaults = []awscdk.CustomResource{withRole, other}
}

// memberRoleSpec describes one member role: its name, the hub functions
// that may assume it and what it may do.
type memberRoleSpec struct {
	kind, id, name, description string
	trusted                     []string // hub functions
	needs                       needs
}

// memberRoleSpecs are the member roles: one per guardrail, so that no role
// (and no event-driven function) holds both IMDS and IAM writes, and, with
// imdsDefaults, a third one that can do nothing but the defaults resource's
// calls (imds-defaults, which the whole organization may invoke, can assume
// nothing else).
func memberRoleSpecs(cfg Config) []memberRoleSpec {
	specs := []memberRoleSpec{
		{MemberIMDS, "ImdsRemediationRole", cfg.IMDSRoleName,
			"Credguard: assumed by the hub's IMDS guardrail and sweep to enforce IMDSv2 on this account's instances and launch templates",
			ids.IMDSFunctions(), needs{imds: true, templates: true}},
		{MemberTrust, "TrustRemediationRole", cfg.TrustRoleName,
			"Credguard: assumed by the hub's trust guardrail and sweep to revoke wildcard role trust in this account",
			ids.TrustFunctions(), needs{trust: true, pods: true, listRoles: true}},
	}
	if cfg.SetsIMDSDefaults() {
		specs = append(specs, memberRoleSpec{MemberDefaults, "ImdsDefaultsRole", cfg.DefaultsRoleName,
			"Credguard: assumed by the hub's imds-defaults function to set this account's IMDS defaults for the Custom::CredguardImdsDefaults resource",
			[]string{ids.FnIMDSDefaults}, needs{defaults: true}})
	}
	return specs
}

// MemberRoleNames are the names of every member role of cfg, and the legacy
// single role's: roles Credguard never rewrites.
func MemberRoleNames(cfg Config) []string {
	var out []string
	for _, s := range memberRoleSpecs(cfg) {
		out = append(out, s.name)
	}
	return append(out, ids.LegacyRoleName)
}

// newMemberRole creates one member role in this account: trusted by the
// exact hub role ARNs inside the organization, allowed only what those
// functions call. IAM is global, so the named role is created in one region
// of the StackSet only (Config.GlobalRegion).
func newMemberRole(stack awscdk.Stack, cfg Config, spec memberRoleSpec, inGlobalRegion awscdk.CfnCondition) awsiam.Role {
	partition, account := *stack.Partition(), *stack.Account()
	var hubRoles []awsiam.IPrincipal
	for _, fn := range spec.trusted {
		arn := ids.RoleARN{Partition: partition, Account: cfg.HubAccount, Name: ids.FunctionName(fn)}.String()
		hubRoles = append(hubRoles, awsiam.NewArnPrincipal(jsii.String(arn)))
	}
	// The trust role must never rewrite a member role (its own included).
	var protected []string
	for _, name := range MemberRoleNames(cfg) {
		protected = append(protected, ids.RoleARN{Partition: partition, Account: account, Name: name}.String())
	}
	statements := accountStatements(accountScope{
		Partition: partition, Account: account, Regions: cfg.Regions, Protected: protected,
		DefaultsStacks: memberStackSetStacks,
	}, spec.needs)
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
	role := awsiam.NewRole(stack, jsii.String(spec.id), &awsiam.RoleProps{
		RoleName:    jsii.String(spec.name),
		Description: jsii.String(spec.description),
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewCompositePrincipal(hubRoles...), &map[string]any{
			"StringEquals": map[string]any{"aws:PrincipalOrgID": cfg.OrganizationID},
		}),
		// Inline, so the policy is part of the role resource and shares its condition.
		InlinePolicies:     &map[string]awsiam.PolicyDocument{"guardrails": doc},
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	role.Node().DefaultChild().(awsiam.CfnRole).CfnOptions().SetCondition(inGlobalRegion)
	suppressWildcards(role, statements)
	return role
}

// HubBusARN is the central bus of organization mode.
func HubBusARN(cfg Config) string {
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", *awscdk.Aws_PARTITION(), cfg.HubRegion, cfg.HubAccount, CentralBusName)
}

// MemberTemplate synthesizes the member stack on its own, with no assets and
// no bootstrap requirement, checks it with cdk-nag, and returns the template
// body for the StackSet.
func MemberTemplate(cfg Config) (string, error) {
	dir, err := os.MkdirTemp("", "credguard-member-")
	if err != nil {
		return "", fmt.Errorf("member template: %w", err)
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:             jsii.String(dir),
		AnalyticsReporting: jsii.Bool(false),
		Context:            &map[string]any{"aws:cdk:enable-path-metadata": false},
	})
	AddChecks(app)
	stack := NewMember(app, MemberStackID, &MemberProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("Credguard member: forwards guardrail events to the hub and lets the hub remediate this account"),
			// No bootstrap stack in member accounts: no BootstrapVersion
			// parameter or rule in the template.
			Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{
				GenerateBootstrapVersionRule: jsii.Bool(false),
			}),
		},
		Config:          cfg,
		TargetBusARN:    HubBusARN(cfg),
		RemediationRole: true,
	})
	asm := app.Synth(nil)
	art := asm.GetStackArtifact(stack.ArtifactId())
	if findings := nagFindings(art.Messages()); len(findings) > 0 {
		return "", fmt.Errorf("member template: cdk-nag findings:\n  %s", strings.Join(findings, "\n  "))
	}
	if n := len(*art.Assets()); n > 0 {
		return "", fmt.Errorf("member template: has %d assets; a StackSet template must have none", n)
	}
	body, err := json.Marshal(art.Template())
	if err != nil {
		return "", fmt.Errorf("member template: %w", err)
	}
	if len(body) > maxTemplateBody {
		return "", fmt.Errorf("member template: %d bytes, over CloudFormation's %d-byte limit for a template body", len(body), maxTemplateBody)
	}
	return string(body), nil
}

// nagFindings lists error and warning messages (cdk-nag reports through
// both), one line each.
func nagFindings(msgs *[]*cxapi.SynthesisMessage) []string {
	var out []string
	if msgs == nil {
		return nil
	}
	for _, m := range *msgs {
		if m.Level == cxapi.SynthesisMessageLevel_INFO {
			continue
		}
		data := fmt.Sprint(m.Entry.Data)
		out = append(out, fmt.Sprintf("%s %s: %s", m.Level, *m.Id, data))
	}
	return out
}
