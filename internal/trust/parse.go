package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"
)

// Parse reads a trust policy: raw JSON, or JSON URL-encoded as IAM GetRole
// returns it (decoded exactly once, with url.PathUnescape so "+" stays "+").
// Every error is a *ParseError.
//
// Accepted grammar: top-level Version ("2012-10-17" or "2008-10-17"), Id and
// Statement (one object or an array). Statement keys Sid, Effect ("Allow" or
// "Deny", case-sensitive as in IAM), Principal or NotPrincipal ("*" or a map
// of AWS, Service, Federated, CanonicalUser to a string or an array), Action
// or NotAction (a string or an array) and Condition (operator → key → string,
// number, boolean or an array of them). Resource and NotResource are rejected:
// IAM refuses them in a trust policy ("Has prohibited field Resource").
// Duplicate keys are rejected, since IAM and this package could read them
// differently.
func Parse(doc []byte) (Policy, error) {
	if len(doc) > MaxDocumentBytes {
		return Policy{}, perr(0, "document is %d bytes, more than the %d this reader accepts", len(doc), MaxDocumentBytes)
	}
	b := bytes.TrimSpace(doc)
	if len(b) == 0 {
		return Policy{}, perr(0, "document is empty")
	}
	if b[0] == '%' {
		s, err := url.PathUnescape(string(b))
		if err != nil {
			return Policy{}, perr(0, "document looks URL-encoded but does not decode: %v", err)
		}
		b = bytes.TrimSpace([]byte(s))
		if len(b) == 0 || b[0] != '{' {
			return Policy{}, perr(0, "URL-decoded document is not a JSON object")
		}
	}
	if !utf8.Valid(b) {
		return Policy{}, perr(0, "document is not valid UTF-8")
	}
	if err := checkJSON(b); err != nil {
		return Policy{}, err
	}
	if b[0] != '{' {
		return Policy{}, perr(0, "a trust policy is a JSON object, got %s", jsonKind(b))
	}
	members, err := objectMembers(b)
	if err != nil {
		return Policy{}, perr(0, "%v", err)
	}
	var p Policy
	var stmtRaw json.RawMessage
	for _, m := range members {
		switch m.key {
		case "Version":
			v, err := stringValue(m.value)
			if err != nil {
				return Policy{}, perr(0, "Version: %v", err)
			}
			if v != Version2012 && v != Version2008 {
				return Policy{}, perr(0, "Version must be %q or %q, got %q", Version2012, Version2008, v)
			}
			p.Version = v
		case "Id":
			v, err := stringValue(m.value)
			if err != nil {
				return Policy{}, perr(0, "Id: %v", err)
			}
			p.ID = v
		case "Statement":
			stmtRaw = m.value
		default:
			return Policy{}, perr(0, "unknown top-level key %q (a trust policy has Version, Id and Statement)", m.key)
		}
	}
	if stmtRaw == nil {
		return Policy{}, perr(0, "policy has no Statement")
	}
	var raws []json.RawMessage
	switch stmtRaw[0] {
	case '{':
		p.statementObject = true
		raws = []json.RawMessage{stmtRaw}
	case '[':
		if err := json.Unmarshal(stmtRaw, &raws); err != nil {
			return Policy{}, perr(0, "Statement: %v", err)
		}
	default:
		return Policy{}, perr(0, "Statement must be an object or an array of objects, got %s", jsonKind(stmtRaw))
	}
	p.Statements = make([]Statement, 0, len(raws))
	for i, r := range raws {
		s, err := parseStatement(i+1, r)
		if err != nil {
			return Policy{}, err
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

// checkJSON reports a syntax error with its byte offset.
func checkJSON(b []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(b, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return perr(0, "invalid JSON at byte %d: %v", se.Offset, se)
	}
	return perr(0, "invalid JSON: %v", err)
}

const statementKeys = "Sid, Effect, Principal, NotPrincipal, Action, NotAction and Condition"

func parseStatement(n int, raw json.RawMessage) (Statement, error) {
	if raw[0] != '{' {
		return Statement{}, perr(n, "a statement is a JSON object, got %s", jsonKind(raw))
	}
	members, err := objectMembers(raw)
	if err != nil {
		return Statement{}, perr(n, "%v", err)
	}
	var s Statement
	hasEffect := false
	for _, m := range members {
		switch m.key {
		case "Sid":
			if s.Sid, err = stringValue(m.value); err != nil {
				return Statement{}, perr(n, "Sid: %v", err)
			}
		case "Effect":
			v, err := stringValue(m.value)
			if err != nil {
				return Statement{}, perr(n, "Effect: %v", err)
			}
			if v != string(Allow) && v != string(Deny) {
				return Statement{}, perr(n, "Effect must be %q or %q, got %q", Allow, Deny, v)
			}
			s.Effect, hasEffect = Effect(v), true
		case "Principal", "NotPrincipal":
			pr, err := parsePrincipal(m.value)
			if err != nil {
				return Statement{}, perr(n, "%s: %v", m.key, err)
			}
			if m.key == "Principal" {
				s.Principal = pr
			} else {
				s.NotPrincipal = pr
			}
		case "Action", "NotAction":
			list, err := stringList(m.value)
			if err != nil {
				return Statement{}, perr(n, "%s: %v", m.key, err)
			}
			for i, a := range list {
				if a == "" {
					return Statement{}, perr(n, "%s: value %d is empty", m.key, i+1)
				}
			}
			if m.key == "Action" {
				s.Action = list
			} else {
				s.NotAction = list
			}
		case "Condition":
			if s.Conditions, err = parseConditions(m.value); err != nil {
				return Statement{}, perr(n, "Condition: %v", err)
			}
		case "Resource", "NotResource":
			return Statement{}, perr(n, "%s is not allowed in a trust policy (IAM rejects it: \"Has prohibited field %s\")", m.key, m.key)
		default:
			return Statement{}, perr(n, "unknown key %q (a statement has %s)", m.key, statementKeys)
		}
	}
	if !hasEffect {
		return Statement{}, perr(n, "Effect is missing")
	}
	switch {
	case s.Principal == nil && s.NotPrincipal == nil:
		return Statement{}, perr(n, "Principal is missing (a trust policy statement names who may assume the role)")
	case s.Principal != nil && s.NotPrincipal != nil:
		return Statement{}, perr(n, "has both Principal and NotPrincipal")
	case s.Action == nil && s.NotAction == nil:
		return Statement{}, perr(n, "Action is missing")
	case s.Action != nil && s.NotAction != nil:
		return Statement{}, perr(n, "has both Action and NotAction")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return Statement{}, perr(n, "%v", err)
	}
	s.raw = buf.String()
	s.sig = string(appendStatement(nil, &s))
	return s, nil
}

func parsePrincipal(raw json.RawMessage) (*Principal, error) {
	switch raw[0] {
	case '"':
		v, err := stringValue(raw)
		if err != nil {
			return nil, err
		}
		if v != "*" {
			return nil, fmt.Errorf(`the string form must be "*", got %q (use a map such as {"AWS": %q})`, v, v)
		}
		return &Principal{Any: true}, nil
	case '{':
	default:
		return nil, fmt.Errorf(`must be "*" or an object, got %s`, jsonKind(raw))
	}
	members, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errors.New("is an empty object")
	}
	pr := &Principal{}
	for _, m := range members {
		t := PrincipalType(m.key)
		switch t {
		case AWS, Service, Federated, CanonicalUser:
		default:
			return nil, fmt.Errorf("unknown principal type %q (want AWS, Service, Federated or CanonicalUser)", m.key)
		}
		list, err := stringList(m.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", m.key, err)
		}
		for i, v := range list {
			if v == "" {
				return nil, fmt.Errorf("%s: value %d is empty", m.key, i+1)
			}
		}
		pr.Entries = append(pr.Entries, PrincipalEntry{Type: t, Values: list})
	}
	return pr, nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf("must be an object of operators, got %s", jsonKind(raw))
	}
	ops, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, op := range ops {
		if op.key == "" {
			return nil, errors.New("empty operator name")
		}
		if op.value[0] != '{' {
			return nil, fmt.Errorf("%s: must be an object of condition keys, got %s", op.key, jsonKind(op.value))
		}
		keys, err := objectMembers(op.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", op.key, err)
		}
		for _, k := range keys {
			if k.key == "" {
				return nil, fmt.Errorf("%s: empty condition key", op.key)
			}
			vals, err := conditionValues(k.value)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", op.key, k.key, err)
			}
			out = append(out, Condition{Operator: op.key, Key: k.key, Values: vals})
		}
	}
	return out, nil
}

type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits a JSON object (already known to be valid JSON) into
// its members in document order, rejecting duplicate keys.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []member
	var seen map[string]bool // used once the object is large
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if seen == nil && len(out) >= 8 {
			seen = make(map[string]bool, 2*len(out))
			for _, m := range out {
				seen[m.key] = true
			}
		}
		dup := seen[key]
		for i := 0; seen == nil && i < len(out); i++ {
			dup = dup || out[i].key == key
		}
		if dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		if seen != nil {
			seen[key] = true
		}
		out = append(out, member{key: key, value: v})
	}
	return out, nil
}

func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func stringValue(raw json.RawMessage) (string, error) {
	if raw[0] != '"' {
		return "", fmt.Errorf("must be a string, got %s", jsonKind(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// stringList reads a string or a non-empty array of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	switch raw[0] {
	case '"':
		s, err := stringValue(raw)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, errors.New("is an empty array")
		}
		out := make([]string, len(items))
		for i, it := range items {
			s, err := stringValue(it)
			if err != nil {
				return nil, fmt.Errorf("value %d %v", i+1, err)
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, fmt.Errorf("must be a string or an array of strings, got %s", jsonKind(raw))
	}
}

// conditionValues reads a string, number or boolean, or an array of them.
func conditionValues(raw json.RawMessage) ([]string, error) {
	if raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		out := make([]string, len(items))
		for i, it := range items {
			s, err := conditionScalar(it)
			if err != nil {
				return nil, fmt.Errorf("value %d %v", i+1, err)
			}
			out[i] = s
		}
		return out, nil
	}
	s, err := conditionScalar(raw)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func conditionScalar(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		return stringValue(raw)
	case 't':
		return "true", nil
	case 'f':
		return "false", nil
	case '{', '[', 'n':
		return "", fmt.Errorf("must be a string, number or boolean, got %s", jsonKind(raw))
	default:
		return string(raw), nil // a number, kept as written
	}
}

// validate checks what Parse would check, for policies built or changed in code.
func validate(p Policy) error {
	if p.Version != "" && p.Version != Version2012 && p.Version != Version2008 {
		return perr(0, "Version must be %q or %q, got %q", Version2012, Version2008, p.Version)
	}
	for i := range p.Statements {
		s := &p.Statements[i]
		n := i + 1
		if s.Effect != Allow && s.Effect != Deny {
			return perr(n, "Effect must be %q or %q, got %q", Allow, Deny, s.Effect)
		}
		if (s.Principal == nil) == (s.NotPrincipal == nil) {
			return perr(n, "needs exactly one of Principal and NotPrincipal")
		}
		pr := s.Principal
		if pr == nil {
			pr = s.NotPrincipal
		}
		if !pr.Any && len(pr.Entries) == 0 {
			return perr(n, "principal has no entries")
		}
		for _, e := range pr.Entries {
			if len(e.Values) == 0 {
				return perr(n, "principal %s has no values", e.Type)
			}
			for _, v := range e.Values {
				if v == "" {
					return perr(n, "principal %s has an empty value", e.Type)
				}
			}
		}
		if (len(s.Action) == 0) == (len(s.NotAction) == 0) {
			return perr(n, "needs exactly one of Action and NotAction")
		}
		for j, c := range s.Conditions {
			if c.Operator == "" || c.Key == "" {
				return perr(n, "condition %d has an empty operator or key", j+1)
			}
			for _, d := range s.Conditions[:j] {
				if d.Operator == c.Operator && d.Key == c.Key {
					return perr(n, "condition %s %q appears twice", c.Operator, c.Key)
				}
			}
		}
	}
	return nil
}
