package sweep

import (
	"fmt"
	"regexp"

	"github.com/credguard/credguard/internal/ids"
)

// Scope is the sweep's unit of work, the same locally (`credguard scan`) and
// in the scheduled sweep (one Distributed Map item): an account's IAM roles
// (Region "", swept once per account since IAM is global) or an account's
// instances and launch templates in one region.
type Scope struct {
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
}

// Scopes lists the scopes of accounts × regions, account by account: the
// account's roles first, then one scope per region. accounts × (regions + 1)
// scopes in all.
func Scopes(accounts, regions []string) []Scope {
	out := make([]Scope, 0, len(accounts)*(len(regions)+1))
	for _, a := range accounts {
		out = append(out, Scope{Account: a})
		for _, r := range regions {
			out = append(out, Scope{Account: a, Region: r})
		}
	}
	return out
}

// Kinds are the kinds of resource the scope covers.
func (sc Scope) Kinds() []Kind {
	if sc.Region == "" {
		return []Kind{KindRole}
	}
	return []Kind{KindInstance, KindLaunchTemplate}
}

// String is "444455556666/eu-west-1", or "444455556666 (IAM roles)".
func (sc Scope) String() string {
	if sc.Region == "" {
		return sc.Account + " (IAM roles)"
	}
	return sc.Account + "/" + sc.Region
}

var (
	scopeRegionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate rejects a scope that names no 12-digit account or a malformed
// region (a scope comes from the state machine's input, which anyone who may
// start an execution controls).
func (sc Scope) Validate() error {
	if !ids.ValidAccount(sc.Account) {
		return fmt.Errorf("scope account %q: not a 12-digit account id", sc.Account)
	}
	if sc.Region != "" && !scopeRegionRe.MatchString(sc.Region) {
		return fmt.Errorf("scope region %q: not a region name", sc.Region)
	}
	return nil
}
