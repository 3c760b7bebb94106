package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	hub    = "111122223333"
	member = "444455556666"
)

func loadFixture(t testing.TB, name string) *Fixture {
	t.Helper()
	f, err := LoadFixture(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	return f
}

// start runs a sandbox on a free loopback port for the test.
func start(t testing.TB, f *Fixture) *Server {
	t.Helper()
	s, err := New(f)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// config returns SDK configuration acting in account; retries are disabled
// so that every injected fault reaches the test.
func config(t testing.TB, s *Server, account, region string) aws.Config {
	t.Helper()
	cfg, err := s.AWSConfig(context.Background(), account, region)
	if err != nil {
		t.Fatalf("AWSConfig: %v", err)
	}
	cfg.RetryMaxAttempts = 1
	return cfg
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantAPIError checks that err is the AWS API error code answered with the
// HTTP status.
func wantAPIError(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %T: %v", code, err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s (%v)", code, ae.ErrorCode(), err)
	}
	var re *smithyhttp.ResponseError
	if status != 0 {
		if !errors.As(err, &re) {
			t.Fatalf("error has no HTTP response: %v", err)
		}
		if re.HTTPStatusCode() != status {
			t.Fatalf("%s: want HTTP %d, got %d", code, status, re.HTTPStatusCode())
		}
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// lastCall is the journal's latest entry.
func lastCall(t testing.TB, s *Server) Call {
	t.Helper()
	j := s.Journal()
	if len(j) == 0 {
		t.Fatal("journal is empty")
	}
	return j[len(j)-1]
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

type contextT = context.Context

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
