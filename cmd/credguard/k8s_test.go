package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/credguard/credguard/internal/k8saudit"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

const k8sTestdata = "../../internal/k8saudit/testdata/"

// demoClusterFindings are the findings of the demo cluster read live
// (--cluster: associations with their roles, trust judged).
var demoClusterFindings = []string{
	"role-trust-critical analytics Deployment/reporter sa=reporter",
	"role-trust-critical ci StatefulSet/ci-runner sa=default",
	"host-network-node-role monitoring DaemonSet/node-exporter sa=node-exporter",
	"static-aws-keys payments Pod/payments-debug sa=default",
	"role-trust-mismatch analytics Deployment/reporter sa=reporter",
	"shared-service-account billing Deployment/billing-api sa=billing-api",
	"default-service-account-role ci StatefulSet/ci-runner sa=default",
	"no-workload-identity monitoring DaemonSet/node-exporter sa=node-exporter",
	"no-workload-identity payments Pod/payments-debug sa=default",
}

func auditJSON(t *testing.T, out string) []k8saudit.Finding {
	t.Helper()
	var doc struct {
		Findings []k8saudit.Finding `json:"findings"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if doc.Findings == nil {
		t.Fatalf("findings is not an array: %s", out)
	}
	return doc.Findings
}

func findingKeys(fs []k8saudit.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Rule)+" "+f.Namespace+" "+f.Workload+" sa="+f.ServiceAccount)
	}
	return out
}

// awsEnv points the default credential chain at the sandbox.
func awsEnv(t *testing.T, sb *sandbox.Server) {
	t.Helper()
	creds := sb.Credentials("111122223333")
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": sb.URL(), "AWS_REGION": "", "AWS_ACCESS_KEY_ID": creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "KUBECONFIG": filepath.Join(dir, "no-kubeconfig"),
	} {
		t.Setenv(k, v)
	}
}

// The EKS source: DescribeCluster's endpoint and CA, a token the sandbox
// checks (presigned GetCallerIdentity signing x-k8s-aws-id), associations
// and role trust from EKS and IAM.
func TestK8sAuditEKS(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	awsEnv(t, sb)
	code, out, errOut := runCLI("k8s", "audit", "--cluster", "prod", "--region", "us-east-1", "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	got := findingKeys(auditJSON(t, out))
	if !slices.Equal(got, demoClusterFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(demoClusterFindings, "\n"))
	}
	if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
		t.Error("the output prints the value of AWS_ACCESS_KEY_ID")
	}
	var kube []string
	for _, c := range sb.Journal() {
		if c.Write {
			t.Errorf("the audit wrote: %+v", c)
		}
		if c.Service == "kubernetes" {
			kube = append(kube, c.Operation+" "+c.Outcome)
		}
	}
	if !slices.Equal(kube, []string{"GET /api/v1/pods ok", "GET /api/v1/serviceaccounts ok"}) {
		t.Errorf("Kubernetes API calls: %v", kube)
	}
	// Unknown cluster, and no region at all: bad input.
	if code, _, errOut := runCLI("k8s", "audit", "--cluster", "nope", "--region", "us-east-1"); code != 2 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("unknown cluster: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("k8s", "audit", "--cluster", "prod"); code != 2 || !strings.Contains(errOut, "--region") {
		t.Errorf("no region: exit %d %s", code, errOut)
	}
}

// writeKubeconfig writes a kubeconfig for the sandbox's demo cluster, as
// aws eks update-kubeconfig would, with a static token.
func writeKubeconfig(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	cfg, err := sb.AWSConfig(context.Background(), "111122223333", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := eks.NewFromConfig(cfg).DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.Cluster.Endpoint), "https://") {
		t.Fatalf("endpoint %s is not https", aws.ToString(out.Cluster.Endpoint))
	}
	if aws.ToString(out.Cluster.Identity.Oidc.Issuer) != "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE" {
		t.Errorf("issuer %s", aws.ToString(out.Cluster.Identity.Oidc.Issuer))
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	doc := `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: ` + aws.ToString(out.Cluster.Endpoint) + `
    certificate-authority-data: ` + aws.ToString(out.Cluster.CertificateAuthority.Data) + `
users:
- name: auditor
  user:
    token: sandbox-static-token
contexts:
- name: prod
  context: {cluster: prod, user: auditor}
- name: other
  context: {cluster: prod, user: nobody}
current-context: other
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeAssociations writes what aws eks list-pod-identity-associations prints.
func writeAssociations(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	cfg, err := sb.AWSConfig(context.Background(), "111122223333", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := eks.NewFromConfig(cfg).ListPodIdentityAssociations(context.Background(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		ClusterName    string `json:"clusterName"`
		Namespace      string `json:"namespace"`
		ServiceAccount string `json:"serviceAccount"`
		AssociationArn string `json:"associationArn"`
		AssociationID  string `json:"associationId"`
	}
	var doc struct {
		Associations []summary `json:"associations"`
	}
	for _, a := range out.Associations {
		doc.Associations = append(doc.Associations, summary{aws.ToString(a.ClusterName), aws.ToString(a.Namespace),
			aws.ToString(a.ServiceAccount), aws.ToString(a.AssociationArn), aws.ToString(a.AssociationId)})
	}
	b, _ := json.MarshalIndent(doc, "", "    ")
	path := filepath.Join(t.TempDir(), "associations.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectlBinary is Debian's kubectl (make kubectl installs it under .bin),
// CREDGUARD_KUBECTL, or a kubectl on PATH.
func kubectlBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CREDGUARD_KUBECTL"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		t.Logf("CREDGUARD_KUBECTL=%s does not exist", p)
	}
	if p, err := filepath.Abs("../../.bin/kubernetes-client/usr/bin/kubectl"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p
	}
	t.Skip("no kubectl: `make kubectl` installs Debian's kubernetes-client under .bin (set CREDGUARD_KUBECTL to use another)")
	return ""
}

// client-go through a kubeconfig, and the real kubectl's
// `get pods,serviceaccounts -A -o json` (in pages of 2) fed back through
// --from, find the same findings.
func TestK8sAuditKubeconfigAndKubectl(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	awsEnv(t, sb)
	kubeconfig := writeKubeconfig(t, sb)
	assocs := writeAssociations(t, sb)

	code, live, errOut := runCLI("k8s", "audit", "--kubeconfig", kubeconfig, "--context", "prod", "--associations", assocs, "--json")
	if code != 1 {
		t.Fatalf("kubeconfig: exit %d\n%s", code, errOut)
	}
	liveFindings := auditJSON(t, live)
	// Without trust judgement the kubeconfig source finds the demo's
	// findings but the two role-trust ones.
	var want []string
	for _, k := range demoClusterFindings {
		if !strings.HasPrefix(k, "role-trust-") {
			want = append(want, k)
		}
	}
	if got := findingKeys(liveFindings); !slices.Equal(got, want) {
		t.Errorf("kubeconfig findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A context whose user has no credentials: the API answers 401.
	if code, _, errOut := runCLI("k8s", "audit", "--kubeconfig", kubeconfig); code != 2 || !strings.Contains(errOut, "credentials") {
		t.Errorf("context without a token: exit %d %s", code, errOut)
	}

	kubectl := kubectlBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "--context", "prod",
		"get", "pods,serviceaccounts", "-A", "-o", "json", "--chunk-size=2")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	listed, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", kubectl, err, stderr.String())
	}
	file := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(file, listed, 0o600); err != nil {
		t.Fatal(err)
	}
	code, offline, errOut := runCLI("k8s", "audit", "--from", file, "--associations", assocs, "--json")
	if code != 1 {
		t.Fatalf("--from kubectl output: exit %d\n%s", code, errOut)
	}
	if offline != live {
		t.Errorf("kubectl output through --from differs from the kubeconfig source:\n%s\nvs\n%s", offline, live)
	}
	// kubectl reaches no Secret either.
	for _, c := range sb.Journal() {
		if c.Service == "kubernetes" && strings.Contains(c.Operation, "secret") {
			t.Errorf("a Secret was asked for: %+v", c)
		}
	}
}

func TestK8sAuditFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.json", `{"kind":"List","items":[
	  {"kind":"Pod","metadata":{"name":"web-1","namespace":"shop","ownerReferences":[{"kind":"StatefulSet","name":"web","controller":true}]},"spec":{"serviceAccountName":"web"}},
	  {"kind":"ServiceAccount","metadata":{"name":"web","namespace":"shop","annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::111122223333:role/web"}}}]}`)
	tests := []struct {
		name     string
		args     []string
		code     int
		inOut    []string
		inStderr string
	}{
		{"table grouped by severity", []string{"--from", k8sTestdata + "cluster.json", "--associations", k8sTestdata + "associations.json"}, 1,
			[]string{"CRITICAL (4)", "WARNING (5)", "static-aws-keys", "4 critical, 5 warning"}, ""},
		{"allow list", []string{"--from", k8sTestdata + "cluster.json", "--allow-host-network", "monitoring/node-exporter",
			"--allow-host-network", "kube-system/*", "--json"}, 1, []string{`"rule": "static-aws-keys"`}, ""},
		{"no critical finding", []string{"--from", clean}, 0, []string{"0 critical, 0 warning"}, ""},
		{"json with no finding", []string{"--from", clean, "--json"}, 0, []string{`"findings": []`}, ""},
		{"not a pod list", []string{"--from", write("deploy.json", `{"kind":"DeploymentList","items":[]}`)}, 2, nil, "deploy.json: kind DeploymentList is not a pod or service-account list"},
		{"yaml", []string{"--from", write("pods.yaml", "kind: List\n")}, 2, nil, "pods.yaml: not a JSON object"},
		{"secret in a list", []string{"--from", write("secrets.json", `{"kind":"List","items":[{"kind":"Secret","metadata":{"name":"s","namespace":"n"},"data":{"k":"c2VjcmV0"}}]}`)}, 2, nil, "secrets.json: items[0]: kind Secret"},
		{"partial list", []string{"--from", write("page.json", `{"kind":"PodList","metadata":{"continue":"x"},"items":[]}`)}, 2, nil, "page.json: a partial list"},
		{"bad associations", []string{"--from", clean, "--associations", clean}, 2, nil, `clean.json: no "associations" key`},
		{"missing file", []string{"--from", filepath.Join(dir, "nope.json")}, 2, nil, "nope.json"},
		{"two sources", []string{"--from", clean, "--cluster", "prod"}, 2, nil, "--from reads files"},
		{"region without cluster", []string{"--from", clean, "--region", "us-east-1"}, 2, nil, "--region goes with --cluster"},
		{"bad allow entry", []string{"--from", clean, "--allow-host-network", "node-exporter"}, 2, nil, "NAMESPACE/NAME"},
		{"unknown flag", []string{"--from", clean, "--namespace", "x"}, 2, nil, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(append([]string{"k8s", "audit"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.inOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tc.inStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.inStderr)
			}
			if strings.Contains(out+errOut, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(out+errOut, base64.StdEncoding.EncodeToString([]byte("secret"))) {
				t.Error("a credential value is printed")
			}
		})
	}
	// kubectl … -o json | credguard k8s audit --from -
	data, err := os.ReadFile(k8sTestdata + "cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var outb, errb strings.Builder
	if code := run([]string{"k8s", "audit", "--from", "-", "--json"}, strings.NewReader(string(data)), &outb, &errb); code != 1 || len(auditJSON(t, outb.String())) != 10 {
		t.Errorf("--from -: exit %d\n%s\n%s", code, outb.String(), errb.String())
	}
	if code := run([]string{"k8s", "audit", "--from", "-"}, strings.NewReader("nope"), &outb, &errb); code != 2 || !strings.Contains(errb.String(), "stdin: not a JSON object") {
		t.Errorf("--from - with bad input: exit %d %s", code, errb.String())
	}
	if code, _, _ := runCLI("k8s"); code != 2 {
		t.Errorf("credguard k8s: exit %d", code)
	}
	if code, out, _ := runCLI("k8s", "audit", "--help"); code != 0 || !strings.Contains(out, "--allow-host-network") {
		t.Errorf("--help: exit %d", code)
	}
}

// A kubeconfig whose user runs the exec plugin `aws eks get-token`, as
// `aws eks update-kubeconfig` writes it: the AWS CLI's token passes the
// sandbox's check, as the command's own does.
func TestK8sAuditKubeconfigExecPlugin(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no AWS CLI on PATH (make awscli installs Debian's)")
	}
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	awsEnv(t, sb)
	// botocore refuses an empty AWS_PROFILE or AWS_SESSION_TOKEN: unset them
	// (t.Setenv above restores them after the test).
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_SESSION_TOKEN")
	static := writeKubeconfig(t, sb)
	doc, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	execUser := `- name: auditor
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ` + aws + `
      args: [eks, get-token, --cluster-name, prod, --region, us-east-1, --output, json]
      interactiveMode: Never`
	withExec := strings.Replace(string(doc), "- name: auditor\n  user:\n    token: sandbox-static-token", execUser, 1)
	if withExec == string(doc) {
		t.Fatal("kubeconfig user not replaced")
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(withExec), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("k8s", "audit", "--kubeconfig", path, "--context", "prod", "--json")
	if code != 1 || len(auditJSON(t, out)) == 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	n := 0
	for _, c := range sb.Journal() {
		if c.Service == "kubernetes" {
			n++
			if c.Outcome != "ok" {
				t.Errorf("Kubernetes call %s: %s", c.Operation, c.Outcome)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d Kubernetes calls", n)
	}
}

// A kubeconfig whose cluster is named by its ARN (aws eks
// update-kubeconfig): the AWS side (associations with roles, trust) is read
// from EKS and IAM as with --cluster; without AWS, a note and the rest.
func TestK8sAuditKubeconfigEKSClusterARN(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	awsEnv(t, sb)
	doc, err := os.ReadFile(writeKubeconfig(t, sb))
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:eks:us-east-1:111122223333:cluster/prod"
	named := strings.ReplaceAll(string(doc), "- name: prod\n  cluster:", "- name: "+arn+"\n  cluster:")
	named = strings.ReplaceAll(named, "{cluster: prod,", `{cluster: "`+arn+`",`)
	if strings.Count(named, arn) != 3 {
		t.Fatalf("kubeconfig not renamed:\n%s", named)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(named), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("k8s", "audit", "--kubeconfig", path, "--context", "prod", "--json")
	if got := findingKeys(auditJSON(t, out)); code != 1 || !slices.Equal(got, demoClusterFindings) {
		t.Errorf("exit %d, findings:\n%s\nwant:\n%s\n%s", code, strings.Join(got, "\n"), strings.Join(demoClusterFindings, "\n"), errOut)
	}
	// AWS unreachable: the Kubernetes side alone, and a note.
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	code, out, errOut = runCLI("k8s", "audit", "--kubeconfig", path, "--context", "prod", "--json")
	if code != 1 || !strings.Contains(errOut, "Pod Identity and role trust of EKS cluster prod not read") {
		t.Errorf("AWS unreachable: exit %d\n%s", code, errOut)
	}
	for _, f := range auditJSON(t, out) {
		if strings.HasPrefix(string(f.Rule), "role-trust-") {
			t.Errorf("trust judged without AWS: %+v", f)
		}
	}
}
