package trust

import (
	"math/rand/v2"
	"strings"
)

// testWorkload is the workload the scoping tests and generators use.
var testWorkload = Workload{
	ClusterARN:     "arn:aws:eks:us-east-1:111122223333:cluster/prod",
	Namespace:      "prod",
	ServiceAccount: "billing-api",
	Issuer:         "https://" + testIssuer,
}

// fixedIdentities are callers every derived request set includes.
var fixedIdentities = []Identity{
	{AWS, "arn:aws:iam::444455556666:user/alice"},
	{AWS, "arn:aws:sts::444455556666:assumed-role/deployer/s"},
	{AWS, "arn:aws:iam::999988887777:user/mallory"},
	{AWS, "111122223333"},
	{Service, "pods.eks.amazonaws.com"},
	{Service, "ec2.amazonaws.com"},
	{Federated, testProvider},
	{Federated, ghProvider},
	{Federated, "arn:aws:iam::111122223333:saml-provider/corp"},
	{Federated, "cognito-identity.amazonaws.com"},
	{CanonicalUser, "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
}

var testActions = []string{
	"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML",
	"sts:TagSession", "sts:SetSourceIdentity", "iam:PassRole",
}

// instantiate turns a policy value into a concrete request value that it
// matches (wildcards filled in), so derived requests reach the conditions.
func instantiate(v string) string {
	v = strings.ReplaceAll(v, "*", "x")
	return strings.ReplaceAll(v, "?", "y")
}

// requestsFor derives requests from a policy: every principal the policy
// names (and fixed strangers), every action of interest, and contexts built
// from the policy's own condition keys and values plus the test workload's
// keys. With n > 0 it returns n requests sampled from those; with n == 0,
// all combinations. The result is deterministic for a given seed.
func requestsFor(p Policy, seed uint64, n int) []Request {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	ids := append([]Identity(nil), fixedIdentities...)
	keys := map[string][]string{}
	addKey := func(k, v string) {
		for _, x := range keys[k] {
			if x == v {
				return
			}
		}
		keys[k] = append(keys[k], v)
	}
	for _, s := range p.Statements {
		for _, pr := range []*Principal{s.Principal, s.NotPrincipal} {
			if pr == nil {
				continue
			}
			for _, e := range pr.Entries {
				for _, v := range e.Values {
					id := instantiate(v)
					if e.Type == AWS {
						if acct, root := accountOf(id); root {
							id = "arn:aws:iam::" + acct + ":user/u"
						}
					}
					ids = append(ids, Identity{e.Type, id})
				}
			}
		}
		for _, c := range s.Conditions {
			if hasWildcard(c.Key) {
				continue
			}
			for _, v := range c.Values {
				addKey(c.Key, instantiate(v))
				addKey(c.Key, v)
			}
			addKey(c.Key, "other")
		}
	}
	for _, iss := range []string{testIssuer, "token.actions.githubusercontent.com"} {
		addKey(iss+":sub", serviceAccountSubPrefix+testWorkload.Namespace+":"+testWorkload.ServiceAccount)
		addKey(iss+":sub", serviceAccountSubPrefix+"other:billing-api")
		addKey(iss+":aud", "sts.amazonaws.com")
	}
	addKey("aws:RequestTag/kubernetes-namespace", testWorkload.Namespace)
	addKey("aws:RequestTag/kubernetes-service-account", testWorkload.ServiceAccount)
	addKey("aws:RequestTag/eks-cluster-arn", testWorkload.ClusterARN)
	addKey("aws:RequestTag/eks-cluster-name", "prod")
	addKey("aws:SourceAccount", "111122223333")
	addKey("aws:PrincipalOrgID", "o-a1b2c3d4e5")

	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	// Map order is random: sort for determinism.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	full := func(pick func(vals []string) string) map[string][]string {
		m := map[string][]string{}
		for _, k := range names {
			if v := pick(keys[k]); v != "" {
				m[k] = []string{v}
			}
		}
		return m
	}
	contexts := []map[string][]string{
		nil,
		full(func(v []string) string { return v[0] }),
		full(func(v []string) string { return v[len(v)-1] }),
	}
	for len(contexts) < 8 {
		contexts = append(contexts, full(func(v []string) string {
			if rng.IntN(3) == 0 {
				return ""
			}
			return v[rng.IntN(len(v))]
		}))
	}
	var out []Request
	if n > 0 {
		// A sample: random principal, action and context, n times.
		for range n {
			out = append(out, Request{
				Principal: ids[rng.IntN(len(ids))],
				Action:    testActions[rng.IntN(len(testActions))],
				Context:   contexts[rng.IntN(len(contexts))],
			})
		}
		return out
	}
	for _, id := range ids {
		for _, a := range testActions {
			for _, c := range contexts {
				out = append(out, Request{Principal: id, Action: a, Context: c})
			}
		}
	}
	return out
}
