package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/invoke"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
)

// Retry modes HubConfig knows.
const (
	// RetryProduction is accounts.Retryer: the SDK's adaptive mode, as the
	// functions use it (functions/*/main.go: config.WithRetryer).
	RetryProduction = "adaptive"
	// RetryStandard is the SDK's standard mode with the same bounds
	// (accounts.MaxAttempts, 5 s maximum backoff) and no client-side rate
	// limiter: the alternative the benchmarks compare against.
	RetryStandard = "standard"
)

// HubConfig is the hub's AWS configuration against sb, with the retry mode
// given ("" means RetryProduction).
func HubConfig(ctx context.Context, sb *sandbox.Server, retryMode string) (aws.Config, error) {
	cfg, err := sb.AWSConfig(ctx, Hub, HubRegion)
	if err != nil {
		return aws.Config{}, err
	}
	switch retryMode {
	case "", RetryProduction:
		cfg.Retryer = accounts.Retryer
	case RetryStandard:
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = accounts.MaxAttempts
				o.MaxBackoff = 5 * time.Second
			})
		}
	default:
		return aws.Config{}, fmt.Errorf("retry mode %q: want %q or %q", retryMode, RetryProduction, RetryStandard)
	}
	return cfg, nil
}

// IMDSGuardrail is the IMDS handler as the Lambda builds it (FromConfig with
// the settings the sandbox's accounts need), logging nowhere.
func IMDSGuardrail(cfg aws.Config) *imdsguard.Handler {
	return imdsguard.FromConfig(cfg, replay.Settings(Hub, HubRegion, false), slog.New(slog.DiscardHandler), nil)
}

// IMDSFunction is one execution environment of the IMDS function: its own
// handler (own clients, credential cache and adaptive retry state) behind
// the Lambda payload adapter. With tally, every result the handler returns
// is also counted there.
func IMDSFunction(cfg aws.Config, tally *Tally) Function {
	var g invoke.Guardrail = IMDSGuardrail(cfg)
	if tally != nil {
		g = counted{g, tally}
	}
	return invoke.Handler(g)
}

// Tally counts the outcomes a guardrail returned, for example those of one
// event source's execution environments.
type Tally struct {
	mu sync.Mutex
	n  map[outcome.Outcome]int
}

// Outcomes returns a copy of the counts.
func (t *Tally) Outcomes() map[outcome.Outcome]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[outcome.Outcome]int, len(t.n))
	for k, v := range t.n {
		out[k] = v
	}
	return out
}

func (t *Tally) add(results []guardrail.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[outcome.Outcome]int{}
	}
	for _, r := range results {
		t.n[r.Outcome]++
	}
}

// counted is a guardrail whose results are counted in a Tally.
type counted struct {
	next  invoke.Guardrail
	tally *Tally
}

func (c counted) Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error) {
	res, err := c.next.Handle(ctx, raw)
	c.tally.add(res)
	return res, err
}

// Arrival is one request as it reached the wire.
type Arrival struct {
	Time   time.Time
	Action string // the query protocol's Action ("" for other protocols)
}

// Wire serves a sandbox through a recorder of request arrival times (the
// sandbox's own journal records a call when it is answered, after any
// injected latency).
type Wire struct {
	next http.Handler
	srv  *http.Server
	url  string

	mu       sync.Mutex
	arrivals []Arrival
}

// NewWire serves next on a free loopback port.
func NewWire(next http.Handler) (*Wire, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	w := &Wire{next: next, url: "http://" + ln.Addr().String()}
	w.srv = &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

// URL is the recorder's base URL: use it as the configuration's BaseEndpoint.
func (w *Wire) URL() string { return w.url }

// Close stops serving.
func (w *Wire) Close() error {
	if err := w.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ServeHTTP records the arrival and passes the request on.
func (w *Wire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	action := ""
	if form, err := url.ParseQuery(string(body)); err == nil {
		action = form.Get("Action")
	}
	w.mu.Lock()
	w.arrivals = append(w.arrivals, Arrival{Time: at, Action: action})
	w.mu.Unlock()
	w.next.ServeHTTP(rw, r)
}

// Since returns the arrivals at or after t, in order.
func (w *Wire) Since(t time.Time) []Arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Arrival
	for _, a := range w.arrivals {
		if !a.Time.Before(t) {
			out = append(out, a)
		}
	}
	return out
}
