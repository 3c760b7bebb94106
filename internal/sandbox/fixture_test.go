package sandbox

import (
	"strings"
	"testing"
)

// fixtureWith builds a small valid fixture and splices in one region, role
// list or fault section.
func fixtureWith(roles, region, faults string) string {
	if roles == "" {
		roles = `[{"name": "r", "trustPolicy": {"Version": "2012-10-17", "Statement": []}}]`
	}
	if region == "" {
		region = `{}`
	}
	if faults == "" {
		faults = `{}`
	}
	return `{"hubAccount": "111122223333", "faults": ` + faults + `,
	  "accounts": {"111122223333": {"roles": ` + roles + `, "regions": {"us-east-1": ` + region + `}}}}`
}

func TestParseFixtureValid(t *testing.T) {
	f, err := ParseFixture([]byte(fixtureWith("", "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if f.HubAccount != hub || len(f.Accounts[hub].Roles) != 1 {
		t.Fatalf("fixture = %+v", f)
	}
	if _, err := New(loadFixture(t, "basic.json")); err != nil {
		t.Fatal(err)
	}
}

func TestParseFixtureErrors(t *testing.T) {
	inst := func(s string) string { return `{"instances": [` + s + `]}` }
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `{"hubAccount": `, "not valid JSON"},
		{"trailing data", `{} {}`, "unexpected data after the top-level value"},
		{"top-level array", `[]`, "fixture: must be an object, got an array"},
		{"unknown top-level field", `{"hubAccount": "111122223333", "acounts": {}}`, "acounts: unknown field"},
		{"no hub", `{"accounts": {"111122223333": {}}}`, "hubAccount: required"},
		{"hub not 12 digits", `{"hubAccount": "1111", "accounts": {"111122223333": {}}}`, `hubAccount: account id must be 12 digits, got "1111"`},
		{"hub not in accounts", `{"hubAccount": "999999999999", "accounts": {"111122223333": {}}}`, "hubAccount: account 999999999999 is not in accounts"},
		{"bad account id", `{"hubAccount": "111122223333", "accounts": {"111122223333": {}, "111": {}}}`, `accounts["111"]: account id must be 12 digits`},
		{"no accounts", `{"hubAccount": "111122223333", "accounts": {}}`, "accounts: at least one account is required"},
		{"null account", `{"hubAccount": "111122223333", "accounts": {"111122223333": {}, "444455556666": null}}`, `accounts["444455556666"]: account must be an object, got null`},
		{"unknown role field with hint", fixtureWith(`[{"name": "r", "trustPolicy": {}, "Tags": {}}]`, "", ""),
			`accounts["111122223333"].roles[0].Tags: unknown field (did you mean "tags"?)`},
		{"tag value not a string", fixtureWith(`[{"name": "r", "trustPolicy": {}, "tags": {"team": 3}}]`, "", ""),
			`accounts["111122223333"].roles[0].tags["team"]: must be a string, got a number`},
		{"bad role name", fixtureWith(`[{"name": "a role", "trustPolicy": {}}]`, "", ""), `accounts["111122223333"].roles[0].name: role name must be`},
		{"duplicate role", fixtureWith(`[{"name": "r", "trustPolicy": {}}, {"name": "R", "trustPolicy": {}}]`, "", ""),
			`accounts["111122223333"].roles[1].name: duplicate role name "R" (also roles[0]`},
		{"bad path", fixtureWith(`[{"name": "r", "path": "svc", "trustPolicy": {}}]`, "", ""), `accounts["111122223333"].roles[0].path: path must begin and end with /`},
		{"no trust policy", fixtureWith(`[{"name": "r"}]`, "", ""), `accounts["111122223333"].roles[0].trustPolicy: required`},
		{"trust policy not an object", fixtureWith(`[{"name": "r", "trustPolicy": "{}"}]`, "", ""), `accounts["111122223333"].roles[0].trustPolicy: must be a JSON object`},
		{"inline policy not an object", fixtureWith(`[{"name": "r", "trustPolicy": {}, "inlinePolicies": {"p": []}}]`, "", ""),
			`accounts["111122223333"].roles[0].inlinePolicies["p"]: must be a JSON object`},
		{"bad createDate", fixtureWith(`[{"name": "r", "trustPolicy": {}, "createDate": "yesterday"}]`, "", ""),
			`accounts["111122223333"].roles[0].createDate: must be an RFC 3339 time`},
		{"bad region", `{"hubAccount": "111122223333", "accounts": {"111122223333": {"regions": {"mars-1": {}}}}}`,
			`accounts["111122223333"].regions["mars-1"]: not a region name`},
		{"bad instance id", fixtureWith("", inst(`{"id": "i-1", "state": "running", "metadataOptions": {}}`), ""),
			`accounts["111122223333"].regions["us-east-1"].instances[0].id: instance id must be i- and 8 or 17 lowercase hex digits, got "i-1"`},
		{"duplicate instance", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {}}, {"id": "i-01234567", "state": "running", "metadataOptions": {}}`), ""),
			`instances[1].id: duplicate instance id i-01234567 (also instances[0])`},
		{"bad state", fixtureWith("", inst(`{"id": "i-01234567", "state": "sleeping", "metadataOptions": {}}`), ""),
			`instances[0].state: must be one of pending, running, stopping, stopped, shutting-down, terminated; got "sleeping"`},
		{"bad http tokens", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {"httpTokens": "v1"}}`), ""),
			`instances[0].metadataOptions.httpTokens: must be optional or required; got "v1"`},
		{"hop limit too high", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {"httpPutResponseHopLimit": 65}}`), ""),
			`instances[0].metadataOptions.httpPutResponseHopLimit: must be between 1 and 64, got 65`},
		{"hop limit as string", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {"httpPutResponseHopLimit": "2"}}`), ""),
			`instances[0].metadataOptions.httpPutResponseHopLimit: must be an integer, got a string`},
		{"hop limit fraction", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {"httpPutResponseHopLimit": 1.5}}`), ""),
			`instances[0].metadataOptions.httpPutResponseHopLimit: must be an integer, got 1.5`},
		{"unknown metadata option", fixtureWith("", inst(`{"id": "i-01234567", "state": "running", "metadataOptions": {"tokens": "required"}}`), ""),
			`instances[0].metadataOptions.tokens: unknown field`},
		{"association role ARN", fixtureWith("", `{"podIdentityAssociations": [{"clusterName": "prod", "associationId": "a-1", "namespace": "n", "serviceAccount": "s", "roleArn": "billing"}]}`, ""),
			`podIdentityAssociations[0].roleArn: must be an IAM role ARN`},
		{"association without namespace", fixtureWith("", `{"podIdentityAssociations": [{"clusterName": "prod", "associationId": "a-1", "serviceAccount": "s", "roleArn": "arn:aws:iam::111122223333:role/r"}]}`, ""),
			`podIdentityAssociations[0].namespace: required`},
		{"duplicate association", fixtureWith("", `{"podIdentityAssociations": [
			{"clusterName": "prod", "associationId": "a-1", "namespace": "n", "serviceAccount": "s", "roleArn": "arn:aws:iam::111122223333:role/r"},
			{"clusterName": "prod", "associationId": "a-1", "namespace": "n", "serviceAccount": "t", "roleArn": "arn:aws:iam::111122223333:role/r"}]}`, ""),
			`podIdentityAssociations[1].associationId: duplicate association a-1 in cluster prod`},
		{"launch template id", fixtureWith("", `{"launchTemplates": [{"id": "lt-1", "name": "nodes", "versions": [{"data": {}}]}]}`, ""),
			`launchTemplates[0].id: launch template id must be lt- and 17 lowercase hex digits`},
		{"launch template default out of range", fixtureWith("", `{"launchTemplates": [{"id": "lt-0123456789abcdef0", "name": "nodes", "defaultVersion": 3, "versions": [{"data": {}}]}]}`, ""),
			`launchTemplates[0].defaultVersion: must name one of the versions (1–1), got 3`},
		{"launch template without versions", fixtureWith("", `{"launchTemplates": [{"id": "lt-0123456789abcdef0", "name": "nodes", "versions": []}]}`, ""),
			`launchTemplates[0].versions: at least one version is required`},
		{"launch template data field", fixtureWith("", `{"launchTemplates": [{"id": "lt-0123456789abcdef0", "name": "nodes", "versions": [{"data": {"kernelId": "k"}}]}]}`, ""),
			`launchTemplates[0].versions[0].data.kernelId: unknown field`},
		{"launch template metadata word", fixtureWith("", `{"launchTemplates": [{"id": "lt-0123456789abcdef0", "name": "nodes", "versions": [{"data": {"metadataOptions": {"httpEndpoint": "on"}}}]}]}`, ""),
			`launchTemplates[0].versions[0].data.metadataOptions.httpEndpoint: must be enabled or disabled; got "on"`},
		{"metadata defaults word", fixtureWith("", `{"metadataDefaults": {"httpTokensEnforced": "yes"}}`, ""),
			`metadataDefaults.httpTokensEnforced: must be enabled or disabled; got "yes"`},
		{"stack id not an ARN", fixtureWith("", `{"stacks": [{"stackId": "credguard-member"}]}`, ""),
			`regions["us-east-1"].stacks[0].stackId: must be a stack ARN (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID), got "credguard-member"`},
		{"stack of another region", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/s/1"}]}`, ""),
			`stacks[0].stackId: names 111122223333/eu-west-1, but the stack is listed under 111122223333/us-east-1`},
		{"stack of another account", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:444455556666:stack/s/1"}]}`, ""),
			`stacks[0].stackId: names 444455556666/us-east-1, but the stack is listed under 111122223333/us-east-1`},
		{"stack name not the id's", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1", "stackName": "t"}]}`, ""),
			`stacks[0].stackName: "t" is not the name in stackId (s)`},
		{"duplicate stack name", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1"},
			{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/2"}]}`, ""),
			`stacks[1].stackId: duplicate stack name s (also stacks[0]`},
		{"stack resource status", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
			"resources": [{"logicalId": "R", "type": "Custom::X", "status": "DONE"}]}]}`, ""),
			`stacks[0].resources[0].status: must be a CloudFormation resource status such as CREATE_IN_PROGRESS or UPDATE_COMPLETE, got "DONE"`},
		{"stack resource type", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
			"resources": [{"logicalId": "R", "type": "custom", "status": "CREATE_COMPLETE"}]}]}`, ""),
			`stacks[0].resources[0].type: must be a resource type such as AWS::IAM::Role or Custom::Name, got "custom"`},
		{"duplicate logical id", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
			"resources": [{"logicalId": "R", "type": "Custom::X", "status": "CREATE_COMPLETE"}, {"logicalId": "R", "type": "Custom::Y", "status": "CREATE_COMPLETE"}]}]}`, ""),
			`stacks[0].resources[1].logicalId: duplicate logical id R (also resources[0])`},
		{"unknown stack resource field", fixtureWith("", `{"stacks": [{"stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
			"resources": [{"logicalResourceId": "R", "type": "Custom::X", "status": "CREATE_COMPLETE"}]}]}`, ""),
			`stacks[0].resources[0].logicalResourceId: unknown field`},
		{"fault key without service", fixtureWith("", "", `{"latencyMs": {"DescribeInstances": 5}}`),
			`faults.latencyMs["DescribeInstances"]: fault key must be service:Operation`},
		{"fault on unknown operation", fixtureWith("", "", `{"errors": {"ec2:DescribeInstance": {"rate": 1, "code": "InternalError"}}}`),
			`faults.errors["ec2:DescribeInstance"]: the sandbox has no operation DescribeInstance in service "ec2"`},
		{"error rate above 1", fixtureWith("", "", `{"errors": {"sns:Publish": {"rate": 1.5, "code": "InternalError"}}}`),
			`faults.errors["sns:Publish"].rate: must be between 0 and 1, got 1.5`},
		{"error without code", fixtureWith("", "", `{"errors": {"sns:Publish": {"rate": 0.5}}}`),
			`faults.errors["sns:Publish"].code: must be an AWS error code`},
		{"error status not an error", fixtureWith("", "", `{"errors": {"sns:Publish": {"rate": 0.5, "code": "InternalError", "status": 200}}}`),
			`faults.errors["sns:Publish"].status: must be an HTTP error status`},
		{"throttle without burst", fixtureWith("", "", `{"throttle": {"ec2:ModifyInstanceMetadataOptions": {"ratePerSecond": 10}}}`),
			`faults.throttle["ec2:ModifyInstanceMetadataOptions"].burst: must be at least 1, got 0`},
		{"negative latency", fixtureWith("", "", `{"latencyMs": {"iam:GetRole": -1}}`), `faults.latencyMs["iam:GetRole"]: latency must be between 0 and 600000 ms, got -1`},
		{"negative apply delay", fixtureWith("", "", `{"applyDelayMs": -5}`), `faults.applyDelayMs: must not be negative, got -5`},
		{"unknown fault kind", fixtureWith("", "", `{"latency": {}}`), `faults.latency: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFixture([]byte(tt.json))
			if err == nil {
				t.Fatalf("want error containing %q, got none", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseFixtureReportsEveryProblem(t *testing.T) {
	_, err := ParseFixture([]byte(fixtureWith(`[{"name": "a b", "trustPolicy": []}]`, `{"instances": [{"id": "x", "state": "on", "metadataOptions": {}}]}`, "")))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"roles[0].name", "roles[0].trustPolicy", "instances[0].id", "instances[0].state"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestLoadFixtureErrors(t *testing.T) {
	if _, err := LoadFixture("testdata/does-not-exist.json"); err == nil || !strings.Contains(err.Error(), "read fixture") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(&Fixture{HubAccount: "1"}); err == nil || !strings.Contains(err.Error(), "hubAccount") {
		t.Errorf("New with invalid fixture: %v", err)
	}
}

// The example in FIXTURE.md is a valid fixture.
func TestFixtureDocExample(t *testing.T) {
	doc := string(readFile(t, "FIXTURE.md"))
	_, rest, ok := strings.Cut(doc, "## Fixture format\n\n```json\n")
	if !ok {
		t.Fatal("FIXTURE.md has no JSON example under ## Fixture format")
	}
	example, _, _ := strings.Cut(rest, "```")
	f, err := ParseFixture([]byte(example))
	if err != nil {
		t.Fatalf("the documented example does not parse: %v", err)
	}
	if _, err := New(f); err != nil {
		t.Fatal(err)
	}
}
