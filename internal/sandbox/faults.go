package sandbox

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"
)

// faultSet injects the fixture's faults. Its own mutex keeps throttling and
// error draws off the state lock.
type faultSet struct {
	latencies map[string]time.Duration
	throttles map[string]Throttle
	errors    map[string]ErrorFault
	seed      int64

	mu      sync.Mutex
	buckets map[string]*bucket    // operation|account|region
	rngs    map[string]*rand.Rand // per operation, so draws do not depend on other operations' traffic
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newFaultSet(f *Faults) *faultSet {
	fs := &faultSet{
		latencies: map[string]time.Duration{},
		throttles: map[string]Throttle{},
		errors:    map[string]ErrorFault{},
		buckets:   map[string]*bucket{},
		rngs:      map[string]*rand.Rand{},
	}
	if f == nil {
		return fs
	}
	for k, ms := range f.LatencyMs {
		fs.latencies[k] = time.Duration(ms) * time.Millisecond
	}
	for k, t := range f.Throttle {
		fs.throttles[k] = t
	}
	for k, e := range f.Errors {
		fs.errors[k] = e
	}
	fs.seed = f.Seed
	return fs
}

// latency is the delay injected before the operation.
func (f *faultSet) latency(key string) time.Duration { return f.latencies[key] }

// allow takes a token from the operation's bucket for the account and
// region; false means the call is throttled.
func (f *faultSet) allow(key, account, region string, now time.Time) bool {
	t, ok := f.throttles[key]
	if !ok {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	bk := key + "|" + account + "|" + region
	b := f.buckets[bk]
	if b == nil {
		b = &bucket{tokens: float64(t.Burst), last: now}
		f.buckets[bk] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(float64(t.Burst), b.tokens+elapsed*t.RatePerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// inject reports whether this call fails with the operation's error fault.
func (f *faultSet) inject(key, account string) (ErrorFault, bool) {
	e, ok := f.errors[key]
	if !ok || e.Rate <= 0 || (e.Account != "" && e.Account != account) {
		return ErrorFault{}, false
	}
	if e.Rate >= 1 {
		return e, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rng := f.rngs[key]
	if rng == nil {
		h := fnv.New64a()
		h.Write([]byte(key))
		if f.seed != 0 {
			rng = rand.New(rand.NewPCG(uint64(f.seed), h.Sum64()))
		} else {
			rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		}
		f.rngs[key] = rng
	}
	return e, rng.Float64() < e.Rate
}
