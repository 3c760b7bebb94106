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
	// Issuer is the cluster's OIDC issuer URL as eks:DescribeCluster returns
	// it (https://oidc.eks.REGION.amazonaws.com/id/ID). A web-identity
	// (IRSA) statement is scoped to the workload only when its provider is
	// this issuer; "" means IRSA statements are never scoped.
	Issuer string
}

var (
	namespaceRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	serviceAccountRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	clusterNameRE    = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$`)
	clusterARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/([0-9A-Za-z][0-9A-Za-z_-]{0,99})$`)
	issuerRE         = regexp.MustCompile(`^https://oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[0-9A-Za-z]+/?$`)
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
	if w.Issuer != "" && !issuerRE.MatchString(w.Issuer) {
		return fmt.Errorf("issuer %q is not an EKS OIDC issuer URL (https://oidc.eks.REGION.amazonaws.com/id/ID)", w.Issuer)
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

// issuesFor reports whether the IAM OIDC provider is the workload's cluster
// issuer: the provider's issuer (host/path) equals the issuer URL without
// its scheme.
func (w Workload) issuesFor(p provider) bool {
	if w.Issuer == "" || p.kind != provEKS {
		return false
	}
	iss := strings.TrimSuffix(strings.TrimPrefix(w.Issuer, "https://"), "/")
	return strings.EqualFold(p.issuer, iss)
}

// ChangeKind says what Fix did to a statement.
type ChangeKind string

const (
	ChangeRemoved ChangeKind = "removed" // the statement was deleted: nothing legitimate was left in it
	ChangeTrimmed ChangeKind = "trimmed" // the critical principal values were removed, the rest kept
	ChangeScoped  ChangeKind = "scoped"  // part of the statement now admits only the workload
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
	// After is what replaced the statement: one statement, or several
	// separated by commas when a scoped part was split off.
	After  string `json:"after,omitempty"`
	Detail string `json:"detail"`
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

// Fix returns p narrowed so that nothing in it is critical, and what it
// changed. It only ever removes principals and adds conditions, so the
// result never allows a request p denied.
//
// In a critical Allow statement, only the principal values that make it
// critical are removed (a public principal: "*", {"AWS": "*"},
// {"Service": "*"}, {"Federated": "*"}, a wildcard ARN; an OIDC provider whose
// sub is unbounded; a Cognito or social provider without an application
// condition); its other principals, actions and conditions are kept. A
// statement is removed only when nothing is left in it, or when it uses
// NotPrincipal.
//
// With a workload w, scoping stays within one identity mechanism:
//   - Pod Identity: pods.eks.amazonaws.com in a critical statement (when the
//     statement does not already bound it), and a public principal that
//     admits pods.eks.amazonaws.com where the statement allows
//     sts:AssumeRole, become one pods.eks.amazonaws.com statement with the
//     original conditions plus exact StringEquals on
//     aws:RequestTag/kubernetes-namespace, …/kubernetes-service-account and
//     …/eks-cluster-arn (or …/eks-cluster-name). Its actions are the
//     statement's, or for a replaced public principal sts:AssumeRole plus
//     sts:TagSession only if the statement allowed it.
//   - IRSA: a critical EKS OIDC provider whose issuer is w.Issuer becomes a
//     statement for that provider with the original conditions plus
//     "<issuer>:sub" = system:serviceaccount:NS:SA (and "<issuer>:aud" =
//     sts.amazonaws.com when no aud condition exists). Other providers,
//     {"Federated": "*"} included, are never scoped.
//
// Scoping that cannot admit the workload (an existing condition excludes
// it) is not done: the statement is handled as without a workload.
// Statements that are not critical, and Deny statements, are kept untouched.
//
// If no Allow statement remains, the result is a policy with a single
// explicit Deny (Sid CredguardRevoked). The result stays within
// max(DefaultSizeQuota, size of p): scoping gives way to trimming, and
// trimming to removal, when needed. A policy with nothing critical is
// returned unchanged with no changes, so Fix(Fix(p)) equals Fix(p). Fix does
// not modify p; the result may share untouched statements with it.
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
		critical[i] = criticalRules(&p.Statements[i])
		found = found || critical[i] != nil
	}
	if !found {
		return p, nil, nil
	}
	orig, err := Marshal(p)
	if err != nil {
		return Policy{}, nil, fmt.Errorf("fix: %w", err)
	}
	limit := max(DefaultSizeQuota, NonWhitespaceLen(orig))

	// One decision per critical statement, at one of three levels: scoped
	// to the workload (as far as it can be), trimmed without scoping, or
	// removed. Each level is narrower and no larger than the one before.
	const (
		levelRemoved = iota
		levelTrimmed
		levelScoped
	)
	type decision struct {
		level int
		parts []Statement
		kind  ChangeKind
		how   string
	}
	decisions := make([]*decision, len(p.Statements))
	decide := func(i, level int) {
		d := &decision{level: level}
		decisions[i] = d
		s := &p.Statements[i]
		switch level {
		case levelScoped:
			d.parts, d.kind, d.how = rewrite(s, w)
		case levelTrimmed:
			d.parts, d.kind, d.how = rewrite(s, nil)
		}
		if len(d.parts) == 0 {
			d.level, d.kind, d.how = levelRemoved, ChangeRemoved, "removed"
			if w != nil && level == levelScoped {
				d.how = "removed (it cannot be scoped to " + w.String() + ")"
			}
		}
	}
	for i := range p.Statements {
		if critical[i] != nil {
			decide(i, levelScoped)
		}
	}
	assemble := func() Policy {
		out := Policy{Version: p.Version, ID: p.ID, statementObject: p.statementObject}
		for i := range p.Statements {
			if d := decisions[i]; d == nil {
				out.Statements = append(out.Statements, p.Statements[i])
			} else {
				out.Statements = append(out.Statements, d.parts...)
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
		// Lower the last statement at the highest level by one level.
		last, top := -1, levelRemoved
		for i, d := range decisions {
			if d != nil && d.level >= top && d.level > levelRemoved {
				last, top = i, d.level
			}
		}
		if last < 0 {
			// Unreachable: with every critical statement removed, the
			// result is a subset of p.
			return Policy{}, nil, errors.New("fix: result exceeds the size quota")
		}
		decide(last, top-1)
		decisions[last].how += fmt.Sprintf(" (a larger rewrite would take the policy past the %d-character size quota)", limit)
		out = assemble()
	}
	var changes Changes
	for i, d := range decisions {
		if d == nil {
			continue
		}
		ch := Change{Statement: i + 1, Kind: d.kind, Rules: critical[i], Before: p.Statements[i].String(), Detail: d.how}
		if len(d.parts) > 0 {
			after := make([]string, len(d.parts))
			for j, s := range d.parts {
				after[j] = s.String()
			}
			ch.After = strings.Join(after, ",")
		}
		changes = append(changes, ch)
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

// NeedsIssuer reports whether a workload's OIDC issuer could matter to Fix:
// a critical Allow statement of p names an EKS OIDC provider.
func NeedsIssuer(p Policy) bool {
	for i := range p.Statements {
		s := &p.Statements[i]
		if s.Principal == nil || criticalRules(s) == nil {
			continue
		}
		for _, v := range values(s.Principal) {
			if v.Type == Federated && classifyProvider(v.Value).kind == provEKS {
				return true
			}
		}
	}
	return false
}

// criticalRules lists the critical rules a statement breaks (nil when none).
func criticalRules(s *Statement) []Rule {
	var rules []Rule
	for _, f := range analyzeStatement(1, s) {
		if f.Severity == Critical && !slices.Contains(rules, f.Rule) {
			rules = append(rules, f.Rule)
		}
	}
	return rules
}

func hasAllow(p Policy) bool {
	for _, s := range p.Statements {
		if s.Effect == Allow {
			return true
		}
	}
	return false
}

// principalValue is one value of a Principal map, or the bare "*" (Any).
type principalValue struct {
	Any   bool
	Type  PrincipalType
	Value string
}

func (v principalValue) principal() *Principal {
	if v.Any {
		return &Principal{Any: true}
	}
	return &Principal{Entries: []PrincipalEntry{{Type: v.Type, Values: []string{v.Value}}}}
}

func (v principalValue) String() string {
	if v.Any {
		return `Principal "*"`
	}
	return fmt.Sprintf("%s %q", v.Type, v.Value)
}

// values lists a principal's values in document order.
func values(p *Principal) []principalValue {
	if p.Any {
		return []principalValue{{Any: true}}
	}
	var out []principalValue
	for _, e := range p.Entries {
		for _, v := range e.Values {
			out = append(out, principalValue{Type: e.Type, Value: v})
		}
	}
	return out
}

// without returns the principal with the listed values left out; nil when
// nothing is left. Types keep their document order.
func without(p *Principal, drop []principalValue) *Principal {
	if p.Any {
		if slices.Contains(drop, principalValue{Any: true}) {
			return nil
		}
		return &Principal{Any: true}
	}
	out := &Principal{}
	for _, e := range p.Entries {
		var keep []string
		for _, v := range e.Values {
			if !slices.Contains(drop, principalValue{Type: e.Type, Value: v}) {
				keep = append(keep, v)
			}
		}
		if len(keep) > 0 {
			out.Entries = append(out.Entries, PrincipalEntry{Type: e.Type, Values: keep})
		}
	}
	if len(out.Entries) == 0 {
		return nil
	}
	return out
}

// withPrincipal is a deep copy of s with another principal, to be written
// canonically.
func withPrincipal(s *Statement, p *Principal) Statement {
	c := s.clone()
	c.raw, c.sig = "", ""
	c.Principal = p
	return c
}

// rewrite is Fix for one critical statement: the statements that replace it
// (none when it is removed), the kind of change and a readable account.
// Every statement returned is narrower than s and not critical.
func rewrite(s *Statement, w *Workload) ([]Statement, ChangeKind, string) {
	if s.Effect != Allow {
		return nil, ChangeRemoved, ""
	}
	pods := Identity{Type: Service, ID: podIdentityService}
	if s.NotPrincipal != nil {
		// Everyone but the listed principals: like a public principal, it
		// is replaced by the workload when it admits pods.eks.amazonaws.com.
		if w == nil || principalMatches(s.NotPrincipal, pods) {
			return nil, ChangeRemoved, ""
		}
		open := s.clone()
		open.NotPrincipal, open.Principal = nil, &Principal{Any: true}
		st, _, _, _, ok := scopePodIdentity(&open, []principalValue{{Any: true}}, *w)
		if !ok {
			return nil, ChangeRemoved, ""
		}
		st.Sid = s.Sid
		return []Statement{st}, ChangeScoped, "replaced NotPrincipal " + describePrincipal(s.NotPrincipal) +
			" with " + podIdentityService + " scoped to Pod Identity for " + w.String()
	}
	if s.Principal == nil {
		return nil, ChangeRemoved, ""
	}
	// A value is critical when the statement with that value alone is:
	// every critical rule but not-principal-allow is judged per value,
	// against the statement's own actions and conditions.
	var crit []principalValue
	for _, v := range values(s.Principal) {
		one := withPrincipal(s, v.principal())
		if criticalRules(&one) != nil {
			crit = append(crit, v)
		}
	}
	if len(crit) == 0 {
		return nil, ChangeRemoved, "" // defensive: cannot say what to keep
	}
	var notes []string
	used := []principalValue{}  // critical values a scoped statement replaces
	moved := []principalValue{} // legitimate values that went into a scoped statement
	var scoped []Statement
	if w != nil {
		if st, from, public, how, ok := scopePodIdentity(s, crit, *w); ok {
			scoped = append(scoped, st)
			moved = append(moved, from...)
			used = append(used, public...)
			notes = append(notes, how)
		}
		for _, v := range crit {
			if st, how, ok := scopeIRSA(s, v, *w); ok {
				scoped = append(scoped, st)
				used = append(used, v)
				notes = append(notes, how)
			}
		}
	}
	var removed []string
	for _, v := range crit {
		if !slices.Contains(used, v) {
			removed = append(removed, v.String())
		}
	}
	if len(removed) > 0 {
		notes = append([]string{"removed " + strings.Join(removed, ", ")}, notes...)
	}
	var parts []Statement
	if rest := without(s.Principal, append(append([]principalValue{}, crit...), moved...)); rest != nil {
		r := withPrincipal(s, rest)
		if criticalRules(&r) == nil {
			parts = append(parts, r)
			kept := make([]string, 0)
			for _, v := range values(rest) {
				kept = append(kept, v.String())
			}
			notes = append(notes, "kept "+strings.Join(kept, ", ")+" with the statement's actions and conditions")
		}
	}
	parts = append(parts, scoped...)
	if len(parts) == 0 {
		return nil, ChangeRemoved, ""
	}
	// Sids must stay unique: only the first part keeps the original one.
	for i := 1; i < len(parts); i++ {
		parts[i].Sid = ""
	}
	kind := ChangeTrimmed
	if len(scoped) > 0 {
		kind = ChangeScoped
	}
	return parts, kind, strings.Join(notes, "; ")
}

// scopePodIdentity builds the pods.eks.amazonaws.com statement for the
// workload: from the service principal the statement names (unless a
// condition already bounds it) and from public values that admit it. from
// lists the statement's own pods.eks.amazonaws.com values it replaces.
func scopePodIdentity(s *Statement, crit []principalValue, w Workload) (st Statement, from, public []principalValue, how string, ok bool) {
	pods := Identity{Type: Service, ID: podIdentityService}
	if !podIdentityScoped(s) {
		for _, v := range values(s.Principal) {
			if v.Type == Service && strings.EqualFold(v.Value, podIdentityService) {
				from = append(from, v)
			}
		}
	}
	var actions []string // what Pod Identity needs, as far as the statement allowed it
	for _, a := range []string{actionAssumeRole, actionTagSession} {
		if statementCovers(s, a) {
			actions = append(actions, a)
		}
	}
	if actions != nil {
		for _, v := range crit {
			if principalMatches(v.principal(), pods) {
				public = append(public, v)
			}
		}
	}
	if len(from) == 0 && len(public) == 0 {
		return Statement{}, nil, nil, "", false
	}
	c := withPrincipal(s, &Principal{Entries: []PrincipalEntry{{Type: Service, Values: []string{podIdentityService}}}})
	if len(from) == 0 {
		// A replaced public principal: only what Pod Identity needs, and
		// only what the statement allowed.
		c.Action, c.NotAction = actions, nil
	}
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
	tags := map[string][]string{
		"aws:RequestTag/kubernetes-namespace":       {w.Namespace},
		"aws:RequestTag/kubernetes-service-account": {w.ServiceAccount},
	}
	if w.ClusterARN != "" {
		tags["aws:RequestTag/eks-cluster-arn"] = []string{w.ClusterARN}
	}
	if w.ClusterName != "" {
		tags["aws:RequestTag/eks-cluster-name"] = []string{w.ClusterName}
	}
	if !ok || criticalRules(&c) != nil || excludes(c.Conditions, tags) {
		return Statement{}, nil, nil, "", false
	}
	how = "scoped " + podIdentityService + " to Pod Identity for " + w.String()
	if len(public) > 0 {
		names := make([]string, len(public))
		for i, v := range public {
			names[i] = v.String()
		}
		how = "replaced " + strings.Join(names, ", ") + " with " + podIdentityService + " scoped to Pod Identity for " + w.String()
	}
	return c, from, public, how, true
}

// scopeIRSA builds the statement for one critical EKS OIDC provider value
// when it is the workload's cluster issuer.
func scopeIRSA(s *Statement, v principalValue, w Workload) (Statement, string, bool) {
	if v.Type != Federated {
		return Statement{}, "", false
	}
	prov := classifyProvider(v.Value)
	if !w.issuesFor(prov) {
		return Statement{}, "", false
	}
	c := withPrincipal(s, v.principal())
	sub := serviceAccountSubPrefix + w.Namespace + ":" + w.ServiceAccount
	var ok bool
	c.Conditions, ok = addExact(c.Conditions, prov.issuer+":sub", sub)
	how := fmt.Sprintf("scoped to %s:sub = %s", prov.issuer, sub)
	// An existing aud condition is kept as it is; with none, the audience
	// IRSA tokens carry is required too.
	if ok && !hasKey(c.Conditions, prov.issuer+":aud") {
		c.Conditions, ok = addExact(c.Conditions, prov.issuer+":aud", irsaAudience)
		how += fmt.Sprintf(" and %s:aud = %s", prov.issuer, irsaAudience)
	}
	known := map[string][]string{prov.issuer + ":sub": {sub}, prov.issuer + ":aud": {irsaAudience}}
	if !ok || criticalRules(&c) != nil || excludes(c.Conditions, known) {
		return Statement{}, "", false
	}
	return c, how, true
}

// excludes reports whether a condition on a key whose value the workload's
// requests are known to carry (its session tags, or its token's sub and aud)
// fails for that value, such as StringNotEquals or Null on the namespace tag:
// the scoped statement could then never admit the workload, so it is not
// written (and not reported as keeping the workload working).
func excludes(conds []Condition, known map[string][]string) bool {
	for _, c := range conds {
		if lookup(known, c.Key) != nil && evalCondition(c, known) == no {
			return true
		}
	}
	return false
}

// irsaAudience is the audience of the tokens EKS projects for IRSA.
const irsaAudience = "sts.amazonaws.com"

const actionTagSession = "sts:TagSession"

func hasKey(conds []Condition, key string) bool {
	for _, c := range conds {
		if strings.EqualFold(c.Key, key) {
			return true
		}
	}
	return false
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
