package trust

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	testIssuer   = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	testProvider = "arn:aws:iam::111122223333:oidc-provider/" + testIssuer
	ghProvider   = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
)

// findingIDs renders findings as "rule@statement" for compact comparison.
func findingIDs(r Report) []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = fmt.Sprintf("%s@%d", f.Rule, f.Statement)
	}
	return out
}

func mustParse(t testing.TB, doc string) Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return p
}

// TestAnalyzeTestdata pins the verdict and findings of every policy in
// testdata/ (the files docs/trust-rules.md links to).
func TestAnalyzeTestdata(t *testing.T) {
	want := map[string][]string{
		"critical-account-wildcard-root":                      {"public-principal@1"},
		"critical-aws-star":                                   {"public-principal@1"},
		"critical-cognito-no-aud":                             {"web-identity-no-aud@1"},
		"critical-federated-star":                             {"public-principal@1"},
		"critical-github-any-repo":                            {"oidc-broad-sub@1"},
		"critical-irsa-to-pod-identity-migration-with-public": {"public-principal@2", "pod-identity-unscoped@2"},
		"critical-mixed-statements":                           {"public-principal@2"},
		"critical-not-principal-allow":                        {"not-principal-allow@1"},
		"critical-oidc-action-star":                           {"oidc-no-sub@1", "oidc-aud@1"},
		"critical-oidc-action-sts-star":                       {"oidc-no-sub@1", "oidc-aud@1"},
		"critical-oidc-action-wildcard":                       {"oidc-no-sub@1", "oidc-aud@1"},
		"critical-oidc-no-condition":                          {"oidc-no-sub@1", "oidc-aud@1"},
		"critical-oidc-no-sub":                                {"oidc-no-sub@1"},
		"critical-oidc-not-action":                            {"oidc-no-sub@1", "oidc-aud@1"},
		"critical-oidc-sub-all-namespaces":                    {"oidc-broad-sub@1"},
		"critical-oidc-sub-any-namespace-any-sa":              {"oidc-broad-sub@1"},
		"critical-oidc-sub-forallvalues":                      {"oidc-no-sub@1"},
		"critical-oidc-sub-foranyvalue-star":                  {"oidc-broad-sub@1"},
		"critical-oidc-sub-ifexists":                          {"oidc-no-sub@1"},
		"critical-oidc-sub-lowercase-operator":                {"oidc-broad-sub@1"},
		"critical-oidc-sub-namespace-prefix":                  {"oidc-broad-sub@1"},
		"critical-oidc-sub-namespace-question":                {"oidc-broad-sub@1"},
		"critical-oidc-sub-negated":                           {"oidc-no-sub@1"},
		"critical-oidc-sub-star":                              {"oidc-broad-sub@1"},
		"critical-oidc-sub-system-star":                       {"oidc-broad-sub@1"},
		"critical-oidc-wildcard-key":                          {"oidc-wildcard-key@1", "oidc-aud@1"},
		"critical-pods-with-public":                           {"public-principal@1", "pod-identity-unscoped@1"},
		"critical-principal-star":                             {"public-principal@1"},
		"critical-public-bound-forallvalues":                  {"public-principal@1"},
		"critical-public-bound-ifexists":                      {"public-principal@1"},
		"critical-public-bound-wildcard":                      {"public-principal@1"},
		"critical-public-external-id-only":                    {"public-principal@1"},
		"critical-single-statement-object":                    {"public-principal@1"},
		"warning-github-repo-wildcard":                        {"oidc-sub-wildcard@1"},
		"warning-oidc-aud-wildcard":                           {"oidc-aud@1"},
		"warning-oidc-no-aud":                                 {"oidc-aud@1"},
		"warning-oidc-sa-wildcard":                            {"oidc-sa-wildcard@1"},
		"warning-pod-identity-ifexists-only":                  {"pod-identity-unscoped@1"},
		"warning-pod-identity-unscoped":                       {"pod-identity-unscoped@1"},
		"warning-public-bounded-account":                      {"public-principal-bounded@1"},
		"warning-public-bounded-arn":                          {"public-principal-bounded@1"},
		"warning-public-bounded-org":                          {"public-principal-bounded@1"},
		"ok-cognito-aud":                                      {},
		"ok-condition-scalars":                                {},
		"ok-cross-account-role":                               {},
		"ok-cross-account-root":                               {},
		"ok-deny-public":                                      {},
		"ok-empty-statement":                                  {},
		"ok-federated-oidc-other-action":                      {},
		"ok-github-exact":                                     {},
		"ok-irsa-exact":                                       {},
		"ok-irsa-narrowest-wins":                              {},
		"ok-irsa-two-subjects":                                {},
		"ok-pod-identity-scoped":                              {},
		"ok-pod-identity-source-account":                      {},
		"ok-saml":                                             {},
		"ok-service-ec2":                                      {},
		"ok-version-2008":                                     {},
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", file)
			}
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := Analyze(mustParse(t, string(doc)))
			if got := findingIDs(r); !slices.Equal(got, exp) {
				t.Errorf("findings = %v, want %v", got, exp)
			}
			// The file name starts with the verdict.
			if wantVerdict := Severity(name[:strings.IndexByte(name, '-')]); r.Verdict != wantVerdict {
				t.Errorf("verdict = %s, want %s", r.Verdict, wantVerdict)
			}
			for _, f := range r.Findings {
				if f.Detail == "" {
					t.Errorf("finding %s has no detail", f.Rule)
				}
				if f.Severity != severityOf(t, f.Rule) {
					t.Errorf("finding %s has severity %s, rule table says %s", f.Rule, f.Severity, severityOf(t, f.Rule))
				}
			}
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("expectation for missing file testdata/%s.json", name)
		}
	}
}

func severityOf(t *testing.T, r Rule) Severity {
	for _, ri := range Rules() {
		if ri.ID == r {
			return ri.Severity
		}
	}
	t.Fatalf("rule %s is not in Rules()", r)
	return ""
}

func irsaPolicy(cond string) string {
	s := `{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity"`
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return `{"Version":"2012-10-17","Statement":[` + s + `}]}`
}

const audOK = `"StringEquals":{"` + testIssuer + `:aud":"sts.amazonaws.com"}`

func subCond(op, value string) string {
	if op == "StringEquals" {
		return `{"StringEquals":{"` + testIssuer + `:sub":` + value + `,"` + testIssuer + `:aud":"sts.amazonaws.com"}}`
	}
	return `{"` + op + `":{"` + testIssuer + `:sub":` + value + `},` + audOK + `}`
}

// TestAnalyzeForms covers the rules across the legal spellings of a policy.
func TestAnalyzeForms(t *testing.T) {
	pods := func(cond string) string {
		s := `{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return `{"Version":"2012-10-17","Statement":` + s + `}}`
	}
	public := func(principal, cond string) string {
		s := `{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return `{"Statement":[` + s + `}]}`
	}
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		// public principals and their bounds
		{"principal star", public(`"*"`, ""), []string{"public-principal@1"}},
		{"AWS star in array", public(`{"AWS":["arn:aws:iam::444455556666:root","*"]}`, ""), []string{"public-principal@1"}},
		{"service star", public(`{"Service":"*"}`, ""), []string{"public-principal@1"}},
		{"canonical user star", public(`{"CanonicalUser":"*"}`, ""), []string{"public-principal@1"}},
		{"wildcard role ARN", public(`{"AWS":"arn:aws:iam::444455556666:role/*"}`, ""), []string{"public-principal@1"}},
		{"exact account id", public(`{"AWS":"444455556666"}`, ""), []string{}},
		{"bounded by org", public(`{"AWS":"*"}`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal-bounded@1"}},
		{"bounded by org key any case", public(`{"AWS":"*"}`, `{"stringequals":{"AWS:PRINCIPALORGID":"o-a1b2c3d4e5"}}`), []string{"public-principal-bounded@1"}},
		{"bounded by source account", public(`"*"`, `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`), []string{"public-principal-bounded@1"}},
		{"bounded by source org", public(`"*"`, `{"StringEquals":{"aws:SourceOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal-bounded@1"}},
		{"bounded by principal ARN via ArnLike exact", public(`{"AWS":"*"}`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/x"}}`), []string{"public-principal-bounded@1"}},
		{"bounded by StringLike without wildcard", public(`{"AWS":"*"}`, `{"StringLike":{"aws:PrincipalAccount":"444455556666"}}`), []string{"public-principal-bounded@1"}},
		{"ArnLike wildcard does not bound", public(`{"AWS":"*"}`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}`), []string{"public-principal@1"}},
		{"ForAnyValue bounds (false when the key is absent)", public(`{"AWS":"*"}`, `{"ForAnyValue:StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal-bounded@1"}},
		{"IfExists does not bound", public(`{"AWS":"*"}`, `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal@1"}},
		{"ForAllValues does not bound", public(`{"AWS":"*"}`, `{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal@1"}},
		{"negated does not bound", public(`{"AWS":"*"}`, `{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"public-principal@1"}},
		{"policy variable does not bound", public(`{"AWS":"*"}`, `{"StringEquals":{"aws:PrincipalAccount":"${aws:PrincipalTag/acct}"}}`), []string{"public-principal@1"}},
		{"unrelated key does not bound", public(`{"AWS":"*"}`, `{"Bool":{"aws:SecureTransport":true}}`), []string{"public-principal@1"}},
		{"deny never grants", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*"}}`, []string{}},
		{"deny NotPrincipal is fine", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"444455556666"},"Action":"*"}}`, []string{}},
		{"NotPrincipal allow even when bounded", `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}}`, []string{"not-principal-allow@1"}},

		// web identity: sub
		{"exact sub", irsaPolicy(subCond("StringEquals", `"system:serviceaccount:prod:api"`)), []string{}},
		{"exact sub ignore case", irsaPolicy(subCond("StringEqualsIgnoreCase", `"system:serviceaccount:prod:api"`)), []string{}},
		{"exact sub ForAnyValue", irsaPolicy(subCond("ForAnyValue:StringEquals", `"system:serviceaccount:prod:api"`)), []string{}},
		{"literal star under StringEquals is exact", irsaPolicy(subCond("StringEquals", `"*"`)), []string{}},
		{"exact sub array", irsaPolicy(subCond("StringLike", `["system:serviceaccount:a:x","system:serviceaccount:b:y"]`)), []string{}},
		{"one broad value in array", irsaPolicy(subCond("StringLike", `["system:serviceaccount:a:x","system:serviceaccount:*"]`)), []string{"oidc-broad-sub@1"}},
		{"sa wildcard", irsaPolicy(subCond("StringLike", `"system:serviceaccount:prod:*"`)), []string{"oidc-sa-wildcard@1"}},
		{"sa question mark", irsaPolicy(subCond("StringLike", `"system:serviceaccount:prod:api-?"`)), []string{"oidc-sa-wildcard@1"}},
		{"namespace question mark", irsaPolicy(subCond("StringLike", `"system:serviceaccount:?:api"`)), []string{"oidc-broad-sub@1"}},
		{"namespace policy variable", irsaPolicy(subCond("StringEquals", `"system:serviceaccount:${aws:PrincipalTag/ns}:api"`)), []string{"oidc-broad-sub@1"}},
		{"ForAnyValue StringLike star", irsaPolicy(subCond("ForAnyValue:StringLike", `"*"`)), []string{"oidc-broad-sub@1"}},
		{"StringLikeIfExists", irsaPolicy(subCond("StringLikeIfExists", `"system:serviceaccount:prod:api"`)), []string{"oidc-no-sub@1"}},
		{"ForAllValues StringLike", irsaPolicy(subCond("ForAllValues:StringLike", `"system:serviceaccount:prod:api"`)), []string{"oidc-no-sub@1"}},
		{"StringNotLike", irsaPolicy(subCond("StringNotLike", `"system:serviceaccount:kube-system:*"`)), []string{"oidc-no-sub@1"}},
		{"ArnEquals does not count for sub", irsaPolicy(subCond("ArnEquals", `"system:serviceaccount:prod:api"`)), []string{"oidc-no-sub@1"}},
		{"sub of another issuer", irsaPolicy(`{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/OTHER:sub":"system:serviceaccount:prod:api",` + audOK[len(`"StringEquals":{`):] + `}`), []string{"oidc-no-sub@1"}},
		{"wildcard key only", irsaPolicy(`{"StringEquals":{"oidc.eks.*:sub":"system:serviceaccount:prod:api",` + audOK[len(`"StringEquals":{`):] + `}`), []string{"oidc-wildcard-key@1"}},
		{"wildcard key plus exact sub", irsaPolicy(`{"StringEquals":{"*:sub":"x","` + testIssuer + `:sub":"system:serviceaccount:prod:api",` + audOK[len(`"StringEquals":{`):] + `}`), []string{}},
		{"key case-insensitive", irsaPolicy(`{"StringEquals":{"` + strings.ToUpper(testIssuer) + `:SUB":"system:serviceaccount:prod:api","` + testIssuer + `:Aud":"sts.amazonaws.com"}}`), []string{}},
		{"operator case-insensitive", irsaPolicy(`{"stringEQUALS":{"` + testIssuer + `:sub":"system:serviceaccount:prod:api"},` + audOK + `}`), []string{}},
		{"China EKS issuer", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC:sub":"system:serviceaccount:*","oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC:aud":"sts.amazonaws.com"}}}}`, []string{"oidc-broad-sub@1"}},
		{"self-managed Kubernetes issuer", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/k8s.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"k8s.example.com:sub":"system:serviceaccount:*:api","k8s.example.com:aud":"sts.amazonaws.com"}}}}`, []string{"oidc-broad-sub@1"}},
		{"generic OIDC leading wildcard", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/idp.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"idp.example.com:sub":"*@example.com","idp.example.com:aud":"app"}}}}`, []string{"oidc-broad-sub@1"}},
		{"generic OIDC fixed prefix", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/idp.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"idp.example.com:sub":"team-a/*","idp.example.com:aud":"app"}}}}`, []string{"oidc-sub-wildcard@1"}},
		{"GitHub owner prefix only", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + ghProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:example-org*","token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}`, []string{"oidc-broad-sub@1"}},
		{"GitHub wildcard repo prefix", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + ghProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"re*","token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}`, []string{"oidc-broad-sub@1"}},
		{"unknown federated name", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"my-idp.example.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`, []string{"oidc-no-sub@1", "oidc-aud@1"}},
		{"two providers one unbounded", `{"Statement":{"Effect":"Allow","Principal":{"Federated":["` + testProvider + `","` + ghProvider + `"]},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}}`, []string{"oidc-no-sub@1", "oidc-aud@1"}},
		{"action list with web identity", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":["sts:TagSession","STS:assumerolewithwebidentity"]}}`, []string{"oidc-no-sub@1", "oidc-aud@1"}},
		{"NotAction excluding web identity", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"NotAction":"sts:AssumeRoleWith*"}}`, []string{}},
		{"SAML federation", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/corp"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}}`, []string{}},
		{"SAML provider with web identity action", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/corp"},"Action":"sts:*"}}`, []string{}},

		// web identity: aud
		{"aud missing", irsaPolicy(`{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:api"}}`), []string{"oidc-aud@1"}},
		{"aud IfExists only", irsaPolicy(`{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:api"},"StringEqualsIfExists":{"` + testIssuer + `:aud":"sts.amazonaws.com"}}`), []string{"oidc-aud@1"}},
		{"aud wildcard", irsaPolicy(`{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:api"},"StringLike":{"` + testIssuer + `:aud":"sts.*"}}`), []string{"oidc-aud@1"}},

		// public identity providers
		{"Google with aud", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"1234.apps.googleusercontent.com"}}}}`, []string{}},
		{"Google without aud", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`, []string{"web-identity-no-aud@1"}},
		{"Facebook app_id", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"graph.facebook.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"graph.facebook.com:app_id":"1234"}}}}`, []string{}},
		{"Cognito aud wildcard", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"cognito-identity.amazonaws.com:aud":"us-east-1:*"}}}}`, []string{"web-identity-no-aud@1"}},

		// Pod Identity
		{"pods unscoped", pods(""), []string{"pod-identity-unscoped@1"}},
		{"pods scoped by namespace tag", pods(`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}`), []string{}},
		{"pods scoped by service account tag", pods(`{"StringEquals":{"aws:RequestTag/kubernetes-service-account":"api"}}`), []string{}},
		{"pods scoped by cluster ARN", pods(`{"ArnEquals":{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}`), []string{}},
		{"pods scoped by source ARN pattern", pods(`{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:111122223333:cluster/*"}}`), []string{}},
		{"pods scoped by source org", pods(`{"StringEquals":{"aws:SourceOrgId":"o-a1b2c3d4e5"}}`), []string{}},
		{"pods tag wildcard only", pods(`{"StringLike":{"aws:RequestTag/kubernetes-namespace":"*"}}`), []string{"pod-identity-unscoped@1"}},
		{"pods negated only", pods(`{"StringNotEquals":{"aws:RequestTag/kubernetes-namespace":"kube-system"}}`), []string{"pod-identity-unscoped@1"}},
		{"pods unrelated condition", pods(`{"Bool":{"aws:SecureTransport":"true"}}`), []string{"pod-identity-unscoped@1"}},
		{"pods without AssumeRole", `{"Statement":{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:TagSession"}}`, []string{}},
		{"other service", `{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}}`, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Analyze(mustParse(t, tc.doc))
			if got := findingIDs(r); !slices.Equal(got, tc.want) {
				t.Errorf("findings = %v, want %v\n%s", got, tc.want, r)
			}
			want := OK
			for _, id := range tc.want {
				if s := severityOf(t, Rule(id[:strings.IndexByte(id, '@')])); s.rank() > want.rank() {
					want = s
				}
			}
			if r.Verdict != want {
				t.Errorf("verdict = %s, want %s", r.Verdict, want)
			}
		})
	}
}

func TestReportFindingsNeverNil(t *testing.T) {
	r := Analyze(mustParse(t, `{"Statement":[]}`))
	if r.Findings == nil || r.Verdict != OK {
		t.Fatalf("report = %#v", r)
	}
	if s := r.String(); s != "verdict: ok (no findings)" {
		t.Errorf("String() = %q", s)
	}
}

func TestSubValueLevel(t *testing.T) {
	eks := classifyProvider(testProvider)
	cases := []struct {
		value string
		like  bool
		want  subLevel
	}{
		{"system:serviceaccount:prod:api", true, subExact},
		{"*", true, subBroad},
		{"*", false, subExact},
		{"system:*", true, subBroad},
		{"system:serviceaccount:*", true, subBroad},
		{"system:serviceaccount:*:*", true, subBroad},
		{"system:serviceaccount:team-*:x", true, subBroad},
		{"system:serviceaccount:pr?d:x", true, subBroad},
		{"system:serviceaccount::*", true, subBroad},
		{"system:serviceaccount:prod:*", true, subScoped},
		{"system:serviceaccount:prod:a?i", true, subScoped},
		{"system:serviceaccount:prod:${aws:username}", false, subScoped},
		{"system:serviceaccount:${x}:api", false, subBroad},
	}
	for _, tc := range cases {
		if got, _ := subValueLevel(eks, tc.value, tc.like); got != tc.want {
			t.Errorf("subValueLevel(%q, like=%v) = %d, want %d", tc.value, tc.like, got, tc.want)
		}
	}
}

// TestDocsExamples checks every "Fails"/"Passes" example of
// docs/trust-rules.md against Analyze.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "trust-rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	jsonAfter := func(section, label string) string {
		i := strings.Index(section, "\n"+label)
		if i < 0 {
			return ""
		}
		rest := section[i:]
		start := strings.Index(rest, "```json\n")
		if start < 0 {
			return ""
		}
		rest = rest[start+len("```json\n"):]
		return strings.ReplaceAll(rest[:strings.Index(rest, "```")], "ISSUER", testIssuer)
	}
	// Every linked test file exists.
	for _, part := range strings.Split(string(doc), "](../internal/trust/testdata/")[1:] {
		target := part[:strings.IndexByte(part, ')')]
		if _, err := os.Stat(filepath.Join("testdata", filepath.FromSlash(target))); err != nil {
			t.Errorf("broken link %s: %v", target, err)
		}
	}
	sections := strings.Split(string(doc), "\n#### `")[1:]
	if len(sections) != len(Rules()) {
		t.Errorf("%d rule sections, %d rules", len(sections), len(Rules()))
	}
	for _, sec := range sections {
		rule := Rule(sec[:strings.IndexByte(sec, '`')])
		t.Run(string(rule), func(t *testing.T) {
			severityOf(t, rule)
			fails, passes := jsonAfter(sec, "Fails"), jsonAfter(sec, "Passes")
			if fails == "" || passes == "" {
				t.Fatal("missing a Fails or Passes example")
			}
			if got := findingIDs(Analyze(mustParse(t, fails))); !slices.Contains(got, string(rule)+"@1") {
				t.Errorf("Fails example gives %v", got)
			}
			if r := Analyze(mustParse(t, passes)); r.Verdict != OK {
				t.Errorf("Passes example gives %s %v", r.Verdict, findingIDs(r))
			}
		})
	}
}
