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

	"github.com/credguard/credguard/internal/guardrail"
)

// ExemptTag exempts an instance when it carries a non-empty reason.
const ExemptTag = "credguard:exempt"

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

// Compliant reports whether the options already meet the target.
func (o Options) Compliant() bool {
	return o.HTTPTokens == TokensRequired && o.HopLimit == TargetHopLimit
}

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

// InScope reports whether the policy's scope covers the instance.
func (p Policy) InScope(in Instance) bool {
	return p.Scope != ScopeEKSNodes || EKSNode(in.Tags)
}

// Decision is what to do with one instance.
type Decision struct {
	// Modify is true when ModifyInstanceMetadataOptions must be called with
	// After's tokens and hop limit (and nothing else).
	Modify  bool
	Outcome guardrail.Outcome // the outcome when no write is made, or remediated when Modify
	Reason  string
	Before  Options
	After   Options
}

// Decide is the guardrail's whole judgement for one instance.
func Decide(in Instance, p Policy) Decision {
	d := Decision{Before: in.Options, After: in.Options}
	switch {
	case in.State == "terminated" || in.State == "shutting-down":
		d.Outcome, d.Reason = guardrail.Gone, "instance is "+in.State
	case !p.InScope(in):
		d.Outcome, d.Reason = guardrail.Ignored, OutOfScope
	case in.Options.Compliant():
		d.Outcome, d.Reason = guardrail.Compliant, "IMDSv2 required with hop limit 1"
	case exemptReason(in, p) != "":
		d.Outcome, d.Reason = guardrail.Exempt, exemptReason(in, p)
	case p.DryRun:
		d.After = in.Options.Target()
		d.Outcome, d.Reason = guardrail.DryRun, "would set "+change(in.Options)
	default:
		d.After = in.Options.Target()
		d.Modify = true
		d.Outcome, d.Reason = guardrail.Remediated, "set "+change(in.Options)
	}
	return d
}

func exemptReason(in Instance, p Policy) string {
	if r := strings.TrimSpace(in.Tags[ExemptTag]); r != "" {
		return fmt.Sprintf("tag %s: %s", ExemptTag, r)
	}
	if p.ExemptIDs[in.ID] {
		return "allow-list entry " + in.ID + " (the IMDS guardrail's configured exemption list, CREDGUARD_EXEMPT_INSTANCE_IDS; it records no reason)"
	}
	return ""
}

// change describes which of the two parameters are wrong.
func change(o Options) string {
	var parts []string
	if o.HTTPTokens != TokensRequired {
		parts = append(parts, "HttpTokens=required")
	}
	if o.HopLimit != TargetHopLimit {
		parts = append(parts, "HttpPutResponseHopLimit=1")
	}
	if o.HTTPEndpoint == "disabled" {
		parts = append(parts, "(endpoint stays disabled)")
	}
	return strings.Join(parts, " ")
}
