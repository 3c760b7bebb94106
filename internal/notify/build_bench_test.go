package notify

import (
	"fmt"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/outcome"
)

// BenchmarkBuildManyInstances measures a RunInstances event of 1,000
// instances: the description is fitted to the size limit.
func BenchmarkBuildManyInstances(b *testing.B) {
	results := make([]guardrail.Result, 1000)
	for i := range results {
		results[i] = imdsResult(fmt.Sprintf("i-%017d", i), fmt.Sprintf("node-%d", i), outcome.Remediated, change(opts("optional", 2), opts("required", 1)), "")
	}
	inc := Incident{Guardrail: guardrail.IMDS, EventID: "e", EventName: "RunInstances", Account: hub, Region: "eu-west-1", Results: results}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Build(inc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildTrustDiffCut measures a revocation whose diff must be cut.
func BenchmarkBuildTrustDiffCut(b *testing.B) {
	inc := goldenIncidents()["trust-oversized-diff-cut"]
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Build(inc); err != nil {
			b.Fatal(err)
		}
	}
}
