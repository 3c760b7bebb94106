package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebhookOptions tunes the webhook client. Zero values take the defaults.
type WebhookOptions struct {
	HTTPClient     *http.Client  // default: a client with no overall timeout (AttemptTimeout bounds each try)
	MaxAttempts    int           // tries in all, default 4
	AttemptTimeout time.Duration // per try, default 10s
	BaseBackoff    time.Duration // first 5xx backoff, default 250ms, doubling
	MaxBackoff     time.Duration // cap of one 5xx backoff, default 5s
	MaxRetryAfter  time.Duration // longest Retry-After honoured, default 30s
	Logger         *slog.Logger  // retries are logged here (never the URL); default: discard
	// Sleep waits d or until ctx ends; tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d); tests make it fixed.
	Jitter func(d time.Duration) time.Duration
}

// WebhookClient posts payloads to Slack incoming webhooks with bounded
// retries: 429 waits Retry-After, 5xx and network errors back off
// exponentially with jitter, other 4xx answers fail at once.
type WebhookClient struct {
	o WebhookOptions
}

// NewWebhookClient returns a client with the options' defaults filled in.
func NewWebhookClient(o WebhookOptions) *WebhookClient {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	return &WebhookClient{o: o}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrPermanent marks a failure that retrying cannot fix (a 4xx answer other
// than 429: a revoked webhook, a bad payload).
var ErrPermanent = errors.New("permanent failure")

// StatusError is a non-2xx answer from Slack.
type StatusError struct {
	Status     int
	Body       string        // the start of Slack's answer ("invalid_payload", "no_service", …)
	RetryAfter time.Duration // from a 429's Retry-After header
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("slack answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is makes errors.Is(err, ErrPermanent) true for 4xx answers other than 429.
func (e *StatusError) Is(target error) bool {
	return target == ErrPermanent && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// Post sends p to the webhook. The webhook URL is a secret: it appears in no
// error and no log line.
func (c *WebhookClient) Post(ctx context.Context, webhookURL string, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("post to slack webhook: encode payload: %w", err)
	}
	var last error
	for attempt := 1; ; attempt++ {
		err := c.try(ctx, webhookURL, body)
		if err == nil {
			return nil
		}
		err = redact(err, webhookURL)
		last = err
		if errors.Is(err, ErrPermanent) {
			return fmt.Errorf("post to slack webhook (attempt %d): %w", attempt, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("post to slack webhook (attempt %d): %w", attempt, err)
		}
		if attempt >= c.o.MaxAttempts {
			return fmt.Errorf("post to slack webhook: giving up after %d attempts: %w", attempt, last)
		}
		wait := c.backoff(attempt)
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests && se.RetryAfter > 0 {
			if se.RetryAfter > c.o.MaxRetryAfter {
				return fmt.Errorf("post to slack webhook (attempt %d): rate limited for %s, longer than the %s this client waits: %w", attempt, se.RetryAfter, c.o.MaxRetryAfter, err)
			}
			wait = se.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("post to slack webhook (attempt %d): no time left to wait %s before retrying: %w", attempt, wait, err)
		}
		c.o.Logger.WarnContext(ctx, "slack webhook retry", "attempt", attempt, "wait", wait.String(), "error", err.Error())
		if serr := c.o.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("post to slack webhook (attempt %d): %w (while waiting to retry: %w)", attempt, err, serr)
		}
	}
}

// backoff is the wait after the n-th failed try: exponential, capped, with
// equal jitter (half fixed, half random).
func (c *WebhookClient) backoff(n int) time.Duration {
	d := c.o.BaseBackoff << min(n-1, 20)
	if d <= 0 || d > c.o.MaxBackoff {
		d = c.o.MaxBackoff
	}
	return d/2 + c.o.Jitter(d/2)
}

func (c *WebhookClient) try(ctx context.Context, webhookURL string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s slack webhook: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{
		Status:     resp.StatusCode,
		Body:       strings.Join(strings.Fields(string(msg)), " "),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact removes the webhook URL (and its secret path) from an error's text,
// keeping the error chain for errors.Is and errors.As.
func redact(err error, webhookURL string) error {
	secrets := []string{webhookURL}
	if u, perr := url.Parse(webhookURL); perr == nil && len(u.Path) > 1 {
		secrets = append(secrets, u.Path)
	}
	text := err.Error()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			return &redactedError{err: err, secrets: secrets}
		}
	}
	return err
}

type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	text := e.err.Error()
	for _, s := range e.secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "<webhook URL>")
		}
	}
	return text
}

func (e *redactedError) Unwrap() error { return e.err }
