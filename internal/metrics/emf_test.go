package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestCounts(t *testing.T) {
	var b bytes.Buffer
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := Counts(&b, now, "imds", map[string]int{"remediated": 3, "failed": 0}); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Guardrail  string
		Remediated int  `json:"remediated"`
		Failed     *int `json:"failed"`
		AWS        struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if b.Bytes()[b.Len()-1] != '\n' || bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Error("want exactly one line")
	}
	m := rec.AWS.CloudWatchMetrics
	if rec.Guardrail != "imds" || rec.Remediated != 3 || rec.Failed == nil || *rec.Failed != 0 ||
		rec.AWS.Timestamp != now.UnixMilli() || len(m) != 1 || m[0].Namespace != Namespace ||
		len(m[0].Metrics) != 2 || m[0].Metrics[0].Name != "failed" || m[0].Dimensions[0][0] != "Guardrail" {
		t.Errorf("record = %s", b.String())
	}
}

func TestExposure(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := Exposure(&buf, now, "imds", nil); err != nil || buf.Len() != 0 {
		t.Fatalf("no values: wrote %q, %v", buf.String(), err)
	}
	if err := Exposure(&buf, now, "imds", []time.Duration{1500 * time.Millisecond, 42 * time.Second, -time.Second}); err != nil {
		t.Fatal(err)
	}
	want := `{"ExposureSeconds":[1.5,42,0],"Guardrail":"imds","_aws":{"CloudWatchMetrics":[{"Dimensions":[["Guardrail"]],"Metrics":[{"Name":"ExposureSeconds","Unit":"Seconds"}],"Namespace":"Credguard"}],"Timestamp":1767225600000}}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}
