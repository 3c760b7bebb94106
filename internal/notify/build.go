package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/partition"
)

// DefaultRemediationRole is the member role a guardrail assumes unless the
// deployment renamed it: ids.IMDSRoleName or ids.TrustRoleName.
func DefaultRemediationRole(g guardrail.Name) string {
	if g == guardrail.Trust {
		return ids.TrustRoleName
	}
	return ids.IMDSRoleName
}

// Incident is what one guardrail tells about one event.
type Incident struct {
	Guardrail guardrail.Name // imds | trust
	EventID   string         // the EventBridge event id
	EventName string         // "RunInstances", "EC2 Instance State-change Notification", "CreateRole", …
	Account   string
	Region    string
	Actor     string // who launched or changed the resource ("" when unknown)
	DryRun    bool
	// Results are the results worth telling (see Worth), plus exempt ones when
	// the guardrail wants them mentioned. Other outcomes are left out.
	// An incident with only exempt results is announced as an exemption.
	Results []guardrail.Result
	// RemediationRole is the role name the guardrails assume in member
	// accounts ("" means DefaultRemediationRole(Guardrail)); failure
	// messages name it.
	RemediationRole string
}

// ErrNothingToNotify is returned by Build when no result is worth a
// notification.
var ErrNothingToNotify = errors.New("no result worth a notification")

// Worth reports whether a result with this outcome is a change or a risk
// worth telling: remediated, revoked, warned, dry-run and failed are;
// compliant, exempt, gone and ignored are not.
func Worth(o outcome.Outcome) bool {
	switch o {
	case outcome.Remediated, outcome.Revoked, outcome.Warned, outcome.DryRun, outcome.Failed:
		return true
	default:
		return false
	}
}

// Announced reports whether a result with this outcome gets a
// notification: the outcomes Worth telling, and exempt. The guardrails
// report exempt only for resources that are not compliant (an exemption
// that leaves nothing at risk stays silent), so that whoever sets an
// exemption tag or allow-list entry cannot silence a guardrail unheard.
func Announced(o outcome.Outcome) bool { return Worth(o) || o == outcome.Exempt }

// significance orders outcomes for the message: the most significant one
// names the message, sets the outcome attribute and comes first.
func significance(o outcome.Outcome) int {
	switch o {
	case outcome.Failed:
		return 6
	case outcome.Revoked, outcome.Remediated:
		return 5
	case outcome.DryRun:
		return 4
	case outcome.Warned:
		return 3
	case outcome.Exempt:
		return 2
	default:
		return 0
	}
}

// Build turns an incident into a Chatbot custom notification and its SNS
// message attributes. It fails when the incident names no known guardrail or
// account, or when no result is worth telling.
func Build(inc Incident) (Message, Attributes, error) {
	if inc.Guardrail != guardrail.IMDS && inc.Guardrail != guardrail.Trust {
		return Message{}, Attributes{}, fmt.Errorf("build notification: unknown guardrail %q", inc.Guardrail)
	}
	if inc.Account == "" {
		return Message{}, Attributes{}, fmt.Errorf("build notification for event %q: no account", inc.EventID)
	}
	if inc.Guardrail == guardrail.IMDS && inc.Region == "" {
		return Message{}, Attributes{}, fmt.Errorf("build notification for event %q: no region", inc.EventID)
	}
	if inc.RemediationRole == "" {
		inc.RemediationRole = DefaultRemediationRole(inc.Guardrail)
	}

	var shown []guardrail.Result
	worth := 0
	for _, r := range inc.Results {
		if Worth(r.Outcome) {
			worth++
			shown = append(shown, r)
		} else if r.Outcome == outcome.Exempt {
			shown = append(shown, r)
		}
	}
	if len(shown) == 0 {
		return Message{}, Attributes{}, fmt.Errorf("build notification for event %q: %w", inc.EventID, ErrNothingToNotify)
	}
	sort.SliceStable(shown, func(i, j int) bool {
		return significance(shown[i].Outcome) > significance(shown[j].Outcome)
	})

	b := builder{inc: inc, shown: shown, worth: worth, top: shown[0].Outcome}
	sev := guardrail.Info
	for _, r := range shown {
		if s := r.Severity(); s.Rank() > sev.Rank() {
			sev = s
		}
	}
	title := truncate(b.title(), MaxTitleChars)

	m := Message{
		Version: SchemaVersion,
		Source:  SourceCustom,
		ID:      inc.EventID,
		Content: Content{
			TextType:    TextTypeClientMarkdown,
			Title:       title,
			Description: b.description(),
			NextSteps:   b.nextSteps(),
			Keywords:    b.keywords(),
		},
		Metadata: Metadata{
			ThreadID:          b.threadID(),
			Summary:           Plain(title),
			EventType:         fmt.Sprintf("credguard-%s-%s", inc.Guardrail, b.top),
			RelatedResources:  b.relatedResources(),
			AdditionalContext: b.additionalContext(sev),
		},
	}
	attrs := Attributes{Guardrail: inc.Guardrail, Outcome: b.top, Severity: sev, Account: inc.Account}

	data, err := json.Marshal(m)
	if err != nil {
		return Message{}, Attributes{}, fmt.Errorf("build notification for event %q: %w", inc.EventID, err)
	}
	if len(data) > MaxMessageBytes {
		return Message{}, Attributes{}, fmt.Errorf("build notification for event %q: message is %d bytes, over %d", inc.EventID, len(data), MaxMessageBytes)
	}
	return m, attrs, nil
}

// builder holds one incident while its message is written.
type builder struct {
	inc   Incident
	shown []guardrail.Result // worth telling and exempt, most significant first
	worth int                // how many of shown are worth telling (0: only exemptions)
	top   outcome.Outcome
}

func (b builder) imds() bool { return b.inc.Guardrail == guardrail.IMDS }

func (b builder) count(o outcome.Outcome) int {
	n := 0
	for _, r := range b.shown {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

func (b builder) nouns(n int) string {
	if b.imds() {
		return plural(n, "instance", "instances")
	}
	return plural(n, "role", "roles")
}

// location is where the resources are: account/region for EC2, the account
// for IAM (global).
func (b builder) location() string {
	if b.imds() {
		return b.inc.Account + "/" + b.inc.Region
	}
	return b.inc.Account
}

// titleLabel names one resource in the title: "i-0abc… (web)", "role
// ci-deployer". It is cut short enough that the title always keeps where the
// resource is, which the description does not repeat.
func (b builder) titleLabel(r guardrail.Result) string {
	if b.imds() {
		id := r.Resource
		if id == "" {
			id = "an unnamed instance"
		}
		id = clip(id, instanceIDChars, esc)
		if r.Name != "" {
			return id + " (" + prose(truncate(r.Name, 60)) + ")"
		}
		return id
	}
	return "role " + clip(roleName(r), roleNameChars, prose)
}

func (b builder) title() string {
	k := b.count(b.top)
	var subject string
	switch {
	case k == 1 && (b.worth == 1 || b.top != outcome.Failed):
		for _, r := range b.shown {
			if r.Outcome == b.top {
				subject = b.titleLabel(r)
				break
			}
		}
	case k == b.worth:
		subject = b.nouns(k)
	case b.top == outcome.Failed:
		subject = fmt.Sprintf("%d of %s", k, b.nouns(b.worth))
	default:
		subject = b.nouns(k)
	}
	where := subject + " in " + esc(b.location())

	var t string
	switch {
	case b.top == outcome.Exempt && b.imds():
		t = "IMDSv2 NOT enforced on " + where + ": exempt"
	case b.top == outcome.Exempt:
		t = "Risky trust kept on " + where + ": exempt"
	case b.top == outcome.Failed && b.imds():
		t = "Credguard FAILED to enforce IMDSv2 on " + where
	case b.top == outcome.Failed:
		t = "Credguard FAILED to revoke wildcard trust on " + where
	case b.top == outcome.DryRun && b.imds():
		t = "DRY RUN: would enforce IMDSv2 on " + where
	case b.top == outcome.DryRun:
		t = "DRY RUN: would revoke wildcard trust on " + where
	case b.top == outcome.Warned && b.imds():
		t = "IMDS risk on " + where + " (no change made)"
	case b.top == outcome.Warned:
		t = "Risky trust on " + where + " (no change made)"
	case b.imds():
		t = "IMDSv2 enforced on " + where
	default:
		t = "Wildcard trust revoked on " + where
	}
	if b.inc.DryRun && b.top != outcome.DryRun {
		t = "DRY RUN: " + t
	}
	return t
}

func (b builder) keywords() []string {
	kw := []string{"credguard", string(b.inc.Guardrail), string(b.top), b.inc.Account}
	if b.inc.Region != "" {
		kw = append(kw, b.inc.Region)
	}
	if b.inc.DryRun && b.top != outcome.DryRun {
		kw = append(kw, string(outcome.DryRun))
	}
	return kw
}

// threadID groups notifications about the same resource (or, for an event
// with several, the same event) in one chat thread.
func (b builder) threadID() string {
	resources := map[string]bool{}
	var one guardrail.Result
	for _, r := range b.shown {
		if Worth(r.Outcome) || b.worth == 0 {
			resources[r.Resource] = true
			one = r
		}
	}
	parts := []string{"credguard", string(b.inc.Guardrail), b.inc.Account}
	if b.imds() {
		parts = append(parts, b.inc.Region)
	}
	switch {
	case len(resources) == 1 && b.imds():
		parts = append(parts, one.Resource)
	case len(resources) == 1:
		parts = append(parts, roleName(one))
	default:
		parts = append(parts, "event", b.inc.EventID)
	}
	return sanitizeID(strings.Join(parts, "-"))
}

func sanitizeID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		default:
			return '-'
		}
	}, strings.TrimRight(s, "-"))
}

func (b builder) relatedResources() []string {
	var out []string
	for _, r := range b.shown {
		if r.Resource == "" || len(out) == maxRelatedResources {
			continue
		}
		if b.imds() && strings.HasPrefix(r.Resource, "i-") {
			out = append(out, partition.ARN("ec2", b.inc.Region, b.inc.Account, "instance/"+r.Resource))
		} else {
			out = append(out, r.Resource)
		}
	}
	return out
}

// additionalContext is Metadata.AdditionalContext: plain-text facts other consumers
// (the Slack forwarder) lay out on their own.
func (b builder) additionalContext(sev guardrail.Severity) map[string]string {
	c := map[string]string{
		CtxGuardrail: string(b.inc.Guardrail),
		CtxOutcome:   string(b.top),
		CtxSeverity:  string(sev),
		CtxAccount:   b.inc.Account,
		CtxRegion:    b.inc.Region,
		CtxEventID:   b.inc.EventID,
		CtxEventName: b.inc.EventName,
		CtxActor:     b.inc.Actor,
		CtxExempt:    b.exemptHow(),
	}
	if b.inc.DryRun {
		c[CtxDryRun] = "true"
	}
	if len(b.shown) == 1 {
		r := b.shown[0]
		c[CtxResource] = plainLabel(b.inc.Guardrail, r)
		c[CtxChange] = b.changeSummary(r)
	} else {
		var ids []string
		for _, r := range b.shown {
			ids = append(ids, plainLabel(b.inc.Guardrail, r))
		}
		c[CtxResource] = truncate(b.nouns(len(b.shown))+": "+strings.Join(ids, ", "), 300)
	}
	return nonEmpty(c)
}

func plainLabel(g guardrail.Name, r guardrail.Result) string {
	if g == guardrail.IMDS && r.Name != "" {
		return r.Resource + " (" + truncate(r.Name, 60) + ")"
	}
	return r.Resource
}

// changeSummary is the before → after of one result in plain text.
func (b builder) changeSummary(r guardrail.Result) string {
	if r.Outcome == outcome.Warned || r.Outcome == outcome.Exempt {
		return "no change"
	}
	if c := r.IMDS; c != nil {
		switch {
		case c.Changes() && r.Outcome == outcome.Failed:
			return c.Before.String() + " (unchanged; wanted " + c.After.String() + ")"
		case c.Changes():
			return c.Before.String() + " → " + c.After.String()
		default:
			return c.Before.String() + " (unchanged)"
		}
	}
	if c := r.Trust; c != nil && c.After != nil {
		return "trust policy statements: " + diffPolicies(c.Before, *c.After).Summary()
	}
	return ""
}

func (b builder) exemptHow() string {
	if b.imds() {
		return fmt.Sprintf("To exempt an instance, tag it %s with the reason as the value.", ids.ExemptTag)
	}
	return fmt.Sprintf("To exempt a role, tag it %s with the reason as the value, or add its ARN to the trust guardrail's allow-list.", ids.ExemptTag)
}

// roleName is the role's name: the result's Name, else the last part of the ARN.
func roleName(r guardrail.Result) string {
	if r.Name != "" {
		return r.Name
	}
	if i := strings.LastIndex(r.Resource, "/"); i >= 0 && i < len(r.Resource)-1 {
		return r.Resource[i+1:]
	}
	if r.Resource != "" {
		return r.Resource
	}
	return "(unnamed role)"
}
