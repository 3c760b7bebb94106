package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const secretPath = "/services/T0000000/B0000000/s3cr3tT0k3nXYZ"

// slackStub stands in for Slack: it answers each request with the next
// scripted response and records the bodies.
type slackStub struct {
	mu      sync.Mutex
	script  []func(w http.ResponseWriter, r *http.Request)
	bodies  [][]byte
	headers []http.Header
}

func (s *slackStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.headers = append(s.headers, r.Header.Clone())
	n := len(s.bodies)
	var step func(http.ResponseWriter, *http.Request)
	if len(s.script) > 0 {
		step = s.script[min(n, len(s.script))-1]
	}
	s.mu.Unlock()
	if r.URL.Path != secretPath {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	if step == nil {
		io.WriteString(w, "ok")
		return
	}
	step(w, r)
}

func (s *slackStub) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func status(code int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

var ok200 = status(http.StatusOK, "ok")

// sleeps records the waits the client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

type fixture struct {
	stub   *slackStub
	srv    *httptest.Server
	url    string
	sleeps *sleeps
	logs   *bytes.Buffer
	client *WebhookClient
}

func newFixture(t *testing.T, o WebhookOptions, script ...func(http.ResponseWriter, *http.Request)) *fixture {
	t.Helper()
	f := &fixture{stub: &slackStub{script: script}, sleeps: &sleeps{}, logs: &bytes.Buffer{}}
	f.srv = httptest.NewServer(f.stub)
	t.Cleanup(f.srv.Close)
	f.url = f.srv.URL + secretPath
	o.Sleep = f.sleeps.sleep
	if o.Jitter == nil {
		o.Jitter = func(time.Duration) time.Duration { return 0 }
	}
	o.Logger = slog.New(slog.NewJSONHandler(f.logs, nil))
	f.client = NewWebhookClient(o)
	return f
}

// assertNoSecret fails when the webhook URL or its secret path shows in the
// error or the logs.
func (f *fixture) assertNoSecret(t *testing.T, err error) {
	t.Helper()
	for _, where := range []string{errString(err), f.logs.String()} {
		if strings.Contains(where, "s3cr3tT0k3nXYZ") || strings.Contains(where, f.url) {
			t.Errorf("the webhook URL leaked: %s", where)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var testPayload = Payload{Text: "hello", Blocks: []Block{header("hello")}}

func TestPostSuccess(t *testing.T) {
	f := newFixture(t, WebhookOptions{})
	if err := f.client.Post(context.Background(), f.url, testPayload); err != nil {
		t.Fatal(err)
	}
	if f.stub.requests() != 1 {
		t.Fatalf("%d requests", f.stub.requests())
	}
	var got Payload
	if err := json.Unmarshal(f.stub.bodies[0], &got); err != nil || got.Text != "hello" || len(got.Blocks) != 1 {
		t.Errorf("body %s (%v)", f.stub.bodies[0], err)
	}
	if ct := f.stub.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestPost429HonoursRetryAfter(t *testing.T) {
	f := newFixture(t, WebhookOptions{}, status(http.StatusTooManyRequests, "rate_limited", "Retry-After", "2"), ok200)
	err := f.client.Post(context.Background(), f.url, testPayload)
	if err != nil {
		t.Fatal(err)
	}
	if f.stub.requests() != 2 {
		t.Errorf("%d requests, want 2", f.stub.requests())
	}
	if len(f.sleeps.d) != 1 || f.sleeps.d[0] != 2*time.Second {
		t.Errorf("waited %v, want [2s]", f.sleeps.d)
	}
	if !strings.Contains(f.logs.String(), `"msg":"slack webhook retry"`) {
		t.Errorf("retry not logged: %s", f.logs)
	}
	f.assertNoSecret(t, err)
}

func TestPost429RetryAfterLongerThanAllowed(t *testing.T) {
	f := newFixture(t, WebhookOptions{MaxRetryAfter: 10 * time.Second}, status(http.StatusTooManyRequests, "rate_limited", "Retry-After", "60"))
	err := f.client.Post(context.Background(), f.url, testPayload)
	if err == nil || !strings.Contains(err.Error(), "rate limited for 1m0s") {
		t.Fatalf("error %v", err)
	}
	if errors.Is(err, ErrPermanent) {
		t.Error("a 429 is not permanent")
	}
	if f.stub.requests() != 1 || len(f.sleeps.d) != 0 {
		t.Errorf("%d requests, waits %v", f.stub.requests(), f.sleeps.d)
	}
	f.assertNoSecret(t, err)
}

func TestPost429RetryAfterBeyondDeadline(t *testing.T) {
	f := newFixture(t, WebhookOptions{}, status(http.StatusTooManyRequests, "rate_limited", "Retry-After", "20"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.client.Post(ctx, f.url, testPayload)
	if err == nil || !strings.Contains(err.Error(), "no time left to wait 20s") {
		t.Fatalf("error %v", err)
	}
	if len(f.sleeps.d) != 0 {
		t.Errorf("slept %v past the deadline", f.sleeps.d)
	}
}

func TestPost429WithoutRetryAfterBacksOff(t *testing.T) {
	f := newFixture(t, WebhookOptions{BaseBackoff: 100 * time.Millisecond}, status(http.StatusTooManyRequests, ""), ok200)
	if err := f.client.Post(context.Background(), f.url, testPayload); err != nil {
		t.Fatal(err)
	}
	if len(f.sleeps.d) != 1 || f.sleeps.d[0] != 50*time.Millisecond {
		t.Errorf("waits %v, want [50ms]", f.sleeps.d)
	}
}

func TestPostRepeated500GivesUp(t *testing.T) {
	f := newFixture(t, WebhookOptions{MaxAttempts: 4, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond},
		status(http.StatusInternalServerError, "internal_error"))
	err := f.client.Post(context.Background(), f.url, testPayload)
	if err == nil {
		t.Fatal("Post succeeded")
	}
	if f.stub.requests() != 4 {
		t.Errorf("%d requests, want 4", f.stub.requests())
	}
	// Equal jitter with zero randomness: half of 100ms, 200ms, then the 300ms cap.
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond}
	if len(f.sleeps.d) != len(want) {
		t.Fatalf("waits %v, want %v", f.sleeps.d, want)
	}
	for i := range want {
		if f.sleeps.d[i] != want[i] {
			t.Errorf("waits %v, want %v", f.sleeps.d, want)
		}
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 500 || se.Body != "internal_error" {
		t.Errorf("error %v does not carry the 500", err)
	}
	if errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Errorf("error %q", err)
	}
	f.assertNoSecret(t, err)
}

func TestPost500Then200(t *testing.T) {
	f := newFixture(t, WebhookOptions{}, status(http.StatusServiceUnavailable, ""), ok200)
	if err := f.client.Post(context.Background(), f.url, testPayload); err != nil {
		t.Fatal(err)
	}
	if f.stub.requests() != 2 {
		t.Errorf("%d requests, want 2", f.stub.requests())
	}
}

func TestPostJitterIsBounded(t *testing.T) {
	var asked []time.Duration
	f := newFixture(t, WebhookOptions{BaseBackoff: 100 * time.Millisecond, Jitter: func(d time.Duration) time.Duration {
		asked = append(asked, d)
		return d - 1
	}}, status(http.StatusBadGateway, ""), ok200)
	if err := f.client.Post(context.Background(), f.url, testPayload); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != 50*time.Millisecond || f.sleeps.d[0] != 100*time.Millisecond-1 {
		t.Errorf("jitter asked for %v, waited %v", asked, f.sleeps.d)
	}
}

func TestPostTimeout(t *testing.T) {
	block := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	f := newFixture(t, WebhookOptions{MaxAttempts: 2, AttemptTimeout: 30 * time.Millisecond}, block)
	start := time.Now()
	err := f.client.Post(context.Background(), f.url, testPayload)
	if err == nil {
		t.Fatal("Post succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not a deadline", err)
	}
	if f.stub.requests() != 2 {
		t.Errorf("%d requests, want 2", f.stub.requests())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s: the attempt timeout was not applied", d)
	}
	f.assertNoSecret(t, err)
}

func TestPostPermanentErrors(t *testing.T) {
	for _, tt := range []struct {
		code int
		body string
	}{{400, "invalid_payload"}, {403, "action_prohibited"}, {404, "no_service"}, {410, "channel_is_archived"}} {
		f := newFixture(t, WebhookOptions{}, status(tt.code, tt.body))
		err := f.client.Post(context.Background(), f.url, testPayload)
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("%d: error %v is not permanent", tt.code, err)
		}
		if !strings.Contains(errString(err), tt.body) {
			t.Errorf("%d: error %q does not say %q", tt.code, err, tt.body)
		}
		if f.stub.requests() != 1 || len(f.sleeps.d) != 0 {
			t.Errorf("%d: %d requests, waits %v", tt.code, f.stub.requests(), f.sleeps.d)
		}
		f.assertNoSecret(t, err)
	}
}

func TestPostConnectionRefusedHidesURL(t *testing.T) {
	f := newFixture(t, WebhookOptions{MaxAttempts: 2})
	f.srv.Close()
	err := f.client.Post(context.Background(), f.url, testPayload)
	if err == nil {
		t.Fatal("Post succeeded")
	}
	if !strings.Contains(err.Error(), "Post slack webhook") {
		t.Errorf("error %q", err)
	}
	if len(f.sleeps.d) != 1 {
		t.Errorf("a network error was not retried: waits %v", f.sleeps.d)
	}
	f.assertNoSecret(t, err)
}

func TestPostStopsWhenContextEnds(t *testing.T) {
	f := newFixture(t, WebhookOptions{}, status(http.StatusInternalServerError, ""))
	ctx, cancel := context.WithCancel(context.Background())
	f.client.o.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := f.client.Post(ctx, f.url, testPayload)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
	if f.stub.requests() != 1 {
		t.Errorf("%d requests after cancel", f.stub.requests())
	}
}

func TestRealSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v", err)
	}
	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep = %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]time.Duration{
		"5":                             5 * time.Second,
		" 0 ":                           0,
		"-3":                            0,
		"":                              0,
		"soon":                          0,
		"Thu, 02 Jan 2025 03:04:15 GMT": 10 * time.Second,
		"Thu, 02 Jan 2025 03:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackoffIsCapped(t *testing.T) {
	c := NewWebhookClient(WebhookOptions{BaseBackoff: time.Second, MaxBackoff: 4 * time.Second, Jitter: func(time.Duration) time.Duration { return 0 }})
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 2 * time.Second, 60: 2 * time.Second} {
		if got := c.backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
	r := NewWebhookClient(WebhookOptions{BaseBackoff: time.Second})
	for range 100 {
		if d := r.backoff(1); d < 500*time.Millisecond || d >= time.Second {
			t.Fatalf("default jitter gave %s", d)
		}
	}
}
