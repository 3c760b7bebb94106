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

// The description is laid out with a fixed budget per section, in
// characters of markup (each budget includes the line breaks before its
// text). Every piece of outside text is clipped to its share, so the
// sections add up to at most MaxDescriptionChars without measuring the
// whole:
//
//	resources   partsChars = 4000 - factsChars - moreChars - whyChars
//	                       = 4000 - 340 - 160 - 360 = 3140
//	  IMDS      maxInstancesShown × instanceChars = 6 × 500 = 3000 ≤ 3140
//	  trust     maxRolesShown × roleChars         = 1 × 3140
//	"… and N"   moreChars  = "\n… and " 7 + N 10 + " more: the full list is in " 27 + pointer 107 + "." 1 = 152 ≤ 160
//	facts       factsChars = "\n\n" 2 + "*Launched by:* " 15 + actor 160
//	                       + "\n*Event:* " 10 + name 60 + " · id " 6 + id 66 = 319 ≤ 340
//	why         whyChars   = "\n\n*Why:* " 9 + the longest reason (tested) ≤ 360
//
// One instance, instanceChars = 500:
//
//	"\n• " 3 + id 40 + " (" 2 + name 60 + "): *" 4 + outcome 20 + "*" 1 = 130
//	"\n    " 5 + before 60 + " → " 3 + after 60                       = 128
//	"\n    " 5 + detail 237                                           = 242
//
// One role, roleChars = 3140:
//
//	head    "*Role:* " 8 + ARN 160 + " · *" 4 + outcome 20 + "*" 1  = 193 ≤ roleHeadChars 200
//	detail  "\n" 1 + detail 599 (whole lines, then "… N more lines") = roleDetailChars 600
//	diff    "\n*" 2 + title 94 + "*\n" 2                             = diffTitleChars 100
//	        "```\n" 4 + lines 800 + "\n… N more lines" 23 + "\n```" 4 = 831 ≤ diffChars 840
//	        "\nDiff cut …: the full policy is in " 52 + pointer 107 + "." 1 = cutNoteChars 160
//	restore the rest: 3140 - 200 - 600 - 100 - 840 - 160 = restoreChars 1240, with the
//	        original policy inline when the whole section fits, else the
//	        file:// form pointing at the log (at most 516 characters);
//	        what it leaves of its 1240 goes to the diff's lines.
//
// The pointer to the log is "the guardrail's CloudWatch log" 30 +
// ", event id " 11 + the event id in code 66 = 107.
const (
	factsChars = 340
	moreChars  = 160
	whyChars   = 360
	partsChars = MaxDescriptionChars - factsChars - moreChars - whyChars

	maxInstancesShown = 6
	instanceChars     = 500

	maxRolesShown   = 1
	roleChars       = partsChars
	roleHeadChars   = 200
	roleDetailChars = 600
	diffTitleChars  = 100
	diffChars       = 840
	cutNoteChars    = 160
	restoreChars    = roleChars - roleHeadChars - roleDetailChars - diffTitleChars - diffChars - cutNoteChars

	// Shares of outside text within the budgets above.
	actorChars       = 160
	eventNameChars   = 60
	eventIDChars     = 66
	instanceIDChars  = 40
	nameChars        = 60
	outcomeChars     = 20
	optionsChars     = 60
	instanceDetail   = 237
	roleARNChars     = 160
	diffBodyChars    = 800
	maxDiffLineChars = 600 // ≤ diffBodyChars: the first line is always shown
	restoreNameChars = 80
	roleNameChars    = 70 // in the title (IAM allows 64)
)

// The resources never take more than their share (a negative constant does
// not compile as a uint).
const (
	_ = uint(partsChars - maxInstancesShown*instanceChars)
	_ = uint(partsChars - maxRolesShown*roleChars)
	_ = uint(diffBodyChars - maxDiffLineChars)
)

// description writes the message body: one part per resource (at most
// maxInstancesShown or maxRolesShown, most significant first, with an "and N
// more" line pointing at the log for the rest), who did it and which event,
// and why it matters. The account and region are in the title and the dry-run
// mode starts it, so the body does not repeat them.
func (b builder) description() string {
	ptr := b.pointer()
	shown, sep := b.shown, "\n\n"
	if b.imds() {
		shown, sep = shown[:min(len(shown), maxInstancesShown)], "\n" // one line per instance
	} else {
		shown = shown[:min(len(shown), maxRolesShown)]
	}
	var out strings.Builder
	for i, r := range shown {
		if i > 0 {
			out.WriteString(sep)
		}
		if b.imds() {
			out.WriteString(b.imdsPart(r))
		} else {
			out.WriteString(b.trustPart(r, ptr))
		}
	}
	if n := len(b.shown) - len(shown); n > 0 {
		fmt.Fprintf(&out, "\n… and %d more: the full list is in %s.", n, ptr)
	}
	if f := b.facts(); f != "" {
		out.WriteString("\n\n" + f)
	}
	out.WriteString("\n\n*Why:* " + b.why())
	return out.String()
}

// pointer says where the full text is: the guardrail's log, with the event id.
func (b builder) pointer() string {
	p := "the guardrail's CloudWatch log"
	if b.inc.EventID != "" {
		p += ", event id " + clip(b.inc.EventID, eventIDChars, code)
	}
	return p
}

// clip renders s and, when the result is longer than n characters, cuts s
// (ending it with "…") until the rendering fits. Cutting the text rather than
// the markup keeps inline code and entities whole.
func clip(s string, n int, render func(string) string) string {
	out := render(s)
	for k := runes(s); runes(out) > n && k > 0; {
		k -= max(1, runes(out)-n)
		out = render(truncate(s, max(k, 0)))
	}
	return out
}

// clipLines is clip for text of several lines (findings, then changes):
// it keeps as many whole lines as fit with a last line saying how many more
// are in the log, and clips only when not even the first line fits.
func clipLines(s string, n int, render func(string) string) string {
	out := render(s)
	if runes(out) <= n {
		return out
	}
	lines := strings.Split(s, "\n")
	for k := len(lines) - 1; k > 0; k-- {
		more := "… " + plural(len(lines)-k, "more line", "more lines") + " in the log"
		if out := render(strings.Join(lines[:k], "\n") + "\n" + more); runes(out) <= n {
			return out
		}
	}
	return clip(s, n, render)
}

// indented is prose whose later lines are indented under a bullet.
func indented(s string) string { return strings.ReplaceAll(prose(s), "\n", "\n    ") }

// blockLine is one line of a code block: escaped, on one line, and unable to
// close the block.
func blockLine(s string) string {
	return esc(strings.ReplaceAll(strings.ReplaceAll(s, "```", "'''"), "\n", " "))
}

// facts are who did it and which event.
func (b builder) facts() string {
	var lines []string
	if b.inc.Actor != "" {
		lines = append(lines, "*"+b.actorLabel()+":* "+clip(b.inc.Actor, actorChars, code))
	}
	var ev []string
	if b.inc.EventName != "" {
		ev = append(ev, clip(b.inc.EventName, eventNameChars, code))
	}
	if b.inc.EventID != "" {
		ev = append(ev, "id "+clip(b.inc.EventID, eventIDChars, code))
	}
	if len(ev) > 0 {
		lines = append(lines, "*Event:* "+strings.Join(ev, " · "))
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

// imdsPart is one instance: what happened to it, its options before and
// after, and the detail; at most instanceChars.
func (b builder) imdsPart(r guardrail.Result) string {
	id := r.Resource
	if id == "" {
		id = "(no instance id)"
	}
	line := "• " + clip(id, instanceIDChars, code)
	if r.Name != "" {
		line += " (" + clip(r.Name, nameChars, prose) + ")"
	}
	line += ": *" + clip(outcomeWord(b.inc.Guardrail, r.Outcome), outcomeChars, esc) + "*"
	if c := r.IMDS; c != nil {
		before := clip(c.Before.String(), optionsChars, code)
		switch {
		case c.Changes() && r.Outcome == outcome.Failed:
			line += "\n    still " + before
		case c.Changes():
			line += "\n    " + before + " → " + clip(c.After.String(), optionsChars, code)
		default:
			line += "\n    " + before
		}
	}
	if d := strings.TrimSpace(r.Detail); d != "" {
		line += "\n    " + clipLines(d, instanceDetail, indented)
	}
	return line
}

// trustPart is one role: what happened to it, the detail, the change to its
// trust policy and how to restore it; at most roleChars.
func (b builder) trustPart(r guardrail.Result, ptr string) string {
	arn := r.Resource
	if arn == "" {
		arn = roleName(r)
	}
	var p strings.Builder
	p.WriteString("*Role:* " + clip(arn, roleARNChars, code) + " · *" + clip(outcomeWord(b.inc.Guardrail, r.Outcome), outcomeChars, esc) + "*")
	if d := roleDetail(r); d != "" {
		p.WriteString("\n" + clipLines(d, roleDetailChars-1, prose))
	}
	c := r.Trust
	if c == nil || c.After == nil || r.Outcome == outcome.Warned || r.Outcome == outcome.Exempt {
		return p.String()
	}
	d := diffPolicies(c.Before, *c.After)
	written := r.Outcome == outcome.Revoked || c.Written
	title := "Trust policy change"
	switch {
	case written:
	case r.Outcome == outcome.DryRun:
		title = "Would change the trust policy"
	case r.Outcome == outcome.Failed:
		title = "Intended change to the trust policy"
	}
	// The restore section is written first: the diff may use what it
	// leaves of its budget.
	var undo string
	if written {
		undo = restore(roleName(r), c.Before, ptr)
	}
	p.WriteString("\n*" + clip(title+" (statements: "+d.Summary()+")", diffTitleChars-4, esc) + "*\n")
	p.WriteString(diffBlock(d.Lines(), ptr, diffBodyChars+restoreChars-runes(undo)))
	p.WriteString(undo)
	return p.String()
}

// roleDetail is what the guardrail says of a role. For a rewrite it is
// told from the typed change, what was done first (the changes), then why
// (the findings), so that a cut keeps the action; otherwise it is the
// result's detail (an error, an exemption, the findings of a warning).
func roleDetail(r guardrail.Result) string {
	c := r.Trust
	if c == nil || len(c.Changes) == 0 {
		return strings.TrimSpace(r.Detail)
	}
	lines := make([]string, 0, len(c.Changes)+len(c.Report.Findings))
	for _, ch := range c.Changes {
		lines = append(lines, ch.String())
	}
	for _, f := range c.Report.Findings {
		lines = append(lines, f.String())
	}
	return strings.Join(lines, "\n")
}

// diffBlock shows the diff lines in a code block, as many whole lines as fit
// body characters (each cut to maxDiffLineChars), then how many are left out
// and where the full policy is.
func diffBlock(lines []string, ptr string, body int) string {
	var kept []string
	size := 0
	for _, l := range lines {
		l = clip(l, maxDiffLineChars, blockLine)
		if size+runes(l) > body {
			break
		}
		kept = append(kept, l)
		size += runes(l) + 1
	}
	left := len(lines) - len(kept)
	if left > 0 {
		kept = append(kept, "… "+plural(left, "more line", "more lines"))
	}
	block := "```\n" + strings.Join(kept, "\n") + "\n```"
	if left > 0 {
		block += "\nDiff cut to fit the message: the full policy is in " + ptr + "."
	}
	return block
}

// restore gives the commands that put the original trust policy back and
// drop the session revocation: with the policy inline when the section fits
// restoreChars, else reading it from a file saved from the log.
func restore(name string, before trust.Policy, ptr string) string {
	arg := clip(name, restoreNameChars, func(s string) string { return blockLine(shellQuote(s)) })
	update := "aws iam update-assume-role-policy --role-name " + arg + " --policy-document "
	del := "aws iam delete-role-policy --role-name " + arg + " --policy-name AWSRevokeOlderSessions"
	original, err := trust.Marshal(before)
	if err != nil {
		return "\n" + clip("The original policy cannot be written back here: "+err.Error(), restoreChars-1, prose)
	}
	// A policy that holds a code fence (or a line break) cannot be shown
	// exactly in a code block: it is read from the log instead.
	inline := "\n*Restore*\n```\n" + update + blockLine(shellQuote(string(original))) + "\n" + del + "\n```"
	if runes(inline) <= restoreChars && !strings.Contains(string(original), "```") && !strings.Contains(string(original), "\n") {
		return inline
	}
	return "\n*Restore*\n```\n" + update + "file://original-trust.json\n" + del + "\n```" +
		"\nSave the original policy from " + ptr + " as `original-trust.json` first."
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
		if r.Trust != nil && r.Trust.Written {
			add("The trust policy is narrowed, but sessions issued before it were not revoked: the retried event revokes them. To restore the original trust instead, exempt the role first, then run the commands under *Restore*.")
		} else {
			add("Until then the role stays open: review it with " + code("aws iam get-role --role-name "+shellQuote(roleName(r))+" --query Role.AssumeRolePolicyDocument"))
		}
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
