package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"
	"github.com/credguard/credguard/internal/ids"
)

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

// cloudTrail builds the detail pattern for successful calls of the given
// actions of an EventBridge source (one of ids.SourceEC2, SourceEKS,
// SourceIAM): failed calls carry errorCode and are dropped in the pattern
// (the handlers ignore them too).
func cloudTrail(source string, eventNames ...string) map[string]any {
	eventSource, _ := ids.CloudTrailEventSource(source)
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
			Function:    ids.FnIMDSEnforcer,
			Source:      ids.SourceEC2,
			DetailType:  ids.DetailTypeStateChange,
			Detail:      map[string]any{"state": []any{"pending", "running"}},
		},
		{
			ID:           "ec2-run-instances",
			Description:  "CloudTrail RunInstances, a delayed second chance after the state-change notifications: enforce IMDSv2 with hop limit 1",
			Function:     ids.FnIMDSEnforcer,
			SecondChance: true,
			Source:       ids.SourceEC2,
			DetailType:   ids.DetailTypeCloudTrail,
			Detail:       cloudTrail(ids.SourceEC2, "RunInstances"),
		},
		{
			// Karpenter and other instant-fleet launchers call CreateFleet,
			// which emits no RunInstances event: the same second chance,
			// on the same delayed queue. Request and maintain fleets name
			// no instances; the guardrail reports them ignored.
			ID:           "ec2-create-fleet",
			Description:  "CloudTrail CreateFleet (instant fleets such as Karpenter's), a delayed second chance on the RunInstances queue: enforce IMDSv2 with hop limit 1",
			Function:     ids.FnIMDSEnforcer,
			SecondChance: true,
			Queue:        "ec2-run-instances",
			Source:       ids.SourceEC2,
			DetailType:   ids.DetailTypeCloudTrail,
			Detail:       cloudTrail(ids.SourceEC2, "CreateFleet"),
		},
		{
			// Not delayed: drift on a running instance must be fixed fast.
			ID:          "ec2-metadata-drift",
			Description: "CloudTrail ModifyInstanceMetadataOptions (drift): enforce IMDSv2 with hop limit 1",
			Function:    ids.FnIMDSEnforcer,
			Source:      ids.SourceEC2,
			DetailType:  ids.DetailTypeCloudTrail,
			Detail:      cloudTrail(ids.SourceEC2, "ModifyInstanceMetadataOptions"),
		},
		{
			ID:          "eks-pod-identity",
			Description: "CloudTrail Create/UpdatePodIdentityAssociation: check the associated role's trust policy",
			Function:    ids.FnTrustGuard,
			Source:      ids.SourceEKS,
			DetailType:  ids.DetailTypeCloudTrail,
			Detail:      cloudTrail(ids.SourceEKS, "CreatePodIdentityAssociation", "UpdatePodIdentityAssociation"),
		},
		{
			ID:            "iam-trust-policy",
			Description:   "CloudTrail CreateRole and UpdateAssumeRolePolicy: revoke wildcard trust",
			Function:      ids.FnTrustGuard,
			IAMRegionOnly: true,
			Source:        ids.SourceIAM,
			DetailType:    ids.DetailTypeCloudTrail,
			Detail:        cloudTrail(ids.SourceIAM, "CreateRole", "UpdateAssumeRolePolicy"),
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
