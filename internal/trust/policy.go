// Package trust reads, judges and narrows IAM role trust policies (the
// AssumeRolePolicyDocument of a role). It is pure: no AWS SDK types and no I/O.
//
//   - Parse reads a document in any legal form, raw or URL-encoded as GetRole
//     returns it, and says exactly what is wrong with anything else.
//   - Analyze returns a Report: a verdict (ok, warning, critical) and findings
//     with stable rule ids.
//   - Allowed evaluates an assume request against a policy with IAM semantics.
//   - Fix removes only the principals that make a statement critical (or,
//     for a named workload, scopes them within its identity mechanism),
//     keeping everything else; its result never allows a request the
//     original denied.
//   - Marshal writes a policy as compact JSON, keeping untouched statements in
//     the form they were written.
//
// Statement numbers in findings, changes and errors count from 1, in document
// order.
package trust

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultSizeQuota is IAM's default trust-policy size quota: 2,048
// non-whitespace characters (GetAccountSummary AssumeRolePolicySizeQuota).
const DefaultSizeQuota = 2048

// MaxDocumentBytes bounds the input Parse accepts; real trust policies are a
// few kilobytes even URL-encoded.
const MaxDocumentBytes = 256 << 10

// Versions of the IAM policy language a trust policy may declare.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's effect. IAM spells the two values exactly so.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// PrincipalType is a key of the Principal map.
type PrincipalType string

const (
	AWS           PrincipalType = "AWS"
	Service       PrincipalType = "Service"
	Federated     PrincipalType = "Federated"
	CanonicalUser PrincipalType = "CanonicalUser"
)

// Principal is a Principal or NotPrincipal element.
type Principal struct {
	// Any is the bare string form, "Principal": "*".
	Any bool
	// Entries is the map form, in document order.
	Entries []PrincipalEntry
}

// PrincipalEntry is one key of the Principal map with its values.
type PrincipalEntry struct {
	Type   PrincipalType
	Values []string
}

// Condition is one operator/key pair of a Condition element. Operator and Key
// keep the spelling of the document; both are matched case-insensitively.
// Values holds scalars as strings (IAM stores true and 12 as "true" and "12").
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Statement is one trust-policy statement. Exactly one of Principal and
// NotPrincipal, and exactly one of Action and NotAction, is set.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	// Conditions lists the Condition element flattened, in document order.
	Conditions []Condition

	// raw is the statement as parsed, compacted; sig is the canonical
	// encoding of the parsed fields. Marshal writes raw while the fields
	// still encode to sig, so untouched statements keep their form.
	raw string
	sig string
}

// Policy is a parsed trust policy.
type Policy struct {
	Version    string // "" when the document has none
	ID         string // the optional Id element
	Statements []Statement
	// statementObject records that Statement was one object rather than an
	// array; Marshal keeps that form while exactly one statement remains.
	statementObject bool
}

// ParseError says what is wrong with a document and where.
type ParseError struct {
	Statement int // 1-based; 0 when the problem is not inside a statement
	Msg       string
}

func (e *ParseError) Error() string {
	if e.Statement > 0 {
		return fmt.Sprintf("statement %d: %s", e.Statement, e.Msg)
	}
	return e.Msg
}

func perr(stmt int, format string, args ...any) error {
	return &ParseError{Statement: stmt, Msg: fmt.Sprintf(format, args...)}
}

// IsParseError reports whether err says the input is not a trust policy.
func IsParseError(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe)
}

// NonWhitespaceLen counts the characters of doc that are not JSON whitespace
// (space, tab, line feed, carriage return): the measure of IAM's size quota.
// Counting only those four errs on the side of a larger count.
func NonWhitespaceLen(doc []byte) int {
	n := 0
	for _, r := range string(doc) {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// clone returns a deep copy of s that shares no slices with it.
func (s Statement) clone() Statement {
	c := s
	c.Principal = s.Principal.clone()
	c.NotPrincipal = s.NotPrincipal.clone()
	c.Action = cloneStrings(s.Action)
	c.NotAction = cloneStrings(s.NotAction)
	if s.Conditions != nil {
		c.Conditions = make([]Condition, len(s.Conditions))
		for i, cond := range s.Conditions {
			cond.Values = cloneStrings(cond.Values)
			c.Conditions[i] = cond
		}
	}
	return c
}

func (p *Principal) clone() *Principal {
	if p == nil {
		return nil
	}
	c := &Principal{Any: p.Any}
	for _, e := range p.Entries {
		c.Entries = append(c.Entries, PrincipalEntry{Type: e.Type, Values: cloneStrings(e.Values)})
	}
	return c
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// hasWildcard reports whether a pattern contains * or ?.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }
