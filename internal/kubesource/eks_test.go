package kubesource

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The token is what aws eks get-token prints: k8s-aws-v1. and the
// base64url (no padding) of a presigned GetCallerIdentity URL that signs
// the x-k8s-aws-id header, valid 60 seconds.
func TestToken(t *testing.T) {
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	tok, err := Token(context.Background(), cfg, "prod")
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok || strings.ContainsAny(enc, "=+/") {
		t.Fatalf("token %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "sts.eu-west-1.amazonaws.com" || q.Get("Action") != "GetCallerIdentity" ||
		q.Get("X-Amz-Expires") != "60" || !strings.Contains(q.Get("X-Amz-SignedHeaders"), "x-k8s-aws-id") ||
		!strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIDEXAMPLE/") || !strings.HasSuffix(q.Get("X-Amz-Credential"), "/eu-west-1/sts/aws4_request") ||
		q.Get("X-Amz-Signature") == "" {
		t.Errorf("presigned URL %s", raw)
	}
	if strings.Contains(string(raw), "secret") {
		t.Error("the token carries the secret key")
	}
}
