package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/trust"
)

// trustdata is the trust package's test policies.
func trustdata(name string) string {
	return filepath.Join("..", "..", "internal", "trust", "testdata", name+".json")
}

func runTrustCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"trust"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTrustCheckExitCodes(t *testing.T) {
	cases := []struct {
		file   string
		code   int
		output string
	}{
		{"ok-irsa-exact", 0, "ok (no findings)"},
		{"warning-pod-identity-unscoped", 0, "pod-identity-unscoped"},
		{"critical-federated-star", 1, "public-principal"},
		{"critical-oidc-sub-all-namespaces", 1, "oidc-broad-sub"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			code, stdout, stderr := runTrustCmd(t, "", "check", trustdata(tc.file))
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.output) || !strings.HasPrefix(stdout, trustdata(tc.file)+": ") {
				t.Errorf("stdout %q lacks %q", stdout, tc.output)
			}
			if stderr != "" {
				t.Errorf("stderr %q", stderr)
			}
		})
	}
}

func TestTrustCheckJSON(t *testing.T) {
	code, stdout, _ := runTrustCmd(t, "", "check", "--json", trustdata("ok-service-ec2"))
	if code != 0 || stdout != `{"verdict":"ok","findings":[]}`+"\n" {
		t.Errorf("ok: exit %d, stdout %q", code, stdout)
	}

	// Flags may follow the file.
	code, stdout, _ = runTrustCmd(t, "", "check", trustdata("critical-pods-with-public"), "--json")
	if code != 1 {
		t.Errorf("critical: exit %d", code)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if keys := sortedKeys(raw); !slices.Equal(keys, []string{"findings", "verdict"}) {
		t.Errorf("top-level keys %v", keys)
	}
	var findings []map[string]any
	if err := json.Unmarshal(raw["findings"], &findings); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"rule": "public-principal", "severity": "critical", "statement": float64(1)},
		{"rule": "pod-identity-unscoped", "severity": "warning", "statement": float64(1)},
	}
	if len(findings) != len(want) {
		t.Fatalf("findings %v", findings)
	}
	for i, f := range findings {
		if keys := sortedKeys(f); !slices.Equal(keys, []string{"detail", "rule", "severity", "statement"}) {
			t.Errorf("finding keys %v", keys)
		}
		if d, _ := f["detail"].(string); d == "" {
			t.Errorf("finding %d has no detail", i)
		}
		delete(f, "detail")
		if !reflect.DeepEqual(f, want[i]) {
			t.Errorf("finding %d = %v, want %v", i, f, want[i])
		}
	}
	if string(raw["verdict"]) != `"critical"` {
		t.Errorf("verdict %s", raw["verdict"])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestTrustCheckStdinURLEncoded(t *testing.T) {
	doc, err := os.ReadFile(trustdata("critical-principal-star"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runTrustCmd(t, url.PathEscape(string(doc)), "check", "--json", "-")
	if code != 1 || !strings.Contains(stdout, `"verdict":"critical"`) {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func TestTrustBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"invalid policy", []string{"check", filepath.Join("..", "..", "internal", "trust", "testdata", "invalid", "effect-lowercase.json")}, `is not a trust policy: statement 2: Effect must be "Allow" or "Deny", got "allow"`},
		{"invalid policy json", []string{"check", "--json", filepath.Join("..", "..", "internal", "trust", "testdata", "invalid", "resource.json")}, "Resource is not allowed in a trust policy"},
		{"empty file", []string{"check", empty}, "is not a trust policy: document is empty"},
		{"missing file", []string{"check", filepath.Join(dir, "nope.json")}, "no such file"},
		{"no file", []string{"check"}, "want exactly one FILE"},
		{"two files", []string{"check", empty, empty}, "want exactly one FILE"},
		{"unknown flag", []string{"check", "--yaml", empty}, "flag provided but not defined: -yaml"},
		{"no subcommand", nil, "usage: credguard trust"},
		{"unknown subcommand", []string{"lint"}, `unknown subcommand "lint"`},
		{"fix invalid policy", []string{"fix", filepath.Join("..", "..", "internal", "trust", "testdata", "invalid", "truncated.json")}, "invalid JSON at byte 67"},
		{"fix half a workload", []string{"fix", "--namespace", "prod", trustdata("critical-principal-star")}, "needs both --namespace and --service-account"},
		{"fix cluster only", []string{"fix", "--cluster-arn", "arn:aws:eks:us-east-1:111122223333:cluster/prod", trustdata("critical-principal-star")}, "needs both --namespace and --service-account"},
		{"fix bad workload", []string{"fix", "--namespace", "Prod!", "--service-account", "api", trustdata("critical-principal-star")}, `namespace "Prod!" is not a Kubernetes namespace name`},
		{"fix issuer only", []string{"fix", "--issuer", "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", trustdata("critical-principal-star")}, "needs both --namespace and --service-account"},
		{"fix bad issuer", []string{"fix", "--issuer", "oidc.eks.us-east-1.amazonaws.com/id/ABC", "--namespace", "prod", "--service-account", "api", trustdata("critical-principal-star")}, `issuer "oidc.eks.us-east-1.amazonaws.com/id/ABC" is not an EKS OIDC issuer URL`},
		{"fix bad cluster ARN", []string{"fix", "--cluster-arn", "prod", "--namespace", "prod", "--service-account", "api", trustdata("critical-principal-star")}, `cluster ARN "prod" is not an EKS cluster ARN`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runTrustCmd(t, "", tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
		})
	}
}

func TestTrustHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"check", "-h"}, {"fix", "--help"}} {
		code, stdout, _ := runTrustCmd(t, "", args...)
		if code != 0 || !strings.Contains(stdout, "usage: credguard trust check") {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
	}
}

func TestTrustFix(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(trustdata(name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	// Nothing critical: the policy comes back unchanged (compacted).
	code, stdout, stderr := runTrustCmd(t, "", "fix", trustdata("warning-oidc-sa-wildcard"))
	if code != 0 || stdout != read("warning-oidc-sa-wildcard")+"\n" || !strings.Contains(stderr, "unchanged") {
		t.Errorf("unchanged: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	// Critical, no workload: the statement goes; nothing is left, so an explicit Deny.
	code, stdout, stderr = runTrustCmd(t, "", "fix", trustdata("critical-federated-star"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, err := trust.Parse([]byte(stdout))
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, stdout)
	}
	if len(p.Statements) != 1 || p.Statements[0].Sid != trust.RevokedSid || p.Statements[0].Effect != trust.Deny {
		t.Errorf("output %s", stdout)
	}
	if !strings.Contains(stderr, "statement 1 removed (public-principal)") {
		t.Errorf("stderr %q", stderr)
	}

	// Critical, with a workload but no issuer: the IRSA statement is not
	// scoped (Pod Identity does not use OIDC), so it goes.
	workload := []string{"fix", "--cluster-arn", "arn:aws:eks:us-east-1:111122223333:cluster/prod", "--namespace", "prod", "--service-account", "billing-api"}
	code, stdout, stderr = runTrustCmd(t, read("critical-oidc-sub-star"), append(workload, "-")...)
	if code != 0 || !strings.Contains(stdout, trust.RevokedSid) || !strings.Contains(stderr, "statement 1 removed (oidc-broad-sub)") {
		t.Errorf("no issuer: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// Another cluster's issuer: not scoped either.
	code, stdout, _ = runTrustCmd(t, read("critical-oidc-sub-star"), append(workload, "--issuer", "https://oidc.eks.eu-west-1.amazonaws.com/id/B", "-")...)
	if code != 0 || !strings.Contains(stdout, trust.RevokedSid) {
		t.Errorf("other issuer: exit %d\nstdout %s", code, stdout)
	}

	// Critical, with a workload and its cluster's issuer: the IRSA statement is scoped to it (from stdin).
	code, stdout, stderr = runTrustCmd(t, read("critical-oidc-sub-star"),
		append(workload, "--issuer", "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "-")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `:sub":"system:serviceaccount:prod:billing-api"`) || !strings.Contains(stderr, "statement 1 scoped (oidc-broad-sub)") {
		t.Errorf("stdout %s\nstderr %s", stdout, stderr)
	}
	p, err = trust.Parse([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if r := trust.Analyze(p); r.Critical() {
		t.Errorf("fixed policy still critical: %s", r)
	}
	// The fixed policy checks clean.
	dir := t.TempDir()
	fixed := filepath.Join(dir, "fixed.json")
	if err := os.WriteFile(fixed, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runTrustCmd(t, "", "check", fixed); code != 0 {
		t.Errorf("check of the fixed policy: exit %d\n%s", code, out)
	}
}
