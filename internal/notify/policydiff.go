package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// policyDiff is a statement-level comparison of two trust policies: the
// statements only in the original (removed or rewritten), the ones only in
// the new document (added, or the scoped form of a rewritten one), and how
// many are the same in both.
type policyDiff struct {
	Removed   []string
	Added     []string
	Unchanged int
}

// Summary counts the statements: "1 removed, 1 added, 2 unchanged" (a
// scoped statement counts as removed and added).
func (d policyDiff) Summary() string {
	return fmt.Sprintf("%d removed, %d added, %d unchanged", len(d.Removed), len(d.Added), d.Unchanged)
}

// Lines is the diff as text: "- " before each removed statement, "+ " before
// each added one.
func (d policyDiff) Lines() []string {
	out := make([]string, 0, len(d.Removed)+len(d.Added))
	for _, s := range d.Removed {
		out = append(out, "- "+s)
	}
	for _, s := range d.Added {
		out = append(out, "+ "+s)
	}
	return out
}

// diffPolicies compares two trust policy documents statement by statement.
// Statements are compared in a canonical form, so whitespace, key order and
// the object-or-array form of Statement do not count as changes.
func diffPolicies(before, after string) (policyDiff, error) {
	b, err := policyStatements(before)
	if err != nil {
		return policyDiff{}, fmt.Errorf("original policy: %w", err)
	}
	a, err := policyStatements(after)
	if err != nil {
		return policyDiff{}, fmt.Errorf("new policy: %w", err)
	}
	used := make([]bool, len(a))
	var d policyDiff
	for _, s := range b {
		found := false
		for i, t := range a {
			if !used[i] && s == t {
				used[i], found = true, true
				break
			}
		}
		if found {
			d.Unchanged++
		} else {
			d.Removed = append(d.Removed, s)
		}
	}
	for i, t := range a {
		if !used[i] {
			d.Added = append(d.Added, t)
		}
	}
	return d, nil
}

// decodePolicy accepts a policy as raw JSON or URL-encoded the way GetRole
// returns it (decoded exactly once).
func decodePolicy(doc string) string {
	doc = strings.TrimSpace(doc)
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		if dec, err := url.PathUnescape(doc); err == nil {
			return dec
		}
	}
	return doc
}

// compactPolicy returns the document as compact JSON with its key order kept,
// or the document as given (trimmed) when it is not JSON.
func compactPolicy(doc string) string {
	doc = decodePolicy(doc)
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return doc
	}
	return buf.String()
}

// policyStatements parses a policy document and renders each statement as one
// line of compact JSON with the keys in the order people write them.
func policyStatements(doc string) ([]string, error) {
	doc = decodePolicy(doc)
	if doc == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var policy map[string]any
	if err := dec.Decode(&policy); err != nil {
		return nil, fmt.Errorf("not a JSON policy document: %w", err)
	}
	var raw []any
	switch st := policy["Statement"].(type) {
	case nil:
	case map[string]any:
		raw = []any{st}
	case []any:
		raw = st
	default:
		return nil, fmt.Errorf("Statement is a %T, want an object or an array", st)
	}
	out := make([]string, 0, len(raw))
	for i, s := range raw {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is a %T, want an object", i, s)
		}
		line, err := statementJSON(m)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
		out = append(out, line)
	}
	return out, nil
}

var statementKeyOrder = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func statementJSON(m map[string]any) (string, error) {
	keys := make([]string, 0, len(m))
	rank := map[string]int{}
	for i, k := range statementKeyOrder {
		rank[k] = i
	}
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, iok := rank[keys[i]]
		rj, jok := rank[keys[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		default:
			return keys[i] < keys[j]
		}
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, err := marshalNoEscape(k)
		if err != nil {
			return "", err
		}
		vj, err := marshalNoEscape(m[k])
		if err != nil {
			return "", err
		}
		b.WriteString(kj)
		b.WriteByte(':')
		b.WriteString(vj)
	}
	b.WriteByte('}')
	return b.String(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (policies are shown
// to people, and "<" in a condition should read as "<").
func marshalNoEscape(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
