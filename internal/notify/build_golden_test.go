package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	hub    = "111122223333"
	member = "444455556666"
	alice  = "arn:aws:sts::111122223333:assumed-role/developer/alice"
)

func imdsResult(id, name string, o outcome.Outcome, c *guardrail.IMDSChange, detail string) guardrail.Result {
	return guardrail.Result{Guardrail: guardrail.IMDS, Account: hub, Region: "eu-west-1", Resource: id, Name: name,
		Outcome: o, IMDS: c, Detail: detail}
}

// opts are metadata options with the endpoint enabled.
func opts(tokens string, hop int) imds.Options {
	return imds.Options{HTTPTokens: tokens, HopLimit: hop, HTTPEndpoint: "enabled"}
}

func change(before, after imds.Options) *guardrail.IMDSChange {
	return &guardrail.IMDSChange{Before: before, After: after}
}

func noChange(o imds.Options) *guardrail.IMDSChange { return change(o, o) }

// trustResult is a role's result; before and after are policy documents
// ("" for none) and verdict the trust verdict ("" for none).
func trustResult(name string, o outcome.Outcome, before, after, detail, verdict string) guardrail.Result {
	return guardrail.Result{Guardrail: guardrail.Trust, Account: hub, Region: "us-east-1",
		Resource: "arn:aws:iam::" + hub + ":role/" + name, Name: name, Outcome: o,
		Trust: trustChange(before, after, verdict), Detail: detail}
}

// trustChange parses the test's policy documents; nil when there is
// neither a policy nor a verdict.
func trustChange(before, after, verdict string) *guardrail.TrustChange {
	if before == "" && after == "" && verdict == "" {
		return nil
	}
	c := &guardrail.TrustChange{Verdict: trust.Severity(verdict), Report: trust.Report{Verdict: trust.Severity(verdict)}}
	if before != "" {
		c.Before = mustPolicy(before)
	}
	if after != "" {
		a := mustPolicy(after)
		c.After = &a
	}
	return c
}

func mustPolicy(doc string) trust.Policy {
	p, err := trust.Parse([]byte(doc))
	if err != nil {
		panic(fmt.Sprintf("test policy %q: %v", doc, err))
	}
	return p
}

const (
	ciDeployerBefore = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
    {"Sid": "CodeBuild", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
  ]
}`
	ciDeployerAfter = `{"Version":"2012-10-17","Statement":[{"Sid":"CodeBuild","Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

	oidc          = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	billingBefore = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + oidc + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + oidc + `:sub":"system:serviceaccount:*"}}}}`
	billingAfter  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + oidc + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + oidc + `:sub":"system:serviceaccount:billing:billing-api","` + oidc + `:aud":"sts.amazonaws.com"}}}]}`

	paymentsPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

	federatedStar = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	denyAll       = `{"Version":"2012-10-17","Statement":[{"Sid":"CredguardRevoked","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
)

// bigPolicy is a trust policy of n wildcard statements with long conditions,
// the kind whose diff does not fit a chat message.
func bigPolicy(n int) string {
	var st []string
	for i := range n {
		st = append(st, fmt.Sprintf(`{"Sid":"Partner%02d","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"partner-%02d-external-id-0123456789abcdef"}}}`, i, i))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

func goldenIncidents() map[string]Incident {
	return map[string]Incident{
		"imds-remediated-single": {
			Guardrail: guardrail.IMDS, EventID: "7bf73129-1428-4cd3-a780-95db273d1602", EventName: "RunInstances",
			Account: hub, Region: "eu-west-1", Actor: alice,
			Results: []guardrail.Result{
				imdsResult("i-0123456789abcdef0", "web", outcome.Remediated, change(opts("optional", 2), opts("required", 1)), "metadata options applied"),
			},
		},
		"imds-remediated-many": {
			Guardrail: guardrail.IMDS, EventID: "5c0e7d2a-8f4b-4a51-9c3e-2b7d1e6f9a10", EventName: "RunInstances",
			Account: hub, Region: "eu-west-1", Actor: alice,
			Results: []guardrail.Result{
				imdsResult("i-0aaaaaaaaaaaaaaa1", "batch-1", outcome.Remediated, change(opts("optional", 2), opts("required", 1)), ""),
				imdsResult("i-0aaaaaaaaaaaaaaa2", "batch-2", outcome.Exempt, nil, `tag credguard:exempt = "legacy monitoring agent, INC-4711"`),
				imdsResult("i-0aaaaaaaaaaaaaaa3", "batch-3", outcome.Remediated, change(opts("required", 2), opts("required", 1)), ""),
				imdsResult("i-0aaaaaaaaaaaaaaa4", "", outcome.Remediated, change(opts("optional", 1), opts("required", 1)), ""),
			},
		},
		"imds-dry-run": {
			Guardrail: guardrail.IMDS, EventID: "0d7e5e8f-3b0a-4a38-9d55-4ad1c1b2e3f4", EventName: "EC2 Instance State-change Notification",
			Account: hub, Region: "eu-west-1", DryRun: true,
			Results: []guardrail.Result{
				imdsResult("i-0123456789abcdef0", "web", outcome.DryRun, change(opts("optional", 2), opts("required", 1)), "dry-run: no change written"),
			},
		},
		"imds-failed": {
			Guardrail: guardrail.IMDS, EventID: "9a1b2c3d-4e5f-4061-8a7b-8c9d0e1f2a3b", EventName: "RunInstances",
			Account: member, Region: "eu-west-1", Actor: "arn:aws:sts::444455556666:assumed-role/ci/pipeline",
			Results: []guardrail.Result{
				imdsResult("i-0fedcba9876543210", "api", outcome.Failed, change(opts("optional", 2), opts("required", 1)),
					"assume arn:aws:iam::444455556666:role/credguard-remediation: operation error STS: AssumeRole, https response error StatusCode: 403, api error AccessDenied: not authorized to perform sts:AssumeRole"),
			},
		},
		"imds-mixed": {
			Guardrail: guardrail.IMDS, EventID: "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7", EventName: "RunInstances",
			Account: hub, Region: "eu-west-1", Actor: alice,
			Results: []guardrail.Result{
				imdsResult("i-0bbbbbbbbbbbbbbb1", "worker-1", outcome.Remediated, change(opts("optional", 2), opts("required", 1)), ""),
				imdsResult("i-0bbbbbbbbbbbbbbb2", "worker-2", outcome.Failed, change(opts("optional", 2), opts("required", 1)),
					"options still pending after 20s: the instance did not confirm the change before the deadline"),
				imdsResult("i-0bbbbbbbbbbbbbbb3", "worker-3", outcome.Remediated, change(opts("optional", 2), opts("required", 1)), ""),
			},
		},
		"trust-revoked": {
			Guardrail: guardrail.Trust, EventID: "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b", EventName: "CreateRole",
			Account: hub, Region: "us-east-1", Actor: alice,
			Results: []guardrail.Result{
				trustResult("ci-deployer", outcome.Revoked, ciDeployerBefore, ciDeployerAfter,
					`critical any-principal (statement 0): Principal {"AWS": "*"} lets any AWS account assume the role; statement removed`, "critical"),
			},
		},
		"trust-revoked-scoped": {
			Guardrail: guardrail.Trust, EventID: "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", EventName: "CreatePodIdentityAssociation",
			Account: hub, Region: "us-east-1", Actor: alice,
			Results: []guardrail.Result{
				trustResult("billing-api", outcome.Revoked, billingBefore, billingAfter,
					`critical oidc-sub-wildcard (statement 0): sub "system:serviceaccount:*" lets every service account of the cluster in; scoped to billing/billing-api`, "critical"),
			},
		},
		"trust-warned": {
			Guardrail: guardrail.Trust, EventID: "8b7a6c5d-4e3f-4210-9f8e-7d6c5b4a3f2e", EventName: "UpdateAssumeRolePolicy",
			Account: hub, Region: "us-east-1", Actor: alice,
			Results: []guardrail.Result{
				trustResult("payments-api", outcome.Warned, paymentsPolicy, "",
					"warning pod-identity-unscoped (statement 0): pods.eks.amazonaws.com with no condition lets any Pod Identity association in this account use the role", "warning"),
			},
		},
		"trust-dry-run": {
			Guardrail: guardrail.Trust, EventID: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", EventName: "UpdateAssumeRolePolicy",
			Account: hub, Region: "us-east-1", Actor: alice, DryRun: true,
			Results: []guardrail.Result{
				trustResult("data-export", outcome.DryRun, federatedStar, denyAll,
					`critical federated-wildcard (statement 0): Principal {"Federated": "*"} lets any identity provider in`, "critical"),
			},
		},
		"trust-failed": {
			Guardrail: guardrail.Trust, EventID: "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a", EventName: "UpdateAssumeRolePolicy",
			Account: member, Region: "us-east-1", Actor: "arn:aws:sts::444455556666:assumed-role/admin/bob",
			Results: []guardrail.Result{
				{Guardrail: guardrail.Trust, Account: member, Resource: "arn:aws:iam::444455556666:role/data-export", Name: "data-export",
					Outcome: outcome.Failed, Trust: trustChange(federatedStar, denyAll, "critical"),
					Detail: "update assume role policy: operation error IAM: UpdateAssumeRolePolicy, https response error StatusCode: 403, api error AccessDenied: not authorized to perform iam:UpdateAssumeRolePolicy"},
			},
		},
		"trust-oversized-diff-cut": {
			Guardrail: guardrail.Trust, EventID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", EventName: "UpdateAssumeRolePolicy",
			Account: hub, Region: "us-east-1", Actor: alice,
			Results: []guardrail.Result{
				trustResult("partner-gateway", outcome.Revoked, bigPolicy(13), denyAll,
					"critical any-principal (statements 0–12): Principal {\"AWS\": \"*\"} bounded only by sts:ExternalId lets any AWS account that knows the id in; all removed", "critical"),
			},
		},
	}
}

type golden struct {
	Attributes map[string]string `json:"attributes"`
	Message    Message           `json:"message"`
}

func TestBuildGolden(t *testing.T) {
	for name, inc := range goldenIncidents() {
		t.Run(name, func(t *testing.T) {
			m, a, err := Build(inc)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			checkLimits(t, m)
			got, err := json.MarshalIndent(golden{Attributes: a.Map(), Message: m}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			compareGolden(t, filepath.Join("testdata", name+".golden.json"), got)
			compareGolden(t, filepath.Join("testdata", name+".golden.txt"), []byte(renderText(m)))
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/notify -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the built message (run go test ./internal/notify -update after checking the change)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// checkLimits asserts what every built message must satisfy.
func checkLimits(t *testing.T, m Message) {
	t.Helper()
	if m.Version != "1.0" || m.Source != "custom" || m.Content.TextType != "client-markdown" {
		t.Errorf("schema fields: version %q source %q textType %q", m.Version, m.Source, m.Content.TextType)
	}
	if n := runes(m.Content.Title); n == 0 || n > MaxTitleChars {
		t.Errorf("title is %d characters", n)
	}
	if n := runes(m.Content.Description); n > MaxDescriptionChars {
		t.Errorf("description is %d characters, over %d", n, MaxDescriptionChars)
	}
	if strings.Count(m.Content.Description, "```")%2 != 0 {
		t.Errorf("description leaves a code block open:\n%s", m.Content.Description)
	}
	for _, s := range m.Content.NextSteps {
		if runes(s) > MaxNextStepChars {
			t.Errorf("next step is %d characters", runes(s))
		}
	}
	data, err := json.Marshal(m)
	if err != nil || len(data) > MaxMessageBytes {
		t.Errorf("message is %d bytes (err %v)", len(data), err)
	}
	if _, err := Parse(data); err != nil {
		t.Errorf("the built message does not parse back: %v", err)
	}
}

// renderText shows a message the way Slack (through Chatbot) presents it, as
// plain text for the golden files: the title, the description with bold dropped and
// code blocks indented, the next steps as bullets and the keywords as tags.
func renderText(m Message) string {
	var b strings.Builder
	b.WriteString(Plain(m.Content.Title))
	b.WriteString("\n\n")
	b.WriteString(PlainMarkup(m.Content.Description))
	if len(m.Content.NextSteps) > 0 {
		b.WriteString("\n\nNext steps\n")
		for _, s := range m.Content.NextSteps {
			b.WriteString("• ")
			b.WriteString(strings.ReplaceAll(PlainMarkup(s), "\n", "\n  "))
			b.WriteString("\n")
		}
	} else {
		b.WriteString("\n")
	}
	if len(m.Content.Keywords) > 0 {
		tags := make([]string, len(m.Content.Keywords))
		for i, k := range m.Content.Keywords {
			tags[i] = "[" + unescaper.Replace(k) + "]"
		}
		b.WriteString("\n")
		b.WriteString(strings.Join(tags, " "))
		b.WriteString("\n")
	}
	return b.String()
}
