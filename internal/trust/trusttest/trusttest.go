// Package trusttest helps tests build trust policies.
package trusttest

import (
	"testing"

	"github.com/credguard/credguard/internal/trust"
)

// Policy parses doc, failing the test when it is not a trust policy.
func Policy(t testing.TB, doc string) trust.Policy {
	t.Helper()
	p, err := trust.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("test policy %q: %v", doc, err)
	}
	return p
}
