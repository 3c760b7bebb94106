package k8saudit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/credguard/credguard/internal/trust"
)

// trustFindings judges the trust of each role bound to a service account:
// role-trust-critical when the analyzer's verdict is critical,
// role-trust-mismatch when the evaluator denies the assume request EKS would
// make for this service account (or the role does not exist). A role whose
// trust is unknown (not in inv.Roles, or unreadable) is not judged.
func trustFindings(inv *Inventory, k saKey, b *binding, workload, pod string) []Finding {
	var out []Finding
	add := func(rule Rule, sev Severity, format string, args ...any) {
		out = append(out, Finding{
			Namespace: k.ns, Workload: workload, Pod: pod, ServiceAccount: k.name,
			Rule: rule, Severity: sev, Detail: fmt.Sprintf(format, args...),
		})
	}
	type bound struct {
		arn, how string
		reqs     []trust.Request
	}
	var roles []bound
	if b.irsa != "" {
		var reqs []trust.Request
		if inv.Cluster.OIDCIssuer != "" {
			reqs = irsaRequests(b.irsa, inv.Cluster.OIDCIssuer, k)
		}
		roles = append(roles, bound{b.irsa, "IRSA", reqs})
	}
	if b.podRole != "" {
		roles = append(roles, bound{b.podRole, "Pod Identity", podIdentityRequests(inv.Cluster, k, pod)})
	}
	for _, r := range roles {
		rt, known := inv.Roles[r.arn]
		switch {
		case !known || rt.Err != "":
			continue
		case rt.Missing:
			add(RuleRoleTrustMismatch, Warning, "%s role %s does not exist: the service account cannot assume it", r.how, r.arn)
			continue
		}
		if rep := trust.Analyze(rt.Policy); rep.Critical() {
			var why []string
			for _, f := range rep.Findings {
				if f.Severity == trust.Critical {
					why = append(why, string(f.Rule)+": "+f.Detail)
				}
			}
			add(RuleRoleTrustCritical, Critical, "%s role %s has critical trust (%s); see credguard trust check", r.how, r.arn, strings.Join(why, "; "))
		}
		for _, req := range r.reqs {
			if !trust.Allowed(rt.Policy, req) {
				add(RuleRoleTrustMismatch, Warning, "%s role %s: its trust does not allow %s by %s for system:serviceaccount:%s:%s",
					r.how, r.arn, req.Action, req.Principal.ID, k.ns, k.name)
				break
			}
		}
	}
	return out
}

// arnParts returns the partition and account of an IAM ARN.
func arnParts(arn string) (partition, account string) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) < 6 {
		return "aws", ""
	}
	return p[1], p[4]
}

// irsaRequests is the AssumeRoleWithWebIdentity request of a pod using this
// service account: the cluster's OIDC provider in the role's account, sub
// system:serviceaccount:<ns>:<sa>, aud sts.amazonaws.com.
func irsaRequests(roleARN, issuer string, k saKey) []trust.Request {
	partition, account := arnParts(roleARN)
	host := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	return []trust.Request{{
		Principal: trust.Identity{Type: trust.Federated, ID: "arn:" + partition + ":iam::" + account + ":oidc-provider/" + host},
		Action:    "sts:AssumeRoleWithWebIdentity",
		Context: map[string][]string{
			host + ":sub": {"system:serviceaccount:" + k.ns + ":" + k.name},
			host + ":aud": {"sts.amazonaws.com"},
		},
	}}
}

// podIdentityRequests are the two calls the EKS Pod Identity agent's service
// makes (sts:AssumeRole and sts:TagSession) with the session tags EKS sets.
func podIdentityRequests(c Cluster, k saKey, pod string) []trust.Request {
	tags := map[string]string{
		"kubernetes-namespace":       k.ns,
		"kubernetes-service-account": k.name,
		"eks-cluster-name":           c.Name,
		"eks-cluster-arn":            c.ARN,
		"kubernetes-pod-name":        pod,
	}
	ctx := map[string][]string{}
	var keys []string
	for key, v := range tags {
		if v != "" {
			ctx["aws:RequestTag/"+key] = []string{v}
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	ctx["aws:TagKeys"] = keys
	if c.Account != "" {
		ctx["aws:SourceAccount"] = []string{c.Account}
	}
	if c.ARN != "" {
		ctx["aws:SourceArn"] = []string{c.ARN}
	}
	var reqs []trust.Request
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
		reqs = append(reqs, trust.Request{
			Principal: trust.Identity{Type: trust.Service, ID: "pods.eks.amazonaws.com"},
			Action:    action, Context: ctx,
		})
	}
	return reqs
}
