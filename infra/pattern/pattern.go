// Package pattern is a small EventBridge event-pattern matcher. It exists so
// tests can check, offline, that the event patterns the CDK app synthesizes
// match exactly the sample events they are meant for.
//
// Supported pattern features (the subset EventBridge documents under "Content
// filtering"):
//
//   - nested objects: every key of the pattern must match (AND);
//   - leaf arrays: any element may match (OR);
//   - exact values: strings, numbers (compared by value), booleans and null;
//   - {"prefix": "s"}, {"suffix": "s"}, {"equals-ignore-case": "s"};
//   - {"wildcard": "a*b"} with "*" for any run of characters;
//   - {"exists": true|false} (a field holding an object is not a leaf, so it
//     does not "exist" for this purpose, as in EventBridge);
//   - {"anything-but": value | [values] | {"prefix": "s"} | {"suffix": "s"}}
//     (the field must be present);
//   - {"numeric": [op, n] or [op, n, op, n]} with =, <, <=, >, >=.
//
// Event arrays are matched the way EventBridge does it: a pattern value
// matches an array if it matches any element, and arrays of objects are
// flattened. Anything outside this subset ($or, cidr, …) is a parse error,
// never a silent mismatch.
package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Pattern is a parsed event pattern. The zero value is not usable; build one
// with Parse.
type Pattern struct {
	root *node
}

type node struct {
	fields []field
}

type field struct {
	key      string
	child    *node     // set when the pattern value is an object
	matchers []matcher // set when the pattern value is an array
}

// matcher tests one leaf of an event.
type matcher interface {
	// matchLeaves reports whether the leaves found at the field's path (an
	// empty slice when the field is absent) satisfy the matcher.
	matchLeaves(leaves []any) bool
}

// Parse reads an event pattern from JSON.
func Parse(data []byte) (*Pattern, error) {
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("parse pattern: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse pattern: must be a JSON object, got %s", kindOf(v))
	}
	root, err := parseNode(obj, "")
	if err != nil {
		return nil, fmt.Errorf("parse pattern: %w", err)
	}
	return &Pattern{root: root}, nil
}

// Match reports whether the event (raw JSON) matches the pattern. It fails
// only when the event is not a JSON object.
func (p *Pattern) Match(event []byte) (bool, error) {
	v, err := decode(event)
	if err != nil {
		return false, fmt.Errorf("match: event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("match: event must be a JSON object, got %s", kindOf(v))
	}
	return p.root.match([]map[string]any{obj}), nil
}

func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func parseNode(obj map[string]any, path string) (*node, error) {
	if len(obj) == 0 {
		return nil, fmt.Errorf("%s: empty object", display(path))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &node{}
	for _, k := range keys {
		p := join(path, k)
		if strings.HasPrefix(k, "$") {
			return nil, fmt.Errorf("%s: operator %q is not supported", p, k)
		}
		switch v := obj[k].(type) {
		case map[string]any:
			child, err := parseNode(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, child: child})
		case []any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: empty array matches nothing", p)
			}
			f := field{key: k}
			for i, el := range v {
				m, err := parseMatcher(el)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %w", p, i, err)
				}
				f.matchers = append(f.matchers, m)
			}
			n.fields = append(n.fields, f)
		default:
			return nil, fmt.Errorf("%s: value must be an array or an object, got %s", p, kindOf(v))
		}
	}
	return n, nil
}

func parseMatcher(v any) (matcher, error) {
	switch v := v.(type) {
	case string, json.Number, bool, nil:
		return exact{v}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("an operator object must have exactly one key, got %d", len(v))
		}
		for op, arg := range v {
			return parseOperator(op, arg)
		}
	}
	return nil, fmt.Errorf("unsupported matcher of type %s", kindOf(v))
}

func parseOperator(op string, arg any) (matcher, error) {
	switch op {
	case "prefix", "suffix", "equals-ignore-case", "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: argument must be a string, got %s", op, kindOf(arg))
		}
		return stringOp{op: op, arg: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("exists: argument must be true or false, got %s", kindOf(arg))
		}
		return exists{b}, nil
	case "anything-but":
		return parseAnythingBut(arg)
	case "numeric":
		return parseNumeric(arg)
	default:
		return nil, fmt.Errorf("operator %q is not supported", op)
	}
}

func parseAnythingBut(arg any) (matcher, error) {
	switch a := arg.(type) {
	case string, json.Number, bool, nil:
		return anythingBut{inner: []leafMatcher{exact{a}}}, nil
	case []any:
		if len(a) == 0 {
			return nil, errors.New("anything-but: empty list")
		}
		ab := anythingBut{}
		for i, el := range a {
			switch el.(type) {
			case string, json.Number, bool, nil:
				ab.inner = append(ab.inner, exact{el})
			default:
				return nil, fmt.Errorf("anything-but[%d]: list elements must be plain values, got %s", i, kindOf(el))
			}
		}
		return ab, nil
	case map[string]any:
		if len(a) != 1 {
			return nil, errors.New("anything-but: operator object must have exactly one key")
		}
		for op, v := range a {
			if op != "prefix" && op != "suffix" {
				return nil, fmt.Errorf("anything-but: operator %q is not supported", op)
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("anything-but: %s argument must be a string, got %s", op, kindOf(v))
			}
			return anythingBut{inner: []leafMatcher{stringOp{op: op, arg: s}}}, nil
		}
	}
	return nil, fmt.Errorf("anything-but: unsupported argument of type %s", kindOf(arg))
}

func parseNumeric(arg any) (matcher, error) {
	list, ok := arg.([]any)
	if !ok || (len(list) != 2 && len(list) != 4) {
		return nil, errors.New(`numeric: argument must be [op, n] or [op, n, op, n]`)
	}
	var n numeric
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, fmt.Errorf("numeric: element %d must be an operator string, got %s", i, kindOf(list[i]))
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, fmt.Errorf("numeric: unknown operator %q", op)
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return nil, fmt.Errorf("numeric: element %d must be a number, got %s", i+1, kindOf(list[i+1]))
		}
		f, err := num.Float64()
		if err != nil {
			return nil, fmt.Errorf("numeric: element %d: %w", i+1, err)
		}
		n.ops = append(n.ops, numOp{op: op, val: f})
	}
	return n, nil
}

// match reports whether the candidate objects (several when the event had an
// array of objects on the way) satisfy every field of the node.
func (n *node) match(objs []map[string]any) bool {
	for _, f := range n.fields {
		var values []any
		for _, o := range objs {
			if v, ok := o[f.key]; ok {
				values = appendFlat(values, v)
			}
		}
		if f.child != nil {
			var children []map[string]any
			for _, v := range values {
				if m, ok := v.(map[string]any); ok {
					children = append(children, m)
				}
			}
			if len(children) == 0 || !f.child.match(children) {
				return false
			}
			continue
		}
		var leaves []any
		for _, v := range values {
			if _, isObj := v.(map[string]any); !isObj {
				leaves = append(leaves, v)
			}
		}
		ok := false
		for _, m := range f.matchers {
			if m.matchLeaves(leaves) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// appendFlat appends v, or v's elements (recursively) when v is an array.
func appendFlat(dst []any, v any) []any {
	if arr, ok := v.([]any); ok {
		for _, el := range arr {
			dst = appendFlat(dst, el)
		}
		return dst
	}
	return append(dst, v)
}

// leafMatcher tests a single leaf value.
type leafMatcher interface {
	matchLeaf(v any) bool
}

// anyLeaf adapts a leafMatcher: it matches when any leaf matches.
func anyLeaf(m leafMatcher, leaves []any) bool {
	for _, l := range leaves {
		if m.matchLeaf(l) {
			return true
		}
	}
	return false
}

type exact struct{ want any }

func (e exact) matchLeaves(leaves []any) bool { return anyLeaf(e, leaves) }

func (e exact) matchLeaf(v any) bool {
	switch w := e.want.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == w
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case nil:
		return v == nil
	case json.Number:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		a, errA := w.Float64()
		b, errB := n.Float64()
		return errA == nil && errB == nil && a == b
	}
	return false
}

type stringOp struct {
	op  string
	arg string
}

func (s stringOp) matchLeaves(leaves []any) bool { return anyLeaf(s, leaves) }

func (s stringOp) matchLeaf(v any) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	switch s.op {
	case "prefix":
		return strings.HasPrefix(str, s.arg)
	case "suffix":
		return strings.HasSuffix(str, s.arg)
	case "equals-ignore-case":
		return strings.EqualFold(str, s.arg)
	case "wildcard":
		return wildcard(s.arg, str)
	}
	return false
}

// wildcard matches s against a pattern where "*" stands for any run of
// characters (EventBridge's wildcard filter; "\*" is a literal star).
func wildcard(pat, s string) bool {
	// Split into literal segments separated by unescaped stars.
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(pat); i++ {
		switch {
		case pat[i] == '\\' && i+1 < len(pat) && (pat[i+1] == '*' || pat[i+1] == '\\'):
			cur.WriteByte(pat[i+1])
			i++
		case pat[i] == '*':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(pat[i])
		}
	}
	segs = append(segs, cur.String())
	if len(segs) == 1 {
		return s == segs[0]
	}
	if !strings.HasPrefix(s, segs[0]) {
		return false
	}
	s = s[len(segs[0]):]
	last := segs[len(segs)-1]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

type exists struct{ want bool }

func (e exists) matchLeaves(leaves []any) bool { return (len(leaves) > 0) == e.want }

// anythingBut matches a present leaf that none of inner matches.
type anythingBut struct{ inner []leafMatcher }

func (a anythingBut) matchLeaves(leaves []any) bool {
	for _, l := range leaves {
		if a.matchLeaf(l) {
			return true
		}
	}
	return false
}

func (a anythingBut) matchLeaf(v any) bool {
	for _, m := range a.inner {
		if _, isString := m.(stringOp); isString {
			if _, ok := v.(string); !ok {
				return false // prefix/suffix exclusions only apply to strings
			}
		}
		if m.matchLeaf(v) {
			return false
		}
	}
	return true
}

type numOp struct {
	op  string
	val float64
}

type numeric struct{ ops []numOp }

func (n numeric) matchLeaves(leaves []any) bool { return anyLeaf(n, leaves) }

func (n numeric) matchLeaf(v any) bool {
	num, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || math.IsNaN(f) {
		return false
	}
	for _, o := range n.ops {
		var ok bool
		switch o.op {
		case "=":
			ok = f == o.val
		case "<":
			ok = f < o.val
		case "<=":
			ok = f <= o.val
		case ">":
			ok = f > o.val
		case ">=":
			ok = f >= o.val
		}
		if !ok {
			return false
		}
	}
	return true
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func display(path string) string {
	if path == "" {
		return "pattern"
	}
	return path
}
