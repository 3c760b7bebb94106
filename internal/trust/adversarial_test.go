package trust

import "testing"

// TestFixAdversarial holds policies an attacker or an odd template could
// present: public values hidden among legitimate ones, wildcard ARNs and
// service globs, Federated "*" beside a real provider, IfExists and
// ForAllValues bounds that do not bound, Deny statements, a Statement object.
// For every workload (none, the test cluster's, another cluster's, one with
// no issuer) the fix must not widen, be idempotent, re-parse and stay within
// the quota; keep lists requests of legitimate principals that must still be
// allowed after the fix, deny requests of strangers that must not be.
func TestFixAdversarial(t *testing.T) {
	const migrationIssuer = "oidc.eks.eu-west-1.amazonaws.com/id/5C64E3A1F0B2D7C8E9A04B1D2C3E4F50"
	ctx := map[string][]string{
		testIssuer + ":sub": {serviceAccountSubPrefix + "prod:billing-api"},
		testIssuer + ":aud": {"sts.amazonaws.com"},
	}
	mallory := Request{Principal: Identity{AWS, "arn:aws:iam::999988887777:user/mallory"}, Action: "sts:AssumeRole"}
	tests := []struct {
		name       string
		doc        string
		keep, deny []Request
	}{
		{
			name: "AWS * beside a service, NotAction",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Service":"s3.amazonaws.com"},"NotAction":"sts:AssumeRoleWithSAML"}]}`,
			keep: []Request{{Principal: Identity{Service, "s3.amazonaws.com"}, Action: "sts:AssumeRole"}},
			deny: []Request{mallory},
		},
		{
			name: "wildcard ARNs among a role, Statement object",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/ci","*","arn:aws:iam::*:root","arn:aws:iam::1111*:role/x"]},"Action":"sts:AssumeRole"}}`,
			keep: []Request{{Principal: Identity{AWS, "arn:aws:iam::111122223333:role/ci"}, Action: "sts:AssumeRole"}},
			deny: []Request{mallory, {Principal: Identity{AWS, "arn:aws:iam::111199998888:role/x"}, Action: "sts:AssumeRole"}},
		},
		{
			name: "service glob beside a case-variant service",
			doc:  `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"Service":["*.amazonaws.com","EC2.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`,
			keep: []Request{{Principal: Identity{Service, "ec2.amazonaws.com"}, Action: "sts:AssumeRole"}},
			deny: []Request{{Principal: Identity{Service, "s3.amazonaws.com"}, Action: "sts:AssumeRole"}},
		},
		{
			name: "Federated * beside the cluster's provider, both actions",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":["*","` + testProvider + `"]},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"],` +
				`"Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}]}`,
			keep: []Request{{Principal: Identity{Federated, testProvider}, Action: "sts:AssumeRoleWithWebIdentity", Context: ctx}},
			deny: []Request{
				{Principal: Identity{Federated, "arn:aws:iam::999988887777:oidc-provider/evil.example.com"}, Action: "sts:AssumeRoleWithWebIdentity", Context: ctx},
				{Principal: Identity{Service, podIdentityService}, Action: "sts:AssumeRole"},
			},
		},
		{
			name: "public bounded only IfExists, beside a Deny",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}},` +
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"sts:AssumeRole"},` +
				`{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}}]}`,
			keep: []Request{{Principal: Identity{AWS, "arn:aws:iam::111122223333:role/ci"}, Action: "sts:AssumeRole", Context: map[string][]string{"aws:RequestTag/kubernetes-namespace": {"prod"}}}},
			deny: []Request{mallory, {Principal: Identity{AWS, "arn:aws:iam::111122223333:role/ci"}, Action: "sts:AssumeRole", Context: map[string][]string{"aws:RequestTag/kubernetes-namespace": {"other"}}}},
		},
		{
			name: "ForAllValues on a public principal, sts:*",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:*","Condition":{"ForAllValues:StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}}]}`,
			deny: []Request{mallory},
		},
		{
			name: "CanonicalUser * beside an account",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"CanonicalUser":"*","AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`,
			keep: []Request{{Principal: Identity{AWS, "arn:aws:iam::111122223333:user/alice"}, Action: "sts:AssumeRole"}},
			deny: []Request{mallory},
		},
		{
			name: "public wildcard ARN with NotAction",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:role/x"},"NotAction":"sts:AssumeRoleWithWebIdentity"}]}`,
			deny: []Request{{Principal: Identity{AWS, "arn:aws:iam::999988887777:role/x"}, Action: "sts:AssumeRole"}},
		},
		{
			name: "IRSA to Pod Identity migration with a public value: the other cluster's IRSA statement is kept",
			doc:  readTestdata(t, "critical-irsa-to-pod-identity-migration-with-public"),
			keep: []Request{
				{Principal: Identity{Federated, "arn:aws:iam::111122223333:oidc-provider/" + migrationIssuer}, Action: "sts:AssumeRoleWithWebIdentity", Context: map[string][]string{
					migrationIssuer + ":sub": {serviceAccountSubPrefix + "payments:checkout"}, migrationIssuer + ":aud": {"sts.amazonaws.com"}}},
			},
			deny: []Request{mallory},
		},
		{
			name: "percent-encoded, as GetRole returns it",
			doc:  `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22%2A%22%2C%22Service%22%3A%22s3.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D`,
			keep: []Request{{Principal: Identity{Service, "s3.amazonaws.com"}, Action: "sts:AssumeRole"}},
			deny: []Request{mallory},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !Analyze(p).Critical() {
				t.Fatalf("not critical, so Fix is not exercised:\n%s", tt.doc)
			}
			for _, w := range []*Workload{nil, &testWorkload, &otherWorkload, &noIssuerWorkload} {
				fixed := checkFixed(t, p, w, 0)
				checkKeepsWorkload(t, p, w)
				for _, r := range tt.keep {
					if !Allowed(p, r) {
						t.Fatalf("keep request %+v is not allowed by the original", r)
					}
					if !Allowed(fixed, r) {
						t.Errorf("workload %v: legitimate %+v lost:\n%s", w, r, mustMarshal(t, fixed))
					}
				}
				for _, r := range tt.deny {
					if Allowed(fixed, r) {
						t.Errorf("workload %v: %+v still allowed:\n%s", w, r, mustMarshal(t, fixed))
					}
				}
			}
		})
	}
}
