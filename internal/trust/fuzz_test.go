package trust

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedDocs returns every policy in testdata (valid and invalid), plus
// URL-encoded copies of the valid ones, as GetRole returns them.
func seedDocs(f *testing.F) [][]byte {
	f.Helper()
	var docs [][]byte
	for _, pattern := range []string{"testdata/*.json", "testdata/invalid/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			docs = append(docs, b)
			if filepath.Dir(file) == "testdata" {
				docs = append(docs, []byte(url.PathEscape(string(b))))
			}
		}
	}
	if len(docs) == 0 {
		f.Fatal("no seeds")
	}
	return docs
}

// FuzzParse: Parse never panics, fails only with a *ParseError, and what it
// accepts marshals to a document that parses back to the same encoding.
func FuzzParse(f *testing.F) {
	for _, d := range seedDocs(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			if !IsParseError(err) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			return
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("Marshal of a parsed policy: %v", err)
		}
		p2, err := Parse(out)
		if err != nil {
			t.Fatalf("marshalled policy does not parse: %v\n%s", err, out)
		}
		if out2 := mustMarshal(t, p2); out2 != string(out) {
			t.Fatalf("Marshal is not stable:\n%s\n%s", out, out2)
		}
		if NonWhitespaceLen(out) > NonWhitespaceLen(doc) && doc[0] != '%' {
			t.Fatalf("Marshal grew the document: %d > %d", NonWhitespaceLen(out), NonWhitespaceLen(doc))
		}
	})
}

// FuzzAnalyze: Analyze never panics, its report is consistent, and it judges
// the marshalled policy exactly as the original.
func FuzzAnalyze(f *testing.F) {
	for _, d := range seedDocs(f) {
		f.Add(d)
	}
	severity := map[Rule]Severity{}
	for _, r := range Rules() {
		severity[r.ID] = r.Severity
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		r := Analyze(p)
		if r.Findings == nil {
			t.Fatal("nil findings")
		}
		worst := OK
		for _, fd := range r.Findings {
			if fd.Statement < 1 || fd.Statement > len(p.Statements) || fd.Detail == "" {
				t.Fatalf("bad finding %+v", fd)
			}
			if severity[fd.Rule] != fd.Severity {
				t.Fatalf("finding %s with severity %s", fd.Rule, fd.Severity)
			}
			if p.Statements[fd.Statement-1].Effect != Allow {
				t.Fatalf("finding on a Deny statement: %+v", fd)
			}
			if fd.Severity.rank() > worst.rank() {
				worst = fd.Severity
			}
		}
		if r.Verdict != worst {
			t.Fatalf("verdict %s, worst finding %s", r.Verdict, worst)
		}
		again := Analyze(mustParse(t, mustMarshal(t, p)))
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("marshalled policy analyzed differently:\n%s\n%s", r, again)
		}
	})
}

// FuzzFix: Fix never panics or fails on a parsed policy; its output parses,
// has no critical finding, is a fixed point, and never allows a request the
// input denied (over requests derived from the input).
func FuzzFix(f *testing.F) {
	for _, d := range seedDocs(f) {
		f.Add(d, false)
		f.Add(d, true)
	}
	f.Fuzz(func(t *testing.T, doc []byte, scope bool) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		var w *Workload
		if scope {
			w = &testWorkload
		}
		checkFixed(t, p, w, 200)
	})
}
