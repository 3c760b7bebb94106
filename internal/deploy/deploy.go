// Package deploy holds the settings of the deployed IMDS guardrail's queues
// and event sources that more than the infrastructure needs: infra/stacks
// deploys them, and the benchmarks (bench) model the same values without
// importing the CDK.
package deploy

// The SQS event sources in front of the IMDS guardrail function, one per
// EC2 rule (state-change notifications, RunInstances, metadata drift).
const (
	// BatchSize is the messages an invocation receives at most.
	BatchSize = 10
	// IMDSMaxConcurrency is each IMDS event source's MaximumConcurrency.
	IMDSMaxConcurrency = 5
	// IMDSTimeoutSeconds is the IMDS function's timeout.
	IMDSTimeoutSeconds = 120
	// MaxReceiveCount is the receives before a message is dead-lettered.
	MaxReceiveCount = 5
)

// RunInstances delivery delay (the context key runInstancesDelaySeconds).
//
// An instance's pending state-change notification reaches EventBridge within
// seconds of the launch; the CloudTrail RunInstances event for the same
// instances comes later and is the second chance. The RunInstances queue
// holds each message this long, so that the state-change path has normally
// remediated the instances when the RunInstances pass describes them: it
// finds them compliant and neither writes nor notifies again.
const (
	// DefaultRunInstancesDelaySeconds is the default delivery delay.
	DefaultRunInstancesDelaySeconds = 90
	// MaxDeliveryDelaySeconds is SQS's limit for a queue's DelaySeconds.
	MaxDeliveryDelaySeconds = 900
)
