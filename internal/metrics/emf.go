// Package metrics writes CloudWatch Embedded Metric Format records: one JSON
// log line that CloudWatch turns into metrics, with no API call.
package metrics

import (
	"encoding/json"
	"io"
	"sort"
	"time"
)

// Namespace is the CloudWatch namespace of every Credguard metric.
const Namespace = "Credguard"

// Counts writes one EMF record with a Count metric per name, dimensioned by
// Guardrail. Names with a zero count are still written when listed, so
// dashboards see explicit zeros; unlisted names are skipped.
func Counts(w io.Writer, now time.Time, guardrail string, counts map[string]int) error {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	defs := make([]metric, 0, len(names))
	rec := map[string]any{"Guardrail": guardrail}
	for _, n := range names {
		defs = append(defs, metric{Name: n, Unit: "Count"})
		rec[n] = counts[n]
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Guardrail"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
