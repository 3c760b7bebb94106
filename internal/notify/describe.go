package notify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

const maxDiffLineChars = 600

// part is the description of one resource. The trust diff and restore
// commands can be shortened when the whole description would be too long.
type part struct {
	head string // always shown: the resource, its outcome, the detail

	diffTitle string
	diff      []string // diff lines, shown in a code block
	keepDiff  int      // how many diff lines are shown

	restore      []string // restore commands with the original policy inline
	restoreShort []string // the same, pointing at the log for the policy
	short        bool

	pointer string // where the full text is: "the CloudWatch log, event id …"
	text    string // rendered
}

func (p *part) render() {
	var b strings.Builder
	b.WriteString(p.head)
	if len(p.diff) > 0 {
		b.WriteString("\n*" + p.diffTitle + "*\n")
		lines := p.diff[:p.keepDiff]
		if p.keepDiff < len(p.diff) {
			lines = append(append([]string(nil), lines...), fmt.Sprintf("… %d more lines", len(p.diff)-p.keepDiff))
		}
		b.WriteString(codeBlock(lines))
		if p.keepDiff < len(p.diff) {
			b.WriteString("\nDiff cut to fit the message: the full policy is in " + p.pointer + ".")
		}
	}
	if len(p.restore) > 0 {
		b.WriteString("\n*Restore*\n")
		if p.short {
			b.WriteString(codeBlock(p.restoreShort))
			b.WriteString("\nSave the original policy from " + p.pointer + " as `original-trust.json` first.")
		} else {
			b.WriteString(codeBlock(p.restore))
		}
	}
	p.text = b.String()
}

// description writes the message body: where, who and which event, one part
// per resource, and why it matters. It is shortened to fit
// MaxDescriptionChars: diff lines first, then the inline original policy of
// the restore commands, then whole resources (least significant first).
func (b builder) description() string {
	pointer := "the guardrail's CloudWatch log"
	if b.inc.EventID != "" {
		pointer += ", event id " + code(b.inc.EventID)
	}
	parts := make([]*part, len(b.shown))
	for i, r := range b.shown {
		if b.imds() {
			parts[i] = b.imdsPart(r)
		} else {
			parts[i] = b.trustPart(r)
		}
		parts[i].pointer = pointer
		parts[i].render()
	}
	sep := "\n\n"
	if b.imds() {
		sep = "\n" // one line per instance
	}
	d := &doc{header: b.header(), footer: "*Why:* " + b.why(), sep: sep, pointer: pointer, parts: parts, visible: len(parts)}

	// 1. Cut diff lines, longest diff first.
	for !d.fits() {
		var longest *part
		for _, p := range parts {
			if p.keepDiff > 0 && (longest == nil || diffChars(p) > diffChars(longest)) {
				longest = p
			}
		}
		if longest == nil {
			break
		}
		longest.keepDiff--
		longest.render()
	}
	// 2. Point at the log for the original policy instead of inlining it.
	for i := len(parts) - 1; i >= 0; i-- {
		if len(parts[i].restore) > 0 && !parts[i].short && !d.fits() {
			parts[i].short = true
			parts[i].render()
		}
	}
	// 3. Leave out whole resources: keep the most that fit with the
	// "and N more" line (at least one).
	if !d.fits() {
		lo, hi := 1, len(parts)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			d.visible = mid
			if d.fits() {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		d.visible = lo
	}
	return fitMarkup(d.String(), MaxDescriptionChars)
}

// doc is a description being fitted.
type doc struct {
	header, footer, sep, pointer string
	parts                        []*part
	visible                      int
}

func (d *doc) String() string {
	var out strings.Builder
	out.WriteString(d.header)
	out.WriteString("\n\n")
	for i, p := range d.parts[:d.visible] {
		if i > 0 {
			out.WriteString(d.sep)
		}
		out.WriteString(p.text)
	}
	if n := len(d.parts) - d.visible; n > 0 {
		fmt.Fprintf(&out, "\n… and %d more: the full list is in %s.", n, d.pointer)
	}
	out.WriteString("\n\n")
	out.WriteString(d.footer)
	return out.String()
}

func (d *doc) fits() bool { return runes(d.String()) <= MaxDescriptionChars }

func diffChars(p *part) int {
	n := 0
	for _, l := range p.diff[:p.keepDiff] {
		n += runes(l)
	}
	return n
}

// fitMarkup cuts markup to n characters as a last resort, closing an open
// code block.
func fitMarkup(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	s = truncate(s, n-4)
	if strings.Count(s, "```")%2 == 1 {
		s += "\n```"
	}
	return s
}

func (b builder) header() string {
	var lines []string
	facts := "*Account:* " + code(b.inc.Account)
	if b.inc.Region != "" && b.imds() {
		facts += " · *Region:* " + code(b.inc.Region)
	}
	lines = append(lines, facts)
	if b.inc.Actor != "" {
		lines = append(lines, "*"+b.actorLabel()+":* "+code(b.inc.Actor))
	}
	var ev []string
	if b.inc.EventName != "" {
		ev = append(ev, code(b.inc.EventName))
	}
	if b.inc.EventID != "" {
		ev = append(ev, "id "+code(b.inc.EventID))
	}
	if len(ev) > 0 {
		lines = append(lines, "*Event:* "+strings.Join(ev, " · "))
	}
	if b.inc.DryRun {
		lines = append(lines, "*Mode:* dry-run, nothing is changed")
	}
	return strings.Join(lines, "\n")
}

func (b builder) actorLabel() string {
	switch b.inc.EventName {
	case "RunInstances", "CreateFleet":
		return "Launched by"
	case "CreateRole", "CreatePodIdentityAssociation":
		return "Created by"
	default:
		return "Changed by"
	}
}

// why says why the guardrail acted and what it did, in two sentences.
func (b builder) why() string {
	retry := "The event is retried; if it keeps failing it lands in the dead-letter queue."
	if b.imds() {
		reason := "Pods on an EKS node can take the node's IAM role through the instance metadata service unless IMDSv2 is required and the hop limit is 1."
		switch b.top {
		case outcome.Exempt:
			return reason + " An exemption (named above, with its reason) keeps Credguard from enforcing it; Credguard changed nothing."
		case outcome.Failed:
			return reason + " Credguard could not finish enforcing it. " + retry
		case outcome.DryRun:
			return reason + " Credguard would set `HttpTokens=required` and `HttpPutResponseHopLimit=1`, and changed nothing."
		case outcome.Warned:
			return reason + " Credguard changed nothing."
		default:
			return reason + " Credguard set `HttpTokens=required` and `HttpPutResponseHopLimit=1`, and left the metadata endpoint as it was."
		}
	}
	switch b.top {
	case outcome.Exempt:
		return "A trust policy is broader than it should be, and an exemption (named above, with its reason) keeps Credguard from narrowing it. Credguard changed nothing."
	case outcome.Failed:
		return "A trust policy lets anyone (any principal, any OIDC subject or any Kubernetes service account) assume the role, and Credguard could not finish narrowing it. " + retry
	case outcome.DryRun:
		return "A trust policy lets anyone (any principal, any OIDC subject or any Kubernetes service account) assume the role. Credguard would remove only what lets anyone in (or scope it to the workload), keeping the rest, and revoke older sessions; it changed nothing."
	case outcome.Warned:
		return "A trust policy is broader than it should be, though not open to anyone. Credguard changed nothing."
	default:
		return "A trust policy let anyone (any principal, any OIDC subject or any Kubernetes service account) assume the role. Credguard removed only what let anyone in (or scoped it to the workload), kept every other principal, action and condition, and revoked the role's sessions issued before the change."
	}
}

func outcomeWord(g guardrail.Name, o outcome.Outcome) string {
	switch o {
	case outcome.Failed:
		return "FAILED"
	case outcome.Exempt:
		return "exempt, not changed"
	case outcome.Warned:
		return "risky, not changed"
	case outcome.DryRun:
		if g == guardrail.IMDS {
			return "would enforce"
		}
		return "would revoke"
	case outcome.Remediated:
		return "enforced"
	case outcome.Revoked:
		return "revoked"
	default:
		return string(o)
	}
}

func (b builder) imdsPart(r guardrail.Result) *part {
	id := r.Resource
	if id == "" {
		id = "(no instance id)"
	}
	line := "• " + code(id)
	if r.Name != "" {
		line += " (" + prose(truncate(r.Name, 60)) + ")"
	}
	line += ": *" + outcomeWord(b.inc.Guardrail, r.Outcome) + "*"
	if c := r.IMDS; c != nil {
		switch {
		case c.Changes() && r.Outcome == outcome.Failed:
			line += " · still " + code(c.Before.String())
		case c.Changes():
			line += " · " + code(c.Before.String()) + " → " + code(c.After.String())
		default:
			line += " · " + code(c.Before.String())
		}
	}
	if d := strings.TrimSpace(r.Detail); d != "" {
		line += "\n    " + strings.ReplaceAll(prose(d), "\n", "\n    ")
	}
	return &part{head: line}
}

func (b builder) trustPart(r guardrail.Result) *part {
	arn := r.Resource
	if arn == "" {
		arn = roleName(r)
	}
	p := &part{head: "*Role:* " + code(arn) + " · *" + outcomeWord(b.inc.Guardrail, r.Outcome) + "*"}
	if d := strings.TrimSpace(r.Detail); d != "" {
		p.head += "\n" + prose(d)
	}
	c := r.Trust
	if c == nil || c.After == nil || r.Outcome == outcome.Warned || r.Outcome == outcome.Exempt {
		return p
	}
	d := diffPolicies(c.Before, *c.After)
	switch r.Outcome {
	case outcome.DryRun:
		p.diffTitle = "Would change the trust policy"
	case outcome.Failed:
		p.diffTitle = "Intended change to the trust policy"
	default:
		p.diffTitle = "Trust policy change"
	}
	p.diffTitle += " (statements: " + d.Summary() + ")"
	for _, l := range d.Lines() {
		p.diff = append(p.diff, truncate(l, maxDiffLineChars))
	}
	p.keepDiff = len(p.diff)
	if r.Outcome == outcome.Revoked {
		name := roleName(r)
		del := "aws iam delete-role-policy --role-name " + shellQuote(name) + " --policy-name AWSRevokeOlderSessions"
		original, err := trust.Marshal(c.Before)
		if err != nil {
			p.head += "\nThe original policy cannot be written back here: " + prose(err.Error())
			return p
		}
		p.restore = []string{
			"aws iam update-assume-role-policy --role-name " + shellQuote(name) + " --policy-document " + shellQuote(string(original)),
			del,
		}
		p.restoreShort = []string{
			"aws iam update-assume-role-policy --role-name " + shellQuote(name) + " --policy-document file://original-trust.json",
			del,
		}
	}
	return p
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+=,@/:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// nextSteps tells the reader what to do: for failures first, then how to
// undo or tighten, and how to exempt.
func (b builder) nextSteps() []string {
	var steps []string
	add := func(s string) {
		if len(steps) < 5 {
			steps = append(steps, truncate(s, MaxNextStepChars))
		}
	}
	first := func(o outcome.Outcome) (guardrail.Result, bool) {
		for _, r := range b.shown {
			if r.Outcome == o {
				return r, true
			}
		}
		return guardrail.Result{}, false
	}
	exempt := b.exemptStep()

	if b.imds() {
		if r, ok := first(outcome.Failed); ok {
			add(fmt.Sprintf("Check that Credguard can act in account %s: in a member account the %s role must exist, trust the hub's IMDS guardrail role and allow `ec2:DescribeInstances` and `ec2:ModifyInstanceMetadataOptions`; in the hub, check the guardrail function's own role.",
				code(b.inc.Account), code(b.inc.RemediationRole)))
			add("Or enforce it by hand: " + code(fmt.Sprintf("aws ec2 modify-instance-metadata-options --region %s --instance-id %s --http-tokens required --http-put-response-hop-limit 1", b.inc.Region, instanceArg(r))))
		}
		if _, ok := first(outcome.DryRun); ok {
			add("Nothing was changed: the guardrail runs in dry-run mode. Turn dry-run off to enforce.")
		}
		if r, ok := first(outcome.Remediated); ok {
			add("Software still on IMDSv1 must move to IMDSv2 (current AWS SDKs use it), and pods that used the node's role need their own (EKS Pod Identity or IRSA).")
			add(exempt)
			tokens, hop := imdsSettings(r.IMDS)
			add("To undo on one instance, exempt it first (or Credguard enforces again), then run " +
				code(fmt.Sprintf("aws ec2 modify-instance-metadata-options --region %s --instance-id %s --http-tokens %s --http-put-response-hop-limit %s", b.inc.Region, instanceArg(r), tokens, hop)))
		} else if b.top != outcome.Exempt {
			add(exempt)
		}
		if b.top == outcome.Exempt {
			add(fmt.Sprintf("If the exemption is no longer justified, remove the %s tag (or the allow-list entry): Credguard then enforces at the next event or sweep.", code(ids.ExemptTag)))
		}
		return steps
	}

	fix := "To fix the trust for good, name the workload exactly: for IRSA, `sub` = `system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT` and `aud` = `sts.amazonaws.com`; for EKS Pod Identity, conditions on `aws:SourceAccount` and the `kubernetes-namespace` and `kubernetes-service-account` request tags."
	if r, ok := first(outcome.Failed); ok {
		add(fmt.Sprintf("Check that Credguard can act in account %s: in a member account the %s role must exist, trust the hub's trust guardrail role and allow `iam:GetRole`, `iam:UpdateAssumeRolePolicy` and `iam:PutRolePolicy`; in the hub, check the guardrail function's own role.",
			code(b.inc.Account), code(b.inc.RemediationRole)))
		add("Until then the role stays open: review it with " + code("aws iam get-role --role-name "+shellQuote(roleName(r))+" --query Role.AssumeRolePolicyDocument"))
	}
	if _, ok := first(outcome.Revoked); ok {
		add("To restore the original trust, exempt the role first (or Credguard revokes it again), then run the commands under *Restore*.")
	}
	if _, ok := first(outcome.DryRun); ok {
		add("Nothing was changed: the guardrail runs in dry-run mode. Turn dry-run off to revoke.")
	}
	if r, ok := first(outcome.Warned); ok && b.top == outcome.Warned {
		add("Review the trust policy: " + code("aws iam get-role --role-name "+shellQuote(roleName(r))+" --query Role.AssumeRolePolicyDocument"))
	}
	if r, ok := first(outcome.Exempt); ok && b.top == outcome.Exempt {
		add("Review the exemption and the trust policy: " + code("aws iam get-role --role-name "+shellQuote(roleName(r))))
		add(fmt.Sprintf("If the exemption is no longer justified, remove the %s tag (or the allow-list entry): Credguard then narrows the trust at the next event or sweep.", code(ids.ExemptTag)))
		add(fix)
		return steps
	}
	add(fix)
	add(exempt)
	return steps
}

func (b builder) exemptStep() string {
	if b.imds() {
		return fmt.Sprintf("To exempt an instance, tag it %s with the reason as the value (an empty value is no exemption).", code(ids.ExemptTag))
	}
	return fmt.Sprintf("To exempt a role, tag it %s with the reason as the value, or add its ARN to the trust guardrail's allow-list.", code(ids.ExemptTag))
}

func instanceArg(r guardrail.Result) string {
	if strings.HasPrefix(r.Resource, "i-") {
		return r.Resource
	}
	return "INSTANCE_ID"
}

// imdsSettings are the CLI values that restore the options an instance had,
// with placeholders for what was unknown.
func imdsSettings(c *guardrail.IMDSChange) (tokens, hop string) {
	tokens, hop = "TOKENS", "HOP_LIMIT"
	if c == nil {
		return tokens, hop
	}
	if t := c.Before.HTTPTokens; t == "optional" || t == "required" {
		tokens = t
	}
	if c.Before.HopLimit > 0 {
		hop = strconv.Itoa(c.Before.HopLimit)
	}
	return tokens, hop
}
