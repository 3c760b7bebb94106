package k8saudit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Rule is a stable finding id.
type Rule string

const (
	RuleHostNetwork       Rule = "host-network-node-role"
	RuleStaticKeys        Rule = "static-aws-keys"
	RuleNoIdentity        Rule = "no-workload-identity"
	RuleSharedSA          Rule = "shared-service-account"
	RuleDefaultSARole     Rule = "default-service-account-role"
	RuleRoleTrustCritical Rule = "role-trust-critical"
	RuleRoleTrustMismatch Rule = "role-trust-mismatch"
)

// Severity of a finding.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
)

// Finding is one problem: the JSON shape of credguard k8s audit --json.
type Finding struct {
	Namespace      string   `json:"namespace"`
	Workload       string   `json:"workload"` // Kind/name, such as Deployment/ledger
	Pod            string   `json:"pod"`      // one example pod
	ServiceAccount string   `json:"serviceAccount"`
	Rule           Rule     `json:"rule"`
	Severity       Severity `json:"severity"`
	Detail         string   `json:"detail"`
}

// Options tune the audit.
type Options struct {
	// AllowHostNetwork lists NS/NAME entries exempt from host-network-node-role:
	// NAME is a workload's name (Deployment, DaemonSet…), a pod's name or *.
	AllowHostNetwork []string
}

// CheckAllowEntry validates one --allow-host-network entry.
func CheckAllowEntry(s string) error {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%q: expected NAMESPACE/NAME (NAME a workload, a pod or *)", s)
	}
	return nil
}

// WorkloadOf resolves a pod to its workload through its owner reference: a
// ReplicaSet to its Deployment (the pod-template-hash suffix removed), a Job
// named <cronjob>-<digits> to its CronJob, StatefulSets, DaemonSets and other
// owners to themselves, and a pod without owner to the pod.
func WorkloadOf(p *Pod) string {
	o := p.Owner
	switch o.Kind {
	case "":
		return "Pod/" + p.Name
	case "ReplicaSet":
		if h := p.TemplateHash; h != "" && len(o.Name) > len(h)+1 && strings.HasSuffix(o.Name, "-"+h) {
			return "Deployment/" + strings.TrimSuffix(o.Name, "-"+h)
		}
	case "Job":
		if i := strings.LastIndexByte(o.Name, '-'); i > 0 && i < len(o.Name)-1 && allDigits(o.Name[i+1:]) {
			return "CronJob/" + o.Name[:i]
		}
	}
	return o.Kind + "/" + o.Name
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// saKey names a service account: namespace and name.
type saKey struct{ ns, name string }

// saUse is what the pods of one service account are.
type saUse struct {
	workloads []string          // distinct, in first-seen order
	example   map[string]string // workload → example pod
}

func (u *saUse) add(workload, pod string) {
	if _, seen := u.example[workload]; !seen {
		u.example[workload] = pod
		u.workloads = append(u.workloads, workload)
	}
}

// Audit applies every rule to the inventory and returns the findings sorted:
// critical first, then by namespace, workload, service account and rule.
// The trust rules run only when inv.Roles is set.
func Audit(inv *Inventory, opts Options) []Finding {
	findings := []Finding{}
	allow := map[string]bool{}
	for _, a := range opts.AllowHostNetwork {
		allow[a] = true
	}
	uses := map[saKey]*saUse{}
	var useOrder []saKey
	type wlRule struct {
		ns, workload string
		rule         Rule
	}
	seen := map[wlRule]bool{}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		wl := WorkloadOf(p)
		k := saKey{p.Namespace, p.ServiceAccount}
		u := uses[k]
		if u == nil {
			u = &saUse{example: map[string]string{}}
			uses[k] = u
			useOrder = append(useOrder, k)
		}
		u.add(wl, p.Name)
		if p.HostNetwork && !hostNetworkExempt(p, wl, allow) && !seen[wlRule{p.Namespace, wl, RuleHostNetwork}] {
			seen[wlRule{p.Namespace, wl, RuleHostNetwork}] = true
			findings = append(findings, Finding{
				Namespace: p.Namespace, Workload: wl, Pod: p.Name, ServiceAccount: p.ServiceAccount,
				Rule: RuleHostNetwork, Severity: Critical,
				Detail: "hostNetwork: true shares the node's network: the pod reaches IMDS in one hop and can take the node role's credentials whatever the hop limit",
			})
		}
		if keys := staticKeys(p); keys != "" && !seen[wlRule{p.Namespace, wl, RuleStaticKeys}] {
			seen[wlRule{p.Namespace, wl, RuleStaticKeys}] = true
			findings = append(findings, Finding{
				Namespace: p.Namespace, Workload: wl, Pod: p.Name, ServiceAccount: p.ServiceAccount,
				Rule: RuleStaticKeys, Severity: Critical,
				Detail: "static AWS keys in the environment: " + keys + "; use IRSA or Pod Identity and remove the keys",
			})
		}
	}

	bindings, bound := bindRoles(inv)
	for _, k := range useOrder {
		u := uses[k]
		b := bindings[k]
		wl, pod := u.workloads[0], u.example[u.workloads[0]]
		if k.ns != "kube-system" && !b.hasRole() {
			findings = append(findings, Finding{
				Namespace: k.ns, Workload: wl, Pod: pod, ServiceAccount: k.name,
				Rule: RuleNoIdentity, Severity: Warning,
				Detail: fmt.Sprintf("no IRSA annotation (%s) and no Pod Identity association: its pods get AWS access only from the node role or static keys; used by %s",
					IRSAAnnotation, listWorkloads(u.workloads)),
			})
		}
		if b.hasRole() && len(u.workloads) >= 2 {
			findings = append(findings, Finding{
				Namespace: k.ns, Workload: wl, Pod: pod, ServiceAccount: k.name,
				Rule: RuleSharedSA, Severity: Warning,
				Detail: fmt.Sprintf("%s is shared by %d workloads (%s): each gets the permissions all of them need; give each workload its own service account",
					b.describe(), len(u.workloads), listWorkloads(u.workloads)),
			})
		}
	}
	for _, k := range bound {
		b := bindings[k]
		var wl, pod string
		if u := uses[k]; u != nil {
			wl, pod = u.workloads[0], u.example[u.workloads[0]]
		}
		if k.name == "default" {
			findings = append(findings, Finding{
				Namespace: k.ns, Workload: wl, Pod: pod, ServiceAccount: k.name,
				Rule: RuleDefaultSARole, Severity: Warning,
				Detail: fmt.Sprintf("the namespace's default service account has %s: every pod of %s without its own service account gets it", b.describe(), k.ns),
			})
		}
		if inv.Roles != nil {
			findings = append(findings, trustFindings(inv, k, b, wl, pod)...)
		}
	}
	SortFindings(findings)
	return findings
}

func hostNetworkExempt(p *Pod, workload string, allow map[string]bool) bool {
	if p.Namespace == "kube-system" && p.Owner.Kind == "DaemonSet" {
		return true
	}
	_, name, _ := strings.Cut(workload, "/")
	return allow[p.Namespace+"/*"] || allow[p.Namespace+"/"+name] || allow[p.Namespace+"/"+p.Name]
}

// staticKeys lists the AWS key variables of a pod's containers with where
// their value comes from (never the value).
func staticKeys(p *Pod) string {
	var parts []string
	for _, e := range p.Env {
		if (e.Name == "AWS_ACCESS_KEY_ID" || e.Name == "AWS_SECRET_ACCESS_KEY") && e.Source != "" {
			parts = append(parts, fmt.Sprintf("container %s sets %s (%s)", e.Container, e.Name, e.Source))
		}
	}
	return strings.Join(parts, ", ")
}

func listWorkloads(ws []string) string {
	const show = 5
	if len(ws) <= show {
		return strings.Join(ws, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ws[:show], ", "), len(ws)-show)
}

// binding is the AWS roles bound to one service account.
type binding struct {
	irsa        string // IRSA role ARN
	podIdentity bool   // a Pod Identity association exists
	podRole     string // its role ARN, when the source gave it
}

func (b *binding) hasRole() bool { return b != nil && (b.irsa != "" || b.podIdentity) }

func (b *binding) describe() string {
	var parts []string
	if b.irsa != "" {
		parts = append(parts, "IRSA role "+b.irsa)
	}
	if b.podIdentity {
		if b.podRole != "" {
			parts = append(parts, "Pod Identity role "+b.podRole)
		} else {
			parts = append(parts, "a Pod Identity association")
		}
	}
	return strings.Join(parts, " and ")
}

// bindRoles maps each service account with a role to its binding, and
// lists them in input order.
func bindRoles(inv *Inventory) (map[saKey]*binding, []saKey) {
	m := map[saKey]*binding{}
	var order []saKey
	get := func(k saKey) *binding {
		b := m[k]
		if b == nil {
			b = &binding{}
			m[k] = b
			order = append(order, k)
		}
		return b
	}
	for _, sa := range inv.ServiceAccounts {
		if sa.IRSARole != "" {
			get(saKey{sa.Namespace, sa.Name}).irsa = sa.IRSARole
		}
	}
	for _, a := range inv.Associations {
		b := get(saKey{a.Namespace, a.ServiceAccount})
		b.podIdentity = true
		if a.RoleARN != "" {
			b.podRole = a.RoleARN
		}
	}
	return m, order
}

func severityRank(s Severity) int {
	if s == Critical {
		return 0
	}
	return 1
}

// SortFindings orders findings critical first, then by namespace, workload,
// service account and rule.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Workload, b.Workload),
			cmp.Compare(a.ServiceAccount, b.ServiceAccount),
			cmp.Compare(a.Rule, b.Rule),
		)
	})
}

// HasCritical reports whether any finding is critical.
func HasCritical(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Critical {
			return true
		}
	}
	return false
}
