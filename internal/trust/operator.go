package trust

import "strings"

// setQualifier is the ForAnyValue:/ForAllValues: prefix of an operator.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setAny
	setAll
)

// opFamily groups operators that compare values the same way.
type opFamily uint8

const (
	famUnknown opFamily = iota
	famStringEquals
	famStringEqualsIgnoreCase
	famStringLike
	famNumericEquals
	famNumericLessThan
	famNumericLessThanEquals
	famNumericGreaterThan
	famNumericGreaterThanEquals
	famDateEquals
	famDateLessThan
	famDateLessThanEquals
	famDateGreaterThan
	famDateGreaterThanEquals
	famBool
	famBinaryEquals
	famIPAddress
	famArnLike // ArnEquals and ArnLike behave identically in IAM
	famNull
)

// operator is a parsed condition operator such as
// "ForAnyValue:StringNotLikeIfExists".
type operator struct {
	set      setQualifier
	family   opFamily
	negated  bool // StringNotEquals, ArnNotLike, NotIpAddress, …
	ifExists bool
}

var baseOperators = []struct {
	name    string
	family  opFamily
	negated bool
}{
	{"StringEquals", famStringEquals, false},
	{"StringNotEquals", famStringEquals, true},
	{"StringEqualsIgnoreCase", famStringEqualsIgnoreCase, false},
	{"StringNotEqualsIgnoreCase", famStringEqualsIgnoreCase, true},
	{"StringLike", famStringLike, false},
	{"StringNotLike", famStringLike, true},
	{"NumericEquals", famNumericEquals, false},
	{"NumericNotEquals", famNumericEquals, true},
	{"NumericLessThan", famNumericLessThan, false},
	{"NumericLessThanEquals", famNumericLessThanEquals, false},
	{"NumericGreaterThan", famNumericGreaterThan, false},
	{"NumericGreaterThanEquals", famNumericGreaterThanEquals, false},
	{"DateEquals", famDateEquals, false},
	{"DateNotEquals", famDateEquals, true},
	{"DateLessThan", famDateLessThan, false},
	{"DateLessThanEquals", famDateLessThanEquals, false},
	{"DateGreaterThan", famDateGreaterThan, false},
	{"DateGreaterThanEquals", famDateGreaterThanEquals, false},
	{"Bool", famBool, false},
	{"BinaryEquals", famBinaryEquals, false},
	{"IpAddress", famIPAddress, false},
	{"NotIpAddress", famIPAddress, true},
	{"ArnEquals", famArnLike, false},
	{"ArnLike", famArnLike, false},
	{"ArnNotEquals", famArnLike, true},
	{"ArnNotLike", famArnLike, true},
	{"Null", famNull, false},
}

// parseOperator reads an operator name case-insensitively. Unknown names
// give family famUnknown, which the evaluator treats conservatively.
func parseOperator(name string) operator {
	var op operator
	switch {
	case hasPrefixFold(name, "ForAnyValue:"):
		op.set, name = setAny, name[len("ForAnyValue:"):]
	case hasPrefixFold(name, "ForAllValues:"):
		op.set, name = setAll, name[len("ForAllValues:"):]
	}
	base := name
	if hasSuffixFold(name, "IfExists") {
		base = name[:len(name)-len("IfExists")]
		op.ifExists = true
	}
	for _, b := range baseOperators {
		if strings.EqualFold(base, b.name) {
			op.family, op.negated = b.family, b.negated
			break
		}
	}
	if op.family == famNull && (op.ifExists || op.set != setNone) {
		op.family = famUnknown // NullIfExists and ForAnyValue:Null mean nothing in IAM
	}
	return op
}

// bounding reports whether the operator constrains a key to its values in
// the ordinary way: a positive string or ARN comparison that fails when the
// key is absent. Plain operators qualify, and ForAnyValue (false for an absent
// key); IfExists, ForAllValues and negated operators do not.
func (op operator) bounding() bool {
	if op.ifExists || op.negated || op.set == setAll {
		return false
	}
	switch op.family {
	case famStringEquals, famStringEqualsIgnoreCase, famStringLike, famArnLike:
		return true
	}
	return false
}

// isPlainStringEquals reports whether name is exactly StringEquals in any case.
func isPlainStringEquals(name string) bool { return strings.EqualFold(name, "StringEquals") }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
