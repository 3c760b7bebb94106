package bench

import (
	"time"

	"github.com/credguard/credguard/internal/sandbox"
)

// ModifyOp is the IMDS guardrail's write.
const ModifyOp = "ModifyInstanceMetadataOptions"

// Calls summarises a journal.
type Calls struct {
	Total     int            // every call
	ByOp      map[string]int // per operation
	Throttled int            // calls answered with a throttling error
	OKModify  map[string]int // successful ModifyInstanceMetadataOptions per instance
	LastWrite time.Time      // the journal time of the last successful modify
	// FirstWrite is the journal time of each instance's first successful
	// modify: when it was remediated.
	FirstWrite map[string]time.Time
}

// Summarise counts a journal.
func Summarise(journal []sandbox.Call) Calls {
	c := Calls{ByOp: map[string]int{}, OKModify: map[string]int{}, FirstWrite: map[string]time.Time{}}
	for _, call := range journal {
		c.Total++
		c.ByOp[call.Operation]++
		switch call.Outcome {
		case "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException":
			c.Throttled++
		}
		if call.Operation == ModifyOp && call.Outcome == "ok" {
			c.OKModify[call.Resource]++
			if call.Time.After(c.LastWrite) {
				c.LastWrite = call.Time
			}
			if first, ok := c.FirstWrite[call.Resource]; !ok || call.Time.Before(first) {
				c.FirstWrite[call.Resource] = call.Time
			}
		}
	}
	return c
}

// Duplicates is the number of instances modified more than once.
func (c Calls) Duplicates() int {
	n := 0
	for _, k := range c.OKModify {
		if k > 1 {
			n++
		}
	}
	return n
}

// Remediated is when the last of the instances modified was first modified:
// the moment every one of them had been remediated (a second write of an
// instance comes later and does not count).
func (c Calls) Remediated() time.Time {
	var last time.Time
	for _, t := range c.FirstWrite {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// Missing lists the ids never modified successfully.
func (c Calls) Missing(ids []string) []string {
	var out []string
	for _, id := range ids {
		if c.OKModify[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// BucketBound is the earliest time by which a token bucket holding burst
// tokens and refilled at rate per second can have admitted n requests
// (starting full): (n-burst)/rate, or zero when the burst covers them.
func BucketBound(n, burst int, rate float64) time.Duration {
	if n <= burst || rate <= 0 {
		return 0
	}
	return time.Duration(float64(n-burst) / rate * float64(time.Second))
}
