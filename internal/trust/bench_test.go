package trust

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// benchDocs is a realistic mix: every testdata policy (ok, warning and
// critical; IRSA, Pod Identity, services, cross-account, SAML, GitHub).
func benchDocs(b *testing.B) [][]byte {
	b.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		b.Fatalf("no testdata: %v", err)
	}
	docs := make([][]byte, len(files))
	for i, f := range files {
		if docs[i], err = os.ReadFile(f); err != nil {
			b.Fatal(err)
		}
	}
	return docs
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "policies/s")
}

// BenchmarkAnalyze measures Analyze alone, one policy per iteration.
func BenchmarkAnalyze(b *testing.B) {
	docs := benchDocs(b)
	policies := make([]Policy, len(docs))
	for i, d := range docs {
		policies[i] = mustParse(b, string(d))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = Analyze(policies[i%len(policies)])
	}
	reportRate(b)
}

// BenchmarkParseAnalyze measures what the handler does per role: decode the
// URL-encoded document GetRole returns, parse it and analyze it.
func BenchmarkParseAnalyze(b *testing.B) {
	docs := benchDocs(b)
	for i, d := range docs {
		docs[i] = []byte(url.PathEscape(string(d)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Parse(docs[i%len(docs)])
		if err != nil {
			b.Fatal(err)
		}
		_ = Analyze(p)
	}
	reportRate(b)
}

// BenchmarkFix measures Fix and Marshal with a workload to scope to.
func BenchmarkFix(b *testing.B) {
	docs := benchDocs(b)
	policies := make([]Policy, len(docs))
	for i, d := range docs {
		policies[i] = mustParse(b, string(d))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, _, err := Fix(policies[i%len(policies)], &testWorkload)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
