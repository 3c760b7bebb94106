package imdsdefaults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/credguard/credguard/internal/partition"
)

// CloudFormation answers: the function PUTs its answer to the request's
// ResponseURL, a pre-signed URL of CloudFormation's response bucket in the
// stack's region, cloudformation-custom-resource-response-<region without
// dashes>. Any principal of the organization may invoke the function, so the
// URL is a claim like the rest of the request: an answer is sent only to
// that bucket's hosts in the stack's partition, over https, and a request
// naming any other URL is not acted on at all (CloudFormation never sends
// one).

// DefaultResponseTimeout bounds the answer's PUT.
const DefaultResponseTimeout = 10 * time.Second

// ResponseBucket is CloudFormation's response bucket in region.
func ResponseBucket(region string) string {
	return "cloudformation-custom-resource-response-" + strings.ReplaceAll(region, "-", "")
}

// ResponseHosts are the hosts a genuine ResponseURL names for a stack in
// region: the bucket's virtual-hosted endpoints in the region's partition
// (s3.<region>.<suffix>, the older s3-<region>.<suffix>, and, in the aws
// partition, the global s3.amazonaws.com).
func ResponseHosts(region string) []string {
	p := partition.Of(region)
	suffix := partition.DNSSuffix(p)
	if suffix == "" || !regionRe.MatchString(region) {
		return nil
	}
	b := ResponseBucket(region)
	hosts := []string{b + ".s3." + region + "." + suffix, b + ".s3-" + region + "." + suffix}
	if p == partition.AWS {
		hosts = append(hosts, b+".s3.amazonaws.com")
	}
	return hosts
}

// CheckResponseURL accepts a ResponseURL only when it is https, on one of
// ResponseHosts(region), on the default port, with no user information.
func CheckResponseURL(raw, region string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("ResponseURL does not parse: %w", err)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("ResponseURL scheme %q: want https", u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("ResponseURL carries user information")
	}
	if p := u.Port(); p != "" && p != "443" {
		return fmt.Errorf("ResponseURL port %s: want the default", p)
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range ResponseHosts(region) {
		if host == h {
			return nil
		}
	}
	return fmt.Errorf("ResponseURL host %q is not CloudFormation's response bucket for %s (%s)", host, region, ResponseBucket(region))
}

// LoopbackOrigin validates a test-only extra origin for answers: exactly
// http://127.0.0.1:PORT (a local server standing in for CloudFormation in
// tests under the Lambda emulator). Anything else is an error, and the
// infrastructure never sets it.
func LoopbackOrigin(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("%q: want http://127.0.0.1:PORT", v)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1024 || port > 65535 {
		return "", fmt.Errorf("%q: want a port from 1024 to 65535", v)
	}
	return "http://" + net.JoinHostPort("127.0.0.1", u.Port()), nil
}

// HTTPDoer sends the answer (an *http.Client with a timeout).
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Responder runs a request through the handler and answers CloudFormation.
type Responder struct {
	Client HTTPDoer // default: NewHTTPClient(DefaultResponseTimeout)
	Log    *slog.Logger
	// Loopback, when set (LoopbackOrigin), is accepted as well: tests only.
	Loopback string
	// Region is the function's own region. CloudFormation invokes a
	// ServiceToken only for stacks of its region, so a request naming
	// another one is refused unanswered. Empty: any region.
	Region string
}

// Handle is the function's handler: it checks the ResponseURL, runs handle,
// and answers SUCCESS or FAILED, except to a request refused as forged
// (Forged), which gets no answer at all. It returns no error: a failed
// answer is logged (a retried invocation would act again).
func (r *Responder) Handle(ctx context.Context, e cfn.Event, handle func(context.Context, cfn.Event) (string, map[string]any, error)) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	_, region, err := StackLocation(e.StackID)
	if err == nil && r.Region != "" && region != r.Region {
		err = fmt.Errorf("stack in %s: this function serves stacks of %s only", region, r.Region)
	}
	if err == nil {
		err = r.checkURL(e.ResponseURL, region)
	}
	if err != nil {
		log.WarnContext(ctx, "request refused, not acted on and not answered", logAttrs(e, "reason", err.Error())...)
		return nil
	}
	physicalID, data, err := handle(ctx, e)
	if Forged(err) {
		log.WarnContext(ctx, "forged request: not answered", logAttrs(e, "reason", err.Error())...)
		return nil
	}
	resp := cfn.NewResponse(&e)
	resp.PhysicalResourceID, resp.Data, resp.Status = physicalID, data, cfn.StatusSuccess
	if resp.PhysicalResourceID == "" {
		resp.PhysicalResourceID = e.PhysicalResourceID
		if e.RequestType == cfn.RequestCreate {
			resp.PhysicalResourceID = e.RequestID
		}
	}
	if err != nil {
		resp.Status, resp.Reason = cfn.StatusFailed, err.Error()
	}
	if err := r.send(ctx, e.ResponseURL, resp); err != nil {
		log.ErrorContext(ctx, "answer to CloudFormation failed", logAttrs(e, "status", string(resp.Status), "error", err.Error())...)
		return nil
	}
	log.InfoContext(ctx, "answered", logAttrs(e, "status", string(resp.Status), "reason", resp.Reason)...)
	return nil
}

func (r *Responder) checkURL(raw, region string) error {
	if r.Loopback != "" && strings.HasPrefix(raw, r.Loopback+"/") {
		return nil
	}
	return CheckResponseURL(raw, region)
}

// send PUTs the answer. CloudFormation's pre-signed URL is signed without a
// content type, so none is sent.
func (r *Responder) send(ctx context.Context, target string, resp *cfn.Response) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("answer request: %w", err)
	}
	client := r.Client
	if client == nil {
		client = NewHTTPClient(DefaultResponseTimeout)
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("PUT the answer: %w", err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT the answer: status %d: %s", res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// refusal is a request the handler will not act on.
type refusal struct {
	reason string
	forged bool
}

func (r *refusal) Error() string { return "refused, nothing changed: " + r.reason }

// Forged reports whether err refuses a request whose evidence shows that it
// does not come from CloudFormation (malformed, or CloudFormation reports
// no such operation): such a request gets no answer. Requests that could
// not be verified (no access to the account) are refused with an answer,
// since a genuine stack would otherwise wait an hour.
func Forged(err error) bool {
	var r *refusal
	return errors.As(err, &r) && r.forged
}

// NewHTTPClient is the client answers are sent with: it gives up after
// timeout and never follows a redirect (a 3xx is a failed answer), so an
// answer reaches no host but the one CheckResponseURL accepted.
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
