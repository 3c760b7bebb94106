package notify

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyStatements(t *testing.T) {
	tests := map[string]struct {
		doc     string
		want    []string
		wantErr string
	}{
		"object statement": {
			doc:  `{"Version":"2012-10-17","Statement":{"Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"},"Effect":"Allow"}}`,
			want: []string{`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`},
		},
		"array, pretty, extra keys sorted last": {
			doc:  "{\n \"Statement\": [\n  {\"Zeta\": 1, \"Condition\": {\"StringEquals\": {\"b\": \"<x>\", \"a\": \"y\"}}, \"Sid\": \"S\", \"Effect\": \"Deny\"}\n ]\n}",
			want: []string{`{"Sid":"S","Effect":"Deny","Condition":{"StringEquals":{"a":"y","b":"<x>"}},"Zeta":1}`},
		},
		"numbers kept as written": {
			doc:  `{"Statement":[{"Condition":{"NumericLessThan":{"k":1.50}}}]}`,
			want: []string{`{"Condition":{"NumericLessThan":{"k":1.50}}}`},
		},
		"url-encoded": {
			doc:  url.PathEscape(`{"Statement":[{"Effect":"Allow","Principal":"*"}]}`),
			want: []string{`{"Effect":"Allow","Principal":"*"}`},
		},
		"no statement":     {doc: `{"Version":"2012-10-17"}`, want: []string{}},
		"empty document":   {doc: "  ", want: nil},
		"not json":         {doc: "Version: 2012", wantErr: "not a JSON policy document"},
		"statement string": {doc: `{"Statement":"x"}`, wantErr: "Statement is a string"},
		"statement item":   {doc: `{"Statement":[{"Effect":"Allow"}, 3]}`, wantErr: "statement 1 is a json.Number"},
		"array document":   {doc: `[1]`, wantErr: "not a JSON policy document"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := policyStatements(tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

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
		"identical":               {doc(a, b), doc(a, b), policyDiff{Unchanged: 2}},
		"reordered keys and form": {`{"Statement":{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"*"}}}`, doc(a), policyDiff{Unchanged: 1}},
		"one removed":             {doc(a, b), doc(b), policyDiff{Removed: []string{a}, Unchanged: 1}},
		"replaced":                {doc(a), doc(c), policyDiff{Removed: []string{a}, Added: []string{c}}},
		"duplicates counted":      {doc(a, a, b), doc(a, b), policyDiff{Removed: []string{a}, Unchanged: 2}},
		"everything new":          {doc(), doc(b), policyDiff{Added: []string{b}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := diffPolicies(tt.before, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := diffPolicies("nope", doc(a)); err == nil || !strings.Contains(err.Error(), "original policy") {
		t.Errorf("bad original: %v", err)
	}
	if _, err := diffPolicies(doc(a), "nope"); err == nil || !strings.Contains(err.Error(), "new policy") {
		t.Errorf("bad new policy: %v", err)
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

func TestCompactPolicy(t *testing.T) {
	if got := compactPolicy("{\n  \"b\": 1,\n  \"a\": [ 2 ]\n}"); got != `{"b":1,"a":[2]}` {
		t.Errorf("got %q", got)
	}
	if got := compactPolicy(url.PathEscape(`{"a": "x/y+z"}`)); got != `{"a":"x/y+z"}` {
		t.Errorf("got %q", got)
	}
	if got := compactPolicy("  not json "); got != "not json" {
		t.Errorf("got %q", got)
	}
}
