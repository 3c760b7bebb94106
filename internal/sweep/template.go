package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
)

// TemplateOptions are the metadata options of a launch template version.
// Empty values (and a zero hop limit) are not set in the template.
type TemplateOptions struct {
	HTTPTokens           string
	HopLimit             int
	HTTPEndpoint         string
	HTTPProtocolIPv6     string
	InstanceMetadataTags string
}

// imds is the part the IMDS decision looks at.
func (o TemplateOptions) imds() imds.Options {
	return imds.Options{HTTPTokens: o.HTTPTokens, HopLimit: o.HopLimit, HTTPEndpoint: o.HTTPEndpoint}
}

// Target returns o with tokens required and hop limit 1, everything else kept
// (a disabled endpoint stays disabled).
func (o TemplateOptions) Target() TemplateOptions {
	o.HTTPTokens = imds.TokensRequired
	o.HopLimit = imds.TargetHopLimit
	return o
}

// String is a short readable form: "tokens=unset hop=unset endpoint=enabled".
func (o TemplateOptions) String() string {
	or := func(v string) string {
		if v == "" {
			return "unset"
		}
		return v
	}
	hop := "unset"
	if o.HopLimit != 0 {
		hop = strconv.Itoa(o.HopLimit)
	}
	return fmt.Sprintf("tokens=%s hop=%s endpoint=%s", or(o.HTTPTokens), hop, or(o.HTTPEndpoint))
}

// Template is a launch template and its default version.
type Template struct {
	ID             string
	Name           string
	DefaultVersion int64
	Tags           map[string]string
	// Options are the default version's metadata options; nil when the
	// version sets none (IMDSv1 is then allowed unless the account or AMI
	// defaults say otherwise).
	Options *TemplateOptions
}

// options is the template's options, the zero value when it sets none.
func (t Template) options() TemplateOptions {
	if t.Options == nil {
		return TemplateOptions{}
	}
	return *t.Options
}

// Verdict judges the default version ("" when compliant).
func (t Template) Verdict() Verdict { return IMDSVerdict(t.options().imds()) }

// TemplateDecision is what to do with one launch template.
type TemplateDecision struct {
	// Write is true when a new version must be created from the default one
	// with Target as its metadata options, then made the default.
	Write   bool
	Target  TemplateOptions
	Outcome guardrail.Outcome // the outcome when nothing is written, or remediated when Write
	Reason  string
	Before  string
	After   string // "" when nothing would change
}

// DecideTemplate is the launch-template counterpart of imds.Decide: the same
// target (tokens required, hop limit 1, nothing else changed), the same
// exemption tag and the same scope (imds.ScopeEKSNodes: only templates
// carrying an EKS or Karpenter tag; the others are ignored).
func DecideTemplate(t Template, dryRun bool, scope string) TemplateDecision {
	before := t.options()
	d := TemplateDecision{Before: before.String()}
	v := t.Verdict()
	switch {
	case v == "":
		d.Outcome, d.Reason = guardrail.Compliant, "default version requires IMDSv2 with hop limit 1"
	case scope == imds.ScopeEKSNodes && !imds.EKSNode(t.Tags):
		d.Outcome, d.Reason = guardrail.Ignored, imds.OutOfScope
	case strings.TrimSpace(t.Tags[imds.ExemptTag]) != "":
		d.Outcome, d.Reason = guardrail.Exempt, fmt.Sprintf("tag %s: %s", imds.ExemptTag, strings.TrimSpace(t.Tags[imds.ExemptTag]))
	default:
		d.Target = before.Target()
		d.After = d.Target.String()
		change := templateChange(before)
		if dryRun {
			d.Outcome, d.Reason = guardrail.DryRun, fmt.Sprintf("would create a new default version from version %d with %s", t.DefaultVersion, change)
		} else {
			d.Write = true
			d.Outcome, d.Reason = guardrail.Remediated, fmt.Sprintf("created a new default version from version %d with %s", t.DefaultVersion, change)
		}
	}
	return d
}

func templateChange(o TemplateOptions) string {
	var parts []string
	if o.HTTPTokens != imds.TokensRequired {
		parts = append(parts, "HttpTokens=required")
	}
	if o.HopLimit != imds.TargetHopLimit {
		parts = append(parts, "HttpPutResponseHopLimit=1")
	}
	if o.HTTPEndpoint == "disabled" {
		parts = append(parts, "(endpoint stays disabled)")
	}
	return strings.Join(parts, " ")
}
