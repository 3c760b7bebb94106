// Package imds decides what the IMDS guardrail does with one instance. It is
// pure: no AWS types, no I/O.
//
// The target is IMDSv2 only (HttpTokens=required) with a PUT response hop
// limit of 1, so that pods on bridged networking cannot reach the node's
// instance role. Nothing else is ever changed: a disabled endpoint stays
// disabled, IPv6 and instance-tag settings stay as they are.
package imds

import (
	"fmt"
	"strings"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
)

// Target values.
const (
	TokensRequired = "required"
	TargetHopLimit = 1
)

// Options is an instance's metadata configuration.
type Options struct {
	HTTPTokens   string // "required" | "optional" ("" when unknown)
	HopLimit     int    // 1–64 (0 when unknown)
	HTTPEndpoint string // "enabled" | "disabled" ("" when unknown)
	State        string // "pending" | "applied"
}

// Gap says which of the two enforced settings miss the target. An empty
// tokens value or a zero hop limit (not set, as in a launch template without
// them) misses it: a launch would then take the account or AMI defaults,
// which may allow IMDSv1 or a hop limit of 2. The endpoint does not matter: a
// disabled endpoint is still enforced, so that re-enabling it cannot expose
// IMDSv1.
type Gap struct {
	Tokens   bool // HttpTokens is not required
	HopLimit bool // the PUT response hop limit is not 1
}

// Gap returns what o lacks of the target.
func (o Options) Gap() Gap {
	return Gap{Tokens: o.HTTPTokens != TokensRequired, HopLimit: o.HopLimit != TargetHopLimit}
}

// Compliant reports whether the options already meet the target.
func (o Options) Compliant() bool { return o.Gap() == Gap{} }

// Target returns o with tokens required and hop limit 1, everything else kept.
func (o Options) Target() Options {
	o.HTTPTokens = TokensRequired
	o.HopLimit = TargetHopLimit
	return o
}

// String is a short readable form: "tokens=optional hop=2 endpoint=enabled".
func (o Options) String() string {
	tokens, hop, endpoint := o.HTTPTokens, fmt.Sprint(o.HopLimit), o.HTTPEndpoint
	if tokens == "" {
		tokens = "?"
	}
	if o.HopLimit == 0 {
		hop = "?"
	}
	if endpoint == "" {
		endpoint = "?"
	}
	return fmt.Sprintf("tokens=%s hop=%s endpoint=%s", tokens, hop, endpoint)
}

// Instance is what the guardrail knows about one instance.
type Instance struct {
	ID      string
	State   string // pending, running, stopping, stopped, shutting-down, terminated
	Tags    map[string]string
	Options Options
}

// Name is the instance's Name tag ("" when absent).
func (i Instance) Name() string { return i.Tags["Name"] }

// Scopes: which instances the guardrail enforces on (the imdsScope option).
const (
	ScopeAll      = "all"       // every instance (the default)
	ScopeEKSNodes = "eks-nodes" // only instances that carry an EKS or Karpenter tag
)

// OutOfScope is the reason given for an instance the eks-nodes scope leaves alone.
const OutOfScope = "not an EKS node (imdsScope eks-nodes)"

// ValidScope reports whether s is a scope name ("" counts as ScopeAll).
func ValidScope(s string) bool { return s == "" || s == ScopeAll || s == ScopeEKSNodes }

// EKSNode reports whether an instance's tags mark it as an EKS or Karpenter
// node: eks:cluster-name, aws:eks:cluster-name, kubernetes.io/cluster/<name>
// or karpenter.sh/nodepool.
func EKSNode(tags map[string]string) bool {
	for k := range tags {
		switch {
		case k == "eks:cluster-name", k == "aws:eks:cluster-name", k == "karpenter.sh/nodepool":
			return true
		case strings.HasPrefix(k, "kubernetes.io/cluster/") && len(k) > len("kubernetes.io/cluster/"):
			return true
		}
	}
	return false
}

// Policy is how the guardrail is configured.
type Policy struct {
	DryRun    bool
	ExemptIDs map[string]bool // instance ids exempted by configuration
	// Scope is ScopeAll ("" too) or ScopeEKSNodes: instances outside it are
	// ignored, never written.
	Scope string
}

// InScope reports whether the policy's scope covers a resource with these
// tags (an instance's or a launch template's).
func (p Policy) InScope(tags map[string]string) bool {
	return p.Scope != ScopeEKSNodes || EKSNode(tags)
}

// Decision is what to do with one instance or launch template.
type Decision struct {
	// Modify is true when the metadata options must be written with After's
	// tokens and hop limit (and nothing else changed).
	Modify  bool
	Outcome outcome.Outcome // the outcome when no write is made, or remediated when Modify
	Reason  string
	// Change names the parameters a write sets ("HttpTokens=required
	// HttpPutResponseHopLimit=1"); set with dry-run and remediated outcomes.
	Change string
	Before Options
	After  Options
}

// Decide is the guardrail's whole judgement for one instance: a terminated or
// shutting-down instance is gone, any other is judged by Judge.
func Decide(in Instance, p Policy) Decision {
	if in.State == "terminated" || in.State == "shutting-down" {
		return Decision{Before: in.Options, After: in.Options, Outcome: outcome.Gone, Reason: "instance is " + in.State}
	}
	return Judge(in.ID, in.Tags, in.Options, p)
}

// Judge is the IMDS rule, the same for an instance and a launch template
// (whose id never appears in the policy's ExemptIDs): a resource outside the
// policy's scope is ignored, compliant options are left alone, an exempt
// resource (ids.ExemptTag with a reason, or an exempted id) is not written, and
// the others get tokens required and hop limit 1 (in dry-run, only said).
func Judge(id string, tags map[string]string, o Options, p Policy) Decision {
	d := Decision{Before: o, After: o}
	switch {
	case !p.InScope(tags):
		d.Outcome, d.Reason = outcome.Ignored, OutOfScope
	case o.Compliant():
		d.Outcome, d.Reason = outcome.Compliant, "IMDSv2 required with hop limit 1"
	case exemptReason(id, tags, p) != "":
		d.Outcome, d.Reason = outcome.Exempt, exemptReason(id, tags, p)
	case p.DryRun:
		d.After, d.Change = o.Target(), change(o)
		d.Outcome, d.Reason = outcome.DryRun, "would set "+d.Change
	default:
		d.After, d.Change = o.Target(), change(o)
		d.Modify = true
		d.Outcome, d.Reason = outcome.Remediated, "set "+d.Change
	}
	return d
}

func exemptReason(id string, tags map[string]string, p Policy) string {
	if r := strings.TrimSpace(tags[ids.ExemptTag]); r != "" {
		return fmt.Sprintf("tag %s: %s", ids.ExemptTag, r)
	}
	if p.ExemptIDs[id] {
		return "allow-list entry " + id + " (the IMDS guardrail's configured exemption list, CREDGUARD_EXEMPT_INSTANCE_IDS; it records no reason)"
	}
	return ""
}

// change describes which of the two parameters are wrong.
func change(o Options) string {
	var parts []string
	g := o.Gap()
	if g.Tokens {
		parts = append(parts, "HttpTokens=required")
	}
	if g.HopLimit {
		parts = append(parts, "HttpPutResponseHopLimit=1")
	}
	if o.HTTPEndpoint == "disabled" {
		parts = append(parts, "(endpoint stays disabled)")
	}
	return strings.Join(parts, " ")
}
