package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/sandbox"
)

const (
	scanHub    = "111122223333"
	scanMember = "444455556666"
)

// scanFixture has one finding of each kind in the hub, one in the member
// account, and compliant resources; fixable drops the warned role (so that
// --remediate leaves nothing behind).
func scanFixture(fixable bool) *sandbox.Fixture {
	lambda := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	open := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)
	pods := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	memberRole := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/credguard-sweeper"},"Action":"sts:AssumeRole"}]}`)
	hubRoles := []sandbox.Role{{Name: "app", TrustPolicy: lambda}, {Name: "ci-deployer", TrustPolicy: open}}
	if !fixable {
		hubRoles = append(hubRoles, sandbox.Role{Name: "payments-api", TrustPolicy: pods})
	}
	return &sandbox.Fixture{HubAccount: scanHub, Accounts: map[string]*sandbox.Account{
		scanHub: {
			Roles: hubRoles,
			Regions: map[string]*sandbox.Region{"us-east-1": {
				Instances: []sandbox.Instance{
					{ID: "i-0aaa0000000000001", State: "running", Tags: map[string]string{"Name": "web"},
						MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2}},
					{ID: "i-0aaa0000000000002", State: "running", MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1}},
				},
				LaunchTemplates: []sandbox.LaunchTemplate{{ID: "lt-0aaa0000000000001", Name: "web-lt",
					Versions: []sandbox.TemplateVersion{{Data: sandbox.TemplateData{ImageID: "ami-0123456789abcdef0"}}}}},
			}},
		},
		scanMember: {
			Roles: []sandbox.Role{{Name: "credguard-imds-remediation", TrustPolicy: memberRole}, {Name: "credguard-trust-remediation", TrustPolicy: memberRole}},
			Regions: map[string]*sandbox.Region{"eu-west-1": {Instances: []sandbox.Instance{{ID: "i-0bbb0000000000001", State: "running",
				MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 2}}}}},
		},
	}}
}

func writeFixture(t *testing.T, f *sandbox.Fixture) string {
	t.Helper()
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// scanJSON decodes --json output strictly: an object with exactly the key
// "findings", each finding with exactly the six contract keys.
func scanJSON(t *testing.T, out string) []map[string]string {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(doc) != 1 || doc["findings"] == nil {
		t.Fatalf("want exactly {\"findings\": [...]}, got keys %v", sortedKeys(doc))
	}
	if string(doc["findings"]) == "null" {
		t.Fatal("findings is null, want an array")
	}
	var findings []map[string]string
	if err := json.Unmarshal(doc["findings"], &findings); err != nil {
		t.Fatalf("findings: %v", err)
	}
	for _, f := range findings {
		if keys := strings.Join(sortedKeys(f), ","); keys != "account,kind,outcome,region,resource,verdict" {
			t.Errorf("finding keys %s", keys)
		}
	}
	return findings
}

func findingLines(findings []map[string]string) []string {
	var out []string
	for _, f := range findings {
		out = append(out, strings.Join([]string{f["account"], f["region"], f["resource"], f["kind"], f["verdict"], f["outcome"]}, " "))
	}
	return out
}

func TestScanJSONAndExitCodes(t *testing.T) {
	path := writeFixture(t, scanFixture(false))
	code, out, errOut := runCLI("scan", "--fixture", path, "--json", "--progress", "always")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (non-compliant found)\n%s", code, errOut)
	}
	want := []string{
		"111122223333  arn:aws:iam::111122223333:role/ci-deployer role critical dry-run",
		"111122223333  arn:aws:iam::111122223333:role/payments-api role warning warned",
		"111122223333 us-east-1 i-0aaa0000000000001 instance imdsv1+hop-limit dry-run",
		"111122223333 us-east-1 lt-0aaa0000000000001 launch-template imdsv1+hop-limit dry-run",
		"444455556666 eu-west-1 i-0bbb0000000000001 instance hop-limit dry-run",
	}
	if got := findingLines(scanJSON(t, out)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Progress on stderr (not a terminal): a line at each tenth of the
	// 2 accounts × (2 regions + IAM) = 6 scopes, the last with every finding.
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "scan: 1/6 scopes (16%) · ") ||
		!strings.HasPrefix(lines[5], "scan: 6/6 scopes (100%) · 5 findings · elapsed ") || !strings.HasSuffix(lines[5], " · ETA 0s") {
		t.Errorf("progress:\n%s", errOut)
	}
	// Without --progress, stderr (not a terminal) shows none, and stdout is
	// the same.
	code2, out2, errOut2 := runCLI("scan", "--fixture", path, "--json", "--concurrency", "1")
	if code2 != code || out2 != out || strings.Contains(errOut2, "scan: ") {
		t.Errorf("without --progress: exit %d, stdout changed %v, stderr %q", code2, out2 != out, errOut2)
	}

	// One account, one region.
	code, out, _ = runCLI("scan", "--fixture", path, "--json", "--accounts", scanMember, "--regions", "eu-west-1")
	if got := findingLines(scanJSON(t, out)); code != 1 || len(got) != 1 || !strings.HasPrefix(got[0], "444455556666 eu-west-1 i-0bbb") {
		t.Errorf("exit %d, findings %v", code, got)
	}
	// Nothing found: an empty array and exit 0.
	code, out, _ = runCLI("scan", "--fixture", path, "--json", "--accounts", scanMember, "--regions", "us-east-1")
	if got := scanJSON(t, out); code != 0 || len(got) != 0 || !strings.Contains(out, `"findings": []`) {
		t.Errorf("exit %d, output %s", code, out)
	}
}

func TestScanRemediateThenClean(t *testing.T) {
	path := writeFixture(t, scanFixture(true))
	code, out, errOut := runCLI("scan", "--fixture", path, "--remediate", "--json")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (everything fixed)\n%s", code, errOut)
	}
	got := findingLines(scanJSON(t, out))
	want := []string{
		"111122223333  arn:aws:iam::111122223333:role/ci-deployer role critical revoked",
		"111122223333 us-east-1 i-0aaa0000000000001 instance imdsv1+hop-limit remediated",
		"111122223333 us-east-1 lt-0aaa0000000000001 launch-template imdsv1+hop-limit remediated",
		"444455556666 eu-west-1 i-0bbb0000000000001 instance hop-limit remediated",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each run starts from the fixture, so a second read-only scan of the
	// same file finds everything again: remediation did not touch the file.
	if code, _, _ := runCLI("scan", "--fixture", path, "--json"); code != 1 {
		t.Errorf("read-only rescan exit %d", code)
	}
}

// TestScanIMDSScope: with --imds-scope eks-nodes, instances without an EKS
// or Karpenter tag are listed ignored and never changed; a tagged node is
// still fixed.
func TestScanIMDSScope(t *testing.T) {
	f := scanFixture(true)
	insts := f.Accounts[scanHub].Regions["us-east-1"].Instances
	insts = append(insts, sandbox.Instance{ID: "i-0aaa0000000000003", State: "running", Tags: map[string]string{"eks:cluster-name": "prod"},
		MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2}})
	f.Accounts[scanHub].Regions["us-east-1"].Instances = insts
	path := writeFixture(t, f)
	_, out, errOut := runCLI("scan", "--fixture", path, "--remediate", "--json", "--imds-scope", "eks-nodes")
	got := strings.Join(findingLines(scanJSON(t, out)), "\n")
	for _, want := range []string{
		"111122223333 us-east-1 i-0aaa0000000000001 instance imdsv1+hop-limit ignored",
		"111122223333 us-east-1 i-0aaa0000000000003 instance imdsv1+hop-limit remediated",
		"444455556666 eu-west-1 i-0bbb0000000000001 instance hop-limit ignored",
		"111122223333 us-east-1 lt-0aaa0000000000001 launch-template imdsv1+hop-limit ignored", // untagged template
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s\n%s", want, got, errOut)
		}
	}
	_, table, _ := runCLI("scan", "--fixture", path, "--imds-scope", "eks-nodes")
	if !strings.Contains(table, "not an EKS node (imdsScope eks-nodes)") {
		t.Errorf("no reason given for the ignored instances:\n%s", table)
	}
}

func TestScanTable(t *testing.T) {
	path := writeFixture(t, scanFixture(false))
	code, out, _ := runCLI("scan", "--fixture", path)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"ACCOUNT       REGION     KIND             RESOURCE",
		"i-0aaa0000000000001 (web)",
		"would set HttpTokens=required HttpPutResponseHopLimit=1",
		"scan: 3 instances, 1 launch-template, 5 roles checked in 2 accounts × 2 regions; 5 not compliant (1 warned, 4 dry-run); 5 remain",
		"Nothing was changed: run with --remediate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestScanUsageErrors(t *testing.T) {
	path := writeFixture(t, scanFixture(false))
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"hubAccount": "12", "accounts": {}}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--fixture", path, "extra"}, `unexpected argument "extra"`},
		{[]string{"--fixture", filepath.Join(t.TempDir(), "missing.json")}, "read fixture"},
		{[]string{"--fixture", bad}, "account id must be 12 digits"},
		{[]string{"--fixture", path, "--accounts", "999988887777"}, "account 999988887777 is not in the fixture"},
		{[]string{"--fixture", path, "--accounts", "12345"}, `"12345" is not a 12-digit account id`},
		{[]string{"--fixture", path, "--regions", "mars"}, `"mars" is not a region name`},
		{[]string{"--fixture", path, "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"--fixture", path, "--role-name", "no spaces"}, "not an IAM role name"},
		{[]string{"--fixture", path, "--imds-scope", "eks"}, `--imds-scope "eks": want all or eks-nodes`},
	} {
		code, _, errOut := runCLI(append([]string{"scan"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args, code, errOut, tc.want)
		}
	}
	if code, out, _ := runCLI("scan", "--help"); code != 0 || !strings.Contains(out, "Exit 0 when nothing non-compliant remains") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestScanReportsAccountsItCannotEnter(t *testing.T) {
	f := scanFixture(true)
	f.Accounts[scanMember].Roles = nil // no member role to assume
	path := writeFixture(t, f)
	code, out, errOut := runCLI("scan", "--fixture", path, "--json", "--remediate")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, "credguard scan: not scanned: 444455556666 roles: no IAM access: assume arn:aws:iam::444455556666:role/credguard-trust-remediation") {
		t.Errorf("stderr:\n%s", errOut)
	}
	for _, l := range findingLines(scanJSON(t, out)) {
		if strings.HasPrefix(l, scanMember) {
			t.Errorf("finding in an account never entered: %s", l)
		}
	}
}

// --role-name names one role for both guardrails (an account still on the
// legacy single member role); the per-guardrail flags win over it.
func TestScanRoleNameOverride(t *testing.T) {
	f := scanFixture(true)
	roles := f.Accounts[scanMember].Roles
	roles[0].Name = "credguard-remediation"
	f.Accounts[scanMember].Roles = roles[:1]
	path := writeFixture(t, f)
	if code, _, errOut := runCLI("scan", "--fixture", path, "--json", "--role-name", "credguard-remediation"); code != 1 ||
		strings.Contains(errOut, "not scanned") {
		t.Errorf("--role-name: exit %d\n%s", code, errOut)
	}
	code, _, errOut := runCLI("scan", "--fixture", path, "--json", "--role-name", "credguard-remediation", "--trust-role-name", "credguard-trust-remediation")
	if code != 1 || !strings.Contains(errOut, "assume arn:aws:iam::444455556666:role/credguard-trust-remediation") ||
		strings.Contains(errOut, "instances: no EC2 access") {
		t.Errorf("--trust-role-name over --role-name: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI("scan", "--fixture", path, "--imds-role-name", "bad name"); code != 2 || !strings.Contains(errOut, "--imds-role-name") {
		t.Errorf("bad --imds-role-name: exit %d\n%s", code, errOut)
	}
}

// Without --fixture the scan uses the default credential chain: here the
// environment, pointed at a sandbox through AWS_ENDPOINT_URL.
func TestScanWithTheDefaultCredentialChain(t *testing.T) {
	sb, err := sandbox.New(scanFixture(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(""); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	creds := sb.Credentials(scanHub)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": sb.URL(), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	// The caller's account and the configured region.
	code, out, errOut := runCLI("scan", "--json")
	got := findingLines(scanJSON(t, out))
	if code != 1 || len(got) != 4 {
		t.Fatalf("exit %d, findings %v\n%s", code, got, errOut)
	}
	for _, l := range got {
		if !strings.HasPrefix(l, scanHub) || strings.Contains(l, "eu-west-1") {
			t.Errorf("finding outside the caller's account and region: %s", l)
		}
	}
	// Every account of the organization, in the regions asked for.
	code, out, _ = runCLI("scan", "--json", "--accounts", "all", "--regions", "eu-west-1")
	got = findingLines(scanJSON(t, out))
	if code != 1 || len(got) != 3 || !strings.HasPrefix(got[2], "444455556666 eu-west-1 i-0bbb") {
		t.Errorf("exit %d, findings %v", code, got)
	}
	// No region anywhere: a usage error.
	t.Setenv("AWS_REGION", "")
	if code, _, errOut := runCLI("scan"); code != 2 || !strings.Contains(errOut, "no AWS region") {
		t.Errorf("no region: exit %d, %s", code, errOut)
	}
	// Credentials that do not work: a usage error, not a scan.
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
			`<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>`+
			`<RequestId>4c6f8b9e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`)
	}))
	defer sts.Close()
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", sts.URL)
	if code, _, errOut := runCLI("scan"); code != 2 || !strings.Contains(errOut, "no usable AWS credentials") || !strings.Contains(errOut, "InvalidClientTokenId") {
		t.Errorf("unreachable: exit %d, %s", code, errOut)
	}
}

func TestPoliciesSCP(t *testing.T) {
	code, out, _ := runCLI("policies", "scp", "--remediation-role-name", "fixer", "--hub-account", scanHub)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid, Effect, Action, Resource string
			Condition                     map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 4 || len(bytes.TrimSpace([]byte(out))) > 5120 {
		t.Fatalf("policy %s", out)
	}
	principals := doc.Statement[2].Condition["ArnNotLike"]["aws:PrincipalARN"].([]any)
	if principals[0] != "arn:aws:iam::*:role/fixer" || principals[1] != "arn:aws:iam::111122223333:role/credguard-imds-enforcer" {
		t.Errorf("principals %v", principals)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policies"}, 2, "usage: credguard policies scp"},
		{[]string{"policies", "rcp"}, 2, `unknown policy "rcp"`},
		{[]string{"policies", "scp", "--remediation-role-name", "a b"}, 2, "remediation role name"},
		{[]string{"policies", "scp", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"policies", "scp", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"policies", "scp", "--partition", "gcp"}, 2, `partition "gcp"`},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
	if code, out, _ := runCLI("policies", "scp", "--help"); code != 0 || !strings.Contains(out, "ec2:RoleDelivery") {
		t.Errorf("--help: exit %d", code)
	}
	if code, out, _ := runCLI("policies", "scp", "--partition", "aws-cn"); code != 0 ||
		!strings.Contains(out, `"arn:aws-cn:iam::*:role/credguard-imds-remediation"`) || strings.Contains(out, "arn:aws:") {
		t.Errorf("--partition aws-cn: exit %d\n%s", code, out)
	}
}
