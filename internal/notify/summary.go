package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/partition"
)

// SweepGuardrail is the guardrail attribute of a sweep summary.
const SweepGuardrail guardrail.Name = "sweep"

// MaxSweepItems bounds the worst offenders a sweep summary lists.
const MaxSweepItems = 10

// Sweep is what one scheduled sweep tells: counts, and the worst findings.
type Sweep struct {
	ID       string // the run's id (the Lambda request id)
	Accounts []string
	Regions  []string
	// Checked counts the resources examined; Compliant those found compliant.
	Checked   int
	Compliant int
	// Outcomes counts the non-compliant resources found, per outcome.
	Outcomes map[outcome.Outcome]int
	// Remaining counts those still not compliant after the sweep (dry-run,
	// warned, failed).
	Remaining int
	// Worst are findings worst first, exempt ones aside; the first
	// MaxSweepItems are listed.
	Worst []SweepItem
	// Exempt are the findings left alone because of an exemption (a tag or
	// an allow-list entry, named in Detail); the first MaxSweepItems are
	// listed, so that no exemption goes unheard.
	Exempt []SweepItem
	// Errors are the parts of the sweep that could not be completed.
	Errors []string
	DryRun bool // some guardrail ran in dry-run mode
}

// SweepItem is one finding as the summary lists it.
type SweepItem struct {
	Account, Region string // Region is empty for roles
	Kind            string // instance | launch-template | role
	Resource, Name  string
	Verdict         string
	Outcome         outcome.Outcome
	Detail          string
}

func (s Sweep) findings() int {
	n := 0
	for _, c := range s.Outcomes {
		n += c
	}
	return n
}

// top is the most significant outcome of the sweep.
func (s Sweep) top() outcome.Outcome {
	best := outcome.Outcome("")
	for _, o := range outcome.All {
		if s.Outcomes[o] > 0 && (best == "" || significance(o) > significance(best)) {
			best = o
		}
	}
	if len(s.Errors) > 0 {
		return outcome.Failed
	}
	return best
}

func (s Sweep) severity() guardrail.Severity {
	switch {
	case len(s.Errors) > 0 || s.Outcomes[outcome.Failed] > 0 || s.Outcomes[outcome.Revoked] > 0:
		return guardrail.Critical
	case s.Outcomes[outcome.Remediated] > 0 || s.Outcomes[outcome.DryRun] > 0 || s.Outcomes[outcome.Warned] > 0 ||
		s.Outcomes[outcome.Exempt] > 0:
		return guardrail.Warning
	}
	return guardrail.Info
}

// BuildSweep turns a sweep into one Chatbot custom notification. It fails
// with ErrNothingToNotify when the sweep found nothing and completed.
func BuildSweep(s Sweep) (Message, Attributes, error) {
	if s.findings() == 0 && len(s.Errors) == 0 {
		return Message{}, Attributes{}, fmt.Errorf("build sweep notification %q: %w", s.ID, ErrNothingToNotify)
	}
	top, sev := s.top(), s.severity()
	title := truncate(sweepTitle(s), MaxTitleChars)
	m := Message{
		Version: SchemaVersion,
		Source:  SourceCustom,
		ID:      s.ID,
		Content: Content{
			TextType:    TextTypeClientMarkdown,
			Title:       title,
			Description: sweepDescription(s),
			NextSteps:   sweepNextSteps(s),
			Keywords:    []string{"credguard", string(SweepGuardrail), string(top)},
		},
		Metadata: Metadata{
			ThreadID:         "credguard-sweep",
			Summary:          Plain(title),
			EventType:        fmt.Sprintf("credguard-%s-%s", SweepGuardrail, top),
			RelatedResources: sweepResources(s),
			AdditionalContext: nonEmpty(map[string]string{
				CtxGuardrail: string(SweepGuardrail),
				CtxOutcome:   string(top),
				CtxSeverity:  string(sev),
				CtxAccount:   counted(len(s.Accounts), "account", "accounts"),
				CtxRegion:    counted(len(s.Regions), "region", "regions"),
				CtxResource:  fmt.Sprintf("%s not compliant of %s checked", number(s.findings()), number(s.Checked)),
				CtxChange:    outcomeCounts(s.Outcomes),
				CtxEventID:   s.ID,
				CtxExempt:    fmt.Sprintf("To exempt an instance, launch template or role, tag it %s with the reason as the value.", ids.ExemptTag),
				CtxDryRun:    map[bool]string{true: "true"}[s.DryRun],
			}),
		},
	}
	attrs := Attributes{Guardrail: SweepGuardrail, Outcome: top, Severity: sev}
	data, err := json.Marshal(m)
	if err != nil {
		return Message{}, Attributes{}, fmt.Errorf("build sweep notification %q: %w", s.ID, err)
	}
	if len(data) > MaxMessageBytes {
		return Message{}, Attributes{}, fmt.Errorf("build sweep notification %q: message is %d bytes, over %d", s.ID, len(data), MaxMessageBytes)
	}
	return m, attrs, nil
}

func sweepTitle(s Sweep) string {
	where := fmt.Sprintf("%s × %s", counted(len(s.Accounts), "account", "accounts"), counted(len(s.Regions), "region", "regions"))
	failed := s.Outcomes[outcome.Failed]
	fixed := s.Outcomes[outcome.Remediated] + s.Outcomes[outcome.Revoked]
	var t string
	switch {
	case failed > 0 || len(s.Errors) > 0:
		var parts []string
		if failed > 0 {
			parts = append(parts, fmt.Sprintf("FAILED on %s", counted(failed, "resource", "resources")))
		}
		if len(s.Errors) > 0 {
			parts = append(parts, fmt.Sprintf("could not sweep %s", counted(len(s.Errors), "part", "parts")))
		}
		t = "Credguard sweep " + strings.Join(parts, " and ") + " in " + where
	case s.Remaining > 0 && fixed > 0:
		t = fmt.Sprintf("Credguard sweep fixed %d and left %s non-compliant in %s", fixed, counted(s.Remaining, "resource", "resources"), where)
	case s.Remaining > 0:
		t = fmt.Sprintf("Credguard sweep: %s non-compliant in %s", counted(s.Remaining, "resource", "resources"), where)
	case fixed == 0 && s.Outcomes[outcome.Exempt] > 0:
		t = fmt.Sprintf("Credguard sweep: %s exempt, left non-compliant, in %s", counted(s.Outcomes[outcome.Exempt], "resource", "resources"), where)
	default:
		t = fmt.Sprintf("Credguard sweep fixed %s in %s", counted(fixed, "resource", "resources"), where)
	}
	if s.DryRun && s.Outcomes[outcome.DryRun] > 0 {
		t = "DRY RUN: " + t
	}
	return t
}

// The sweep description is its counts (where it swept is in the title
// only), then three lists, each as many whole lines as fit its share, in
// order of importance: the parts that could not be swept (at most
// sweepErrorsChars), the worst offenders (what is left, less
// sweepExemptChars kept for the exempt list when there is one), then the
// exempt resources (the rest). Every list ends with how many it leaves out.
// One pass, no search.
const (
	sweepErrorsChars = 1200
	sweepExemptChars = 700
)

func sweepDescription(s Sweep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Swept:* %s: %s not compliant, %s compliant.\n",
		counted(s.Checked, "resource", "resources"), number(s.findings()), number(s.Compliant))
	if c := outcomeCounts(s.Outcomes); c != "" {
		fmt.Fprintf(&b, "*Outcomes:* %s\n", c)
	}
	fmt.Fprintf(&b, "*Still not compliant:* %s", number(s.Remaining))
	if s.DryRun {
		b.WriteString("\n*Mode:* dry-run for some guardrails: what they would change is marked dry-run")
	}
	head := b.String()
	left := MaxDescriptionChars - runes(head)

	var errs []string
	for _, e := range s.Errors {
		errs = append(errs, "• "+esc(truncate(firstLineOf(e), 300)))
	}
	notSwept := listSection("*Not swept*", errs, len(s.Errors), min(left, sweepErrorsChars),
		func(n int) string { return fmt.Sprintf("…and %d more in the sweeper's log.", n) })
	left -= runes(notSwept)

	exemptShare := 0
	if len(s.Exempt) > 0 {
		exemptShare = min(sweepExemptChars, left/2)
	}
	worst := listSection("*Worst offenders*", itemLines(s.Worst), s.findings()-s.Outcomes[outcome.Exempt], left-exemptShare,
		func(n int) string { return fmt.Sprintf("…and %s more: `credguard scan` lists them all.", number(n)) })
	left -= runes(worst)
	exempt := listSection("*Exempt, left non-compliant*", itemLines(s.Exempt), max(s.Outcomes[outcome.Exempt], len(s.Exempt)), left,
		func(n int) string {
			return fmt.Sprintf("…and %s more exempt: `credguard scan` lists them all.", number(n))
		})
	return head + notSwept + worst + exempt
}

// itemLines are the lines of at most MaxSweepItems resources.
func itemLines(items []SweepItem) []string {
	var out []string
	for i, it := range items {
		if i == MaxSweepItems {
			break
		}
		out = append(out, sweepItemLine(it))
	}
	return out
}

// listSection is a titled list of as many whole lines as fit budget
// characters, each checked together with the count of what would follow it
// (more of the rest of total), so that the count always fits; "" when there
// is nothing to list or not even the title and the count fit.
func listSection(title string, lines []string, total, budget int, more func(int) string) string {
	if len(lines) == 0 {
		return ""
	}
	out := "\n\n" + title
	tail := func(shown int) string {
		if total > shown {
			return "\n" + more(total-shown)
		}
		return ""
	}
	for i, l := range lines {
		if runes(out)+1+runes(l)+runes(tail(i+1)) > budget {
			if out += tail(i); runes(out) > budget {
				return ""
			}
			return out
		}
		out += "\n" + l
	}
	return out + tail(len(lines))
}

// sweepItemLine is one listed resource: at most about 520 characters, each
// piece of outside text clipped to its share.
func sweepItemLine(it SweepItem) string {
	label := clip(it.Resource, 200, code)
	if it.Name != "" && !strings.HasSuffix(it.Resource, "/"+it.Name) {
		label += " (" + clip(it.Name, 60, prose) + ")"
	}
	where := it.Account
	if it.Region != "" {
		where += "/" + it.Region
	}
	line := fmt.Sprintf("• %s in %s: %s %s → *%s*", label, clip(where, 40, code), clip(it.Kind, 20, esc), clip(it.Verdict, 20, code), clip(string(it.Outcome), 20, esc))
	if d := strings.TrimSpace(firstLineOf(it.Detail)); d != "" {
		line += ": " + clip(d, 160, prose)
	}
	return line
}

func sweepNextSteps(s Sweep) []string {
	var steps []string
	scan := "credguard scan"
	if len(s.Accounts) > 0 && len(s.Accounts) <= 10 {
		scan += " --accounts " + strings.Join(s.Accounts, ",")
	}
	if len(s.Regions) > 0 {
		scan += " --regions " + strings.Join(s.Regions, ",")
	}
	if s.Outcomes[outcome.Failed] > 0 || len(s.Errors) > 0 {
		steps = append(steps, "Check the sweeper's CloudWatch log (one line per finding) for the errors; in member accounts the remediation role must exist and trust the hub's sweeper role.")
	}
	steps = append(steps, truncate("List every finding with "+code(scan)+" (add "+code("--remediate")+" to fix them with the same guardrail code).", MaxNextStepChars))
	if s.Outcomes[outcome.Warned] > 0 {
		steps = append(steps, "Warned roles are never changed automatically: narrow their trust by hand (`credguard trust check` explains each finding).")
	}
	steps = append(steps, fmt.Sprintf("To exempt an instance, launch template or role, tag it %s with the reason as the value.", code(ids.ExemptTag)))
	return steps
}

func sweepResources(s Sweep) []string {
	var out []string
	for _, it := range s.Worst {
		if len(out) == maxRelatedResources || len(out) == MaxSweepItems {
			break
		}
		switch it.Kind {
		case "instance":
			out = append(out, partition.ARN("ec2", it.Region, it.Account, "instance/"+it.Resource))
		case "launch-template":
			out = append(out, partition.ARN("ec2", it.Region, it.Account, "launch-template/"+it.Resource))
		default:
			out = append(out, it.Resource)
		}
	}
	return out
}

// outcomeCounts is "remediated 5 · revoked 2 · failed 1", in the contract's order.
func outcomeCounts(counts map[outcome.Outcome]int) string {
	var parts []string
	for _, o := range outcome.All {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", o, number(n)))
		}
	}
	return strings.Join(parts, " · ")
}

// counted is "1 account", "15,012 resources".
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return number(n) + " " + many
}

// number writes n with thousands separators: 15,012.
func number(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// nonEmpty deletes the empty values of m and returns it: SNS rejects empty
// attribute values, and an empty context field tells nothing.
func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}
