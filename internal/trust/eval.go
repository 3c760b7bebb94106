package trust

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Identity is the principal making an assume request.
type Identity struct {
	// Type is AWS (an account id or an IAM/STS ARN), Service (a service
	// principal such as pods.eks.amazonaws.com) or Federated (an IAM OIDC or
	// SAML provider ARN, or a web identity provider name such as
	// cognito-identity.amazonaws.com).
	Type PrincipalType
	ID   string
}

// Request is one assume request as the trust policy sees it.
type Request struct {
	Principal Identity
	Action    string // sts:AssumeRole, sts:AssumeRoleWithWebIdentity, sts:TagSession, …
	// Context holds the request's condition keys (matched case-insensitively):
	// "<issuer>:sub", "<issuer>:aud", "aws:RequestTag/kubernetes-namespace",
	// "aws:SourceAccount", "aws:PrincipalOrgID", … A key with no values is absent.
	Context map[string][]string
}

// Allowed reports whether p lets r through, with IAM's semantics: an explicit
// Deny wins, otherwise an Allow is needed, otherwise the request is denied.
//
// Conditions follow IAM: all operator/key pairs must hold; several values of
// one key are alternatives (for negated operators: none may match); a missing
// key fails a positive operator and satisfies a negated one; IfExists and
// ForAllValues pass when the key is missing; ForAnyValue fails then; Null
// tests presence. A condition this evaluator cannot decide (an unknown
// operator, a policy variable such as ${aws:username}, a value that does not
// parse as its operator's type) makes an Allow statement not apply and a Deny
// statement apply: both err toward denying.
func Allowed(p Policy, r Request) bool {
	ctx := r.Context
	allowed := false
	for i := range p.Statements {
		s := &p.Statements[i]
		switch s.Effect {
		case Deny:
			if statementApplies(s, r, ctx) != no {
				return false
			}
		case Allow:
			if !allowed && statementApplies(s, r, ctx) == yes {
				allowed = true
			}
		}
	}
	return allowed
}

// tri is a three-valued truth: conditions the evaluator cannot decide are
// unknown, and each Effect resolves unknown toward denying.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func negate(t tri) tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func statementApplies(s *Statement, r Request, ctx map[string][]string) tri {
	switch {
	case s.Principal != nil && !principalMatches(s.Principal, r.Principal):
		return no
	case s.NotPrincipal != nil && principalMatches(s.NotPrincipal, r.Principal):
		return no
	case !statementCovers(s, r.Action):
		return no
	}
	result := yes
	for _, c := range s.Conditions {
		switch evalCondition(c, ctx) {
		case no:
			return no
		case unknown:
			result = unknown
		}
	}
	return result
}

func evalCondition(c Condition, ctx map[string][]string) tri {
	op := parseOperator(c.Operator)
	if op.family == famUnknown {
		return unknown
	}
	for _, v := range c.Values {
		if strings.Contains(v, "${") {
			return unknown // a policy variable: its value is not in the request model
		}
	}
	vals := lookup(ctx, c.Key)
	present := len(vals) > 0
	if op.family == famNull {
		result := no
		for _, v := range c.Values {
			switch {
			case strings.EqualFold(v, "true"):
				if !present {
					result = yes
				}
			case strings.EqualFold(v, "false"):
				if present {
					result = yes
				}
			default:
				return unknown
			}
		}
		return result
	}
	if !present {
		switch {
		case op.ifExists, op.set == setAll:
			return yes
		case op.set == setAny:
			return no
		case op.negated:
			return yes
		default:
			return no
		}
	}
	// element reports whether one request value satisfies the operator.
	element := func(rv string) tri {
		t := anyValueMatches(op.family, c.Values, rv)
		if op.negated {
			return negate(t)
		}
		return t
	}
	switch op.set {
	case setAll:
		result := yes
		for _, rv := range vals {
			switch element(rv) {
			case no:
				return no
			case unknown:
				result = unknown
			}
		}
		return result
	case setAny:
		result := no
		for _, rv := range vals {
			switch element(rv) {
			case yes:
				return yes
			case unknown:
				result = unknown
			}
		}
		return result
	}
	// A plain operator: the positive form holds when any request value
	// matches any policy value; the negated form is its negation.
	result := no
	for _, rv := range vals {
		switch anyValueMatches(op.family, c.Values, rv) {
		case yes:
			result = yes
		case unknown:
			if result == no {
				result = unknown
			}
		}
		if result == yes {
			break
		}
	}
	if op.negated {
		return negate(result)
	}
	return result
}

// anyValueMatches reports whether the request value rv matches at least one
// of the policy values under the positive form of the operator family.
// lookup returns the request values of a condition key, matching key names
// case-insensitively (values of keys that differ only in case are merged).
func lookup(ctx map[string][]string, key string) []string {
	var found []string
	merged := false
	for k, v := range ctx {
		if len(v) == 0 || !strings.EqualFold(k, key) {
			continue
		}
		if found == nil {
			found = v
			continue
		}
		if !merged {
			found, merged = append([]string(nil), found...), true
		}
		found = append(found, v...)
	}
	return found
}

func anyValueMatches(f opFamily, policyValues []string, rv string) tri {
	result := no
	for _, pv := range policyValues {
		switch valueMatches(f, pv, rv) {
		case yes:
			return yes
		case unknown:
			result = unknown
		}
	}
	return result
}

func valueMatches(f opFamily, pv, rv string) tri {
	switch f {
	case famStringEquals, famBinaryEquals:
		return triOf(pv == rv)
	case famStringEqualsIgnoreCase:
		return triOf(strings.EqualFold(pv, rv))
	case famStringLike:
		return triOf(globMatch(pv, rv, false))
	case famArnLike:
		return triOf(arnMatch(pv, rv))
	case famBool:
		pb, ok1 := parseBool(pv)
		rb, ok2 := parseBool(rv)
		if !ok1 || !ok2 {
			return unknown
		}
		return triOf(pb == rb)
	case famNumericEquals, famNumericLessThan, famNumericLessThanEquals, famNumericGreaterThan, famNumericGreaterThanEquals:
		pn, err1 := strconv.ParseFloat(pv, 64)
		rn, err2 := strconv.ParseFloat(rv, 64)
		if err1 != nil || err2 != nil {
			return unknown
		}
		return compare(f, cmpFloat(rn, pn))
	case famDateEquals, famDateLessThan, famDateLessThanEquals, famDateGreaterThan, famDateGreaterThanEquals:
		pt, ok1 := parseDate(pv)
		rt, ok2 := parseDate(rv)
		if !ok1 || !ok2 {
			return unknown
		}
		return compare(f, rt.Compare(pt))
	case famIPAddress:
		prefix, ok := parsePrefix(pv)
		addr, err := netip.ParseAddr(rv)
		if !ok || err != nil {
			return unknown
		}
		return triOf(prefix.Contains(addr.Unmap()))
	}
	return unknown
}

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare turns "request value compared with policy value" into the result
// of an ordered operator family.
func compare(f opFamily, c int) tri {
	switch f {
	case famNumericEquals, famDateEquals:
		return triOf(c == 0)
	case famNumericLessThan, famDateLessThan:
		return triOf(c < 0)
	case famNumericLessThanEquals, famDateLessThanEquals:
		return triOf(c <= 0)
	case famNumericGreaterThan, famDateGreaterThan:
		return triOf(c > 0)
	case famNumericGreaterThanEquals, famDateGreaterThanEquals:
		return triOf(c >= 0)
	}
	return unknown
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"}

// parseDate reads the date forms IAM accepts: ISO 8601 or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
