// Package sandbox is a local AWS endpoint that speaks the real wire
// protocols of the operations Credguard calls (EC2, IAM, SNS, STS and
// CloudFormation query, EKS REST-JSON, Organizations and Secrets Manager
// JSON, S3 REST-XML), so that the real AWS SDK clients and the AWS CLI run end to end
// against in-memory accounts seeded from a fixture.
//
// Requests are routed by the service name of the SigV4 credential scope in
// the Authorization header and act in the region of that scope. Signatures
// are not verified. The access key decides the account: keys from
// Credentials act in their account as arn:aws:iam::<account>:user/sandbox,
// keys issued by STS AssumeRole act as the assumed role, and any other key
// (for example dummy credentials given to the AWS CLI) acts in the hub
// account.
//
// Every call is journaled; faults (latency, throttling, errors) are injected
// per operation as the fixture says. See FIXTURE.md for the fixture format.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Call is one journaled request.
type Call struct {
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Principal string    `json:"principal"`
	Time      time.Time `json:"time"`
	// Outcome is "ok" or the error code answered ("canceled" when the
	// client went away during injected latency).
	Outcome string `json:"outcome"`
	// Write marks operations that change the resources kept in State, whether
	// or not this call succeeded (SNS Publish is recorded in Notifications).
	Write bool `json:"write"`
	// Resource is the main resource of the call when known: an instance id, a
	// role ARN, a launch template id, an association id, a topic ARN.
	Resource string `json:"resource,omitempty"`
}

// Notification is one message published to SNS.
type Notification struct {
	TopicARN   string            `json:"topicArn"`
	Account    string            `json:"account"`
	Region     string            `json:"region"`
	Subject    string            `json:"subject,omitempty"`
	Message    string            `json:"message"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Time       time.Time         `json:"time"`
}

// Server is the sandbox. It is safe for concurrent use.
type Server struct {
	initial    *Fixture
	applyDelay time.Duration

	mu            sync.Mutex
	world         *world
	sessions      map[string]identity // access keys issued by AssumeRole
	journal       []Call
	notifications []Notification
	faults        *faultSet
	buckets       map[string]*s3Bucket // S3 (s3.go)

	kubeTLS kubeTLS // the CA DescribeCluster reports and the Kubernetes API's certificate

	lnMu    sync.Mutex
	httpSrv *http.Server
	url     string
	kubeSrv *http.Server // the clusters' Kubernetes APIs (TLS)
	kubeURL string
}

// identity is who a request acts as.
type identity struct {
	account string
	arn     string // principal ARN
	userID  string
}

// New validates the fixture and returns a sandbox seeded with a deep copy of
// it. Start serves it on loopback; ServeHTTP serves it from any http.Server.
func New(f *Fixture) (*Server, error) {
	if f == nil {
		return nil, errors.New("sandbox: fixture is nil")
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: invalid fixture: %w", err)
	}
	c, err := cloneFixture(f)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s := &Server{initial: c}
	if c.Faults != nil {
		s.applyDelay = time.Duration(c.Faults.ApplyDelayMs) * time.Millisecond
	}
	s.reset()
	return s, nil
}

// Reset restores the fixture's state and clears the journal, the
// notifications, the issued session credentials and the throttling buckets.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

func (s *Server) reset() {
	start := time.Now()
	s.world = newWorld(s.initial, start, start.Add(s.applyDelay))
	s.sessions = map[string]identity{}
	s.journal = nil
	s.notifications = nil
	s.faults = newFaultSet(s.initial.Faults)
	s.buckets = map[string]*s3Bucket{}
}

// Start serves the sandbox on addr ("" means 127.0.0.1:0, a free port).
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.httpSrv != nil {
		return errors.New("sandbox: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if err := s.startKube(host); err != nil {
		ln.Close()
		return err
	}
	s.httpSrv = srv
	s.url = "http://" + ln.Addr().String()
	go srv.Serve(ln) // returns http.ErrServerClosed on Close
	return nil
}

// Serve builds a sandbox from f and starts it on a free loopback port; the
// caller closes it.
func Serve(f *Fixture) (*Server, error) {
	s, err := New(f)
	if err != nil {
		return nil, err
	}
	if err := s.Start(""); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the base URL of a started sandbox ("" before Start).
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.url
}

// Close stops serving and closes open connections (requests waiting on
// injected latency end at once).
func (s *Server) Close() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.httpSrv == nil {
		return nil
	}
	err := s.httpSrv.Close()
	s.httpSrv = nil
	if s.kubeSrv != nil {
		s.kubeSrv.Close()
		s.kubeSrv, s.kubeURL = nil, ""
	}
	return err
}

// Credentials returns static credentials that act in the account as
// arn:aws:iam::<account>:user/sandbox. An access key the sandbox did not
// issue acts in the hub account.
func (s *Server) Credentials(account string) aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     staticKeyID(account),
		SecretAccessKey: "sandbox-secret-" + account,
		Source:          "credguard sandbox",
	}
}

// AWSConfig returns an SDK configuration for a started sandbox: static
// credentials acting in the account, the region, BaseEndpoint = URL and the
// SDK's default retryer. It reads nothing from the environment.
func (s *Server) AWSConfig(ctx context.Context, account, region string) (aws.Config, error) {
	u := s.URL()
	if u == "" {
		return aws.Config{}, errors.New("sandbox: AWSConfig before Start")
	}
	s.mu.Lock()
	_, known := s.world.accounts[account]
	s.mu.Unlock()
	if !known {
		return aws.Config{}, fmt.Errorf("sandbox: account %q is not in the fixture", account)
	}
	if region == "" {
		return aws.Config{}, errors.New("sandbox: region is required")
	}
	c := s.Credentials(account)
	return aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")),
		BaseEndpoint: aws.String(u),
	}, nil
}

// State returns a deep copy of the current state in the fixture's shape.
func (s *Server) State() *Fixture {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.world.fixture(s.initial.Faults, time.Now())
}

// Journal returns a copy of every call so far, in arrival order.
func (s *Server) Journal() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.journal...)
}

// Notifications returns a copy of every message published so far.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notification, len(s.notifications))
	for i, n := range s.notifications {
		n.Attributes = copyMap(n.Attributes)
		out[i] = n
	}
	return out
}

// HubAccount is the fixture's hub account id.
func (s *Server) HubAccount() string { return s.initial.HubAccount }

func staticKeyID(account string) string { return "AKIA" + account + "SNDB" }

var staticKeyRe = regexp.MustCompile(`^AKIA([0-9]{12})SNDB$`)

// identify maps an access key to who it acts as. Holds s.mu.
func (s *Server) identify(accessKey string) identity {
	if id, ok := s.sessions[accessKey]; ok {
		return id
	}
	account := s.world.hub
	if m := staticKeyRe.FindStringSubmatch(accessKey); m != nil && s.world.accounts[m[1]] != nil {
		account = m[1]
	}
	return identity{
		account: account,
		arn:     "arn:aws:iam::" + account + ":user/sandbox",
		userID:  stableID("AIDA", account+"/sandbox"),
	}
}

// request is one decoded call.
type request struct {
	service   string
	op        string
	region    string
	id        identity
	p         params            // query protocols
	body      []byte            // JSON protocols
	path      map[string]string // EKS path parameters
	query     url.Values        // EKS query string
	resource  string            // set by the handler for the journal
	requestID string
	host      string // the Host the client reached the sandbox at
	now       time.Time
}

func (r *request) account() string { return r.id.account }

const maxBody = 8 << 20

// ServeHTTP answers one AWS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	if strings.HasPrefix(hr.URL.Path, kubePrefix) {
		s.serveKube(w, hr)
		return
	}
	requestID := newRequestID()
	akid, region, service, ok := parseCredentialScope(hr)
	if !ok {
		svc := ""
		if hr.Header.Get("X-Amz-Target") != "" {
			svc = "organizations"
		}
		writeError(w, svc, requestID, newError(http.StatusForbidden, "MissingAuthenticationToken",
			"Request is missing a SigV4 Authorization header (Credential=KEY/DATE/REGION/SERVICE/aws4_request); the sandbox routes by it. Any access key works."))
		return
	}
	if service == "s3" {
		s.serveS3(w, hr, akid, region, requestID)
		return
	}
	if _, known := serviceProtocol(service); !known {
		writeError(w, "", requestID, newError(http.StatusBadRequest, "InvalidAction",
			"The credguard sandbox does not serve the service %q (it serves ec2, iam, eks, sns, sts, organizations, secretsmanager, cloudformation, s3).", service))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, maxBody))
	if err != nil {
		writeError(w, service, requestID, newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "read request body: %v", err))
		return
	}
	r := &request{service: service, region: region, requestID: requestID, host: hr.Host}
	s.mu.Lock()
	r.id = s.identify(akid)
	faults := s.faults
	s.mu.Unlock()

	op, aerr := decodeRequest(r, hr, body)
	if aerr != nil {
		s.finish(w, r, op, false, nil, aerr)
		return
	}
	r.op = op
	operation, known := lookupOperation(service, op)
	if !known {
		s.finish(w, r, op, false, nil, unknownOperation(service, op))
		return
	}

	key := service + ":" + op
	if d := faults.latency(key); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
			s.record(r, operation.write, "canceled")
			return
		}
	}
	if !faults.allow(key, r.account(), region, time.Now()) {
		code, status := throttleCode(service)
		s.finish(w, r, op, operation.write, nil, newError(status, code, "Rate exceeded"))
		return
	}
	if f, inject := faults.inject(key, r.account()); inject {
		status := f.Status
		if status == 0 {
			status = statusForCode(f.Code)
		}
		s.finish(w, r, op, operation.write, nil, newError(status, f.Code, "injected fault: %s answers %s", key, f.Code))
		return
	}

	result, herr := s.run(operation, r)
	s.finish(w, r, op, operation.write, result, herr)
}

// run calls the operation under the state lock. A panic (a sandbox bug) is
// answered as InternalError naming it, and the lock is released.
func (s *Server) run(op operation, r *request) (result any, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, newError(http.StatusInternalServerError, "InternalError", "credguard sandbox bug in %s:%s: %v", r.service, r.op, p)
		}
	}()
	r.now = time.Now()
	return op.handle(s, r)
}

// finish journals the call and writes the response.
func (s *Server) finish(w http.ResponseWriter, r *request, op string, write bool, result any, err error) {
	r.op = op
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = newError(http.StatusInternalServerError, "InternalError", "%v", err)
		}
		s.record(r, write, ae.Code)
		writeError(w, r.service, r.requestID, ae)
		return
	}
	s.record(r, write, "ok")
	writeResult(w, r.service, op, r.requestID, result)
}

func (s *Server) record(r *request, write bool, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.journal = append(s.journal, Call{
		Service: r.service, Operation: r.op, Account: r.id.account, Region: r.region,
		Principal: r.id.arn, Time: time.Now(), Outcome: outcome, Write: write, Resource: r.resource,
	})
}

// parseCredentialScope reads the access key, region and service from the
// SigV4 Authorization header (or a presigned URL's X-Amz-Credential).
func parseCredentialScope(r *http.Request) (akid, region, service string, ok bool) {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, rest, found := strings.Cut(auth, "Credential=")
		if !found {
			return "", "", "", false
		}
		cred, _, _ = strings.Cut(rest, ",")
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	switch len(parts) {
	case 5: // KEY/DATE/REGION/SERVICE/aws4_request
		return parts[0], parts[2], parts[3], parts[0] != "" && parts[2] != ""
	case 4: // SigV4a: KEY/DATE/SERVICE/aws4_request, regions in a header
		region := strings.Split(r.Header.Get("X-Amz-Region-Set"), ",")[0]
		if region == "" || region == "*" {
			region = "us-east-1"
		}
		return parts[0], region, parts[2], parts[0] != ""
	}
	return "", "", "", false
}

// decodeRequest finds the operation and decodes its input.
func decodeRequest(r *request, hr *http.Request, body []byte) (string, *apiError) {
	proto, _ := serviceProtocol(r.service)
	switch proto {
	case protoEC2Query, protoAWSQuery:
		values := hr.URL.Query()
		if len(body) > 0 {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return "", newError(http.StatusBadRequest, "MalformedQueryString", "request body is not a URL-encoded form: %v", err)
			}
			for k, v := range form {
				values[k] = append(values[k], v...)
			}
		}
		r.p = params{values}
		op := values.Get("Action")
		if op == "" {
			return "", newError(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action.")
		}
		return op, nil
	case protoRESTJSON:
		op, path := routeEKS(hr.Method, hr.URL.EscapedPath())
		r.path, r.query, r.body = path, hr.URL.Query(), body
		if op == "" {
			return hr.Method + " " + hr.URL.Path, unknownOperation(r.service, hr.Method+" "+hr.URL.Path)
		}
		return op, nil
	default:
		target := hr.Header.Get("X-Amz-Target")
		prefix := organizationsTargetPrefix
		if r.service == "secretsmanager" {
			prefix = secretsManagerTargetPrefix
		}
		op, ok := strings.CutPrefix(target, prefix)
		if !ok || op == "" {
			return target, newError(http.StatusBadRequest, "UnknownOperationException", "Unknown X-Amz-Target %q.", target)
		}
		r.body = body
		return op, nil
	}
}

// operation is one served API operation.
type operation struct {
	write  bool
	handle func(s *Server, r *request) (any, error)
}

// lookupOperation is the sandbox's table of operations.
func lookupOperation(service, op string) (operation, bool) {
	read := func(h func(*Server, *request) (any, error)) (operation, bool) { return operation{handle: h}, true }
	write := func(h func(*Server, *request) (any, error)) (operation, bool) {
		return operation{write: true, handle: h}, true
	}
	switch service {
	case "ec2":
		switch op {
		case "DescribeInstances":
			return read((*Server).ec2DescribeInstances)
		case "ModifyInstanceMetadataOptions":
			return write((*Server).ec2ModifyInstanceMetadataOptions)
		case "GetInstanceMetadataDefaults":
			return read((*Server).ec2GetInstanceMetadataDefaults)
		case "ModifyInstanceMetadataDefaults":
			return write((*Server).ec2ModifyInstanceMetadataDefaults)
		case "DescribeLaunchTemplates":
			return read((*Server).ec2DescribeLaunchTemplates)
		case "DescribeLaunchTemplateVersions":
			return read((*Server).ec2DescribeLaunchTemplateVersions)
		case "CreateLaunchTemplateVersion":
			return write((*Server).ec2CreateLaunchTemplateVersion)
		case "ModifyLaunchTemplate":
			return write((*Server).ec2ModifyLaunchTemplate)
		}
	case "iam":
		switch op {
		case "GetRole":
			return read((*Server).iamGetRole)
		case "ListRoles":
			return read((*Server).iamListRoles)
		case "CreateRole":
			return write((*Server).iamCreateRole)
		case "UpdateAssumeRolePolicy":
			return write((*Server).iamUpdateAssumeRolePolicy)
		case "PutRolePolicy":
			return write((*Server).iamPutRolePolicy)
		case "GetRolePolicy":
			return read((*Server).iamGetRolePolicy)
		case "ListRolePolicies":
			return read((*Server).iamListRolePolicies)
		case "DeleteRolePolicy":
			return write((*Server).iamDeleteRolePolicy)
		case "ListRoleTags":
			return read((*Server).iamListRoleTags)
		case "TagRole":
			return write((*Server).iamTagRole)
		}
	case "eks":
		switch op {
		case "DescribePodIdentityAssociation":
			return read((*Server).eksDescribePodIdentityAssociation)
		case "ListPodIdentityAssociations":
			return read((*Server).eksListPodIdentityAssociations)
		case "DescribeCluster":
			return read((*Server).eksDescribeCluster)
		}
	case "sns":
		if op == "Publish" {
			return read((*Server).snsPublish)
		}
	case "sts":
		switch op {
		case "GetCallerIdentity":
			return read((*Server).stsGetCallerIdentity)
		case "AssumeRole":
			return read((*Server).stsAssumeRole)
		}
	case "organizations":
		if op == "ListAccounts" {
			return read((*Server).orgListAccounts)
		}
	case "secretsmanager":
		if op == "GetSecretValue" {
			return read((*Server).smGetSecretValue)
		}
	case "cloudformation":
		if op == "DescribeStackResource" {
			return read((*Server).cfnDescribeStackResource)
		}
	}
	return operation{}, false
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomString returns n characters of uppercase letters and digits.
func randomString(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
