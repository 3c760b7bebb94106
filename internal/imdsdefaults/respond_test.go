package imdsdefaults

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// Host forms of real ResponseURLs seen in public samples (see infra/README.md):
// .s3.amazonaws.com, .s3-<region>.amazonaws.com, .s3.<region>.amazonaws.com,
// and .s3.cn-north-1.amazonaws.com.cn in China.
func TestCheckResponseURL(t *testing.T) {
	tests := []struct {
		url, region string
		ok          bool
	}{
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=x", "us-east-1", true},
		{"https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/abc?signature=x", "us-east-1", true},
		{"https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/stack", "eu-west-1", true},
		{"https://CloudFormation-Custom-Resource-Response-EUWEST1.s3.eu-west-1.amazonaws.com:443/stack", "eu-west-1", true},
		{"https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/arn%3Aaws-cn", "cn-north-1", true},
		{"https://cloudformation-custom-resource-response-usgovwest1.s3.us-gov-west-1.amazonaws.com/x", "us-gov-west-1", true},
		{"https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com/x", "us-gov-west-1", true},

		{"http://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/stack", "eu-west-1", false},           // not https
		{"https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/x", "eu-west-1", false},              // another region's bucket
		{"https://cloudformation-custom-resource-response-euwest1.s3.us-east-1.amazonaws.com/x", "eu-west-1", false},              // region mismatch
		{"https://cloudformation-custom-resource-response-cnnorth1.s3.amazonaws.com/x", "cn-north-1", false},                      // aws host for a China stack
		{"https://cloudformation-custom-resource-response-usgovwest1.s3.amazonaws.com/x", "us-gov-west-1", false},                 // aws global host for GovCloud
		{"https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com.evil.example/x", "eu-west-1", false}, // suffix trick
		{"https://evil.example/cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com", "eu-west-1", false},
		{"https://user@cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x", "eu-west-1", false},
		{"https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com:8443/x", "eu-west-1", false},
		{"https://my-bucket.s3.eu-west-1.amazonaws.com/x", "eu-west-1", false},
		{"https://169.254.169.254/latest/meta-data/", "eu-west-1", false},
		{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "eu-west-1", false},
		{"https://x@evil.example/cloudformation-custom-resource-response-useast1.s3.amazonaws.com", "us-east-1", false},
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com./x", "us-east-1", false}, // trailing dot
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.com/x", "us-east-1", false},
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com%2Eevil.com/x", "us-east-1", false}, // percent-encoded dot
		{"https://evil.com\\@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x", "us-east-1", false}, // backslash
		{"https://[::1]/x", "us-east-1", false},
		{"https://52.216.0.1/x", "us-east-1", false},
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:0443/x", "us-east-1", false},
		// The region comes from the request's StackId: a region an attacker
		// names must not turn into a bucket the attacker can create.
		{"https://cloudformation-custom-resource-response-x.evil.s3.amazonaws.com/x", "x.evil", false},
		{"https://cloudformation-custom-resource-response-x.evil.s3.x.evil.amazonaws.com/x", "x.evil", false},
		{"https://cloudformation-custom-resource-response-.s3.amazonaws.com/x", "", false},
		{"", "eu-west-1", false},
		{"::not a url", "eu-west-1", false},
	}
	for _, tt := range tests {
		err := CheckResponseURL(tt.url, tt.region)
		if (err == nil) != tt.ok {
			t.Errorf("CheckResponseURL(%q, %s) = %v, want ok=%v", tt.url, tt.region, err, tt.ok)
		}
	}
}

func TestLoopbackOrigin(t *testing.T) {
	for v, ok := range map[string]bool{
		"http://127.0.0.1:45123": true, "http://127.0.0.1:45123/": true,
		"https://127.0.0.1:45123": false, "http://localhost:45123": false, "http://127.0.0.2:45123": false,
		"http://127.0.0.1": false, "http://127.0.0.1:80": false, "http://127.0.0.1:9001/2018-06-01": false,
		"http://u@127.0.0.1:45123": false, "http://169.254.169.254:45123": false, "": false,
	} {
		got, err := LoopbackOrigin(v)
		if (err == nil) != ok {
			t.Errorf("LoopbackOrigin(%q) = %q, %v; want ok=%v", v, got, err, ok)
		}
	}
}

func respondEvent(url string) cfn.Event {
	return cfn.Event{RequestType: cfn.RequestDelete, RequestID: "r1", ResponseURL: url, LogicalResourceID: "ImdsDefaults",
		StackID: "arn:aws:cloudformation:eu-west-1:444455556666:stack/StackSet-credguard-member-1/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f", PhysicalResourceID: "p1"}
}

func TestResponder(t *testing.T) {
	var hits atomic.Int32
	var last cfn.Response
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/hang" {
			io.Copy(io.Discard, r.Body) // then the server notices the client leaving
			<-r.Context().Done()
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "" || json.Unmarshal(body, &last) != nil {
			t.Errorf("answer %s %q %s", r.Method, r.Header.Get("Content-Type"), body)
		}
	}))
	defer srv.Close()
	origin, err := LoopbackOrigin(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &Responder{Client: &http.Client{Timeout: 200 * time.Millisecond}, Loopback: origin}
	ctx := context.Background()
	called := 0
	handle := func(err error) func(context.Context, cfn.Event) (string, map[string]any, error) {
		return func(context.Context, cfn.Event) (string, map[string]any, error) {
			called++
			return "p1", nil, err
		}
	}

	// Answered: success, and a refusal that may be genuine.
	r.Handle(ctx, respondEvent(srv.URL+"/ok"), handle(nil))
	if hits.Load() != 1 || last.Status != cfn.StatusSuccess || last.PhysicalResourceID != "p1" || last.RequestID != "r1" {
		t.Fatalf("success answer %+v (hits %d)", last, hits.Load())
	}
	r.Handle(ctx, respondEvent(srv.URL+"/ok"), handle(&refusal{reason: "no access"}))
	if hits.Load() != 2 || last.Status != cfn.StatusFailed || last.Reason != "refused, nothing changed: no access" {
		t.Fatalf("failed answer %+v", last)
	}
	// Forged: acted on (verified) but never answered.
	r.Handle(ctx, respondEvent(srv.URL+"/ok"), handle(&refusal{reason: "not ours", forged: true}))
	if hits.Load() != 2 {
		t.Error("a forged request was answered")
	}
	// Not CloudFormation's URL: neither acted on nor answered.
	before := called
	for _, u := range []string{"https://evil.example/x", "http://127.0.0.1:1/x", srv.URL + "x/ok"} {
		r.Handle(ctx, respondEvent(u), handle(nil))
	}
	if called != before || hits.Load() != 2 {
		t.Errorf("refused URLs: handler called %d times, %d answers", called-before, hits.Load()-2)
	}
	// A hanging answer ends with the client's timeout.
	start := time.Now()
	r.Handle(ctx, respondEvent(srv.URL+"/hang"), handle(nil))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("hanging answer took %s", took)
	}
	if hits.Load() != 3 {
		t.Errorf("hanging answer not sent")
	}
}

// CloudFormation invokes a ServiceToken only for stacks of the function's own
// region: a request naming another region is neither acted on nor answered.
func TestResponderOwnRegionOnly(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	origin, err := LoopbackOrigin(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	called := 0
	handle := func(context.Context, cfn.Event) (string, map[string]any, error) { called++; return "p1", nil, nil }
	r := &Responder{Client: NewHTTPClient(time.Second), Loopback: origin, Region: "us-east-1"}
	r.Handle(context.Background(), respondEvent(srv.URL+"/ok"), handle) // a eu-west-1 stack
	if called != 0 || hits.Load() != 0 {
		t.Errorf("another region's request: handler called %d times, %d answers", called, hits.Load())
	}
	r.Region = "eu-west-1"
	r.Handle(context.Background(), respondEvent(srv.URL+"/ok"), handle)
	if called != 1 || hits.Load() != 1 {
		t.Errorf("own region's request: handler called %d times, %d answers", called, hits.Load())
	}
}

// A 3xx from the answer's host is not followed: a pre-signed PUT carrying
// the answer must never reach another host.
func TestResponderDoesNotFollowRedirects(t *testing.T) {
	var elsewhere, hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	origin, err := LoopbackOrigin(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	handle := func(context.Context, cfn.Event) (string, map[string]any, error) { return "p1", nil, nil }
	for _, r := range []*Responder{{Client: NewHTTPClient(time.Second), Loopback: origin}, {Loopback: origin}} {
		r.Handle(context.Background(), respondEvent(srv.URL+"/ok"), handle)
	}
	if hits.Load() != 2 || elsewhere.Load() != 0 {
		t.Errorf("answers %d, redirected answers %d", hits.Load(), elsewhere.Load())
	}
}

func TestForged(t *testing.T) {
	if Forged(nil) || Forged(errors.New("x")) || Forged(&refusal{reason: "r"}) || !Forged(&refusal{reason: "r", forged: true}) {
		t.Error("Forged misclassifies")
	}
	if !strings.HasPrefix((&refusal{reason: "r"}).Error(), "refused, nothing changed: ") {
		t.Error("refusal text changed")
	}
}
