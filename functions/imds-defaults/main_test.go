package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/rie"
	"github.com/credguard/credguard/internal/sandbox"
)

// cfnResponse is what the function PUTs to the pre-signed response URL.
type cfnResponse struct {
	Status, Reason, PhysicalResourceID, RequestID, LogicalResourceID string
	Data                                                             map[string]string
}

// TestImdsDefaultsUnderEmulator runs the real bootstrap under aws-lambda-rie
// with CloudFormation create and delete requests, for a stack in a member
// account: the response goes to the request's URL, and the member's defaults
// are set, then restored. A forged delete in between (a crafted physical id
// while the stack is idle) gets no answer and changes nothing; so does a
// request naming a ResponseURL that is not CloudFormation's; an answer that
// hangs is given up after the client's timeout. The local response server is
// let in by CREDGUARD_TEST_RESPONSE_ORIGIN (http://127.0.0.1:PORT only).
func TestImdsDefaultsUnderEmulator(t *testing.T) {
	const hub, member = "111122223333", "444455556666"
	trust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/credguard-imds-defaults"},"Action":"sts:AssumeRole"}]}`)
	const stackID = "arn:aws:cloudformation:eu-west-1:" + member + ":stack/StackSet-credguard-member-5f1c7a40/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f"
	resource := func(status, physical string) sandbox.StackResource {
		return sandbox.StackResource{LogicalID: "ImdsDefaults", PhysicalID: physical, Type: "Custom::CredguardImdsDefaults", Status: status}
	}
	sb, err := sandbox.New(&sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub: {},
		member: {Roles: []sandbox.Role{{Name: "credguard-imds-defaults-member", TrustPolicy: trust}},
			Regions: map[string]*sandbox.Region{"eu-west-1": {
				MetadataDefaults: &sandbox.MetadataDefaults{HTTPTokens: "optional"},
				Stacks:           []sandbox.Stack{{StackID: stackID, Resources: []sandbox.StackResource{resource("CREATE_IN_PROGRESS", "")}}},
			}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(""); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	responses := make(chan cfnResponse, 3)
	hung := make(chan struct{}, 1)
	cfn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			hung <- struct{}{}
			io.Copy(io.Discard, r.Body) // then the server notices the client leaving
			<-r.Context().Done()        // never answers; ends when the client gives up
			return
		}
		body, _ := io.ReadAll(r.Body)
		var resp cfnResponse
		if r.Method != http.MethodPut || json.Unmarshal(body, &resp) != nil {
			t.Errorf("response %s %s", r.Method, body)
		}
		responses <- resp
	}))
	defer cfn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	em := rie.Run(t, ctx, "imds-defaults", ".", append(rie.SandboxEnv(sb, hub, "eu-west-1"),
		"CREDGUARD_TEST_RESPONSE_ORIGIN="+cfn.URL))

	invoke := func(kind, physical, responseURL string) {
		t.Helper()
		ev, _ := json.Marshal(map[string]any{
			"RequestType": kind, "RequestId": "req-" + kind, "ResponseURL": responseURL,
			"ResourceType": "Custom::CredguardImdsDefaults", "LogicalResourceId": "ImdsDefaults",
			"StackId":            stackID,
			"PhysicalResourceId": physical,
			"ResourceProperties": map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:credguard-imds-defaults", "Enforce": "true"},
		})
		if _, err := em.Invoke(ctx, ev); err != nil {
			t.Fatalf("%v\n%s", err, em.Output())
		}
	}
	// The answer is sent before the invocation returns.
	noAnswer := func(what string) {
		t.Helper()
		select {
		case r := <-responses:
			t.Errorf("%s answered %+v, want no answer", what, r)
		default:
		}
	}
	request := func(kind, physical string) cfnResponse {
		t.Helper()
		invoke(kind, physical, cfn.URL+"/response")
		select {
		case r := <-responses:
			return r
		case <-ctx.Done():
			t.Fatalf("no response to CloudFormation\n%s", em.Output())
		}
		return cfnResponse{}
	}

	created := request("Create", "")
	if created.Status != "SUCCESS" || created.PhysicalResourceID != "credguard-imds-defaults:444455556666:eu-west-1:tokens=optional,hop=-,enforced=-" ||
		created.Data["PreviousHttpTokens"] != "optional" {
		t.Fatalf("create response %+v\n%s", created, em.Output())
	}
	d := sb.State().Accounts[member].Regions["eu-west-1"].MetadataDefaults
	if d == nil || *d != (sandbox.MetadataDefaults{HTTPTokens: "required", HTTPPutResponseHopLimit: 1, HTTPTokensEnforced: "enabled"}) {
		t.Fatalf("member defaults after create: %+v", d)
	}
	// CloudFormation finishes the create; a forged delete is refused.
	if err := sb.PutStackResource(member, "eu-west-1", stackID, resource("CREATE_COMPLETE", created.PhysicalResourceID)); err != nil {
		t.Fatal(err)
	}
	crafted := "credguard-imds-defaults:444455556666:eu-west-1:tokens=optional,hop=64,enforced=disabled"
	invoke("Delete", crafted, cfn.URL+"/response")
	noAnswer("a forged delete")
	if !em.WaitOutput("forged request: not answered", 5*time.Second) {
		t.Errorf("forged delete not logged as such\n%s", em.Output())
	}
	// ResponseURLs that are not CloudFormation's response bucket for the
	// stack's region: not acted on, not answered.
	for _, u := range []string{
		"https://attacker.example/response",
		"http://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x",
		"https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/x",
		"http://127.0.0.1:1/response",
	} {
		invoke("Delete", created.PhysicalResourceID, u)
		noAnswer(u)
	}
	if d := sb.State().Accounts[member].Regions["eu-west-1"].MetadataDefaults; d == nil || d.HTTPTokens != "required" {
		t.Fatalf("member defaults after refused requests: %+v", d)
	}
	// An answer that hangs ends with the client's timeout, well before the
	// function's (a delete of an id the resource never made needs no check).
	start := time.Now()
	invoke("Delete", "not-ours", cfn.URL+"/hang")
	select {
	case <-hung:
	default:
		t.Error("the hanging answer was never sent")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a hanging answer held the invocation %s, want about the 10 s client timeout", took)
	}
	if !em.WaitOutput("answer to CloudFormation failed", 5*time.Second) {
		t.Errorf("the failed answer is not logged\n%s", em.Output())
	}
	if d := sb.State().Accounts[member].Regions["eu-west-1"].MetadataDefaults; d == nil || d.HTTPTokens != "required" {
		t.Fatalf("member defaults after a forged delete: %+v", d)
	}
	if err := sb.PutStackResource(member, "eu-west-1", stackID, resource("DELETE_IN_PROGRESS", created.PhysicalResourceID)); err != nil {
		t.Fatal(err)
	}
	if deleted := request("Delete", created.PhysicalResourceID); deleted.Status != "SUCCESS" {
		t.Fatalf("delete response %+v", deleted)
	}
	d = sb.State().Accounts[member].Regions["eu-west-1"].MetadataDefaults
	if d == nil || *d != (sandbox.MetadataDefaults{HTTPTokens: "optional"}) {
		t.Fatalf("member defaults after delete: %+v, want the original", d)
	}
}
