package sandbox

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestS3 runs the Go SDK's S3 client against the sandbox in both addressing
// styles: path-style (what the SDK sends to an IP address endpoint) and
// virtual-hosted style (bucket.localhost, which a dialer sends to the
// sandbox, as any name under localhost resolves to loopback).
func TestS3(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	styles := map[string]func(*s3.Options){
		"path-style": func(o *s3.Options) {},
		"virtual-hosted": func(o *s3.Options) {
			o.BaseEndpoint = aws.String("http://localhost:" + u.Port())
			o.HTTPClient = &http.Client{Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, u.Host)
				},
			}}
		},
	}
	for style, opt := range styles {
		t.Run(style, func(t *testing.T) {
			bucket := "sweep-" + strings.ReplaceAll(style, "-", "")
			var hosts []string
			client := s3.NewFromConfig(config(t, s, hub, "us-east-1"), opt, func(o *s3.Options) {
				o.APIOptions = append(o.APIOptions, recordHost(&hosts))
			})
			c := ctx(t)
			_, err := client.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			mustOK(t, err)
			_, err = client.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			wantAPIError(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
			for i, key := range []string{"results/run/SUCCEEDED_0.json", "results/run/manifest.json", "scopes/run.json", "scopes/ä b+c.json"} {
				_, err := client.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: bytes.NewReader(bytes.Repeat([]byte("x"), i+1)), ContentType: aws.String("application/json")})
				mustOK(t, err)
			}
			got, err := client.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("scopes/ä b+c.json")})
			mustOK(t, err)
			body, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if string(body) != "xxxx" || aws.ToString(got.ContentType) != "application/json" || aws.ToInt64(got.ContentLength) != 4 {
				t.Fatalf("GetObject = %q %s %d", body, aws.ToString(got.ContentType), aws.ToInt64(got.ContentLength))
			}
			_, err = client.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
			wantAPIError(t, err, "NoSuchKey", http.StatusNotFound)
			_, err = client.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
			wantAPIError(t, err, "NoSuchBucket", http.StatusNotFound)

			// Paged, one key a page, then by prefix and delimiter.
			var keys []string
			p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
			for p.HasMorePages() {
				page, err := p.NextPage(c)
				mustOK(t, err)
				for _, o := range page.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
			}
			if strings.Join(keys, ",") != "results/run/SUCCEEDED_0.json,results/run/manifest.json,scopes/run.json,scopes/ä b+c.json" {
				t.Fatalf("listed %v", keys)
			}
			out, err := client.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("results/"), Delimiter: aws.String("/")})
			mustOK(t, err)
			if len(out.Contents) != 0 || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "results/run/" {
				t.Fatalf("by delimiter: %+v", out)
			}

			// Another account may not read the bucket.
			other := s3.NewFromConfig(config(t, s, member, "us-east-1"), opt)
			_, err = other.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("scopes/run.json")})
			wantAPIError(t, err, "AccessDenied", http.StatusForbidden)

			for _, h := range hosts {
				virtual := strings.Contains(h, ".localhost:")
				if virtual != (style == "virtual-hosted") {
					t.Fatalf("%s request sent to host %s", style, h)
				}
			}
		})
	}
	var puts int
	for _, c := range s.Journal() {
		if c.Service == "s3" && c.Operation == "PutObject" && c.Outcome == "ok" && c.Write {
			puts++
		}
	}
	if puts != 8 {
		t.Errorf("journal has %d PutObject calls, want 8", puts)
	}
}

// recordHost records the host of every request the client sends.
func recordHost(hosts *[]string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("recordHost", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				*hosts = append(*hosts, req.URL.Host)
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

// TestS3Faults: S3 operations take the fixture's faults like any other.
func TestS3Faults(t *testing.T) {
	f := loadFixture(t, "basic.json")
	f.Faults = &Faults{Errors: map[string]ErrorFault{"s3:GetObject": {Rate: 1, Code: "InternalError"}}}
	s := start(t, f)
	client := s3.NewFromConfig(config(t, s, hub, "us-east-1"))
	c := ctx(t)
	_, err := client.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("faulty")})
	mustOK(t, err)
	_, err = client.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k"), Body: bytes.NewReader([]byte("v"))})
	mustOK(t, err)
	_, err = client.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k")})
	wantAPIError(t, err, "InternalError", http.StatusInternalServerError)
	f.Faults = &Faults{Errors: map[string]ErrorFault{"s3:DeleteObject": {Rate: 1, Code: "InternalError"}}}
	if _, err := New(f); err == nil || !strings.Contains(err.Error(), "no operation DeleteObject") {
		t.Errorf("an unserved S3 operation as a fault key: %v", err)
	}
}
