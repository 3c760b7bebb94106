// Package sandboxtest gives tests a started sandbox: the demo fixture, or any
// fixture, served on loopback and closed when the test ends.
package sandboxtest

import (
	"io/fs"
	"testing"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/sandbox"
)

// Demo returns a fresh copy of events/fixtures/demo.json.
func Demo(t testing.TB) *sandbox.Fixture {
	t.Helper()
	data, err := fs.ReadFile(events.Files, "fixtures/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := sandbox.ParseFixture(data)
	if err != nil {
		t.Fatalf("demo fixture: %v", err)
	}
	return f
}

// Parse parses a fixture written in the test.
func Parse(t testing.TB, data string) *sandbox.Fixture {
	t.Helper()
	f, err := sandbox.ParseFixture([]byte(data))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return f
}

// Start serves f on a free loopback port until the test ends.
func Start(t testing.TB, f *sandbox.Fixture) *sandbox.Server {
	t.Helper()
	sb, err := sandbox.Serve(f)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}
