package sandbox

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

const (
	memberStackID = "arn:aws:cloudformation:eu-west-1:444455556666:stack/StackSet-credguard-member-5f1c7a40/5f1c7a40-0b1a-11ef-9d4c-0a1b2c3d4e5f"
	hubStackID    = "arn:aws:cloudformation:us-east-1:111122223333:stack/CredguardHub/0a1b2c3d-0b1a-11ef-9d4c-0a1b2c3d4e5f"
)

func stacksFixture(t *testing.T) *Fixture {
	t.Helper()
	f, err := ParseFixture([]byte(`{"hubAccount": "111122223333", "accounts": {
	  "111122223333": {"regions": {"us-east-1": {"stacks": [{"stackId": "` + hubStackID + `", "stackName": "CredguardHub",
	    "resources": [{"logicalId": "ImdsDefaultsResource", "physicalId": "credguard-imds-defaults:111122223333:us-east-1:tokens=-,hop=-,enforced=-",
	                   "type": "Custom::CredguardImdsDefaults", "status": "UPDATE_IN_PROGRESS"}]}]}}},
	  "444455556666": {"regions": {"eu-west-1": {"stacks": [{"stackId": "` + memberStackID + `",
	    "resources": [{"logicalId": "ImdsDefaults", "type": "Custom::CredguardImdsDefaults", "status": "CREATE_IN_PROGRESS"},
	                  {"logicalId": "ForwardRole", "physicalId": "StackSet-credguard-member-ForwardRole-1A2B", "type": "AWS::IAM::Role", "status": "CREATE_COMPLETE"}]}]}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDescribeStackResource(t *testing.T) {
	s := start(t, stacksFixture(t))
	c := cloudformation.NewFromConfig(config(t, s, member, "eu-west-1"))

	// By stack id and by name: the same resource.
	for _, name := range []string{memberStackID, "StackSet-credguard-member-5f1c7a40"} {
		out, err := c.DescribeStackResource(ctx(t), &cloudformation.DescribeStackResourceInput{
			StackName: aws.String(name), LogicalResourceId: aws.String("ForwardRole")})
		mustOK(t, err)
		d := out.StackResourceDetail
		if d == nil || aws.ToString(d.StackId) != memberStackID || aws.ToString(d.StackName) != "StackSet-credguard-member-5f1c7a40" ||
			aws.ToString(d.LogicalResourceId) != "ForwardRole" || aws.ToString(d.PhysicalResourceId) != "StackSet-credguard-member-ForwardRole-1A2B" ||
			aws.ToString(d.ResourceType) != "AWS::IAM::Role" || d.ResourceStatus != cfntypes.ResourceStatusCreateComplete ||
			d.LastUpdatedTimestamp == nil || d.DriftInformation == nil || d.DriftInformation.StackResourceDriftStatus != cfntypes.StackResourceDriftStatusNotChecked {
			t.Fatalf("%s: detail %+v", name, d)
		}
	}
	// A resource being created has no physical id yet.
	out, err := c.DescribeStackResource(ctx(t), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(memberStackID), LogicalResourceId: aws.String("ImdsDefaults")})
	mustOK(t, err)
	if d := out.StackResourceDetail; d.PhysicalResourceId != nil || d.ResourceStatus != cfntypes.ResourceStatusCreateInProgress ||
		aws.ToString(d.ResourceType) != "Custom::CredguardImdsDefaults" {
		t.Errorf("in progress: %+v", d)
	}
	if call := lastCall(t, s); call.Service != "cloudformation" || call.Operation != "DescribeStackResource" || call.Write ||
		call.Account != member || call.Region != "eu-west-1" || call.Resource != memberStackID || call.Outcome != "ok" {
		t.Errorf("journal %+v", call)
	}
}

func TestDescribeStackResourceErrors(t *testing.T) {
	s := start(t, stacksFixture(t))
	in := func(stack, logical string) *cloudformation.DescribeStackResourceInput {
		return &cloudformation.DescribeStackResourceInput{StackName: aws.String(stack), LogicalResourceId: aws.String(logical)}
	}
	for _, tc := range []struct {
		name            string
		account, region string
		in              *cloudformation.DescribeStackResourceInput
		message         string
	}{
		{"unknown stack id", member, "eu-west-1", in(strings.Replace(memberStackID, "5f1c7a40-0b1a", "00000000-0b1a", 1), "ImdsDefaults"),
			"Stack with id " + strings.Replace(memberStackID, "5f1c7a40-0b1a", "00000000-0b1a", 1) + " does not exist"},
		{"unknown stack name", member, "eu-west-1", in("nope", "ImdsDefaults"), "Stack with id nope does not exist"},
		{"unknown logical id", member, "eu-west-1", in(memberStackID, "Nope"), "Resource Nope does not exist for stack " + memberStackID},
		// Stacks belong to their account and region.
		{"another account's stack", hub, "eu-west-1", in(memberStackID, "ImdsDefaults"), "Stack with id " + memberStackID + " does not exist"},
		{"another region's stack", member, "us-east-1", in(memberStackID, "ImdsDefaults"), "Stack with id " + memberStackID + " does not exist"},
		{"the hub's stack from the member", member, "us-east-1", in(hubStackID, "ImdsDefaultsResource"), "Stack with id " + hubStackID + " does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cloudformation.NewFromConfig(config(t, s, tc.account, tc.region)).DescribeStackResource(ctx(t), tc.in)
			wantAPIError(t, err, "ValidationError", http.StatusBadRequest)
			var ae smithy.APIError
			errorsAs(err, &ae)
			if ae.ErrorMessage() != tc.message {
				t.Errorf("message %q, want %q", ae.ErrorMessage(), tc.message)
			}
			if call := lastCall(t, s); call.Outcome != "ValidationError" {
				t.Errorf("journal %+v", call)
			}
		})
	}
	// The wire format, and what the SDK never sends: a request without a
	// required parameter, an operation the sandbox does not serve. (An
	// unknown access key acts in the hub account.)
	resp, body := rawCall(t, s, "POST", "/", "us-east-1/cloudformation", form,
		"Action=DescribeStackResource&Version=2010-05-15&StackName=CredguardHub&LogicalResourceId=ImdsDefaultsResource", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body,
		`<DescribeStackResourceResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackResourceResult><StackResourceDetail><StackName>CredguardHub</StackName>`) ||
		!strings.Contains(body, "<ResourceStatus>UPDATE_IN_PROGRESS</ResourceStatus>") {
		t.Errorf("result: %d %s", resp.StatusCode, body)
	}
	resp, body = rawCall(t, s, "POST", "/", "us-east-1/cloudformation", form, "Action=DescribeStackResource&Version=2010-05-15&StackName=x", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body,
		`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code>`) ||
		!strings.Contains(body, "Value null at &#39;logicalResourceId&#39;") {
		t.Errorf("missing LogicalResourceId: %d %s", resp.StatusCode, body)
	}
	resp, body = rawCall(t, s, "POST", "/", "us-east-1/cloudformation", form, "Action=DeleteStack&Version=2010-05-15&StackName=x", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("DeleteStack: %d %s", resp.StatusCode, body)
	}
}

func TestDescribeStackResourceFault(t *testing.T) {
	f := stacksFixture(t)
	f.Faults = &Faults{Errors: map[string]ErrorFault{"cloudformation:DescribeStackResource": {Rate: 1, Code: "AccessDenied", Account: member}}}
	s := start(t, f)
	_, err := cloudformation.NewFromConfig(config(t, s, member, "eu-west-1")).DescribeStackResource(ctx(t), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(memberStackID), LogicalResourceId: aws.String("ImdsDefaults")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	_, err = cloudformation.NewFromConfig(config(t, s, hub, "us-east-1")).DescribeStackResource(ctx(t), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String("CredguardHub"), LogicalResourceId: aws.String("ImdsDefaultsResource")})
	mustOK(t, err)
}

// PutStackResource stands in for CloudFormation's progress; State exports
// the stacks, Reset restores the fixture's.
func TestPutStackResourceAndState(t *testing.T) {
	f := stacksFixture(t)
	s := start(t, f)
	if got := s.State().Accounts[member].Regions["eu-west-1"].Stacks; !reflect.DeepEqual(got, []Stack{{
		StackID: memberStackID, StackName: "StackSet-credguard-member-5f1c7a40", Resources: f.Accounts[member].Regions["eu-west-1"].Stacks[0].Resources,
	}}) {
		t.Fatalf("state stacks %+v", got)
	}
	done := StackResource{LogicalID: "ImdsDefaults", PhysicalID: "credguard-imds-defaults:444455556666:eu-west-1:tokens=-,hop=-,enforced=-",
		Type: "Custom::CredguardImdsDefaults", Status: "DELETE_IN_PROGRESS"}
	mustOK(t, s.PutStackResource(member, "eu-west-1", memberStackID, done))
	out, err := cloudformation.NewFromConfig(config(t, s, member, "eu-west-1")).DescribeStackResource(ctx(t), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(memberStackID), LogicalResourceId: aws.String("ImdsDefaults")})
	mustOK(t, err)
	if d := out.StackResourceDetail; d.ResourceStatus != cfntypes.ResourceStatusDeleteInProgress || aws.ToString(d.PhysicalResourceId) != done.PhysicalID {
		t.Errorf("after put: %+v", d)
	}
	res := s.State().Accounts[member].Regions["eu-west-1"].Stacks[0].Resources
	if len(res) != 2 || res[0] != done {
		t.Errorf("state after put: %+v", res)
	}
	// A new logical id is added.
	mustOK(t, s.PutStackResource(member, "eu-west-1", memberStackID, StackResource{LogicalID: "Extra", Type: "AWS::SNS::Topic", Status: "CREATE_IN_PROGRESS"}))
	if res := s.State().Accounts[member].Regions["eu-west-1"].Stacks[0].Resources; len(res) != 3 || res[2].LogicalID != "Extra" {
		t.Errorf("state after adding: %+v", res)
	}
	for _, bad := range []struct {
		account, region, stack string
		res                    StackResource
		want                   string
	}{
		{member, "eu-west-1", memberStackID, StackResource{LogicalID: "X", Type: "Custom::X", Status: "DONE"}, "status"},
		{member, "eu-west-1", strings.Replace(memberStackID, "5f1c7a40-0b1a", "00000000-0b1a", 1), done, "no stack"},
		{member, "us-east-1", memberStackID, done, "but the stack is listed under 444455556666/us-east-1"},
	} {
		if err := s.PutStackResource(bad.account, bad.region, bad.stack, bad.res); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("put %+v in %s/%s: %v, want %q", bad.res, bad.account, bad.region, err, bad.want)
		}
	}
	s.Reset()
	if res := s.State().Accounts[member].Regions["eu-west-1"].Stacks[0].Resources; res[0].Status != "CREATE_IN_PROGRESS" || len(res) != 2 {
		t.Errorf("after reset: %+v", res)
	}
}
