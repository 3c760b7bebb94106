package event_test

import (
	"fmt"
	"testing"

	"github.com/credguard/credguard/internal/event"
)

// BenchmarkDecode measures decoding each kind of sample, and a RunInstances
// event listing 1,000 instances (the launch-storm case).
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{stateChange, runOne, modify, podUpdate, createRole} {
		data := readSample(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := event.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	data := runInstancesEvent(b, 1000)
	b.Run("run-instances-1000", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			ev, err := event.Decode(data)
			if err != nil {
				b.Fatal(err)
			}
			if len(ev.RunInstances.Instances) != 1000 {
				b.Fatalf("%d instances", len(ev.RunInstances.Instances))
			}
		}
	})
}

// runInstancesEvent is the one-instance sample with its item repeated n times
// under distinct ids.
func runInstancesEvent(b *testing.B, n int) []byte {
	b.Helper()
	var items []any
	for i := 0; i < n; i++ {
		items = append(items, map[string]any{
			"instanceId":    fmt.Sprintf("i-%017x", i+1),
			"instanceState": map[string]any{"code": 0, "name": "pending"},
			"metadataOptions": map[string]any{
				"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled",
				"httpProtocolIpv4": "enabled", "httpProtocolIpv6": "disabled", "instanceMetadataTags": "disabled",
			},
		})
	}
	return variant(b, runOne, set("detail.responseElements.instancesSet.items", items))
}
