package trust

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func mustMarshal(t testing.TB, p Policy) string {
	t.Helper()
	b, err := Marshal(p)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func mustFix(t testing.TB, doc string, w *Workload) (string, Changes) {
	t.Helper()
	out, changes, err := Fix(mustParse(t, doc), w)
	if err != nil {
		t.Fatalf("fix: %v", err)
	}
	return mustMarshal(t, out), changes
}

const denyAllJSON = `{"Sid":"CredguardRevoked","Effect":"Deny","Principal":"*","Action":["sts:AssumeRole","sts:AssumeRoleWithSAML","sts:AssumeRoleWithWebIdentity"]}`

func TestFix(t *testing.T) {
	w := testWorkload
	byName := w
	byName.ClusterARN, byName.ClusterName = "", "prod"
	nsOnly := w
	nsOnly.ClusterARN = ""
	noIssuer := w
	noIssuer.Issuer = ""
	irsaTo := func(sub string) string {
		return `{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + testIssuer + `:sub":"` + sub + `"},"StringEquals":{"` + testIssuer + `:aud":"sts.amazonaws.com","` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api"}}}`
	}
	cases := []struct {
		name    string
		doc     string
		w       *Workload
		want    string   // the fixed policy
		changes []string // "statement:kind:rules"
	}{
		{
			name:    "public statement removed, others kept as written",
			doc:     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"AWS":"444455556666"}}]}`,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"},{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"AWS":"444455556666"}}]}`,
			changes: []string{"2:removed:public-principal"},
		},
		{
			name:    "nothing left: explicit deny",
			doc:     `{"Version":"2012-10-17","Id":"ci","Statement":{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}}`,
			want:    `{"Version":"2012-10-17","Id":"ci","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "only deny statements left: explicit deny replaces them",
			doc:     `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"*"},{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]}`,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"2:removed:not-principal-allow", "0:deny-all:"},
		},
		{
			name:    "several critical rules in one statement",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"*","Federated":"` + testProvider + `"},"Action":"sts:*"}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			changes: []string{"2:removed:public-principal,oidc-no-sub"},
		},
		{
			name:    "a condition excludes the workload's namespace: removed, not scoped",
			doc:     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "a Null condition excludes every Pod Identity session: removed, not scoped",
			doc:     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Null":{"aws:RequestTag/kubernetes-service-account":"true"}}}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "an aud other than IRSA's: removed, not scoped",
			doc:     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:aud":"other"}}}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:oidc-no-sub", "0:deny-all:"},
		},
		{
			name:    "IRSA broad sub scoped to the workload, aud kept",
			doc:     readTestdata(t, "critical-oidc-sub-all-namespaces"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + irsaTo("system:serviceaccount:*") + `]}`,
			changes: []string{"1:scoped:oidc-broad-sub"},
		},
		{
			name:    "IRSA broad sub without a workload: removed",
			doc:     readTestdata(t, "critical-oidc-sub-all-namespaces"),
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:oidc-broad-sub", "0:deny-all:"},
		},
		{
			name:    "IRSA with no condition scoped",
			doc:     readTestdata(t, "critical-oidc-no-condition"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}]}`,
			changes: []string{"1:scoped:oidc-no-sub"},
		},
		{
			name:    "IRSA wildcard key scoped: conditions only added",
			doc:     readTestdata(t, "critical-oidc-wildcard-key"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"*:sub":"system:serviceaccount:prod:billing-api","*:aud":"sts.amazonaws.com","` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}]}`,
			changes: []string{"1:scoped:oidc-wildcard-key"},
		},
		{
			name:    "IRSA statement with a public principal: the wildcard removed, the bounded provider kept as it is",
			doc:     `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*","Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"stringequals":{"` + testIssuer + `:sub":["system:serviceaccount:batch:export","system:serviceaccount:prod:billing-api"]}}}}`,
			w:       &w,
			want:    `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"stringequals":{"` + testIssuer + `:sub":["system:serviceaccount:batch:export","system:serviceaccount:prod:billing-api"]}}}}`,
			changes: []string{"1:trimmed:public-principal"},
		},
		{
			name:    "IRSA scoped: an existing aud condition is kept as it is",
			doc:     irsaPolicy(`{"StringLike":{"` + testIssuer + `:sub":"*","` + testIssuer + `:aud":"*"}}`),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + testIssuer + `:sub":"*","` + testIssuer + `:aud":"*"},"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api"}}}]}`,
			changes: []string{"1:scoped:oidc-broad-sub"},
		},
		{
			name:    "existing exact sub excludes the workload: IRSA not scoped, removed",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:${aws:username}"}}}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			changes: []string{"2:removed:oidc-broad-sub"},
		},
		{
			name:    "Pod Identity with a public principal scoped to the workload",
			doc:     readTestdata(t, "critical-pods-with-public"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "Pod Identity scoped by cluster name",
			doc:     readTestdata(t, "critical-pods-with-public"),
			w:       &byName,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-name":"prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "Pod Identity scoped without a cluster",
			doc:     readTestdata(t, "critical-pods-with-public"),
			w:       &nsOnly,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "Principal star without a workload: removed",
			doc:     readTestdata(t, "critical-principal-star"),
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "Principal star with an association: pods.eks.amazonaws.com for the workload, no TagSession it did not allow",
			doc:     readTestdata(t, "critical-principal-star"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "AWS star allowing sts:* with an association: AssumeRole and TagSession, conditions kept",
			doc:     `{"Statement":{"Sid":"Open","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`,
			w:       &w,
			want:    `{"Statement":{"Sid":"Open","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "Service star with an association and NotAction: replaced by the actions Pod Identity needs",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"*"},"NotAction":"sts:AssumeRoleWithSAML"}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "NotPrincipal admitting pods.eks.amazonaws.com with an association: replaced, its conditions kept",
			doc:     `{"Statement":[{"Sid":"Most","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`,
			w:       &w,
			want:    `{"Statement":[{"Sid":"Most","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333","aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:not-principal-allow"},
		},
		{
			name:    "NotPrincipal excluding pods.eks.amazonaws.com: removed",
			doc:     `{"Statement":[{"Effect":"Allow","NotPrincipal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:not-principal-allow", "0:deny-all:"},
		},
		{
			name:    "public principal allowing only TagSession: replaced with TagSession alone",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"2:scoped:public-principal"},
		},
		{
			name:    "public principal that cannot assume the role is not replaced",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithSAML"}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "Federated star never becomes pods.eks.amazonaws.com",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity","sts:TagSession"]}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "public principal with an association whose conditions exclude the workload: removed",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"batch"}}}]}`,
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:public-principal", "0:deny-all:"},
		},
		{
			name:    "S3 service kept when AWS star is removed (URL-encoded as GetRole returns it)",
			doc:     `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22%2A%22%2C%22Service%22%3A%22s3.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D`,
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			changes: []string{"1:trimmed:public-principal"},
		},
		{
			name:    "ec2 and the ci role kept, the wildcard removed from the array (one value left: a string)",
			doc:     `{"Statement":[{"Sid":"Build","Principal":{"Service":"ec2.amazonaws.com","AWS":["arn:aws:iam::111122223333:role/ci","*"]},"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"build"}}}]}`,
			want:    `{"Statement":[{"Sid":"Build","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":"arn:aws:iam::111122223333:role/ci"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"build"}}}]}`,
			changes: []string{"1:trimmed:public-principal"},
		},
		{
			name:    "wildcard account root removed, the named account kept",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::*:root","444455556666"]},"Action":"sts:AssumeRole"}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]}`,
			changes: []string{"1:trimmed:public-principal"},
		},
		{
			name:    "mixed principals with an association: the role kept under its Sid, the wildcard replaced in a second statement",
			doc:     `{"Statement":[{"Sid":"Mixed","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/ci","*"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`,
			w:       &w,
			want:    `{"Statement":[{"Sid":"Mixed","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":["sts:AssumeRole","sts:TagSession"]},{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "Pod Identity with a public principal, no workload: pods.eks.amazonaws.com kept",
			doc:     readTestdata(t, "critical-pods-with-public"),
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`,
			changes: []string{"1:trimmed:public-principal"},
		},
		{
			name:    "bounded Pod Identity statement with a public principal: kept as bounded, the wildcard replaced",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["prod","batch"]}}}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["prod","batch"]}}},{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod","aws:RequestTag/kubernetes-service-account":"billing-api","aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}}]}`,
			changes: []string{"1:scoped:public-principal"},
		},
		{
			name:    "IRSA statement of another cluster's issuer is not scoped to the workload",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"oidc.eks.eu-west-1.amazonaws.com/id/B:sub":"system:serviceaccount:*"}}},{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/B:sub":"system:serviceaccount:prod:app"}}}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/B:sub":"system:serviceaccount:prod:app"}}}]}`,
			changes: []string{"1:removed:oidc-broad-sub"},
		},
		{
			name:    "IRSA statement not scoped without an issuer",
			doc:     readTestdata(t, "critical-oidc-no-condition"),
			w:       &noIssuer,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:oidc-no-sub", "0:deny-all:"},
		},
		{
			name:    "IRSA provider scoped, another principal of the statement kept",
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `","AWS":"arn:aws:iam::444455556666:role/deployer"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}]}`,
			w:       &w,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/deployer"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]},{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"],"Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}]}`,
			changes: []string{"1:scoped:oidc-no-sub"},
		},
		{
			name:    "GitHub provider is not scoped to a Kubernetes workload",
			doc:     readTestdata(t, "critical-github-any-repo"),
			w:       &w,
			want:    `{"Version":"2012-10-17","Statement":[` + denyAllJSON + `]}`,
			changes: []string{"1:removed:oidc-broad-sub", "0:deny-all:"},
		},
		{
			name:    "two EKS providers: only the association cluster's issuer is scoped",
			doc:     `{"Statement":{"Effect":"Allow","Principal":{"Federated":["` + testProvider + `","arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B"]},"Action":"sts:AssumeRoleWithWebIdentity"}}`,
			w:       &w,
			want:    `{"Statement":{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:prod:billing-api","` + testIssuer + `:aud":"sts.amazonaws.com"}}}}`,
			changes: []string{"1:scoped:oidc-no-sub"},
		},
		{
			name:    "deny statements are kept",
			doc:     `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"*"},{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`,
			want:    `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"*"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`,
			changes: []string{"2:removed:public-principal"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changes := mustFix(t, tc.doc, tc.w)
			if got != tc.want {
				t.Errorf("fixed:\n got %s\nwant %s", got, tc.want)
			}
			var ids []string
			for _, c := range changes {
				rules := make([]string, len(c.Rules))
				for i, r := range c.Rules {
					rules[i] = string(r)
				}
				ids = append(ids, strings.Join([]string{strconv.Itoa(c.Statement), string(c.Kind), strings.Join(rules, ",")}, ":"))
				if c.Detail == "" || (c.Kind != ChangeDenyAll && c.Before == "") || (c.Kind != ChangeRemoved && c.After == "") {
					t.Errorf("incomplete change %+v", c)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tc.changes, " ") {
				t.Errorf("changes = %v, want %v\n%s", ids, tc.changes, changes)
			}
			checkFixed(t, mustParse(t, tc.doc), tc.w, 0)
		})
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkFixed asserts the properties every Fix result must have: it marshals
// and re-parses, has no critical finding, fixing again changes nothing, it
// stays within the size limit, and it allows no request the original denied
// (over n requests derived from the policy; all of them when n is 0).
func checkFixed(t testing.TB, p Policy, w *Workload, n int) Policy {
	t.Helper()
	fixed, changes, err := Fix(p, w)
	if err != nil {
		t.Fatalf("fix: %v", err)
	}
	out, err := Marshal(fixed)
	if err != nil {
		t.Fatalf("marshal fixed: %v", err)
	}
	re, err := Parse(out)
	if err != nil {
		t.Fatalf("fixed policy does not re-parse: %v\n%s", err, out)
	}
	if r := Analyze(re); r.Critical() {
		t.Fatalf("fixed policy is still critical:\n%s\n%s", out, r)
	}
	again, changes2, err := Fix(re, w)
	if err != nil {
		t.Fatalf("second fix: %v", err)
	}
	if out2 := mustMarshal(t, again); out2 != string(out) || len(changes2) != 0 {
		t.Fatalf("Fix is not idempotent:\nonce  %s\ntwice %s", out, out2)
	}
	orig := mustMarshal(t, p)
	if len(changes) == 0 && string(out) != orig {
		t.Fatalf("no changes reported but the policy changed:\n%s\n%s", orig, out)
	}
	if limit := max(DefaultSizeQuota, NonWhitespaceLen([]byte(orig))); NonWhitespaceLen(out) > limit {
		t.Fatalf("fixed policy has %d characters, limit %d", NonWhitespaceLen(out), limit)
	}
	for _, r := range requestsFor(p, 1, n) {
		if Allowed(re, r) && !Allowed(p, r) {
			t.Fatalf("fix widened the policy: %+v is allowed by\n%s\nbut not by\n%s", r, out, orig)
		}
	}
	return re
}

func TestFixTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, readTestdata(t, name))
			for _, w := range []*Workload{nil, &testWorkload} {
				fixed := checkFixed(t, p, w, 0)
				unchanged := mustMarshal(t, fixed) == mustMarshal(t, p)
				if critical := Analyze(p).Critical(); critical == unchanged {
					t.Errorf("critical=%v but unchanged=%v", critical, unchanged)
				}
			}
		})
	}
}

func TestFixSizeQuota(t *testing.T) {
	// Non-critical statements filling the policy to just under the quota,
	// then one broad IRSA statement that scoping would grow past it.
	var stmts []string
	for i := 0; ; i++ {
		s := `{"Sid":"Partner` + strconv.Itoa(i%10) + strings.Repeat("x", i) + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/partner-role"},"Action":"sts:AssumeRole"}`
		probe := `{"Version":"2012-10-17","Statement":[` + strings.Join(append(stmts, s), ",") + `,` + irsaStatement("system:serviceaccount:*") + `]}`
		if len(probe) > DefaultSizeQuota-20 {
			break
		}
		stmts = append(stmts, s)
	}
	doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `,` + irsaStatement("system:serviceaccount:*") + `]}`
	if n := NonWhitespaceLen([]byte(doc)); n > DefaultSizeQuota || n < DefaultSizeQuota-100 {
		t.Fatalf("test setup: %d characters", n)
	}
	out, changes := mustFix(t, doc, &testWorkload)
	if n := NonWhitespaceLen([]byte(out)); n > DefaultSizeQuota {
		t.Fatalf("fixed policy has %d characters", n)
	}
	if len(changes) != 1 || changes[0].Kind != ChangeRemoved || !strings.Contains(changes[0].Detail, "size quota") {
		t.Fatalf("changes = %s", changes)
	}
	if want := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`; out != want {
		t.Errorf("fixed:\n got %s\nwant %s", out, want)
	}
	// A smaller policy leaves room: the same statement is scoped.
	small := `{"Version":"2012-10-17","Statement":[` + stmts[0] + `,` + irsaStatement("system:serviceaccount:*") + `]}`
	if _, changes := mustFix(t, small, &testWorkload); changes[0].Kind != ChangeScoped {
		t.Errorf("small policy: %s", changes)
	}
	// An input already over the default quota (a raised account quota) may
	// keep its size but not grow.
	big := `{"Version":"2012-10-17","Statement":[` + strings.Join(append(append([]string{}, stmts...), stmts...), ",") + `,` + irsaStatement("system:serviceaccount:*") + `]}`
	out, changes = mustFix(t, big, &testWorkload)
	if NonWhitespaceLen([]byte(out)) > NonWhitespaceLen([]byte(big)) || changes[0].Kind != ChangeRemoved {
		t.Errorf("big policy grew or was scoped: %s", changes)
	}
}

func irsaStatement(sub string) string {
	return `{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + testIssuer + `:sub":"` + sub + `"}}}`
}

func TestFixErrors(t *testing.T) {
	p := mustParse(t, readTestdata(t, "critical-principal-star"))
	bad := []Workload{
		{Namespace: "", ServiceAccount: "a"},
		{Namespace: "prod", ServiceAccount: ""},
		{Namespace: "Prod", ServiceAccount: "a"},
		{Namespace: "prod", ServiceAccount: "a*"},
		{Namespace: "prod:x", ServiceAccount: "a"},
		{Namespace: strings.Repeat("a", 64), ServiceAccount: "a"},
		{Namespace: "prod", ServiceAccount: "a", ClusterARN: "arn:aws:eks:us-east-1:111122223333:cluster/*"},
		{Namespace: "prod", ServiceAccount: "a", ClusterARN: "arn:aws:iam::111122223333:role/x"},
		{Namespace: "prod", ServiceAccount: "a", ClusterName: "-bad"},
		{Namespace: "prod", ServiceAccount: "a", ClusterName: "other", ClusterARN: "arn:aws:eks:us-east-1:111122223333:cluster/prod"},
	}
	for _, w := range bad {
		if _, _, err := Fix(p, &w); err == nil || !strings.Contains(err.Error(), "workload") {
			t.Errorf("Fix with workload %+v: err = %v", w, err)
		}
	}
	good := []Workload{
		{Namespace: "prod", ServiceAccount: "billing-api.v2"},
		{Namespace: "a", ServiceAccount: "b", ClusterName: "Prod_1"},
		{Namespace: "a", ServiceAccount: "b", ClusterARN: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod", ClusterName: "prod"},
	}
	for _, w := range good {
		if err := w.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", w, err)
		}
	}
	broken := p
	broken.Statements = []Statement{{Effect: "Maybe", Principal: &Principal{Any: true}, Action: []string{"*"}}}
	if _, _, err := Fix(broken, nil); err == nil {
		t.Error("Fix accepted an invalid policy")
	}
}

func TestFixDoesNotModifyInput(t *testing.T) {
	doc := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*","Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":["system:serviceaccount:batch:export","system:serviceaccount:prod:billing-api"]}}}}`
	p := mustParse(t, doc)
	before := mustMarshal(t, p)
	if _, _, err := Fix(p, &testWorkload); err != nil {
		t.Fatal(err)
	}
	if after := mustMarshal(t, p); after != before {
		t.Errorf("input changed:\n%s\n%s", before, after)
	}
}

func TestChangesString(t *testing.T) {
	_, changes := mustFix(t, readTestdata(t, "critical-mixed-statements"), nil)
	want := "statement 2 removed (public-principal): removed"
	if got := changes.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, changes = mustFix(t, readTestdata(t, "critical-oidc-sub-star"), &testWorkload)
	want = "statement 1 scoped (oidc-broad-sub): scoped to " + testIssuer + ":sub = system:serviceaccount:prod:billing-api"
	if got := changes.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, changes = mustFix(t, readTestdata(t, "critical-federated-star"), &testWorkload)
	want = "statement 1 removed (public-principal): removed (it cannot be scoped to prod/billing-api in arn:aws:eks:us-east-1:111122223333:cluster/prod)\n" +
		"no Allow statement remained: the policy now explicitly denies assuming the role to everyone"
	if got := changes.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
