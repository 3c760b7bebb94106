package sweep

import (
	"fmt"
	"strconv"

	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
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

// Target returns o with imds's target tokens and hop limit, everything else
// kept (a disabled endpoint stays disabled).
func (o TemplateOptions) Target() TemplateOptions {
	t := o.imds().Target()
	o.HTTPTokens, o.HopLimit = t.HTTPTokens, t.HopLimit
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
	Outcome outcome.Outcome // the outcome when nothing is written, or remediated when Write
	Reason  string
	Before  string
	After   string // "" when nothing would change
}

// DecideTemplate applies imds.Judge, the rule instances follow too (the same
// target, exemption tag and scope), to the template's default version. A
// compliant default version is compliant whatever the scope.
func DecideTemplate(t Template, dryRun bool, scope string) TemplateDecision {
	before := t.options()
	d := TemplateDecision{Before: before.String()}
	if before.imds().Compliant() {
		d.Outcome, d.Reason = outcome.Compliant, "default version requires IMDSv2 with hop limit 1"
		return d
	}
	j := imds.Judge(t.ID, t.Tags, before.imds(), imds.Policy{DryRun: dryRun, Scope: scope})
	d.Outcome, d.Reason = j.Outcome, j.Reason
	switch j.Outcome {
	case outcome.DryRun:
		d.Reason = fmt.Sprintf("would create a new default version from version %d with %s", t.DefaultVersion, j.Change)
	case outcome.Remediated:
		d.Write = true
		d.Reason = fmt.Sprintf("created a new default version from version %d with %s", t.DefaultVersion, j.Change)
	default:
		return d
	}
	d.Target = before.Target()
	d.After = d.Target.String()
	return d
}
