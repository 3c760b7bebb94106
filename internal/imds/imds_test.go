package imds

import (
	"testing"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
)

func TestDecide(t *testing.T) {
	optional2 := Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled", State: "applied"}
	good := Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}
	tests := []struct {
		name    string
		in      Instance
		policy  Policy
		outcome outcome.Outcome
		modify  bool
		after   Options
	}{
		{"imdsv1 hop 2", Instance{ID: "i-1", State: "running", Options: optional2}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"imdsv1 hop 1", Instance{ID: "i-1", State: "pending", Options: Options{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "enabled"}}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"}},
		{"v2 but hop 2 (AMI ImdsSupport v2.0 default)", Instance{ID: "i-1", State: "running", Options: Options{HTTPTokens: "required", HopLimit: 2, HTTPEndpoint: "enabled"}}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"}},
		{"hop 64", Instance{ID: "i-1", State: "running", Options: Options{HTTPTokens: "required", HopLimit: 64, HTTPEndpoint: "enabled"}}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"}},
		{"disabled endpoint stays disabled", Instance{ID: "i-1", State: "running", Options: Options{HTTPTokens: "optional", HopLimit: 1, HTTPEndpoint: "disabled"}}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"}},
		{"unknown options are not compliant", Instance{ID: "i-1", State: "pending"}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1}},
		{"compliant", Instance{ID: "i-1", State: "running", Options: good}, Policy{}, outcome.Compliant, false, good},
		{"compliant with endpoint disabled", Instance{ID: "i-1", State: "running", Options: Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"}}, Policy{}, outcome.Compliant, false,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "disabled"}},
		{"compliant but pending apply", Instance{ID: "i-1", State: "running", Options: Options{HTTPTokens: "required", HopLimit: 1, State: "pending"}}, Policy{}, outcome.Compliant, false,
			Options{HTTPTokens: "required", HopLimit: 1, State: "pending"}},
		{"terminated", Instance{ID: "i-1", State: "terminated", Options: optional2}, Policy{}, outcome.Gone, false, optional2},
		{"shutting-down", Instance{ID: "i-1", State: "shutting-down", Options: optional2}, Policy{}, outcome.Gone, false, optional2},
		{"terminated beats exempt and dry-run", Instance{ID: "i-1", State: "terminated", Tags: map[string]string{ids.ExemptTag: "x"}, Options: optional2}, Policy{DryRun: true}, outcome.Gone, false, optional2},
		{"stopped is still remediated", Instance{ID: "i-1", State: "stopped", Options: optional2}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"exempt tag with reason", Instance{ID: "i-1", State: "running", Tags: map[string]string{ids.ExemptTag: "vendor agent"}, Options: optional2}, Policy{}, outcome.Exempt, false, optional2},
		{"empty exempt tag is no exemption", Instance{ID: "i-1", State: "running", Tags: map[string]string{ids.ExemptTag: ""}, Options: optional2}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"blank exempt tag is no exemption", Instance{ID: "i-1", State: "running", Tags: map[string]string{ids.ExemptTag: "   "}, Options: optional2}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"exempt tag key is case-sensitive", Instance{ID: "i-1", State: "running", Tags: map[string]string{"Credguard:Exempt": "x"}, Options: optional2}, Policy{}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"exempt by configured id", Instance{ID: "i-9", State: "running", Options: optional2}, Policy{ExemptIDs: map[string]bool{"i-9": true}}, outcome.Exempt, false, optional2},
		{"other id on list does not exempt", Instance{ID: "i-1", State: "running", Options: optional2}, Policy{ExemptIDs: map[string]bool{"i-9": true}}, outcome.Remediated, true,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"exempt beats dry-run", Instance{ID: "i-1", State: "running", Tags: map[string]string{ids.ExemptTag: "x"}, Options: optional2}, Policy{DryRun: true}, outcome.Exempt, false, optional2},
		{"compliant beats exempt", Instance{ID: "i-1", State: "running", Tags: map[string]string{ids.ExemptTag: "x"}, Options: good}, Policy{}, outcome.Compliant, false, good},
		{"dry-run writes nothing", Instance{ID: "i-1", State: "running", Options: optional2}, Policy{DryRun: true}, outcome.DryRun, false,
			Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled", State: "applied"}},
		{"dry-run of compliant is compliant", Instance{ID: "i-1", State: "running", Options: good}, Policy{DryRun: true}, outcome.Compliant, false, good},
		{"eks-nodes scope: untagged host is ignored", Instance{ID: "i-1", State: "running", Tags: map[string]string{"Name": "docker-host"}, Options: optional2}, Policy{Scope: ScopeEKSNodes}, outcome.Ignored, false, optional2},
		{"eks-nodes scope: compliant untagged host is ignored too", Instance{ID: "i-1", State: "running", Options: good}, Policy{Scope: ScopeEKSNodes}, outcome.Ignored, false, good},
		{"eks-nodes scope: terminated is still gone", Instance{ID: "i-1", State: "terminated", Options: optional2}, Policy{Scope: ScopeEKSNodes}, outcome.Gone, false, optional2},
		{"eks-nodes scope: Karpenter node is remediated", Instance{ID: "i-1", State: "pending", Tags: map[string]string{"karpenter.sh/nodepool": "default"}, Options: optional2}, Policy{Scope: ScopeEKSNodes}, outcome.Remediated, true,
			good},
		{"eks-nodes scope: exempt node stays exempt", Instance{ID: "i-1", State: "running", Tags: map[string]string{"eks:cluster-name": "prod", ids.ExemptTag: "x"}, Options: optional2}, Policy{Scope: ScopeEKSNodes}, outcome.Exempt, false, optional2},
		{"eks-nodes scope: dry-run on a node", Instance{ID: "i-1", State: "running", Tags: map[string]string{"kubernetes.io/cluster/prod": "owned"}, Options: optional2}, Policy{Scope: ScopeEKSNodes, DryRun: true}, outcome.DryRun, false,
			good},
		{"all scope: untagged host is remediated", Instance{ID: "i-1", State: "running", Options: optional2}, Policy{Scope: ScopeAll}, outcome.Remediated, true,
			good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.in, tt.policy)
			if d.Outcome != tt.outcome || d.Modify != tt.modify {
				t.Fatalf("Decide = %s modify=%v (%s), want %s modify=%v", d.Outcome, d.Modify, d.Reason, tt.outcome, tt.modify)
			}
			if d.After != tt.after {
				t.Errorf("After = %+v, want %+v", d.After, tt.after)
			}
			if d.Before != tt.in.Options {
				t.Errorf("Before = %+v, want the instance's options %+v", d.Before, tt.in.Options)
			}
			if d.Reason == "" {
				t.Error("every decision carries a reason")
			}
			// Never enable a disabled endpoint, whatever the decision.
			if tt.in.Options.HTTPEndpoint == "disabled" && d.After.HTTPEndpoint != "disabled" {
				t.Errorf("endpoint changed from disabled to %q", d.After.HTTPEndpoint)
			}
		})
	}
}

// TestDecideNeverWeakens checks, over every combination of the inputs the
// decision looks at, that a write only ever moves to the target and that an
// exempt, dry-run, compliant or gone instance is never written.
func TestDecideNeverWeakens(t *testing.T) {
	states := []string{"pending", "running", "stopping", "stopped", "shutting-down", "terminated", ""}
	tokens := []string{"required", "optional", ""}
	hops := []int{0, 1, 2, 3, 64}
	endpoints := []string{"enabled", "disabled", ""}
	tags := []map[string]string{nil, {ids.ExemptTag: ""}, {ids.ExemptTag: "reason"}, {"Name": "web"}, {"eks:cluster-name": "prod"}}
	for _, scope := range []string{"", ScopeAll, ScopeEKSNodes} {
		for _, st := range states {
			for _, tk := range tokens {
				for _, h := range hops {
					for _, ep := range endpoints {
						for _, tg := range tags {
							for _, dry := range []bool{false, true} {
								in := Instance{ID: "i-1", State: st, Tags: tg, Options: Options{HTTPTokens: tk, HopLimit: h, HTTPEndpoint: ep}}
								d := Decide(in, Policy{DryRun: dry, Scope: scope})
								if d.Modify {
									if dry || in.Options.Compliant() || st == "terminated" || st == "shutting-down" || tg[ids.ExemptTag] != "" ||
										(scope == ScopeEKSNodes && !EKSNode(tg)) {
										t.Fatalf("write for %+v dry=%v", in, dry)
									}
									if !d.After.Compliant() || d.After.HTTPEndpoint != ep {
										t.Fatalf("write target %+v for %+v", d.After, in)
									}
								}
								if d.Outcome == outcome.Remediated != d.Modify {
									t.Fatalf("outcome %s with modify=%v", d.Outcome, d.Modify)
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestEKSNode(t *testing.T) {
	tests := []struct {
		tags map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"Name": "docker-host", "ecs:cluster": "x"}, false},
		{map[string]string{"eks:cluster-name": "prod"}, true},
		{map[string]string{"aws:eks:cluster-name": "prod"}, true},
		{map[string]string{"kubernetes.io/cluster/prod": "owned"}, true},
		{map[string]string{"kubernetes.io/cluster/": "owned"}, false}, // no cluster name
		{map[string]string{"kubernetes.io/role": "node"}, false},
		{map[string]string{"karpenter.sh/nodepool": "default"}, true},
		{map[string]string{"karpenter.sh/provisioner-name": "default"}, false}, // not one of the four
		{map[string]string{"EKS:cluster-name": "prod"}, false},                 // tag keys are case-sensitive
	}
	for _, tt := range tests {
		if got := EKSNode(tt.tags); got != tt.want {
			t.Errorf("EKSNode(%v) = %v, want %v", tt.tags, got, tt.want)
		}
	}
	for _, s := range []string{"", ScopeAll, ScopeEKSNodes} {
		if !ValidScope(s) {
			t.Errorf("ValidScope(%q) = false", s)
		}
	}
	for _, s := range []string{"eks", "All", "eks_nodes", " all"} {
		if ValidScope(s) {
			t.Errorf("ValidScope(%q) = true", s)
		}
	}
}

func TestOptionsString(t *testing.T) {
	if got := (Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"}).String(); got != "tokens=optional hop=2 endpoint=enabled" {
		t.Errorf("String = %q", got)
	}
	if got := (Options{}).String(); got != "tokens=? hop=? endpoint=?" {
		t.Errorf("String of unknown = %q", got)
	}
}
