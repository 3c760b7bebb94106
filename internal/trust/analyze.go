package trust

import (
	"fmt"
	"strings"
)

// Severity ranks a finding; the worst finding is the policy's verdict.
type Severity string

const (
	OK       Severity = "ok"
	Warning  Severity = "warning"  // notify, change nothing
	Critical Severity = "critical" // revoke
)

func (s Severity) rank() int {
	switch s {
	case Critical:
		return 2
	case Warning:
		return 1
	}
	return 0
}

// Rule is a stable finding id: notifications, logs and docs use it verbatim.
type Rule string

const (
	RulePublicPrincipal        Rule = "public-principal"
	RulePublicPrincipalBounded Rule = "public-principal-bounded"
	RuleNotPrincipalAllow      Rule = "not-principal-allow"
	RuleOIDCNoSub              Rule = "oidc-no-sub"
	RuleOIDCBroadSub           Rule = "oidc-broad-sub"
	RuleOIDCWildcardKey        Rule = "oidc-wildcard-key"
	RuleWebIdentityNoAud       Rule = "web-identity-no-aud"
	RuleOIDCSAWildcard         Rule = "oidc-sa-wildcard"
	RuleOIDCSubWildcard        Rule = "oidc-sub-wildcard"
	RuleOIDCAud                Rule = "oidc-aud"
	RulePodIdentityUnscoped    Rule = "pod-identity-unscoped"
)

// RuleInfo describes a rule for documentation and listings.
type RuleInfo struct {
	ID       Rule
	Severity Severity
	Summary  string
}

var rules = []RuleInfo{
	{RulePublicPrincipal, Critical, `an Allow statement trusts everyone ("*", {"AWS": "*"}, {"Federated": "*"}, a wildcard principal such as arn:aws:iam::*:root) and no condition bounds the caller`},
	{RuleNotPrincipalAllow, Critical, "an Allow statement uses NotPrincipal: everyone except the listed principals may assume the role"},
	{RuleOIDCNoSub, Critical, "a web-identity (OIDC) statement has no effective sub condition: any identity of the provider may assume the role"},
	{RuleOIDCBroadSub, Critical, "the sub pattern lets in subjects beyond one scope: service accounts of more than one namespace, or any subject of the provider"},
	{RuleOIDCWildcardKey, Critical, "the only sub-like condition uses a wildcard key (such as *:sub), which IAM does not expand"},
	{RuleWebIdentityNoAud, Critical, "a Cognito, Google, Facebook or Login with Amazon statement does not pin the application (aud or app_id)"},
	{RulePublicPrincipalBounded, Warning, "a statement trusts everyone but a condition bounds the caller to an organization, account or principal ARN"},
	{RuleOIDCSAWildcard, Warning, "the sub pattern fixes the namespace but has a wildcard in the service-account part"},
	{RuleOIDCSubWildcard, Warning, "the sub pattern of a non-Kubernetes provider has a wildcard after a fixed prefix"},
	{RuleOIDCAud, Warning, "a web-identity (OIDC) statement has no aud condition, or a wildcard one (it should be sts.amazonaws.com)"},
	{RulePodIdentityUnscoped, Warning, "pods.eks.amazonaws.com is trusted with no condition on the cluster, namespace, service account or source account"},
}

// Rules lists every rule with its severity, critical rules first.
func Rules() []RuleInfo { return append([]RuleInfo(nil), rules...) }

// Finding is one problem in one statement.
type Finding struct {
	Rule      Rule     `json:"rule"`
	Severity  Severity `json:"severity"`
	Statement int      `json:"statement"` // 1-based, in document order
	Detail    string   `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("statement %d: %s %s: %s", f.Statement, f.Severity, f.Rule, f.Detail)
}

// Report is the result of Analyze.
type Report struct {
	Verdict  Severity  `json:"verdict"`
	Findings []Finding `json:"findings"` // never nil
}

// Critical reports whether the verdict is critical.
func (r Report) Critical() bool { return r.Verdict == Critical }

// String lists the verdict and the findings, one per line.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s", r.Verdict)
	if len(r.Findings) == 0 {
		b.WriteString(" (no findings)")
	}
	for _, f := range r.Findings {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Analyze judges every Allow statement of p (Deny statements never grant).
func Analyze(p Policy) Report {
	r := Report{Verdict: OK, Findings: []Finding{}}
	for i := range p.Statements {
		r.Findings = append(r.Findings, analyzeStatement(i+1, &p.Statements[i])...)
	}
	for _, f := range r.Findings {
		if f.Severity.rank() > r.Verdict.rank() {
			r.Verdict = f.Severity
		}
	}
	return r
}

const (
	actionAssumeRole        = "sts:AssumeRole"
	actionWebIdentity       = "sts:AssumeRoleWithWebIdentity"
	podIdentityService      = "pods.eks.amazonaws.com"
	serviceAccountSubPrefix = "system:serviceaccount:"
)

func analyzeStatement(n int, s *Statement) []Finding {
	if s.Effect != Allow {
		return nil
	}
	var out []Finding
	add := func(rule Rule, sev Severity, format string, args ...any) {
		f := Finding{Rule: rule, Severity: sev, Statement: n, Detail: fmt.Sprintf(format, args...)}
		for _, g := range out {
			if g == f {
				return
			}
		}
		out = append(out, f)
	}
	if s.NotPrincipal != nil {
		add(RuleNotPrincipalAllow, Critical, "NotPrincipal in an Allow statement lets every principal except %s assume the role", describePrincipal(s.NotPrincipal))
		return out
	}
	if s.Principal == nil {
		return out
	}
	if who, public := publicPrincipal(s.Principal); public {
		if bound, ok := callerBound(s); ok {
			add(RulePublicPrincipalBounded, Warning, "%s trusts everyone, bounded by %s", who, bound)
		} else {
			add(RulePublicPrincipal, Critical, "%s lets anyone assume the role; no condition bounds the caller to an organization, account or principal ARN", who)
		}
	}
	webIdentity := statementCovers(s, actionWebIdentity)
	for _, e := range s.Principal.Entries {
		switch e.Type {
		case Federated:
			if !webIdentity {
				continue
			}
			for _, v := range e.Values {
				p := classifyProvider(v)
				switch {
				case p.kind == provPublicIdP:
					checkPublicIdP(s, p, add)
				case p.oidcLike():
					checkOIDC(s, p, add)
				}
			}
		case Service:
			for _, v := range e.Values {
				if strings.EqualFold(v, podIdentityService) && statementCovers(s, actionAssumeRole) && !podIdentityScoped(s) {
					add(RulePodIdentityUnscoped, Warning, "%s may assume the role for any pod of any cluster in the account; add a condition on aws:RequestTag/eks-cluster-arn, aws:RequestTag/kubernetes-namespace, aws:RequestTag/kubernetes-service-account or aws:SourceAccount", podIdentityService)
				}
			}
		}
	}
	return out
}

// publicPrincipal reports whether the principal admits everyone, and how.
func publicPrincipal(p *Principal) (string, bool) {
	if p.Any {
		return `Principal "*"`, true
	}
	for _, e := range p.Entries {
		for _, v := range e.Values {
			if v == "*" {
				return fmt.Sprintf(`Principal {%q: "*"}`, string(e.Type)), true
			}
			if hasWildcard(v) {
				return fmt.Sprintf("%s principal %q (a wildcard)", e.Type, v), true
			}
		}
	}
	return "", false
}

func describePrincipal(p *Principal) string {
	if p.Any {
		return `"*"`
	}
	var parts []string
	for _, e := range p.Entries {
		parts = append(parts, fmt.Sprintf("%s %s", e.Type, strings.Join(e.Values, ", ")))
	}
	return strings.Join(parts, "; ")
}

// callerBoundKeys bound a public principal when compared to exact values.
var callerBoundKeys = []string{"aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:SourceAccount", "aws:PrincipalArn", "aws:SourceOrgID"}

// callerBound finds a positive string or ARN condition (plain or
// ForAnyValue:, which fails when the key is absent; not IfExists or
// ForAllValues:, which pass then) pinning the caller's organization, account
// or ARN to exact values.
func callerBound(s *Statement) (string, bool) {
	for _, c := range s.Conditions {
		op := parseOperator(c.Operator)
		if !op.bounding() || !containsFold(callerBoundKeys, c.Key) {
			continue
		}
		if exactValues(op, c.Values) {
			return fmt.Sprintf("%s %s = %s", c.Operator, c.Key, strings.Join(c.Values, ", ")), true
		}
	}
	return "", false
}

// usesWildcards reports whether the operator family interprets * and ?.
func usesWildcards(op operator) bool {
	return op.family == famStringLike || op.family == famArnLike
}

// exactValues reports whether every value is a literal under the operator:
// no wildcard (for Like/ARN operators) and no policy variable.
func exactValues(op operator, vals []string) bool {
	for _, v := range vals {
		if _, wild := literalPrefix(v, usesWildcards(op)); wild {
			return false
		}
	}
	return true
}

// literalPrefix returns the part of a condition value before its first
// wildcard (* or ? when like, and a policy variable ${…} always), and whether
// the value has one.
func literalPrefix(v string, like bool) (string, bool) {
	end := len(v)
	if i := strings.Index(v, "${"); i >= 0 {
		end = i
	}
	if like {
		if i := strings.IndexAny(v[:end], "*?"); i >= 0 {
			end = i
		}
	}
	return v[:end], end < len(v)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// subLevel is how far a sub condition bounds the subject.
type subLevel uint8

const (
	subExact   subLevel = iota // one subject (or a fixed list of them)
	subScoped                  // a wildcard inside one fixed scope (a namespace, a GitHub owner)
	subBroad                   // more than one namespace, or any subject
	subMissing                 // no effective condition
)

// subValueLevel classifies one sub value of an effective condition. k8s
// reports whether Kubernetes service-account rules applied.
func subValueLevel(p provider, v string, like bool) (level subLevel, k8s bool) {
	prefix, wild := literalPrefix(v, like)
	if !wild {
		return subExact, p.kind == provEKS || hasPrefixFold(v, serviceAccountSubPrefix)
	}
	if p.kind == provEKS || hasPrefixFold(prefix, "system:") || hasPrefixFold("system:", prefix) {
		// Kubernetes subjects are system:serviceaccount:<namespace>:<name>;
		// the namespace must be fixed by the literal prefix.
		if hasPrefixFold(prefix, serviceAccountSubPrefix) {
			rest := prefix[len(serviceAccountSubPrefix):]
			if i := strings.IndexByte(rest, ':'); i > 0 {
				return subScoped, true
			}
		}
		return subBroad, true
	}
	if prefix == "" {
		return subBroad, false
	}
	if p.kind == provGitHub {
		// GitHub subjects are repo:<owner>/<repo>:…; the owner must be fixed.
		lp := strings.ToLower(prefix)
		if strings.HasPrefix("repo:", lp) {
			return subBroad, false
		}
		if strings.HasPrefix(lp, "repo:") && !strings.Contains(lp[len("repo:"):], "/") {
			return subBroad, false
		}
	}
	return subScoped, false
}

type addFunc func(rule Rule, sev Severity, format string, args ...any)

// checkOIDC applies the sub and aud rules for one OIDC provider of a
// web-identity statement.
func checkOIDC(s *Statement, p provider, add addFunc) {
	subKey := p.issuer + ":sub"
	audKey := p.issuer + ":aud"
	best, bestK8s := subMissing, false
	var bestCond Condition
	wildKey := ""
	audSeen, audExact := false, false
	for _, c := range s.Conditions {
		if hasWildcard(c.Key) {
			if globMatch(c.Key, subKey, true) && wildKey == "" {
				wildKey = c.Key
			}
			continue
		}
		op := parseOperator(c.Operator)
		if !op.bounding() || op.family == famArnLike {
			continue
		}
		switch {
		case strings.EqualFold(c.Key, subKey):
			level, k8s := subExact, false
			for _, v := range c.Values {
				l, k := subValueLevel(p, v, usesWildcards(op))
				if l > level || (l == level && k) {
					level, k8s = l, k
				}
			}
			if level < best {
				best, bestK8s, bestCond = level, k8s, c
			}
		case strings.EqualFold(c.Key, audKey):
			audSeen = true
			if exactValues(op, c.Values) {
				audExact = true
			}
		}
	}
	switch best {
	case subMissing:
		if wildKey != "" {
			add(RuleOIDCWildcardKey, Critical, "condition key %q is a wildcard, which IAM compares literally: it does not bound %s, so any identity from this provider may assume the role", wildKey, subKey)
		} else {
			add(RuleOIDCNoSub, Critical, "no effective condition on %s (only plain StringEquals/StringLike count: IfExists and ForAllValues pass when the key is absent), so any identity from this provider may assume the role", subKey)
		}
	case subBroad:
		what := "any subject of the provider"
		if bestK8s {
			what = "service accounts of more than one namespace"
		}
		add(RuleOIDCBroadSub, Critical, "%s %s = %s lets %s assume the role", bestCond.Operator, bestCond.Key, quoteAll(bestCond.Values), what)
	case subScoped:
		if bestK8s {
			add(RuleOIDCSAWildcard, Warning, "%s %s = %s fixes the namespace but lets every matching service account in it assume the role", bestCond.Operator, bestCond.Key, quoteAll(bestCond.Values))
		} else {
			add(RuleOIDCSubWildcard, Warning, "%s %s = %s has a wildcard: every matching subject may assume the role", bestCond.Operator, bestCond.Key, quoteAll(bestCond.Values))
		}
	}
	switch {
	case !audSeen:
		add(RuleOIDCAud, Warning, "no %s condition (it should be sts.amazonaws.com)", audKey)
	case !audExact:
		add(RuleOIDCAud, Warning, "the %s condition has a wildcard (it should be sts.amazonaws.com)", audKey)
	}
}

// checkPublicIdP requires a Cognito or social-login statement to pin the
// application: without it, anyone signed in to any application of that
// provider may assume the role.
func checkPublicIdP(s *Statement, p provider, add addFunc) {
	for _, c := range s.Conditions {
		op := parseOperator(c.Operator)
		if op.bounding() && op.family != famArnLike && strings.EqualFold(c.Key, p.appKey) && exactValues(op, c.Values) {
			return
		}
	}
	add(RuleWebIdentityNoAud, Critical, "no exact %s condition: anyone signed in to any application of %s may assume the role", p.appKey, p.value)
}

// podIdentityScopeKeys bound a pods.eks.amazonaws.com statement.
var podIdentityScopeKeys = []string{
	"aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account",
	"aws:RequestTag/eks-cluster-arn", "aws:RequestTag/eks-cluster-name",
	"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID",
}

func podIdentityScoped(s *Statement) bool {
	for _, c := range s.Conditions {
		op := parseOperator(c.Operator)
		if !op.bounding() || !containsFold(podIdentityScopeKeys, c.Key) {
			continue
		}
		scoped := true
		for _, v := range c.Values {
			if usesWildcards(op) && matchAll(v) {
				scoped = false
			}
		}
		if scoped {
			return true
		}
	}
	return false
}

func quoteAll(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
