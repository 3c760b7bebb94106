package ids

// ExemptTag is the tag that exempts a resource (an instance, a launch
// template or a role) from both guardrails when it carries a non-empty
// reason. This is its one definition.
const ExemptTag = "credguard:exempt"
