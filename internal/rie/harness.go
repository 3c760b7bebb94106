package rie

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/credguard/credguard/internal/sandbox"
)

// Binary finds aws-lambda-rie for a test: CREDGUARD_RIE (set by `make
// test`, which installs it) or PATH. Without it the test is skipped, saying so.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CREDGUARD_RIE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	t.Skip("aws-lambda-rie not installed: run `make test` (it installs it) or set CREDGUARD_RIE")
	return ""
}

// Bootstrap returns a function's bootstrap built for this machine: the one
// `make build-host` made (CREDGUARD_HOST_BIN/<function>/bootstrap), else one
// built now from pkgDir (the function's package, relative to the test).
func Bootstrap(t testing.TB, function, pkgDir string) string {
	t.Helper()
	if dir := os.Getenv("CREDGUARD_HOST_BIN"); dir != "" {
		p := filepath.Join(dir, function, "bootstrap")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	out := filepath.Join(t.TempDir(), function, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, pkgDir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", function, err, b)
	}
	return out
}

// SandboxEnv is the environment that points a function at sb, as the hub
// account's own credentials in region: the endpoint, the credentials, no
// instance metadata lookup, and CREDGUARD_HUB_ACCOUNT. Append what the
// function needs besides.
func SandboxEnv(sb *sandbox.Server, hub, region string) []string {
	creds := sb.Credentials(hub)
	return []string{
		"AWS_ENDPOINT_URL=" + sb.URL(),
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"CREDGUARD_HUB_ACCOUNT=" + hub,
	}
}

// Run starts function's bootstrap (see Binary and Bootstrap) under the
// emulator with env until the test ends.
func Run(t testing.TB, ctx context.Context, function, pkgDir string, env []string) *Emulator {
	t.Helper()
	rieBin := Binary(t)
	boot := Bootstrap(t, function, pkgDir)
	em, err := Start(ctx, rieBin, boot, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Stop)
	return em
}
