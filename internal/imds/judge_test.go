package imds

import (
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
)

func TestGap(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want Gap
	}{
		{Options{HTTPTokens: "required", HopLimit: 1}, Gap{}},
		{Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"}, Gap{}},
		{Options{HTTPTokens: "required", HopLimit: 2}, Gap{HopLimit: true}},
		{Options{HTTPTokens: "required", HopLimit: 64}, Gap{HopLimit: true}},
		{Options{HTTPTokens: "required"}, Gap{HopLimit: true}}, // hop limit unset (a template)
		{Options{HTTPTokens: "optional", HopLimit: 1}, Gap{Tokens: true}},
		{Options{HopLimit: 1}, Gap{Tokens: true}}, // tokens unset (a template)
		{Options{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}, Gap{Tokens: true}},
		{Options{HTTPTokens: "optional", HopLimit: 2}, Gap{Tokens: true, HopLimit: true}},
		{Options{}, Gap{Tokens: true, HopLimit: true}},
	} {
		if got := tc.o.Gap(); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.o, got, tc.want)
		}
		if tc.o.Compliant() != (tc.want == Gap{}) {
			t.Errorf("%s: Compliant() = %v with gap %+v", tc.o, tc.o.Compliant(), tc.want)
		}
		if g := tc.o.Target().Gap(); g != (Gap{}) {
			t.Errorf("%s: target still lacks %+v", tc.o, g)
		}
	}
}

// TestJudge is the rule as instances and launch templates share it: an id,
// tags and options, without an instance state.
func TestJudge(t *testing.T) {
	v1 := Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"}
	unset := Options{} // a launch template that sets no metadata options
	good := Options{HTTPTokens: "required", HopLimit: 1}
	node := map[string]string{"eks:cluster-name": "prod"}
	for _, tc := range []struct {
		name    string
		id      string
		tags    map[string]string
		o       Options
		p       Policy
		outcome outcome.Outcome
		modify  bool
		change  string
		reason  string
	}{
		{"instance: both wrong", "i-1", nil, v1, Policy{}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set HttpTokens=required HttpPutResponseHopLimit=1"},
		{"template: nothing set", "lt-1", nil, unset, Policy{}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set HttpTokens"},
		{"only the hop limit", "lt-1", nil, Options{HTTPTokens: "required"}, Policy{}, outcome.Remediated, true,
			"HttpPutResponseHopLimit=1", "set HttpPutResponseHopLimit=1"},
		{"endpoint stays disabled", "i-1", nil, Options{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}, Policy{}, outcome.Remediated, true,
			"HttpTokens=required (endpoint stays disabled)", "(endpoint stays disabled)"},
		{"dry-run", "lt-1", nil, unset, Policy{DryRun: true}, outcome.DryRun, false,
			"HttpTokens=required HttpPutResponseHopLimit=1", "would set"},
		{"compliant", "i-1", nil, good, Policy{}, outcome.Compliant, false, "", "IMDSv2 required"},
		{"exempt by tag", "lt-1", map[string]string{ids.ExemptTag: " legacy "}, unset, Policy{}, outcome.Exempt, false, "", "tag credguard:exempt: legacy"},
		{"blank tag does not exempt", "lt-1", map[string]string{ids.ExemptTag: "  "}, unset, Policy{}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set"},
		{"exempt by id", "i-1", nil, v1, Policy{ExemptIDs: map[string]bool{"i-1": true}}, outcome.Exempt, false, "", "allow-list entry i-1"},
		{"another id is not exempt", "i-2", nil, v1, Policy{ExemptIDs: map[string]bool{"i-1": true}}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set"},
		{"exempt in dry-run", "i-1", map[string]string{ids.ExemptTag: "x"}, v1, Policy{DryRun: true}, outcome.Exempt, false, "", "tag"},
		{"eks-nodes: untagged ignored", "lt-1", nil, unset, Policy{Scope: ScopeEKSNodes}, outcome.Ignored, false, "", OutOfScope},
		{"eks-nodes: compliant untagged ignored", "i-1", nil, good, Policy{Scope: ScopeEKSNodes}, outcome.Ignored, false, "", OutOfScope},
		{"eks-nodes: node fixed", "lt-1", node, unset, Policy{Scope: ScopeEKSNodes}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set"},
		{"all scope: untagged fixed", "i-1", nil, v1, Policy{Scope: ScopeAll}, outcome.Remediated, true,
			"HttpTokens=required HttpPutResponseHopLimit=1", "set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Judge(tc.id, tc.tags, tc.o, tc.p)
			if d.Outcome != tc.outcome || d.Modify != tc.modify || d.Change != tc.change || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got %+v\nwant outcome %s modify %v change %q reason containing %q", d, tc.outcome, tc.modify, tc.change, tc.reason)
			}
			if d.Before != tc.o {
				t.Errorf("before %+v, want %+v", d.Before, tc.o)
			}
			switch d.Outcome {
			case outcome.Remediated, outcome.DryRun:
				if want := tc.o.Target(); d.After != want || !d.After.Compliant() {
					t.Errorf("after %+v, want %+v", d.After, want)
				}
			default:
				if d.After != tc.o {
					t.Errorf("after %+v for %s: nothing may change", d.After, d.Outcome)
				}
			}
		})
	}
}

// TestDecideIsJudge: apart from a terminated or shutting-down instance,
// Decide on an instance is Judge on its id, tags and options.
func TestDecideIsJudge(t *testing.T) {
	tags := []map[string]string{nil, {ids.ExemptTag: "r"}, {"karpenter.sh/nodepool": "default"}}
	opts := []Options{{}, {HTTPTokens: "required", HopLimit: 1}, {HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}}
	policies := []Policy{{}, {DryRun: true}, {Scope: ScopeEKSNodes}, {ExemptIDs: map[string]bool{"i-1": true}}}
	for _, st := range []string{"pending", "running", "stopped", "", "terminated", "shutting-down"} {
		for _, tg := range tags {
			for _, o := range opts {
				for _, p := range policies {
					in := Instance{ID: "i-1", State: st, Tags: tg, Options: o}
					d := Decide(in, p)
					if st == "terminated" || st == "shutting-down" {
						if d.Outcome != outcome.Gone || d.Modify || d.After != o {
							t.Fatalf("%+v: %+v", in, d)
						}
						continue
					}
					if j := Judge(in.ID, in.Tags, in.Options, p); d != j {
						t.Fatalf("%+v %+v: Decide %+v, Judge %+v", in, p, d, j)
					}
				}
			}
		}
	}
}
