package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/credguard/credguard/internal/ids"
)

// needs says which guardrail calls a role makes in an account.
type needs struct {
	imds      bool // describe and modify instance metadata options
	templates bool // describe launch templates and write new versions (the sweep)
	trust     bool // read and rewrite role trust policies
	pods      bool // describe pod identity associations (the trust guardrail's EKS events)
	listRoles bool // list the account's roles (the sweep)
	// defaults reads and sets the account's regional IMDS defaults (the
	// Custom::CredguardImdsDefaults resource).
	defaults bool
}

// accountScope names the account and regions a role acts in. Account and
// Partition may be CDK tokens (the member stack's own account).
type accountScope struct {
	Partition string
	Account   string
	Regions   []string
	// Protected are role ARNs the role must never rewrite: the guardrails'
	// own roles, so that a bug or a bad analysis can never lock Credguard out.
	Protected []string
	// DefaultsStacks names, per watched region, the stacks that declare the
	// IMDS defaults resource there (a stack name, or a name prefix ending in
	// *): the function verifies each request against them. Required with
	// needs.defaults (the permission tests assert the statement).
	DefaultsStacks func(region string) string
}

// memberStackSetStacks is the name of every stack the member StackSet
// creates: CloudFormation names a StackSet's stack instances
// StackSet-<StackSet name>-<generated id>.
func memberStackSetStacks(string) string { return "StackSet-" + StackSetName + "-*" }

// hubStacks names the stacks of single-account mode that declare the
// resource: CredguardHub in the hub region, CredguardHub-<region> elsewhere.
func hubStacks(hubRegion string) func(region string) string {
	return func(region string) string {
		if region == hubRegion {
			return HubStackID
		}
		return RegionalStackID(region)
	}
}

// accountStatements are the IAM statements for what the guardrails call in one
// account: exactly the API operations of issue 3, 4 and 6, scoped to the
// account (and to the watched regions where the resource ARN has a region).
func accountStatements(s accountScope, n needs) []awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	allow := func(sid string, actions []string, resources []string) {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(resources...),
		}))
	}
	perRegion := func(service, resource string) []string {
		arns := make([]string, 0, len(s.Regions))
		for _, r := range s.Regions {
			arns = append(arns, fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.Partition, service, r, s.Account, resource))
		}
		return arns
	}
	roles := ids.RoleARN{Partition: s.Partition, Account: s.Account, Name: "*"}.String()

	// Actions without resource-level permissions (the Service Authorization
	// Reference lists only "*" for them).
	var unscoped []string
	if n.imds || n.templates {
		unscoped = append(unscoped, "ec2:DescribeInstances")
	}
	if n.templates {
		unscoped = append(unscoped, "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions")
	}
	if n.listRoles {
		unscoped = append(unscoped, "iam:ListRoles")
	}
	if len(unscoped) > 0 {
		allow("ReadWithoutResourceScope", unscoped, []string{"*"})
	}
	if n.imds {
		allow("EnforceInstanceMetadataOptions", []string{"ec2:ModifyInstanceMetadataOptions"}, perRegion("ec2", "instance/*"))
	}
	if n.templates {
		allow("EnforceLaunchTemplateMetadataOptions",
			[]string{"ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"}, perRegion("ec2", "launch-template/*"))
	}
	if n.trust {
		// GetRolePolicy reads AWSRevokeOlderSessions, so that a retry can
		// finish a session revocation that failed after the trust was narrowed.
		allow("ReviseRoleTrust",
			[]string{"iam:GetRole", "iam:ListRoleTags", "iam:UpdateAssumeRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"}, []string{roles})
	}
	if n.pods {
		allow("DescribePodIdentityAssociations",
			[]string{"eks:DescribePodIdentityAssociation"}, perRegion("eks", "podidentityassociation/*"))
		// The cluster's OIDC issuer tells its IRSA statements from other clusters'.
		allow("DescribeClusters", []string{"eks:DescribeCluster"}, perRegion("eks", "cluster/*"))
	}
	if n.defaults {
		// Account settings: no resource-level permissions, so "*", held to
		// the watched regions.
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ManageInstanceMetadataDefaults"),
			Effect:     awsiam.Effect_ALLOW,
			Actions:    jsii.Strings("ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": s.Regions}},
		}))
		// Each request is checked against the stack that declares the
		// resource before anything is written.
		if s.DefaultsStacks != nil {
			stacks := make([]string, 0, len(s.Regions))
			for _, r := range s.Regions {
				stacks = append(stacks, fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/*", s.Partition, r, s.Account, s.DefaultsStacks(r)))
			}
			allow("VerifyImdsDefaultsRequests", []string{"cloudformation:DescribeStackResource"}, stacks)
		}
	}
	if n.trust && len(s.Protected) > 0 {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("NeverRewriteCredguardRoles"),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"),
			Resources: jsii.Strings(s.Protected...),
		}))
	}
	return out
}

// acceptedWildcard reports whether a wildcard resource is one the design
// accepts (see suppressWildcards): "*" for actions without resource-level
// permissions, every resource of one kind in one account, and the member role
// in any account.
func acceptedWildcard(resource string) bool {
	if resource == "*" {
		return true
	}
	for _, kind := range []string{":instance/*", ":launch-template/*", ":podidentityassociation/*", ":cluster/*", ":role/*"} {
		if strings.HasSuffix(resource, kind) && strings.Count(resource, "*") == 1 {
			return true
		}
	}
	// A named stack (any of its ids), or the stacks of a name prefix.
	if before, stack, ok := strings.Cut(resource, ":stack/"); ok && strings.Contains(before, ":cloudformation:") && !strings.Contains(before, "*") {
		name, id, _ := strings.Cut(stack, "/")
		if prefix := strings.TrimSuffix(name, "*"); id == "*" && prefix != "" && !strings.Contains(prefix, "*") {
			return true
		}
	}
	return strings.Contains(resource, ":iam::*:role/") && strings.Count(resource, "*") == 1
}

// wildcardFindings lists, in cdk-nag's "appliesTo" form, the accepted
// wildcard resources of the Allow statements: what AwsSolutions-IAM5 reports
// for them. Wildcard actions, and wildcard resources of any other shape, are
// not listed, so cdk-nag still reports them.
func wildcardFindings(statements []awsiam.PolicyStatement) *[]any {
	render := func(s string) string {
		s = strings.ReplaceAll(s, *awscdk.Aws_PARTITION(), "<AWS::Partition>")
		s = strings.ReplaceAll(s, *awscdk.Aws_ACCOUNT_ID(), "<AWS::AccountId>")
		s = strings.ReplaceAll(s, *awscdk.Aws_REGION(), "<AWS::Region>")
		return s
	}
	var out []any
	seen := map[string]bool{}
	for _, st := range statements {
		if st.Effect() != awsiam.Effect_ALLOW {
			continue
		}
		for _, r := range *st.Resources() {
			if acceptedWildcard(*r) {
				f := "Resource::" + render(*r)
				if !seen[f] {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
	}
	return &out
}

// suppressWildcards records the reason for the wildcards of the statements on
// construct (and its children, such as a role's default policy).
func suppressWildcards(construct constructs.IConstruct, statements []awsiam.PolicyStatement) {
	applies := wildcardFindings(statements)
	if len(*applies) == 0 {
		return
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Guardrails act on any instance, launch template, role or pod identity association of the account, " +
			"so those ARNs end in a wildcard, scoped to one account and the watched regions; " +
			"ec2:DescribeInstances, ec2:DescribeLaunchTemplate*, iam:ListRoles, organizations:ListAccounts and " +
			"the account settings ec2:Get/ModifyInstanceMetadataDefaults (held to the watched regions by aws:RequestedRegion) " +
			"support no resource-level permissions; cloudformation:DescribeStackResource names the stacks that declare the IMDS defaults " +
			"resource, whose ids (and, for StackSet instances, name suffixes) are generated, so they end in a wildcard; " +
			"member roles have a fixed name but live in accounts not known in advance, " +
			"so sts:AssumeRole names them with an account wildcard bounded by aws:ResourceOrgID."),
		AppliesTo: applies,
	}}, jsii.Bool(true))
}
