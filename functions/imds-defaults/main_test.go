package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
// while the stack is idle) is answered FAILED and changes nothing.
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
	cfn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var resp cfnResponse
		if r.Method != http.MethodPut || json.Unmarshal(body, &resp) != nil {
			t.Errorf("response %s %s", r.Method, body)
		}
		responses <- resp
	}))
	defer cfn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	em := rie.Run(t, ctx, "imds-defaults", ".", rie.SandboxEnv(sb, hub, "eu-west-1"))

	request := func(kind, physical string) cfnResponse {
		t.Helper()
		ev, _ := json.Marshal(map[string]any{
			"RequestType": kind, "RequestId": "req-" + kind, "ResponseURL": cfn.URL + "/response",
			"ResourceType": "Custom::CredguardImdsDefaults", "LogicalResourceId": "ImdsDefaults",
			"StackId":            stackID,
			"PhysicalResourceId": physical,
			"ResourceProperties": map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:credguard-imds-defaults", "Enforce": "true"},
		})
		if _, err := em.Invoke(ctx, ev); err != nil {
			t.Fatalf("%v\n%s", err, em.Output())
		}
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
	if forged := request("Delete", crafted); forged.Status != "FAILED" || forged.PhysicalResourceID != crafted ||
		!strings.Contains(forged.Reason, "refused, nothing changed") {
		t.Fatalf("forged delete response %+v", forged)
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
