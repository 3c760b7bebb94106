package stacks_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/infra/pattern"
	"github.com/credguard/credguard/infra/stacks"
	"github.com/credguard/credguard/internal/trust"
)

// synthesized is a template with the pseudo parameters its intrinsics
// resolve to.
type synthesized struct {
	t template
	p pseudo
}

// allTemplates lists every synthesized template of a scenario, the StackSet's
// member template included.
func (s *scenario) allTemplates() map[string]synthesized {
	out := map[string]synthesized{s.name + "/hub": {s.hubT, hubPseudo}}
	for i, f := range s.fwd {
		out[fmt.Sprintf("%s/forwarder-%d", s.name, i)] = synthesized{f, pseudo{Partition: "aws", Account: hubAccount, Region: "eu-west-1"}}
	}
	for i, r := range s.reg {
		out[fmt.Sprintf("%s/regional-%d", s.name, i)] = synthesized{r, pseudo{Partition: "aws", Account: hubAccount, Region: *s.out.Regional[i].Region()}}
	}
	if s.out.Org != nil {
		out[s.name+"/org"] = synthesized{s.org, pseudo{Partition: "aws", Account: "999988887777", Region: "us-east-1"}}
		out[s.name+"/member"] = synthesized{s.membT, memberPseudo}
	}
	return out
}

func (s *scenario) cdkStacks() []awscdk.Stack {
	out := []awscdk.Stack{s.out.Hub.Stack}
	for _, f := range s.out.Forwarders {
		out = append(out, f.Stack)
	}
	for _, r := range s.out.Regional {
		out = append(out, r.Stack)
	}
	if s.out.Org != nil {
		out = append(out, s.out.Org.Stack)
	}
	return out
}

// TestNagFindings: zero unsuppressed cdk-nag AwsSolutions findings on every
// stack. (The StackSet's member template is checked inside MemberTemplate,
// which fails on any finding; the organization scenario would not build.)
func TestNagFindings(t *testing.T) {
	for _, s := range append([]*scenario{plain}, scenarios...) {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			for _, st := range s.cdkStacks() {
				a := assertions.Annotations_FromStack(st)
				nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
				for _, m := range append(*a.FindError(jsii.String("*"), nag), *a.FindWarning(jsii.String("*"), nag)...) {
					t.Errorf("%s: %s %s: %v", *st.StackName(), m.Level, *m.Id, m.Entry.Data)
				}
			}
		})
	}
}

// TestNagSuppressionReasons: every suppression says specifically why, and the
// wildcard ones name the wildcards they accept.
func TestNagSuppressionReasons(t *testing.T) {
	count := 0
	for _, s := range scenarios {
		s.get(t)
		for name, tp := range s.allTemplates() {
			for _, r := range tp.t.resources {
				nag, _ := r.Metadata["cdk_nag"].(map[string]any)
				for _, sup := range list(nag["rules_to_suppress"]) {
					count++
					m := sup.(map[string]any)
					id, reason := str(m["id"]), str(m["reason"])
					if !strings.HasPrefix(id, "AwsSolutions-") {
						t.Errorf("%s %s: suppression of %q", name, r.ID, id)
					}
					if words := len(strings.Fields(reason)); words < 15 {
						t.Errorf("%s %s: %s suppressed with a %d-word reason %q; say specifically why", name, r.ID, id, words, reason)
					}
					if id == "AwsSolutions-IAM5" && len(list(m["applies_to"])) == 0 {
						t.Errorf("%s %s: blanket IAM5 suppression; list the wildcards it accepts", name, r.ID)
					}
				}
			}
		}
	}
	if count == 0 {
		t.Fatal("no suppressions found: the metadata the test reads is missing")
	}
}

// expectedRules says which rules each sample in events/ is meant for. The
// guardrails' own changes (…-by-credguard) do reach their rule: the handler
// recognises its role and reports "ignored", which keeps the loop visible in
// the logs instead of hiding it in a pattern. A failed call (errorCode) matches
// nothing.
var expectedRules = map[string][]string{
	"ec2-state-change-pending.json":                        {"ec2-state-change"},
	"ec2-state-change-running.json":                        {"ec2-state-change"},
	"ec2-state-change-pending-cross-account.json":          {"ec2-state-change"},
	"cloudtrail-run-instances-one.json":                    {"ec2-run-instances"},
	"cloudtrail-run-instances-many.json":                   {"ec2-run-instances"},
	"cloudtrail-run-instances-compliant.json":              {"ec2-run-instances"},
	"cloudtrail-run-instances-failed.json":                 nil,
	"cloudtrail-create-fleet-one.json":                     {"ec2-create-fleet"},
	"cloudtrail-create-fleet-many.json":                    {"ec2-create-fleet"},
	"cloudtrail-modify-metadata-options-optional.json":     {"ec2-metadata-drift"},
	"cloudtrail-modify-metadata-options-by-credguard.json": {"ec2-metadata-drift"},
	"eks-create-pod-identity-association.json":             {"eks-pod-identity"},
	"eks-update-pod-identity-association.json":             {"eks-pod-identity"},
	"iam-create-role.json":                                 {"iam-trust-policy"},
	"iam-update-assume-role-policy.json":                   {"iam-trust-policy"},
	"iam-update-assume-role-policy-mixed.json":             {"iam-trust-policy"},
	"iam-update-assume-role-policy-by-credguard.json":      {"iam-trust-policy"},
}

// rulePatterns reads the event patterns from a synthesized template, keyed by
// rule id (the rule name without its prefix).
func rulePatterns(t *testing.T, tp template, prefix string) map[string]*pattern.Pattern {
	t.Helper()
	out := map[string]*pattern.Pattern{}
	for _, r := range tp.ofType("AWS::Events::Rule") {
		raw, err := json.Marshal(r.Props["EventPattern"])
		if err != nil {
			t.Fatal(err)
		}
		p, err := pattern.Parse(raw)
		if err != nil {
			t.Fatalf("rule %v: %v", r.Props["Name"], err)
		}
		out[strings.TrimPrefix(str(r.Props["Name"]), prefix)] = p
	}
	return out
}

func TestEventPatternsMatchSamples(t *testing.T) {
	samples, err := fs.Glob(events.Files, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no samples in events/")
	}
	have := map[string]bool{}
	for _, name := range samples {
		have[name] = true
		if _, ok := expectedRules[name]; !ok {
			t.Errorf("events/%s is not in expectedRules: say which rules it is meant for", name)
		}
	}
	for name := range expectedRules {
		if !have[name] {
			t.Errorf("expectedRules names events/%s, which does not exist", name)
		}
	}

	sets := map[string]map[string]*pattern.Pattern{}
	for _, s := range scenarios {
		s.get(t)
		sets[s.name+" hub"] = rulePatterns(t, s.hubT, "credguard-")
		for i, f := range s.fwd {
			sets[fmt.Sprintf("%s forwarder %d", s.name, i)] = rulePatterns(t, f, "credguard-forward-")
		}
		if s.out.Org != nil {
			sets[s.name+" member"] = rulePatterns(t, s.membT, "credguard-forward-")
		}
	}
	var ruleIDs []string
	for _, r := range stacks.Rules() {
		ruleIDs = append(ruleIDs, r.ID)
	}
	sort.Strings(ruleIDs)
	for setName, patterns := range sets {
		if got := sortedKeys(patterns); !reflect.DeepEqual(got, ruleIDs) {
			t.Errorf("%s: rules %v, want %v", setName, got, ruleIDs)
			continue
		}
		for _, name := range samples {
			data, err := fs.ReadFile(events.Files, name)
			if err != nil {
				t.Fatal(err)
			}
			var matched []string
			for _, id := range ruleIDs {
				ok, err := patterns[id].Match(data)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if ok {
					matched = append(matched, id)
				}
			}
			if want := expectedRules[name]; !reflect.DeepEqual(matched, want) {
				t.Errorf("%s: events/%s matches %v, want %v", setName, name, matched, want)
			}
		}
	}
}

// TestTrustPoliciesDogfood: every role the stacks create passes Credguard's
// own trust analyzer (what `credguard trust check` runs) with no critical
// finding.
func TestTrustPoliciesDogfood(t *testing.T) {
	checked := 0
	for _, s := range scenarios {
		s.get(t)
		for name, tp := range s.allTemplates() {
			for _, r := range tp.t.ofType("AWS::IAM::Role") {
				doc, err := resolve(r.Props["AssumeRolePolicyDocument"], tp.p)
				if err != nil {
					t.Fatalf("%s %s: %v", name, r.ID, err)
				}
				raw, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				p, err := trust.Parse(raw)
				if err != nil {
					t.Errorf("%s %s: trust policy does not parse: %v\n%s", name, r.ID, err, raw)
					continue
				}
				report := trust.Analyze(p)
				checked++
				t.Logf("%s %s: %s", name, r.ID, report)
				if report.Verdict == trust.Critical {
					t.Errorf("%s %s: critical trust policy: %v\n%s", name, r.ID, report, raw)
				}
			}
		}
	}
	// single: 6 function roles (imds-defaults and the sweep's list and
	// summary included) + scheduler and state machine roles in the hub, 1
	// forwarding role; organization: 7 function roles + scheduler + state
	// machine + Chatbot, 4 member roles (forwarding, IMDS, trust, IMDS
	// defaults). The per-region hub stacks use the hub's role.
	if want := 9 + 14; checked != want {
		t.Errorf("checked %d roles, want %d", checked, want)
	}
}
