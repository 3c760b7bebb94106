package trust

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// policyGen generates trust policies from a grammar over every legal form:
// Statement object or array, Principal "*" or a map of strings or arrays,
// NotPrincipal, Action or NotAction, condition operators in any case with
// ForAnyValue:/ForAllValues: and IfExists, keys in any case, values as
// strings, arrays, booleans and numbers.
type policyGen struct{ r *rand.Rand }

func (g policyGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g policyGen) chance(pct int) bool { return g.r.IntN(100) < pct }

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// strings renders 1–3 distinct values from pool as a JSON string or array.
func (g policyGen) strings(pool []string) string {
	n := 1 + g.r.IntN(3)
	var vals []string
	for len(vals) < n {
		v := q(pool[g.r.IntN(len(pool))])
		dup := false
		for _, x := range vals {
			dup = dup || x == v
		}
		if dup {
			break
		}
		vals = append(vals, v)
	}
	if len(vals) == 1 && g.chance(70) {
		return vals[0]
	}
	return "[" + strings.Join(vals, ",") + "]"
}

// recase changes the case of an operator or key, which IAM ignores.
func (g policyGen) recase(s string) string {
	switch g.r.IntN(6) {
	case 0:
		return strings.ToLower(s)
	case 1:
		return strings.ToUpper(s)
	}
	return s
}

var (
	genAWS = []string{"*", "444455556666", "arn:aws:iam::444455556666:root", "arn:aws:iam::*:root",
		"arn:aws:iam::444455556666:role/deployer", "arn:aws:iam::111122223333:user/alice"}
	genService   = []string{"pods.eks.amazonaws.com", "pods.eks.amazonaws.com", "ec2.amazonaws.com", "s3.amazonaws.com", "*", "*.amazonaws.com"}
	genFederated = []string{testProvider, testProvider, ghProvider, "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B",
		"arn:aws:iam::111122223333:saml-provider/corp", "cognito-identity.amazonaws.com", "accounts.google.com", "*"}
	genActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:*", "*",
		"sts:AssumeRoleWith*", "sts:AssumeRoleWithSAML", "STS:ASSUMEROLE", "sts:AssumeRol?"}
	genOperators = []string{"StringEquals", "StringEquals", "StringLike", "StringLike", "StringNotEquals", "StringNotLike",
		"StringEqualsIgnoreCase", "ArnLike", "ArnEquals", "ArnNotLike", "Bool", "Null", "NumericLessThan", "DateGreaterThan", "StringSortOf"}
	genValues = map[string][]string{
		testIssuer + ":sub": {"system:serviceaccount:prod:billing-api", "system:serviceaccount:prod:*", "system:serviceaccount:*",
			"*", "system:serviceaccount:other:billing-api", "system:serviceaccount:pr?d:billing-api", "${aws:username}"},
		testIssuer + ":aud":                       {"sts.amazonaws.com", "*", "other"},
		"token.actions.githubusercontent.com:sub": {"repo:example-org/deploy:ref:refs/heads/main", "repo:example-org/*", "repo:*", "*"},
		"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
		"*:sub":                               {"system:serviceaccount:prod:billing-api"},
		"aws:RequestTag/kubernetes-namespace": {"prod", "other", "*"},
		"aws:RequestTag/kubernetes-service-account": {"billing-api", "*"},
		"aws:RequestTag/eks-cluster-arn":            {testWorkload.ClusterARN, "arn:aws:eks:*:111122223333:cluster/*"},
		"aws:SourceAccount":                         {"111122223333", "444455556666"},
		"aws:PrincipalOrgID":                        {"o-a1b2c3d4e5", "o-*"},
		"aws:PrincipalArn":                          {"arn:aws:iam::444455556666:role/deployer", "arn:aws:iam::*:role/*"},
		"cognito-identity.amazonaws.com:aud":        {"us-east-1:pool", "*"},
		"aws:MultiFactorAuthPresent":                {"true", "false"},
		"aws:MultiFactorAuthAge":                    {"3600", "60"},
		"aws:CurrentTime":                           {"2026-01-01T00:00:00Z", "not-a-date"},
		"oidc.eks.eu-west-1.amazonaws.com/id/B:sub": {"system:serviceaccount:prod:billing-api", "system:serviceaccount:*", "*"},
		"oidc.eks.eu-west-1.amazonaws.com/id/B:aud": {"sts.amazonaws.com"},
	}
	genKeys = func() []string {
		var ks []string
		for k := range genValues {
			ks = append(ks, k)
		}
		for i := 1; i < len(ks); i++ {
			for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
				ks[j], ks[j-1] = ks[j-1], ks[j]
			}
		}
		return ks
	}()
)

func (g policyGen) principal() string {
	if g.chance(15) {
		return `"*"`
	}
	if g.chance(20) {
		// A wildcard mixed with a legitimate principal of another type.
		if g.chance(50) {
			return `{"AWS":"*",` + g.pick(`"Service":`+g.strings(genService[:4]), `"Federated":`+g.strings(genFederated[:3])) + "}"
		}
		return `{"Service":"*",` + g.pick(`"AWS":`+g.strings(genAWS[1:]), `"Federated":`+g.strings(genFederated[:3])) + "}"
	}
	types := []struct {
		name string
		pool []string
	}{{"AWS", genAWS}, {"Service", genService}, {"Federated", genFederated}}
	var parts []string
	for _, i := range g.r.Perm(len(types))[:1+g.r.IntN(2)] {
		parts = append(parts, q(types[i].name)+":"+g.strings(types[i].pool))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (g policyGen) value(key string) string {
	pool := genValues[key]
	v := pool[g.r.IntN(len(pool))]
	switch {
	case (v == "true" || v == "false") && g.chance(50):
		return v // a JSON boolean
	case v == "3600" && g.chance(50):
		return v // a JSON number
	case g.chance(25):
		return "[" + q(v) + "," + q(pool[g.r.IntN(len(pool))]) + "]"
	}
	return q(v)
}

func (g policyGen) condition() string {
	ops := map[string]bool{}
	var blocks []string
	for range 1 + g.r.IntN(3) {
		op := g.pick(genOperators...)
		if g.chance(20) {
			op = g.pick("ForAnyValue:", "ForAllValues:") + op
		}
		if g.chance(15) && !strings.HasSuffix(op, "Null") {
			op += "IfExists"
		}
		op = g.recase(op)
		if ops[strings.ToLower(op)] {
			continue
		}
		ops[strings.ToLower(op)] = true
		keys := map[string]bool{}
		var kvs []string
		for range 1 + g.r.IntN(3) {
			k := genKeys[g.r.IntN(len(genKeys))]
			if keys[strings.ToLower(k)] {
				continue
			}
			keys[strings.ToLower(k)] = true
			kvs = append(kvs, q(g.recase(k))+":"+g.value(k))
		}
		blocks = append(blocks, q(op)+":{"+strings.Join(kvs, ",")+"}")
	}
	return "{" + strings.Join(blocks, ",") + "}"
}

func (g policyGen) statement(i int) string {
	var parts []string
	if g.chance(20) {
		parts = append(parts, `"Sid":"S`+string(rune('A'+i))+`"`)
	}
	effect := "Allow"
	if g.chance(15) {
		effect = "Deny"
	}
	parts = append(parts, `"Effect":"`+effect+`"`)
	if g.chance(5) {
		parts = append(parts, `"NotPrincipal":`+g.principal())
	} else {
		parts = append(parts, `"Principal":`+g.principal())
	}
	if g.chance(10) {
		parts = append(parts, `"NotAction":`+g.strings(genActions))
	} else {
		parts = append(parts, `"Action":`+g.strings(genActions))
	}
	if g.chance(75) {
		parts = append(parts, `"Condition":`+g.condition())
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ",") + "}"
}

func (g policyGen) policy() string {
	var top []string
	if g.chance(80) {
		top = append(top, `"Version":"`+g.pick(Version2012, Version2012, Version2008)+`"`)
	}
	if g.chance(10) {
		top = append(top, `"Id":"generated"`)
	}
	n := 1 + g.r.IntN(4)
	if n == 1 && g.chance(40) {
		top = append(top, `"Statement":`+g.statement(0))
	} else {
		stmts := make([]string, n)
		for i := range stmts {
			stmts[i] = g.statement(i)
		}
		top = append(top, `"Statement":[`+strings.Join(stmts, ",")+`]`)
	}
	return "{" + strings.Join(top, ",") + "}"
}

// TestFixProperties checks, over generated policies and requests, that Fix
// never widens (Allowed(Fix(p), r) ⇒ Allowed(p, r)), is idempotent, and
// returns a policy that re-parses with no critical finding; and that Marshal
// round-trips meaning.
func TestFixProperties(t *testing.T) {
	policies := 1000
	if testing.Short() {
		policies = 300
	}
	g := policyGen{rand.New(rand.NewPCG(20261128, 4))}
	kinds := map[ChangeKind]int{}
	unchanged, allowedSomething, replaced, otherIssuer := 0, 0, 0, 0
	for i := range policies {
		doc := g.policy()
		p, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("policy %d: generated policy does not parse: %v\n%s", i, err, doc)
		}
		out := mustMarshal(t, p)
		re, err := Parse([]byte(out))
		if err != nil {
			t.Fatalf("policy %d: marshalled policy does not parse: %v\n%s", i, err, out)
		}
		reqs := requestsFor(p, uint64(i), 150)
		for _, r := range reqs {
			a := Allowed(p, r)
			if a != Allowed(re, r) {
				t.Fatalf("policy %d: Marshal changed the meaning for %+v\n%s\n%s", i, r, doc, out)
			}
			if a {
				allowedSomething++
			}
		}
		for _, w := range []*Workload{nil, &testWorkload, &otherWorkload, &noIssuerWorkload} {
			checkFixed(t, p, w, 150)
			checkKeepsWorkload(t, p, w)
			_, changes, _ := Fix(p, w)
			if len(changes) == 0 {
				unchanged++
			}
			for _, c := range changes {
				kinds[c.Kind]++
				switch {
				case strings.Contains(c.Detail, "replaced"):
					replaced++
				case c.Kind == ChangeScoped && strings.Contains(c.Detail, ":sub = ") && w == &otherWorkload:
					otherIssuer++
				}
			}
		}
	}
	// The generator must reach every path, or the properties prove little.
	t.Logf("changes by kind %v, unchanged %d, allowed requests %d, public replaced %d, other issuer scoped %d",
		kinds, unchanged, allowedSomething, replaced, otherIssuer)
	if kinds[ChangeRemoved] == 0 || kinds[ChangeScoped] == 0 || kinds[ChangeTrimmed] == 0 || kinds[ChangeDenyAll] == 0 ||
		unchanged == 0 || allowedSomething == 0 || replaced == 0 || otherIssuer == 0 {
		t.Errorf("generator coverage too thin: %v, unchanged %d, allowed %d, replaced %d, other issuer %d",
			kinds, unchanged, allowedSomething, replaced, otherIssuer)
	}
}

// otherWorkload is a workload of a second cluster, whose issuer is the
// generator's ".../id/B" provider; noIssuerWorkload has no issuer at all.
var (
	otherWorkload = Workload{
		ClusterARN:     "arn:aws:eks:eu-west-1:111122223333:cluster/b",
		Namespace:      "prod",
		ServiceAccount: "billing-api",
		Issuer:         "https://oidc.eks.eu-west-1.amazonaws.com/id/B",
	}
	noIssuerWorkload = Workload{ClusterName: "prod", Namespace: "prod", ServiceAccount: "billing-api"}
)

// workloadRequests are the requests the workload itself makes: Pod Identity
// (pods.eks.amazonaws.com with the session tags EKS sets) and, when its
// issuer is known, IRSA (the cluster's provider with its sub and aud).
func workloadRequests(w Workload) []Request {
	tags := map[string][]string{
		"aws:RequestTag/kubernetes-namespace":       {w.Namespace},
		"aws:RequestTag/kubernetes-service-account": {w.ServiceAccount},
		"aws:RequestTag/eks-cluster-arn":            {w.ClusterARN},
		"aws:RequestTag/eks-cluster-name":           {w.ClusterName},
		"aws:SourceAccount":                         {"111122223333"},
	}
	if w.ClusterARN == "" {
		delete(tags, "aws:RequestTag/eks-cluster-arn")
	}
	if w.ClusterName == "" {
		delete(tags, "aws:RequestTag/eks-cluster-name")
	}
	pods := Identity{Service, podIdentityService}
	out := []Request{{Principal: pods, Action: "sts:AssumeRole", Context: tags}, {Principal: pods, Action: "sts:TagSession", Context: tags}}
	if w.Issuer != "" {
		iss := strings.TrimPrefix(w.Issuer, "https://")
		out = append(out, Request{
			Principal: Identity{Federated, "arn:aws:iam::111122223333:oidc-provider/" + iss},
			Action:    "sts:AssumeRoleWithWebIdentity",
			Context: map[string][]string{
				iss + ":sub": {serviceAccountSubPrefix + w.Namespace + ":" + w.ServiceAccount},
				iss + ":aud": {"sts.amazonaws.com"},
			},
		})
	}
	return out
}

// checkKeepsWorkload asserts that Fix with a workload takes nothing away
// from that workload: every Pod Identity request of its own the original
// allowed, the fixed policy still allows, and so does every IRSA request the
// original allowed by naming its provider (not through a wildcard); unless
// the size quota forced a smaller rewrite.
func checkKeepsWorkload(t testing.TB, p Policy, w *Workload) {
	t.Helper()
	if w == nil {
		return
	}
	fixed, changes, err := Fix(p, w)
	if err != nil {
		t.Fatalf("fix: %v", err)
	}
	if strings.Contains(changes.String(), "size quota") {
		return
	}
	public := false
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != Allow {
			continue
		}
		if st.NotPrincipal != nil {
			public = true
		} else if _, pub := publicPrincipal(st.Principal); pub {
			public = true
		}
	}
	for _, r := range workloadRequests(*w) {
		if r.Principal.Type == Federated && public {
			continue
		}
		if Allowed(p, r) && !Allowed(fixed, r) {
			t.Fatalf("fix took the workload's own access away: %+v\nbefore %s\nafter  %s", r, mustMarshal(t, p), mustMarshal(t, fixed))
		}
	}
}
