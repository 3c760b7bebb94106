package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager call the webhook secret makes.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// WebhookSecret reads the webhook URL from a Secrets Manager secret and keeps
// it for a TTL, so warm Lambda invocations do not call Secrets Manager. The
// secret holds the bare URL or JSON {"url": "..."}.
type WebhookSecret struct {
	client   SecretGetter
	secretID string
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	url     string
	expires time.Time
}

// DefaultSecretTTL is how long a read webhook URL is used before reading the
// secret again (so a rotated URL is picked up).
const DefaultSecretTTL = 5 * time.Minute

// NewWebhookSecret returns a cache of the webhook URL in secretID (name or
// ARN); ttl <= 0 means DefaultSecretTTL.
func NewWebhookSecret(client SecretGetter, secretID string, ttl time.Duration) *WebhookSecret {
	if ttl <= 0 {
		ttl = DefaultSecretTTL
	}
	return &WebhookSecret{client: client, secretID: secretID, ttl: ttl, now: time.Now}
}

// URL returns the webhook URL, reading the secret when the cached value is
// missing or expired. Errors never contain the secret's value.
func (s *WebhookSecret) URL(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.url != "" && now.Before(s.expires) {
		return s.url, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return "", fmt.Errorf("read slack webhook secret %s: %w", s.secretID, err)
	}
	var value string
	switch {
	case out.SecretString != nil:
		value = *out.SecretString
	case len(out.SecretBinary) > 0:
		value = string(out.SecretBinary)
	}
	u, err := parseWebhookSecret(value)
	if err != nil {
		return "", fmt.Errorf("slack webhook secret %s: %w", s.secretID, err)
	}
	s.url, s.expires = u, now.Add(s.ttl)
	return u, nil
}

// parseWebhookSecret takes the bare URL or JSON {"url": "..."} and checks it
// is an https URL (http only on loopback, for local tests). Its errors never
// quote the value.
func parseWebhookSecret(value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", errors.New("the secret is empty")
	}
	if strings.HasPrefix(value, "{") {
		var v struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return "", errors.New(`the secret starts with "{" but is not valid JSON`)
		}
		if v.URL == "" {
			return "", errors.New(`the secret's JSON has no "url" field`)
		}
		value = strings.TrimSpace(v.URL)
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		return "", errors.New("the secret is not a URL, nor JSON with a \"url\" field")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", errors.New("the webhook URL must use https")
		}
	default:
		return "", errors.New("the webhook URL must use https")
	}
	return value, nil
}
