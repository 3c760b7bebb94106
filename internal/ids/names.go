package ids

// Prefix starts the name of every resource Credguard deploys.
const Prefix = "credguard-"

// Credguard's functions, by their short names: the directories under
// functions/ and dist/. Deployed, function fn is named FunctionName(fn).
const (
	FnIMDSEnforcer   = "imds-enforcer"
	FnTrustGuard     = "trust-guard"
	FnSweeper        = "sweeper"
	FnSweepList      = "sweep-list"
	FnSweepSummary   = "sweep-summary"
	FnSlackForwarder = "slack-forwarder"
	FnIMDSDefaults   = "imds-defaults"
)

// FunctionName is the deployed name of function fn ("credguard-" + fn). It
// is also the fixed name of the function's IAM role, so that member
// accounts can trust the exact role ARNs and the guardrails can recognise
// their own changes, and the role session name the function uses in member
// accounts.
func FunctionName(fn string) string { return Prefix + fn }

// SelfRoleFunctions are the hub functions that change resources in accounts:
// their roles are Credguard's own (never rewritten, their changes ignored).
func SelfRoleFunctions() []string { return []string{FnIMDSEnforcer, FnTrustGuard, FnSweeper} }

// IMDSFunctions are the hub functions that change metadata options: with
// their own role in the hub account, through the IMDS member role elsewhere.
func IMDSFunctions() []string { return []string{FnIMDSEnforcer, FnSweeper} }

// TrustFunctions are the hub functions that change role trust policies:
// with their own role in the hub account, through the trust member role
// elsewhere.
func TrustFunctions() []string { return []string{FnTrustGuard, FnSweeper} }

// TopicName is the deployed name of the notifications topic.
const TopicName = Prefix + "notifications"

// The guardrails' names, as results, logs and metrics carry them.
const (
	GuardrailIMDS  = "imds"
	GuardrailTrust = "trust"
	GuardrailNone  = "none" // an event no guardrail handles
)

// EventBridge detail-types and sources of the events the guardrails handle
// (the rules' patterns and the decoder's switch).
const (
	DetailTypeStateChange = "EC2 Instance State-change Notification"
	DetailTypeCloudTrail  = "AWS API Call via CloudTrail"

	SourceEC2 = "aws.ec2"
	SourceEKS = "aws.eks"
	SourceIAM = "aws.iam"
)

// CloudTrailEventSource is the CloudTrail eventSource that the CloudTrail
// events of an EventBridge source carry (aws.ec2: ec2.amazonaws.com); ok is
// false for a source the guardrails do not handle.
func CloudTrailEventSource(source string) (string, bool) {
	switch source {
	case SourceEC2:
		return "ec2.amazonaws.com", true
	case SourceEKS:
		return "eks.amazonaws.com", true
	case SourceIAM:
		return "iam.amazonaws.com", true
	default:
		return "", false
	}
}
