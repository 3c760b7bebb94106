// Package pattern is a small EventBridge event-pattern matcher. It exists so
// tests can check, offline, that the event patterns the CDK app synthesizes
// match exactly the sample events they are meant for.
//
// It supports what the rules in infra/stacks/rules.go use, and nothing more:
//
//   - nested objects: every key of the pattern must match (AND), as in
//     {"detail": {...}};
//   - leaf arrays of exact strings: any element may match (OR), as in
//     "source", "detail-type", the EC2 "state" and CloudTrail "eventSource"
//     and "eventName" (every rule, the CreateFleet one included, names its
//     values exactly);
//   - {"exists": true|false}: the CloudTrail rules drop failed calls with
//     "errorCode": [{"exists": false}]. A field holding an object is not a
//     leaf, so it does not "exist" for this purpose, as in EventBridge. The
//     true form is the same matcher and is kept, not rejected.
//
// Events are matched the way EventBridge does it: a pattern value matches an
// array if it matches any element, and arrays of objects are flattened.
//
// Anything outside this subset is a parse error, never a silent mismatch:
// exact numbers, booleans and null, the prefix, suffix, equals-ignore-case,
// wildcard, anything-but, numeric and cidr operators, and $or. A rule that
// needs one of them extends this package (and its tests) first.
package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
	case string:
		return exact(v), nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("an operator object must have exactly one key, got %d", len(v))
		}
		for op, arg := range v {
			if op != "exists" {
				return nil, fmt.Errorf("operator %q is not supported", op)
			}
			b, ok := arg.(bool)
			if !ok {
				return nil, fmt.Errorf("exists: argument must be true or false, got %s", kindOf(arg))
			}
			return exists(b), nil
		}
	}
	return nil, fmt.Errorf("unsupported matcher of type %s (only strings and {\"exists\": bool})", kindOf(v))
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

// exact matches a string leaf equal to it (case-sensitive).
type exact string

func (e exact) matchLeaves(leaves []any) bool {
	for _, l := range leaves {
		if s, ok := l.(string); ok && s == string(e) {
			return true
		}
	}
	return false
}

// exists matches when the field has a leaf (true) or none (false).
type exists bool

func (e exists) matchLeaves(leaves []any) bool { return (len(leaves) > 0) == bool(e) }

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
