package trust

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Workload is the Kubernetes workload a role is meant for, as a Pod Identity
// association names it. Namespace and ServiceAccount are required; the
// cluster (ARN preferred, else name) is optional.
type Workload struct {
	ClusterARN     string
	ClusterName    string
	Namespace      string
	ServiceAccount string
}

var (
	namespaceRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	serviceAccountRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	clusterNameRE    = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$`)
	clusterARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/([0-9A-Za-z][0-9A-Za-z_-]{0,99})$`)
)

// Validate checks the names are what Kubernetes and EKS allow, so that they
// can be written into a policy as exact values.
func (w Workload) Validate() error {
	if len(w.Namespace) > 63 || !namespaceRE.MatchString(w.Namespace) {
		return fmt.Errorf("namespace %q is not a Kubernetes namespace name", w.Namespace)
	}
	if len(w.ServiceAccount) > 253 || !serviceAccountRE.MatchString(w.ServiceAccount) {
		return fmt.Errorf("service account %q is not a Kubernetes service account name", w.ServiceAccount)
	}
	if w.ClusterName != "" && !clusterNameRE.MatchString(w.ClusterName) {
		return fmt.Errorf("cluster name %q is not an EKS cluster name", w.ClusterName)
	}
	if w.ClusterARN != "" {
		m := clusterARNRE.FindStringSubmatch(w.ClusterARN)
		if m == nil {
			return fmt.Errorf("cluster ARN %q is not an EKS cluster ARN (arn:aws:eks:REGION:ACCOUNT:cluster/NAME)", w.ClusterARN)
		}
		if w.ClusterName != "" && w.ClusterName != m[1] {
			return fmt.Errorf("cluster name %q does not match cluster ARN %q", w.ClusterName, w.ClusterARN)
		}
	}
	return nil
}

// String is "namespace/service-account", with the cluster when known.
func (w Workload) String() string {
	s := w.Namespace + "/" + w.ServiceAccount
	switch {
	case w.ClusterARN != "":
		s += " in " + w.ClusterARN
	case w.ClusterName != "":
		s += " in cluster " + w.ClusterName
	}
	return s
}

// ChangeKind says what Fix did to a statement.
type ChangeKind string

const (
	ChangeRemoved ChangeKind = "removed" // the statement was deleted
	ChangeScoped  ChangeKind = "scoped"  // the statement now admits only the workload
	ChangeDenyAll ChangeKind = "deny-all"
)

// Change is one thing Fix did, readable in a notification.
type Change struct {
	// Statement is the 1-based index in the original policy; 0 for the
	// explicit Deny written when no Allow remained.
	Statement int        `json:"statement"`
	Kind      ChangeKind `json:"kind"`
	Rules     []Rule     `json:"rules,omitempty"` // the critical rules that caused it
	Before    string     `json:"before,omitempty"`
	After     string     `json:"after,omitempty"`
	Detail    string     `json:"detail"`
}

func (c Change) String() string {
	if c.Statement == 0 {
		return c.Detail
	}
	rules := make([]string, len(c.Rules))
	for i, r := range c.Rules {
		rules[i] = string(r)
	}
	return fmt.Sprintf("statement %d %s (%s): %s", c.Statement, c.Kind, strings.Join(rules, ", "), c.Detail)
}

// Changes lists what Fix did, in statement order.
type Changes []Change

func (cs Changes) String() string {
	lines := make([]string, len(cs))
	for i, c := range cs {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

// RevokedSid is the Sid of the explicit Deny that Fix writes when no Allow
// statement remains.
const RevokedSid = "CredguardRevoked"

// denyAllStatement denies every way to assume the role, to every principal.
func denyAllStatement() Statement {
	return Statement{
		Sid:       RevokedSid,
		Effect:    Deny,
		Principal: &Principal{Any: true},
		Action:    []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"},
	}
}

// Fix returns p without its critical statements, and what it changed.
//
// Each statement with a critical finding is removed, except that, when w
// names a workload, a statement that trusts pods.eks.amazonaws.com or exactly
// one EKS OIDC provider is scoped to that workload instead: its principal is
// reduced to that service or provider and exact StringEquals conditions are
// added (Pod Identity: aws:RequestTag/kubernetes-namespace,
// …/kubernetes-service-account, and …/eks-cluster-arn or …/eks-cluster-name
// when known; IRSA: "<issuer>:sub" = system:serviceaccount:NS:SA, keeping an
// existing aud condition and otherwise adding "<issuer>:aud" =
// sts.amazonaws.com). Scoping only ever adds conditions and drops
// principals, so it narrows; a scoped statement that would still be critical
// is removed instead. Statements that are not critical, and Deny statements,
// are kept untouched.
//
// If no Allow statement remains, the result is a policy with a single
// explicit Deny (Sid CredguardRevoked). The result stays within
// max(DefaultSizeQuota, size of p): scoping gives way to removal when needed.
// A policy with nothing critical is returned unchanged with no changes, so
// Fix(Fix(p)) equals Fix(p). Fix does not modify p; the result may share
// untouched statements with it.
func Fix(p Policy, w *Workload) (Policy, Changes, error) {
	if err := validate(p); err != nil {
		return Policy{}, nil, fmt.Errorf("fix: %w", err)
	}
	if w != nil {
		if err := w.Validate(); err != nil {
			return Policy{}, nil, fmt.Errorf("fix: workload: %w", err)
		}
	}
	critical := make([][]Rule, len(p.Statements))
	found := false
	for i := range p.Statements {
		for _, f := range analyzeStatement(i+1, &p.Statements[i]) {
			if f.Severity == Critical {
				if !slices.Contains(critical[i], f.Rule) {
					critical[i] = append(critical[i], f.Rule)
				}
				found = true
			}
		}
	}
	if !found {
		return p, nil, nil
	}
	orig, err := Marshal(p)
	if err != nil {
		return Policy{}, nil, fmt.Errorf("fix: %w", err)
	}
	limit := max(DefaultSizeQuota, NonWhitespaceLen(orig))

	// One decision per statement: keep it (nil change), scope it, remove it.
	type decision struct {
		change *Change
		scoped *Statement
	}
	decisions := make([]decision, len(p.Statements))
	for i := range p.Statements {
		if critical[i] == nil {
			continue
		}
		s := &p.Statements[i]
		ch := &Change{Statement: i + 1, Rules: critical[i], Before: s.String()}
		decisions[i].change = ch
		if w != nil {
			if scoped, how, ok := scopeStatement(s, *w); ok {
				ch.Kind, ch.After, ch.Detail = ChangeScoped, scoped.String(), how
				decisions[i].scoped = &scoped
				continue
			}
		}
		ch.Kind, ch.Detail = ChangeRemoved, "removed"
		if w != nil {
			ch.Detail = "removed (it cannot be scoped to " + w.String() + ")"
		}
	}
	assemble := func() Policy {
		out := Policy{Version: p.Version, ID: p.ID, statementObject: p.statementObject}
		for i := range p.Statements {
			switch d := decisions[i]; {
			case d.change == nil:
				out.Statements = append(out.Statements, p.Statements[i])
			case d.scoped != nil:
				out.Statements = append(out.Statements, *d.scoped)
			}
		}
		return out
	}
	out := assemble()
	for {
		b, err := Marshal(out)
		if err != nil {
			return Policy{}, nil, fmt.Errorf("fix: %w", err)
		}
		if NonWhitespaceLen(b) <= limit {
			break
		}
		last := -1
		for i := range decisions {
			if decisions[i].scoped != nil {
				last = i
			}
		}
		if last < 0 {
			// Unreachable: without scoping, the result is a subset of p.
			return Policy{}, nil, errors.New("fix: result exceeds the size quota")
		}
		d := &decisions[last]
		d.scoped = nil
		d.change.Kind, d.change.After = ChangeRemoved, ""
		d.change.Detail = fmt.Sprintf("removed (scoping it would take the policy past the %d-character size quota)", limit)
		out = assemble()
	}
	var changes Changes
	for _, d := range decisions {
		if d.change != nil {
			changes = append(changes, *d.change)
		}
	}
	if !hasAllow(out) {
		deny := denyAllStatement()
		out = Policy{Version: Version2012, ID: p.ID, Statements: []Statement{deny}}
		changes = append(changes, Change{
			Kind:   ChangeDenyAll,
			After:  deny.String(),
			Detail: "no Allow statement remained: the policy now explicitly denies assuming the role to everyone",
		})
	}
	return out, changes, nil
}

func hasAllow(p Policy) bool {
	for _, s := range p.Statements {
		if s.Effect == Allow {
			return true
		}
	}
	return false
}

// scopeStatement narrows a critical statement to the workload, or reports
// that it cannot.
func scopeStatement(s *Statement, w Workload) (Statement, string, bool) {
	if s.Effect != Allow || s.Principal == nil || s.Principal.Any {
		return Statement{}, "", false
	}
	c := s.clone()
	c.raw, c.sig = "", ""
	var how string
	ok := true
	if svc, found := findService(s.Principal, podIdentityService); found {
		c.Principal = &Principal{Entries: []PrincipalEntry{{Type: Service, Values: []string{svc}}}}
		c.Conditions, ok = addExact(c.Conditions, "aws:RequestTag/kubernetes-namespace", w.Namespace)
		if ok {
			c.Conditions, ok = addExact(c.Conditions, "aws:RequestTag/kubernetes-service-account", w.ServiceAccount)
		}
		switch {
		case !ok:
		case w.ClusterARN != "":
			c.Conditions, ok = addExact(c.Conditions, "aws:RequestTag/eks-cluster-arn", w.ClusterARN)
		case w.ClusterName != "":
			c.Conditions, ok = addExact(c.Conditions, "aws:RequestTag/eks-cluster-name", w.ClusterName)
		}
		how = "scoped to Pod Identity for " + w.String()
	} else {
		prov, found := singleEKSProvider(s.Principal)
		if !found {
			return Statement{}, "", false
		}
		c.Principal = &Principal{Entries: []PrincipalEntry{{Type: Federated, Values: []string{prov.value}}}}
		sub := serviceAccountSubPrefix + w.Namespace + ":" + w.ServiceAccount
		c.Conditions, ok = addExact(c.Conditions, prov.issuer+":sub", sub)
		how = fmt.Sprintf("scoped to %s:sub = %s", prov.issuer, sub)
		// An existing aud condition is kept as it is; with none, the
		// audience IRSA tokens carry is required too.
		if ok && !hasKey(c.Conditions, prov.issuer+":aud") {
			c.Conditions, ok = addExact(c.Conditions, prov.issuer+":aud", irsaAudience)
			how += fmt.Sprintf(" and %s:aud = %s", prov.issuer, irsaAudience)
		}
	}
	if !ok {
		return Statement{}, "", false
	}
	for _, f := range analyzeStatement(1, &c) {
		if f.Severity == Critical {
			return Statement{}, "", false
		}
	}
	return c, how, true
}

// irsaAudience is the audience of the tokens EKS projects for IRSA.
const irsaAudience = "sts.amazonaws.com"

func hasKey(conds []Condition, key string) bool {
	for _, c := range conds {
		if strings.EqualFold(c.Key, key) {
			return true
		}
	}
	return false
}

func findService(p *Principal, name string) (string, bool) {
	for _, e := range p.Entries {
		if e.Type != Service {
			continue
		}
		for _, v := range e.Values {
			if strings.EqualFold(v, name) {
				return v, true
			}
		}
	}
	return "", false
}

// singleEKSProvider returns the statement's EKS OIDC provider when it names
// exactly one.
func singleEKSProvider(p *Principal) (provider, bool) {
	var found []provider
	for _, e := range p.Entries {
		if e.Type != Federated {
			continue
		}
		for _, v := range e.Values {
			if pr := classifyProvider(v); pr.kind == provEKS {
				dup := false
				for _, f := range found {
					dup = dup || f.value == v
				}
				if !dup {
					found = append(found, pr)
				}
			}
		}
	}
	if len(found) != 1 {
		return provider{}, false
	}
	return found[0], true
}

// addExact adds the condition StringEquals key = value. Where a plain
// StringEquals on that key already exists, its values are narrowed to value
// (ok is false when value is not among them: the statement could never
// admit the workload). Conditions are only ever added or narrowed.
func addExact(conds []Condition, key, value string) ([]Condition, bool) {
	op := ""
	for i := range conds {
		if !isPlainStringEquals(conds[i].Operator) {
			continue
		}
		if op == "" {
			op = conds[i].Operator // reuse the document's spelling: one JSON key per operator
		}
		if strings.EqualFold(conds[i].Key, key) {
			for _, v := range conds[i].Values {
				if v == value {
					conds[i].Values = []string{value}
					return conds, true
				}
			}
			return conds, false
		}
	}
	if op == "" {
		op = "StringEquals"
	}
	return append(conds, Condition{Operator: op, Key: key, Values: []string{value}}), true
}
