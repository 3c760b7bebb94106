package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"
)

// Function names. They are also the names of the functions' IAM roles, fixed
// so that member accounts can trust the exact role ARNs and the guardrails can
// recognise their own changes without circular references.
const (
	FnIMDSEnforcer   = "imds-enforcer"
	FnTrustGuard     = "trust-guard"
	FnSweeper        = "sweeper"
	FnSlackForwarder = "slack-forwarder"
)

// ResourcePrefix starts the name of every named resource.
const ResourcePrefix = "credguard-"

// RoleName is the fixed IAM role name of a hub function.
func RoleName(function string) string { return ResourcePrefix + function }

// SelfRoleFunctions are the hub functions that act on accounts: their role
// ARNs are trusted by the member role and passed to every function in
// CREDGUARD_SELF_ROLE_ARNS.
var SelfRoleFunctions = []string{FnIMDSEnforcer, FnTrustGuard, FnSweeper}

// Rule is one EventBridge trigger: the same pattern serves the hub rule (which
// feeds a queue in front of Function) and the member forwarding rule.
type Rule struct {
	ID          string // construct id and name suffix: credguard-<ID>
	Description string
	Function    string // the hub function that handles the events
	// IAMRegionOnly marks events AWS delivers only in us-east-1 (IAM is global):
	// member stacks create the forwarding rule there alone.
	IAMRegionOnly bool
	// SecondChance marks a rule whose events repeat what a faster rule
	// already delivered (RunInstances repeats the instances' pending
	// state-change notifications, which arrive within seconds): its hub
	// queue delays each message by Config.RunInstancesDelaySeconds, so the
	// faster path normally remediates first and this one finds the
	// instances compliant (no second write, no second notification).
	SecondChance bool
	// Queue, when set, is the id of an earlier rule whose queue (and
	// dead-letter queue) this rule feeds instead of getting its own.
	Queue      string
	Source     string
	DetailType string
	// Detail is the pattern's "detail" object, with the project's own types
	// (map[string]any, []any) so it can be rendered for CDK or as JSON.
	Detail map[string]any
}

// The detail-type of CloudTrail management events delivered to EventBridge.
const cloudTrailDetailType = "AWS API Call via CloudTrail"

// cloudTrail builds the detail pattern for successful calls of the given
// actions: failed calls carry errorCode and are dropped in the pattern (the
// handlers ignore them too).
func cloudTrail(eventSource string, eventNames ...string) map[string]any {
	names := make([]any, len(eventNames))
	for i, n := range eventNames {
		names[i] = n
	}
	return map[string]any{
		"eventSource": []any{eventSource},
		"eventName":   names,
		"errorCode":   []any{map[string]any{"exists": false}},
	}
}

// Rules lists every trigger, one rule each.
func Rules() []Rule {
	return []Rule{
		{
			ID:          "ec2-state-change",
			Description: "EC2 instances entering pending or running: enforce IMDSv2 with hop limit 1",
			Function:    FnIMDSEnforcer,
			Source:      "aws.ec2",
			DetailType:  "EC2 Instance State-change Notification",
			Detail:      map[string]any{"state": []any{"pending", "running"}},
		},
		{
			ID:           "ec2-run-instances",
			Description:  "CloudTrail RunInstances, a delayed second chance after the state-change notifications: enforce IMDSv2 with hop limit 1",
			Function:     FnIMDSEnforcer,
			SecondChance: true,
			Source:       "aws.ec2",
			DetailType:   cloudTrailDetailType,
			Detail:       cloudTrail("ec2.amazonaws.com", "RunInstances"),
		},
		{
			// Karpenter and other instant-fleet launchers call CreateFleet,
			// which emits no RunInstances event: the same second chance,
			// on the same delayed queue. Request and maintain fleets name
			// no instances; the guardrail reports them ignored.
			ID:           "ec2-create-fleet",
			Description:  "CloudTrail CreateFleet (instant fleets such as Karpenter's), a delayed second chance on the RunInstances queue: enforce IMDSv2 with hop limit 1",
			Function:     FnIMDSEnforcer,
			SecondChance: true,
			Queue:        "ec2-run-instances",
			Source:       "aws.ec2",
			DetailType:   cloudTrailDetailType,
			Detail:       cloudTrail("ec2.amazonaws.com", "CreateFleet"),
		},
		{
			// Not delayed: drift on a running instance must be fixed fast.
			ID:          "ec2-metadata-drift",
			Description: "CloudTrail ModifyInstanceMetadataOptions (drift): enforce IMDSv2 with hop limit 1",
			Function:    FnIMDSEnforcer,
			Source:      "aws.ec2",
			DetailType:  cloudTrailDetailType,
			Detail:      cloudTrail("ec2.amazonaws.com", "ModifyInstanceMetadataOptions"),
		},
		{
			ID:          "eks-pod-identity",
			Description: "CloudTrail Create/UpdatePodIdentityAssociation: check the associated role's trust policy",
			Function:    FnTrustGuard,
			Source:      "aws.eks",
			DetailType:  cloudTrailDetailType,
			Detail:      cloudTrail("eks.amazonaws.com", "CreatePodIdentityAssociation", "UpdatePodIdentityAssociation"),
		},
		{
			ID:            "iam-trust-policy",
			Description:   "CloudTrail CreateRole and UpdateAssumeRolePolicy: revoke wildcard trust",
			Function:      FnTrustGuard,
			IAMRegionOnly: true,
			Source:        "aws.iam",
			DetailType:    cloudTrailDetailType,
			Detail:        cloudTrail("iam.amazonaws.com", "CreateRole", "UpdateAssumeRolePolicy"),
		},
	}
}

// Pattern is the rule's event pattern as CloudFormation stores it.
func (r Rule) Pattern() map[string]any {
	return map[string]any{
		"source":      []any{r.Source},
		"detail-type": []any{r.DetailType},
		"detail":      r.Detail,
	}
}

// eventPattern renders the pattern for the CDK.
func (r Rule) eventPattern() *awsevents.EventPattern {
	d := r.Detail
	return &awsevents.EventPattern{
		Source:     jsii.Strings(r.Source),
		DetailType: jsii.Strings(r.DetailType),
		Detail:     &d,
	}
}
