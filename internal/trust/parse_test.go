package trust

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseInvalidTestdata(t *testing.T) {
	want := map[string]string{
		"action-and-not-action": "statement 1: has both Action and NotAction",
		"action-number":         "statement 1: Action: must be a string or an array of strings, got a number",
		"bad-version":           `Version must be "2012-10-17" or "2008-10-17", got "2012-10-18"`,
		"condition-null":        `statement 1: Condition: StringEquals: "aws:SourceAccount": must be a string, number or boolean, got null`,
		"duplicate-key":         `statement 1: duplicate key "Effect"`,
		"effect-lowercase":      `statement 2: Effect must be "Allow" or "Deny", got "allow"`,
		"missing-effect":        "statement 1: Effect is missing",
		"missing-principal":     "statement 1: Principal is missing (a trust policy statement names who may assume the role)",
		"no-statement":          "policy has no Statement",
		"not-an-object":         "a trust policy is a JSON object, got an array",
		"principal-string":      `statement 1: Principal: the string form must be "*", got "arn:aws:iam::444455556666:root" (use a map such as {"AWS": "arn:aws:iam::444455556666:root"})`,
		"principal-type":        `statement 1: Principal: unknown principal type "aws" (want AWS, Service, Federated or CanonicalUser)`,
		"resource":              `statement 1: Resource is not allowed in a trust policy (IAM rejects it: "Has prohibited field Resource")`,
		"truncated":             "invalid JSON at byte 67: unexpected end of JSON input",
		"unknown-statement-key": `statement 1: unknown key "Principals" (a statement has Sid, Effect, Principal, NotPrincipal, Action, NotAction and Condition)`,
		"unknown-top-level-key": `unknown top-level key "Statements" (a trust policy has Version, Id and Statement)`,
	}
	files, _ := filepath.Glob("testdata/invalid/*.json")
	if len(files) != len(want) {
		t.Errorf("%d invalid files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(doc)
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if !IsParseError(err) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if err.Error() != want[name] {
				t.Errorf("error = %q\nwant    %q", err, want[name])
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"", "document is empty"},
		{"   \n", "document is empty"},
		{"null", "a trust policy is a JSON object, got null"},
		{`"x"`, "a trust policy is a JSON object, got a string"},
		{"Version: 2012-10-17", "invalid JSON at byte 1: invalid character 'V' looking for beginning of value"},
		{"%ZZ", `document looks URL-encoded but does not decode: invalid URL escape "%ZZ"`},
		{"%5B%5D", "URL-decoded document is not a JSON object"},
		{"%257B%257D", "URL-decoded document is not a JSON object"}, // encoded twice: decoded once only
		{"{\"Statement\":[]}\xff", "document is not valid UTF-8"},
		{`{"Statement":[]} {}`, "invalid JSON at byte 18: invalid character '{' after top-level value"},
		{`{"Version":20121017,"Statement":[]}`, "Version: must be a string, got a number"},
		{`{"Id":{},"Statement":[]}`, "Id: must be a string, got an object"},
		{`{"Statement":"x"}`, "Statement must be an object or an array of objects, got a string"},
		{`{"Statement":[1]}`, "statement 1: a statement is a JSON object, got a number"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*"}}`, "statement 1: has both Principal and NotPrincipal"},
		{`{"Statement":{"Effect":"Allow","Principal":"*"}}`, "statement 1: Action is missing"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}`, "statement 1: Action: is an empty array"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":""}}`, "statement 1: Action: value 1 is empty"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole",true]}}`, "statement 1: Action: value 2 must be a string, got a boolean"},
		{`{"Statement":{"Effect":true,"Principal":"*","Action":"*"}}`, "statement 1: Effect: must be a string, got a boolean"},
		{`{"Statement":{"Effect":"Allow","Principal":{},"Action":"*"}}`, "statement 1: Principal: is an empty object"},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*"}}`, "statement 1: Principal: AWS: is an empty array"},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":""},"Action":"*"}}`, "statement 1: Principal: AWS: value 1 is empty"},
		{`{"Statement":{"Effect":"Allow","Principal":["*"],"Action":"*"}}`, `statement 1: Principal: must be "*" or an object, got an array`},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"*","AWS":"1"},"Action":"*"}}`, `statement 1: Principal: duplicate key "AWS"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":[]}}`, "statement 1: Condition: must be an object of operators, got an array"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":"x"}}}`, "statement 1: Condition: StringEquals: must be an object of condition keys, got a string"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}`, `statement 1: Condition: StringEquals: "k": must be a string, number or boolean, got an object`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"k":["a",null]}}}}`, `statement 1: Condition: StringEquals: "k": value 2 must be a string, number or boolean, got null`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"":{"k":"a"}}}}`, "statement 1: Condition: empty operator name"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"":"a"}}}}`, "statement 1: Condition: StringEquals: empty condition key"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"k":"a","k":"b"}}}}`, `statement 1: Condition: StringEquals: duplicate key "k"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","NotResource":"*"}}`, `statement 1: NotResource is not allowed in a trust policy (IAM rejects it: "Has prohibited field NotResource")`},
		{`{"Statement":{"Sid":1,"Effect":"Allow","Principal":"*","Action":"*"}}`, "statement 1: Sid: must be a string, got a number"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","c":"2"}}}}`, `statement 1: Condition: StringEquals: duplicate key "c"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","j":"2"}}}}`, `statement 1: Condition: StringEquals: duplicate key "j"`},
		{`{"Statement":{"Eff\u0065ct":"Allow","Effect":"Deny","Principal":"*","Action":"*"}}`, `statement 1: duplicate key "Effect"`},
		{strings.Repeat(" ", MaxDocumentBytes+1), "document is 262145 bytes, more than the 262144 this reader accepts"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.doc))
		if err == nil {
			t.Errorf("Parse(%.60q) accepted it", tc.doc)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%.60q)\n error %q\n want  %q", tc.doc, err, tc.want)
		}
	}
}

func TestParseForms(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want Statement // compared field by field, without raw/sig
	}{
		{"statement object, principal star, action string",
			`{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`,
			Statement{Effect: Allow, Principal: &Principal{Any: true}, Action: []string{"sts:AssumeRole"}}},
		{"principal map string and array",
			`{"Statement":[{"Sid":"Ci","Effect":"Deny","Principal":{"AWS":["1","2"],"Service":"ec2.amazonaws.com"},"NotAction":["sts:TagSession"]}]}`,
			Statement{Sid: "Ci", Effect: Deny, Principal: &Principal{Entries: []PrincipalEntry{{AWS, []string{"1", "2"}}, {Service, []string{"ec2.amazonaws.com"}}}}, NotAction: []string{"sts:TagSession"}}},
		{"NotPrincipal",
			`{"Statement":[{"Effect":"Deny","NotPrincipal":{"Federated":"x"},"Action":"*"}]}`,
			Statement{Effect: Deny, NotPrincipal: &Principal{Entries: []PrincipalEntry{{Federated, []string{"x"}}}}, Action: []string{"*"}}},
		{"condition scalars and arrays in document order",
			`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"Bool":{"b":true,"c":false},"NumericLessThan":{"n":[1,2.5e3]},"ForAnyValue:StringLike":{"k":[]}}}}`,
			Statement{Effect: Allow, Principal: &Principal{Any: true}, Action: []string{"*"}, Conditions: []Condition{
				{"Bool", "b", []string{"true"}}, {"Bool", "c", []string{"false"}},
				{"NumericLessThan", "n", []string{"1", "2.5e3"}}, {"ForAnyValue:StringLike", "k", []string{}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.doc)
			if len(p.Statements) != 1 {
				t.Fatalf("%d statements", len(p.Statements))
			}
			got := p.Statements[0]
			got.raw, got.sig = "", ""
			if got.String() != tc.want.String() {
				t.Errorf("got  %s\nwant %s", got.String(), tc.want.String())
			}
		})
	}
}

func TestParseURLEncoded(t *testing.T) {
	raw := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"system:serviceaccount:a+b:x%2Fy"}}}]}`
	// IAM GetRole returns the document percent-encoded; "+" is encoded as %2B
	// and a literal "%2F" in the document as %252F.
	encoded := url.PathEscape(raw)
	if !strings.HasPrefix(encoded, "%7B") {
		t.Fatalf("test setup: %s", encoded)
	}
	p, err := Parse([]byte(encoded))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Statements[0].Conditions[0].Values[0]; got != "system:serviceaccount:a+b:x%2Fy" {
		t.Errorf("value = %q: decoded other than exactly once with PathUnescape", got)
	}
	// A "+" left unencoded stays a "+" (QueryUnescape would make it a space).
	p, err = Parse([]byte(strings.ReplaceAll(encoded, "%2B", "+")))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Statements[0].Conditions[0].Values[0]; got != "system:serviceaccount:a+b:x%2Fy" {
		t.Errorf("value = %q", got)
	}
	// Raw JSON is never decoded, even when it contains escapes.
	p = mustParse(t, raw)
	if got := p.Statements[0].Conditions[0].Values[0]; got != "system:serviceaccount:a+b:x%2Fy" {
		t.Errorf("raw value = %q", got)
	}
}

func TestMarshalPreservesUntouchedStatements(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := mustParse(t, string(doc))
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, compact.Bytes()) {
			t.Errorf("%s:\nMarshal %s\ncompact %s", f, out, compact.Bytes())
		}
	}
}

func TestMarshalForms(t *testing.T) {
	// Untouched: exactly as written (compacted), even non-canonical forms.
	doc := `{ "Statement" : { "Condition":{"Bool":{"b":true}}, "Action":["sts:AssumeRole"], "Principal":{"AWS":["1"]}, "Effect":"Allow" }, "Id":"x", "Version":"2012-10-17" }`
	p := mustParse(t, doc)
	out, _ := Marshal(p)
	want := `{"Version":"2012-10-17","Id":"x","Statement":{"Condition":{"Bool":{"b":true}},"Action":["sts:AssumeRole"],"Principal":{"AWS":["1"]},"Effect":"Allow"}}`
	if string(out) != want {
		t.Errorf("untouched:\n got %s\nwant %s", out, want)
	}
	// Changed: canonical order and forms.
	p.Statements[0].Action = append(p.Statements[0].Action, "sts:TagSession")
	out, _ = Marshal(p)
	want = `{"Version":"2012-10-17","Id":"x","Statement":{"Effect":"Allow","Principal":{"AWS":"1"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"b":"true"}}}}`
	if string(out) != want {
		t.Errorf("changed:\n got %s\nwant %s", out, want)
	}
	// Changed back: the original form returns.
	p.Statements[0].Action = []string{"sts:AssumeRole"}
	out, _ = Marshal(p)
	if !strings.Contains(string(out), `"Action":["sts:AssumeRole"]`) {
		t.Errorf("restored: %s", out)
	}
	// Built in code: conditions grouped per operator, in first-seen order.
	built := Policy{Statements: []Statement{{Effect: Allow, Principal: &Principal{Any: true}, Action: []string{"*"},
		Conditions: []Condition{{"StringEquals", "a", []string{"1"}}, {"Bool", "b", []string{"true"}}, {"StringEquals", "c", []string{"2", "3"}}, {"StringLike", "d", nil}}}}}
	out, err := Marshal(built)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"a":"1","c":["2","3"]},"Bool":{"b":"true"},"StringLike":{"d":[]}}}]}`
	if string(out) != want {
		t.Errorf("built:\n got %s\nwant %s", out, want)
	}
	if _, err := Parse(out); err != nil {
		t.Errorf("re-parse: %v", err)
	}
}

func TestMarshalEscaping(t *testing.T) {
	s := Statement{Sid: "a\"b\\c\n\t\x01<>&\u2028é", Effect: Allow, Principal: &Principal{Any: true}, Action: []string{"*"}}
	out, err := Marshal(Policy{Statements: []Statement{s}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"a\"b\\c\n\t\u0001<>&`+"\u2028é\"") {
		t.Errorf("escaping: %s", out)
	}
	p, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Statements[0].Sid != s.Sid {
		t.Errorf("round trip Sid = %q", p.Statements[0].Sid)
	}
}

func TestMarshalRejectsInvalidPolicies(t *testing.T) {
	ok := Statement{Effect: Allow, Principal: &Principal{Any: true}, Action: []string{"*"}}
	mod := func(f func(*Statement)) Policy {
		s := ok.clone()
		f(&s)
		return Policy{Statements: []Statement{s}}
	}
	cases := map[string]Policy{
		"bad version":       {Version: "2020-01-01", Statements: []Statement{ok}},
		"bad effect":        mod(func(s *Statement) { s.Effect = "allow" }),
		"no principal":      mod(func(s *Statement) { s.Principal = nil }),
		"both principals":   mod(func(s *Statement) { s.NotPrincipal = &Principal{Any: true} }),
		"empty principal":   mod(func(s *Statement) { s.Principal = &Principal{} }),
		"no values":         mod(func(s *Statement) { s.Principal = &Principal{Entries: []PrincipalEntry{{Type: AWS}}} }),
		"empty value":       mod(func(s *Statement) { s.Principal = &Principal{Entries: []PrincipalEntry{{AWS, []string{""}}}} }),
		"no action":         mod(func(s *Statement) { s.Action = nil }),
		"both actions":      mod(func(s *Statement) { s.NotAction = []string{"x"} }),
		"empty operator":    mod(func(s *Statement) { s.Conditions = []Condition{{"", "k", []string{"v"}}} }),
		"duplicate key":     mod(func(s *Statement) { s.Conditions = []Condition{{"Bool", "k", nil}, {"Bool", "k", nil}} }),
		"empty key":         mod(func(s *Statement) { s.Conditions = []Condition{{"Bool", "", nil}} }),
		"NotAction empty":   mod(func(s *Statement) { s.Action, s.NotAction = nil, []string{} }),
		"principal nil any": mod(func(s *Statement) { s.Principal = &Principal{Entries: []PrincipalEntry{}} }),
	}
	for name, p := range cases {
		if out, err := Marshal(p); err == nil {
			t.Errorf("%s: Marshal accepted it: %s", name, out)
		}
	}
}

func TestNonWhitespaceLen(t *testing.T) {
	cases := map[string]int{
		"":                 0,
		" \t\r\n":          0,
		`{"a": "b c"}`:     10,
		"{\n  \"é\": 1\n}": 7,
	}
	for doc, want := range cases {
		if got := NonWhitespaceLen([]byte(doc)); got != want {
			t.Errorf("NonWhitespaceLen(%q) = %d, want %d", doc, got, want)
		}
	}
}

func TestRulesTable(t *testing.T) {
	seen := map[Rule]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || r.Summary == "" || (r.Severity != Critical && r.Severity != Warning) {
			t.Errorf("bad rule entry %+v", r)
		}
		seen[r.ID] = true
	}
	for _, id := range []Rule{RulePublicPrincipal, RulePublicPrincipalBounded, RuleNotPrincipalAllow, RuleOIDCNoSub,
		RuleOIDCBroadSub, RuleOIDCWildcardKey, RuleWebIdentityNoAud, RuleOIDCSAWildcard, RuleOIDCSubWildcard,
		RuleOIDCAud, RulePodIdentityUnscoped} {
		if !seen[id] {
			t.Errorf("rule %s missing from Rules()", id)
		}
	}
	// docs/trust-rules.md documents every rule.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "trust-rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	for id := range seen {
		if !bytes.Contains(doc, []byte("`"+string(id)+"`")) {
			t.Errorf("docs/trust-rules.md does not document %s", id)
		}
	}
}
