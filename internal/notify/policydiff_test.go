package notify

import (
	"reflect"
	"strings"
	"testing"
)

func TestDiffPolicies(t *testing.T) {
	a := `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`
	b := `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`
	c := `{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`
	doc := func(st ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
	}
	tests := map[string]struct {
		before, after string
		want          policyDiff
	}{
		"identical":          {doc(a, b), doc(a, b), policyDiff{Unchanged: 2}},
		"object form":        {`{"Statement":` + a + `}`, doc(a), policyDiff{Unchanged: 1}},
		"one removed":        {doc(a, b), doc(b), policyDiff{Removed: []string{a}, Unchanged: 1}},
		"replaced":           {doc(a), doc(c), policyDiff{Removed: []string{a}, Added: []string{c}}},
		"duplicates counted": {doc(a, a, b), doc(a, b), policyDiff{Removed: []string{a}, Unchanged: 2}},
		"everything new":     {doc(b), doc(b, c), policyDiff{Added: []string{c}, Unchanged: 1}},
		// A statement is shown as written (compacted), "<" included.
		"kept as written": {doc(`{"Sid":"S","Effect":"Deny", "Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/x":"<y>"}}}`), doc(b),
			policyDiff{Removed: []string{`{"Sid":"S","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/x":"<y>"}}}`}, Added: []string{b}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := diffPolicies(mustPolicy(tt.before), mustPolicy(tt.after))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyDiffLinesAndSummary(t *testing.T) {
	d := policyDiff{Removed: []string{"r1", "r2"}, Added: []string{"a1"}, Unchanged: 3}
	if got := d.Lines(); !reflect.DeepEqual(got, []string{"- r1", "- r2", "+ a1"}) {
		t.Errorf("Lines() = %q", got)
	}
	if got := d.Summary(); got != "2 removed, 1 added, 3 unchanged" {
		t.Errorf("Summary() = %q", got)
	}
}
