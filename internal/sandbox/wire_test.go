package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawCall sends a hand-made request so that the exact wire format can be checked.
func rawCall(t *testing.T, s *Server, method, path, scope, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if scope != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/"+scope+"/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const form = "application/x-www-form-urlencoded"

func TestWireFormats(t *testing.T) {
	s, err := New(loadFixture(t, "basic.json"))
	mustOK(t, err)
	tests := []struct {
		name, method, path, scope, ctype, body string
		header                                 map[string]string
		status                                 int
		contains                               []string
		errorType                              string
	}{
		{name: "no signature", method: "POST", path: "/", ctype: form, body: "Action=DescribeInstances", status: 403,
			contains: []string{"<Code>MissingAuthenticationToken</Code>"}},
		{name: "unknown service", method: "POST", path: "/", scope: "us-east-1/dynamodb", ctype: form, body: "Action=ListTables", status: 400,
			contains: []string{"<Code>InvalidAction</Code>", "does not serve the service &#34;dynamodb&#34;"}},
		{name: "ec2 result", method: "POST", path: "/", scope: "us-east-1/ec2", ctype: form,
			body: "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0", status: 200,
			contains: []string{`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`, "<requestId>",
				"<reservationSet><item><reservationId>", "<instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>",
				"<instanceState><code>16</code><name>running</name></instanceState>", "<tagSet><item><key>Name</key><value>web</value></item></tagSet>",
				"<metadataOptions><state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit>"}},
		{name: "ec2 empty list is present", method: "POST", path: "/", scope: "ap-south-1/ec2", ctype: form,
			body: "Action=DescribeInstances", status: 200, contains: []string{"<reservationSet></reservationSet>"}},
		{name: "ec2 error", method: "POST", path: "/", scope: "us-east-1/ec2", ctype: form,
			body: "Action=DescribeInstances&InstanceId.1=i-00000000", status: 400,
			contains: []string{"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID &#39;i-00000000&#39; does not exist</Message></Error></Errors><RequestID>"}},
		{name: "ec2 unknown action", method: "POST", path: "/", scope: "us-east-1/ec2", ctype: form, body: "Action=RunInstances", status: 400,
			contains: []string{"<Code>InvalidAction</Code>"}},
		{name: "missing action", method: "POST", path: "/", scope: "us-east-1/iam", ctype: form, body: "Version=2010-05-08", status: 400,
			contains: []string{"<Code>MissingAction</Code>"}},
		{name: "iam result", method: "POST", path: "/", scope: "us-east-1/iam", ctype: form, body: "Action=GetRole&RoleName=billing-api", status: 200,
			contains: []string{`<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/workloads/</Path>`,
				"<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22", "</GetRoleResult><ResponseMetadata><RequestId>"}},
		{name: "iam empty result", method: "POST", path: "/", scope: "us-east-1/iam", ctype: form,
			body: "Action=TagRole&RoleName=billing-api&Tags.member.1.Key=a&Tags.member.1.Value=b", status: 200,
			contains: []string{`<TagRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>`}},
		{name: "iam error", method: "POST", path: "/", scope: "us-east-1/iam", ctype: form, body: "Action=GetRole&RoleName=nope", status: 404,
			contains: []string{`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>`}},
		{name: "sts result", method: "POST", path: "/", scope: "us-east-1/sts", ctype: form, body: "Action=GetCallerIdentity&Version=2011-06-15", status: 200,
			contains: []string{`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>`}},
		{name: "eks result", method: "GET", path: "/clusters/prod/pod-identity-associations?maxResults=1", scope: "us-east-1/eks", status: 200,
			contains: []string{`{"associations":[{"clusterName":"prod"`, `"nextToken":"`}},
		{name: "eks error", method: "GET", path: "/clusters/nope/pod-identity-associations/a-1", scope: "us-east-1/eks", status: 404,
			contains: []string{`{"message":"No cluster found for name: nope."}`}, errorType: "ResourceNotFoundException"},
		{name: "eks unknown route", method: "DELETE", path: "/clusters/prod", scope: "us-east-1/eks", status: 404,
			errorType: "UnknownOperationException"},
		{name: "organizations result", method: "POST", path: "/", scope: "us-east-1/organizations", ctype: "application/x-amz-json-1.1", body: `{}`,
			header: map[string]string{"X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts"}, status: 200,
			contains: []string{`{"Accounts":[{"Id":"111122223333"`}},
		{name: "organizations bad JSON", method: "POST", path: "/", scope: "us-east-1/organizations", ctype: "application/x-amz-json-1.1", body: `{`,
			header: map[string]string{"X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts"}, status: 400,
			contains: []string{`"__type":"SerializationException"`}, errorType: "SerializationException"},
		{name: "organizations unknown target", method: "POST", path: "/", scope: "us-east-1/organizations", ctype: "application/x-amz-json-1.1", body: `{}`,
			header: map[string]string{"X-Amz-Target": "Something.Else"}, status: 400, errorType: "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawCall(t, s, tt.method, tt.path, tt.scope, tt.ctype, tt.body, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			for _, want := range tt.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body does not contain %s:\n%s", want, body)
				}
			}
			if got := resp.Header.Get("X-Amzn-Errortype"); got != tt.errorType {
				t.Errorf("x-amzn-errortype = %q, want %q", got, tt.errorType)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no request id header")
			}
		})
	}
}

func TestPresignedCredentialScope(t *testing.T) {
	s, err := New(loadFixture(t, "basic.json"))
	mustOK(t, err)
	q := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"},
		"X-Amz-Credential": {"AKIA444455556666SNDB/20260101/eu-west-1/sts/aws4_request"}}
	resp, body := rawCall(t, s, "GET", "/?"+q.Encode(), "", "", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "<Account>444455556666</Account>") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if c := lastCall(t, s); c.Region != "eu-west-1" || c.Account != member {
		t.Errorf("journal = %+v", c)
	}
}

func TestOperationPanicIsInternalError(t *testing.T) {
	s, err := New(loadFixture(t, "basic.json"))
	mustOK(t, err)
	boom := operation{handle: func(*Server, *request) (any, error) { panic("boom") }}
	r := &request{service: "ec2", op: "Boom"}
	_, err = s.run(boom, r)
	ae, ok := err.(*apiError)
	if !ok || ae.Code != "InternalError" || ae.Status != 500 || !strings.Contains(ae.Message, "boom") {
		t.Fatalf("err = %v", err)
	}
	// The state lock was released.
	done := make(chan struct{})
	go func() { s.State(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("state lock still held after a panic")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"web", "web", true}, {"web", "webs", false}, {"we*", "web", true}, {"*", "", true},
		{"*b*", "abc", true}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"*.prod", "api.prod", true},
		{"*.prod", "api.dev", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}
