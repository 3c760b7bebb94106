package accounts

// Names of the member roles Credguard deploys in member accounts: one per
// guardrail, and the single role of earlier releases.
const (
	IMDSRoleName   = "credguard-imds-remediation"
	TrustRoleName  = "credguard-trust-remediation"
	LegacyRoleName = "credguard-remediation"
)
