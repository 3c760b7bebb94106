// Package ids holds Credguard's identifiers: the validation rules for AWS
// account ids and IAM role names, role ARNs (parsed and formatted, with
// their partition), the names of Credguard's own functions, roles and
// guardrails, and the EventBridge detail-types the guardrails handle. It is
// pure (no AWS calls, no imports of the project) so that every layer can
// import it.
package ids

import (
	"regexp"
	"slices"
)

// The member roles every member account carries, one per guardrail, so that
// no role holds both IMDS and IAM writes (their default names; the
// deployment may rename them).
const (
	// IMDSRoleName: instance and launch-template metadata options; assumed
	// by the IMDS guardrail and the sweep.
	IMDSRoleName = "credguard-imds-remediation"
	// TrustRoleName: role trust policies (and the EKS reads behind them);
	// assumed by the trust guardrail and the sweep.
	TrustRoleName = "credguard-trust-remediation"
	// DefaultsRoleName: the account's IMDS defaults, and the CloudFormation
	// read that verifies a request; assumed only by the imds-defaults custom
	// resource.
	DefaultsRoleName = "credguard-imds-defaults-member"
	// LegacyRoleName is the single member role of earlier versions, which
	// held every power. It is still recognised as Credguard's own (its
	// changes are ignored, it is never rewritten) while deployments move to
	// the split roles.
	LegacyRoleName = "credguard-remediation"
)

// MemberRoleNames lists Credguard's member role names: the configured ones,
// then the default and legacy names, without blanks or repeats. A guardrail
// treats every one of them as its own.
func MemberRoleNames(configured ...string) []string {
	var out []string
	for _, n := range append(configured, IMDSRoleName, TrustRoleName, DefaultsRoleName, LegacyRoleName) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// ValidAccount reports whether s is an AWS account id: exactly 12 ASCII
// digits.
func ValidAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// roleName is IAM's pattern for a role name: 1 to 64 of the ASCII letters,
// digits and _+=,.@-.
var roleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// ValidRoleName reports whether s is a valid IAM role name (without path).
func ValidRoleName(s string) bool { return roleName.MatchString(s) }
