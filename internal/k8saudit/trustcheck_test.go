package k8saudit

import (
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/trust/trusttest"
)

const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

func irsaTrust(sub string, like bool) string {
	op := "StringEquals"
	if like {
		op = "StringLike"
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
	  "Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"},
	  "Action":"sts:AssumeRoleWithWebIdentity",
	  "Condition":{"` + op + `":{"oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub":"` + sub + `",
	    "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud":"sts.amazonaws.com"}}}]}`
}

func TestTrustRules(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/ledger"
	podTrust := func(ns string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},
		  "Action":["sts:AssumeRole","sts:TagSession"],
		  "Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"` + ns + `","aws:SourceAccount":"111122223333"}}}]}`
	}
	cluster := Cluster{Name: "prod", ARN: "arn:aws:eks:us-east-1:111122223333:cluster/prod", Account: "111122223333", OIDCIssuer: issuer}
	tests := []struct {
		name     string
		irsa     bool
		cluster  Cluster
		rt       RoleTrust
		want     []Rule
		inDetail string
	}{
		{"IRSA trust for this service account", true, cluster, RoleTrust{Policy: trusttest.Policy(t, irsaTrust("system:serviceaccount:ledger:ledger", false))}, nil, ""},
		{"IRSA trust for another service account", true, cluster, RoleTrust{Policy: trusttest.Policy(t, irsaTrust("system:serviceaccount:ledger:other", false))},
			[]Rule{RuleRoleTrustMismatch}, "sts:AssumeRoleWithWebIdentity"},
		{"IRSA trust for any subject of the provider", true, cluster, RoleTrust{Policy: trusttest.Policy(t, irsaTrust("*", true))},
			[]Rule{RuleRoleTrustCritical}, "oidc-broad-sub"},
		{"IRSA trust of another cluster's issuer", true, Cluster{Name: "prod", OIDCIssuer: "https://oidc.eks.us-east-1.amazonaws.com/id/OTHER"},
			RoleTrust{Policy: trusttest.Policy(t, irsaTrust("system:serviceaccount:ledger:ledger", false))}, []Rule{RuleRoleTrustMismatch}, "oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER"},
		{"IRSA without a known issuer: only the analyzer runs", true, Cluster{}, RoleTrust{Policy: trusttest.Policy(t, irsaTrust("system:serviceaccount:ledger:other", false))}, nil, ""},
		{"missing role", true, cluster, RoleTrust{Missing: true}, []Rule{RuleRoleTrustMismatch}, "does not exist"},
		{"unreadable trust is not judged", true, cluster, RoleTrust{Err: "AccessDenied"}, nil, ""},
		{"Pod Identity trust scoped to the namespace", false, cluster, RoleTrust{Policy: trusttest.Policy(t, podTrust("ledger"))}, nil, ""},
		{"Pod Identity trust scoped to another namespace", false, cluster, RoleTrust{Policy: trusttest.Policy(t, podTrust("billing"))}, []Rule{RuleRoleTrustMismatch}, "pods.eks.amazonaws.com"},
		{"Pod Identity trust without sts:TagSession", false, cluster, RoleTrust{Policy: trusttest.Policy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		  "Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`)},
			[]Rule{RuleRoleTrustMismatch}, "sts:TagSession"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &Inventory{
				Cluster: tc.cluster,
				Pods:    []Pod{{Namespace: "ledger", Name: "ledger-1", ServiceAccount: "ledger"}},
				Roles:   map[string]RoleTrust{role: tc.rt},
			}
			if tc.irsa {
				inv.ServiceAccounts = []ServiceAccount{{Namespace: "ledger", Name: "ledger", IRSARole: role}}
			} else {
				inv.Associations = []Association{{Namespace: "ledger", ServiceAccount: "ledger", AssociationID: "a-1", RoleARN: role}}
			}
			var got []Rule
			for _, f := range Audit(inv, Options{}) {
				got = append(got, f.Rule)
				if tc.inDetail != "" && !strings.Contains(f.Detail, tc.inDetail) {
					t.Errorf("detail %q lacks %q", f.Detail, tc.inDetail)
				}
				if f.Pod != "ledger-1" || f.Workload != "Pod/ledger-1" {
					t.Errorf("finding names %s %s", f.Workload, f.Pod)
				}
			}
			if strings.Join(rulesOf(got), ",") != strings.Join(rulesOf(tc.want), ",") {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
}

func rulesOf(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
}

func TestNoTrustRulesOffline(t *testing.T) {
	inv := &Inventory{ServiceAccounts: []ServiceAccount{{Namespace: "a", Name: "b", IRSARole: "arn:aws:iam::111122223333:role/missing"}}}
	if got := Audit(inv, Options{}); len(got) != 0 {
		t.Errorf("offline audit judged trust: %+v", got)
	}
}
