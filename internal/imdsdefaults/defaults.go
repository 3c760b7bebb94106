// Package imdsdefaults is the logic of the optional CloudFormation custom
// resource that sets an account's regional IMDS defaults
// (ModifyInstanceMetadataDefaults): tokens required, hop limit 1 and, when
// the resource's Enforce property is true, HttpTokensEnforced so that
// launches allowing IMDSv1 fail. It remembers the values it replaced in the
// physical resource id (the one thing CloudFormation hands back on update
// and delete) and restores them on delete.
//
// The account and region come from the request's StackId, so one function
// can serve stacks of many accounts (assuming the member role in each) as
// well as its own. Since anyone allowed to invoke the function can send a
// request, each one is verified against CloudFormation in that account
// before anything is written (verify.go).
package imdsdefaults

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
)

// ResourceType is the custom resource type the infrastructure declares.
const ResourceType = "Custom::CredguardImdsDefaults"

// NoPreference is the API word that clears a default.
const NoPreference = "no-preference"

// Defaults are the IMDS defaults the resource manages in one account and
// region. Empty values (a zero hop limit) mean "no preference".
type Defaults struct {
	HTTPTokens         string // "optional" | "required" | ""
	HopLimit           int    // 1–64, 0 for no preference
	HTTPTokensEnforced string // "enabled" | "disabled" | ""
}

// Change is one ModifyInstanceMetadataDefaults call: what to send for each
// managed setting. A blank string (and a zero hop limit) leaves the setting
// alone; NoPreference (and a hop limit of -1) clears it.
type Change struct {
	HTTPTokens         string
	HopLimit           int
	HTTPTokensEnforced string
}

// Target is what Create and Update set: tokens required and hop limit 1,
// and enforcement when enforce is true. When enforce is false and
// wasEnforced is true (an update that turns enforcement off), the value the
// resource replaced is restored; otherwise enforcement is left alone.
func Target(enforce, wasEnforced bool, previous Defaults) Change {
	c := Change{HTTPTokens: "required", HopLimit: 1}
	switch {
	case enforce:
		c.HTTPTokensEnforced = "enabled"
	case wasEnforced:
		c.HTTPTokensEnforced = restoreWord(previous.HTTPTokensEnforced)
	}
	return c
}

// Restore is what Delete sets: the values the resource replaced, "no
// preference" where there were none. Enforcement is restored only when the
// resource had set it (enforced).
func Restore(previous Defaults, enforced bool) Change {
	c := Change{HTTPTokens: restoreWord(previous.HTTPTokens), HopLimit: previous.HopLimit}
	if c.HopLimit == 0 {
		c.HopLimit = -1
	}
	if enforced {
		c.HTTPTokensEnforced = restoreWord(previous.HTTPTokensEnforced)
	}
	return c
}

func restoreWord(v string) string {
	if v == "" {
		return NoPreference
	}
	return v
}

// physicalPrefix starts every physical resource id the resource returns.
const physicalPrefix = "credguard-imds-defaults"

// PhysicalID records where the defaults were set and what they were before:
// "credguard-imds-defaults:111122223333:eu-west-1:tokens=optional,hop=2,enforced=-"
// ("-" for no preference). CloudFormation gives it back on update and delete.
func PhysicalID(account, region string, previous Defaults) string {
	word := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	hop := "-"
	if previous.HopLimit != 0 {
		hop = strconv.Itoa(previous.HopLimit)
	}
	return fmt.Sprintf("%s:%s:%s:tokens=%s,hop=%s,enforced=%s", physicalPrefix, account, region,
		word(previous.HTTPTokens), hop, word(previous.HTTPTokensEnforced))
}

// regionRe is the shape of a region name (eu-west-1, us-gov-west-1,
// us-isob-east-1). The region in a request is a claim: it names the clients'
// endpoints and CloudFormation's response bucket, so nothing else passes.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

var physicalRe = regexp.MustCompile(`^` + physicalPrefix + `:([0-9]{12}):([a-z]{2}(?:-[a-z]+)+-[0-9]+):tokens=(optional|required|-),hop=([0-9]{1,2}|-),enforced=(enabled|disabled|-)$`)

// ParsePhysicalID reads a PhysicalID back. ok is false for any other id (for
// example the request id CloudFormation is given when a create failed).
func ParsePhysicalID(id string) (account, region string, previous Defaults, ok bool) {
	m := physicalRe.FindStringSubmatch(id)
	if m == nil {
		return "", "", Defaults{}, false
	}
	dash := func(v string) string {
		if v == "-" {
			return ""
		}
		return v
	}
	previous = Defaults{HTTPTokens: dash(m[3]), HTTPTokensEnforced: dash(m[5])}
	if m[4] != "-" {
		n, err := strconv.Atoi(m[4])
		if err != nil || n < 1 || n > 64 {
			return "", "", Defaults{}, false
		}
		previous.HopLimit = n
	}
	return m[1], m[2], previous, true
}

// StackLocation reads the account and region from a stack id
// (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID).
func StackLocation(stackID string) (account, region string, err error) {
	parts := strings.SplitN(stackID, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "cloudformation" || !strings.HasPrefix(parts[5], "stack/") {
		return "", "", fmt.Errorf("StackId %q is not a CloudFormation stack ARN", stackID)
	}
	if !ids.ValidAccount(parts[4]) || !regionRe.MatchString(parts[3]) {
		return "", "", fmt.Errorf("StackId %q names no account and region", stackID)
	}
	if parts[1] != partition.Of(parts[3]) {
		return "", "", fmt.Errorf("StackId %q: partition %q is not region %s's", stackID, parts[1], parts[3])
	}
	return parts[4], parts[3], nil
}

// Properties are the resource's properties.
type Properties struct {
	// Enforce sets HttpTokensEnforced=enabled: launches that allow IMDSv1 fail.
	Enforce bool
}

// ParseProperties reads the resource properties. CloudFormation passes every
// value as a string ("true"); a direct invocation may pass a boolean.
// ServiceToken is ignored; any other unknown property is an error, so that a
// typo does not go unnoticed.
func ParseProperties(props map[string]any) (Properties, error) {
	var p Properties
	for k, v := range props {
		switch k {
		case "ServiceToken":
		case "Enforce":
			switch b := v.(type) {
			case bool:
				p.Enforce = b
			case string:
				parsed, err := strconv.ParseBool(strings.TrimSpace(b))
				if err != nil {
					return Properties{}, fmt.Errorf("property Enforce: want true or false, got %q", b)
				}
				p.Enforce = parsed
			default:
				return Properties{}, fmt.Errorf("property Enforce: want true or false, got %v", v)
			}
		default:
			return Properties{}, fmt.Errorf("unknown property %q (the resource takes Enforce)", k)
		}
	}
	return p, nil
}
