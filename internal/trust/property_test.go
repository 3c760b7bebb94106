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
	genService   = []string{"pods.eks.amazonaws.com", "pods.eks.amazonaws.com", "ec2.amazonaws.com", "*"}
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
		"oidc.eks.eu-west-1.amazonaws.com/id/B:sub": {"system:serviceaccount:prod:billing-api", "*"},
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
	if g.chance(10) {
		return `"*"`
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
	policies := 1200
	if testing.Short() {
		policies = 300
	}
	g := policyGen{rand.New(rand.NewPCG(20261128, 4))}
	kinds := map[ChangeKind]int{}
	unchanged, allowedSomething := 0, 0
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
		for _, w := range []*Workload{nil, &testWorkload} {
			checkFixed(t, p, w, 150)
			_, changes, _ := Fix(p, w)
			if len(changes) == 0 {
				unchanged++
			}
			for _, c := range changes {
				kinds[c.Kind]++
			}
		}
	}
	// The generator must reach every path, or the properties prove little.
	t.Logf("changes by kind %v, unchanged %d, allowed requests %d", kinds, unchanged, allowedSomething)
	if kinds[ChangeRemoved] == 0 || kinds[ChangeScoped] == 0 || kinds[ChangeDenyAll] == 0 || unchanged == 0 || allowedSomething == 0 {
		t.Errorf("generator coverage too thin: %v, unchanged %d, allowed %d", kinds, unchanged, allowedSomething)
	}
}
