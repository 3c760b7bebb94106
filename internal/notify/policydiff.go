package notify

import (
	"fmt"

	"github.com/credguard/credguard/internal/trust"
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

// diffPolicies compares two trust policies statement by statement. Each
// statement is shown as trust writes it (an untouched statement exactly as
// it was parsed, compacted), so an unchanged statement is equal in both.
func diffPolicies(before, after trust.Policy) policyDiff {
	a := statementLines(after)
	used := make([]bool, len(a))
	var d policyDiff
	for _, s := range statementLines(before) {
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
	return d
}

func statementLines(p trust.Policy) []string {
	out := make([]string, len(p.Statements))
	for i, s := range p.Statements {
		out[i] = s.String()
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
