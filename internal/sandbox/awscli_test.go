package sandbox

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI runs the AWS CLI (a second, independent client: botocore)
// against the sandbox with dummy credentials, as a user would.
func TestAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws (the AWS CLI) is not on PATH; `make test` installs it (apt-get install awscli)")
	}
	if testing.Short() {
		t.Skip("starts the AWS CLI several times")
	}
	t.Parallel() // mostly waiting for the CLI to start
	s := start(t, loadFixture(t, "basic.json"))
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", // a key the sandbox did not issue: acts in the hub
		"AWS_SECRET_ACCESS_KEY=dummy",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}
	if pyenv := os.Getenv("PYENV_ROOT"); pyenv != "" {
		env = append(env, "PYENV_ROOT="+pyenv)
	}
	run := func(t *testing.T, args ...string) (map[string]any, string, error) {
		t.Helper()
		full := append([]string{"--endpoint-url", s.URL(), "--output", "json"}, args...)
		cmd := exec.Command(awsPath, full...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start aws: %v", err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("aws %v did not finish", args)
		}
		var out map[string]any
		if err == nil && stdout.Len() > 0 {
			if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
				t.Fatalf("aws %v printed non-JSON: %v\n%s", args, jerr, stdout.String())
			}
		}
		return out, stderr.String(), err
	}
	ok := func(t *testing.T, args ...string) map[string]any {
		t.Helper()
		out, stderr, err := run(t, args...)
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr)
		}
		return out
	}
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, _ := v.(map[string]any)
				v = m[k]
			case int:
				l, _ := v.([]any)
				if k >= len(l) {
					return nil
				}
				v = l[k]
			}
		}
		return v
	}

	// The subtests touch different resources and run in parallel: the CLI is slow to start.
	t.Run("ec2 describe-instances", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
		in := get(out, "Reservations", 0, "Instances", 0)
		if get(in, "InstanceId") != "i-0123456789abcdef0" || get(in, "State", "Name") != "running" ||
			get(in, "MetadataOptions", "HttpTokens") != "optional" || get(in, "MetadataOptions", "HttpPutResponseHopLimit") != 2.0 ||
			get(in, "Tags", 0, "Value") != "web" {
			t.Fatalf("instance = %v", in)
		}
		_, stderr, err := run(t, "ec2", "describe-instances", "--instance-ids", "i-00000000000000000")
		if err == nil || !strings.Contains(stderr, "InvalidInstanceID.NotFound") {
			t.Fatalf("unknown instance: err=%v stderr=%s", err, stderr)
		}
	})
	t.Run("ec2 modify-instance-metadata-options", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "ec2", "modify-instance-metadata-options", "--instance-id", "i-0123456789abcdef4", "--http-tokens", "required", "--http-put-response-hop-limit", "1")
		if get(out, "InstanceMetadataOptions", "State") != "pending" || get(out, "InstanceMetadataOptions", "HttpTokens") != "required" {
			t.Fatalf("modify = %v", out)
		}
	})
	t.Run("iam get-role", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "iam", "get-role", "--role-name", "billing-api")
		// botocore decodes IAM's URL-encoded policy documents.
		doc := get(out, "Role", "AssumeRolePolicyDocument")
		if get(doc, "Statement", 0, "Principal", "Federated") != "*" || get(out, "Role", "Arn") != "arn:aws:iam::111122223333:role/workloads/billing-api" {
			t.Fatalf("role = %v", out)
		}
	})
	t.Run("eks list-pod-identity-associations", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "eks", "list-pod-identity-associations", "--cluster-name", "prod")
		if l, _ := get(out, "associations").([]any); len(l) != 3 || get(out, "associations", 0, "associationId") != "a-1" {
			t.Fatalf("associations = %v", out)
		}
	})
	t.Run("sns publish", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "sns", "publish", "--topic-arn", "arn:aws:sns:us-east-1:111122223333:alerts", "--message", "hello", "--subject", "hi")
		if get(out, "MessageId") == nil {
			t.Fatalf("publish = %v", out)
		}
		n := s.Notifications()
		if len(n) != 1 || n[0].Message != "hello" || n[0].Subject != "hi" {
			t.Fatalf("notifications = %+v", n)
		}
	})
	t.Run("sts get-caller-identity", func(t *testing.T) {
		t.Parallel()
		out := ok(t, "sts", "get-caller-identity")
		if get(out, "Account") != hub || get(out, "Arn") != "arn:aws:iam::111122223333:user/sandbox" {
			t.Fatalf("identity = %v", out)
		}
	})
	t.Run("s3api", func(t *testing.T) {
		t.Parallel()
		body := filepath.Join(dir, "scopes.json")
		if err := os.WriteFile(body, []byte(`[{"account":"111122223333"}]`), 0o600); err != nil {
			t.Fatal(err)
		}
		ok(t, "s3api", "create-bucket", "--bucket", "cli-sweep")
		if out := ok(t, "s3api", "put-object", "--bucket", "cli-sweep", "--key", "scopes/run 1.json", "--body", body); get(out, "ETag") == nil {
			t.Fatalf("put-object = %v", out)
		}
		ok(t, "s3api", "put-object", "--bucket", "cli-sweep", "--key", "results/a/manifest.json", "--body", body)
		out := ok(t, "s3api", "list-objects-v2", "--bucket", "cli-sweep", "--prefix", "scopes/")
		if l, _ := get(out, "Contents").([]any); len(l) != 1 || get(out, "Contents", 0, "Key") != "scopes/run 1.json" || get(out, "Contents", 0, "Size") != 28.0 {
			t.Fatalf("list-objects-v2 = %v", out)
		}
		out = ok(t, "s3api", "list-objects-v2", "--bucket", "cli-sweep", "--delimiter", "/")
		if get(out, "CommonPrefixes", 0, "Prefix") != "results/" || get(out, "CommonPrefixes", 1, "Prefix") != "scopes/" {
			t.Fatalf("list-objects-v2 with delimiter = %v", out)
		}
		got := filepath.Join(dir, "got.json")
		if out := ok(t, "s3api", "get-object", "--bucket", "cli-sweep", "--key", "scopes/run 1.json", got); get(out, "ContentLength") != 28.0 {
			t.Fatalf("get-object = %v", out)
		}
		if b, err := os.ReadFile(got); err != nil || string(b) != `[{"account":"111122223333"}]` {
			t.Fatalf("object read back = %q, %v", b, err)
		}
		_, stderr, err := run(t, "s3api", "get-object", "--bucket", "cli-sweep", "--key", "missing", got)
		if err == nil || !strings.Contains(stderr, "NoSuchKey") {
			t.Fatalf("missing key: err=%v stderr=%s", err, stderr)
		}
	})
}
