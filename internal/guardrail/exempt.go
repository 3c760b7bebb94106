package guardrail

// ExemptTag is the tag that exempts a resource (an instance, a launch
// template or a role) from both guardrails when it carries a non-empty
// reason. It is defined here once; the guardrails and notify refer to it.
const ExemptTag = "credguard:exempt"
