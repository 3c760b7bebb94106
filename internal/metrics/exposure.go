package metrics

import (
	"encoding/json"
	"io"
	"time"
)

// ExposureMetric is the time from an event (the change that exposed a
// resource) to the guardrail's fix being applied, in seconds.
const ExposureMetric = "ExposureSeconds"

// Exposure writes one EMF record with the exposure times of one event's
// fixed resources (several values in one record, as EMF allows), dimensioned
// by Guardrail, so that CloudWatch can show percentiles (p50, p99).
// Nothing is written when there is no value.
func Exposure(w io.Writer, now time.Time, guardrail string, values []time.Duration) error {
	if len(values) == 0 {
		return nil
	}
	secs := make([]float64, len(values))
	for i, v := range values {
		secs[i] = max(v, 0).Seconds()
	}
	rec := map[string]any{
		"Guardrail":    guardrail,
		ExposureMetric: secs,
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"Guardrail"}},
				"Metrics":    []any{map[string]string{"Name": ExposureMetric, "Unit": "Seconds"}},
			}},
		},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
