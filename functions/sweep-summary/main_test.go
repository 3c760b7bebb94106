package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/rie"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/sweep"
	"github.com/credguard/credguard/internal/sweep/sweeptest"
)

// TestSweepUnderEmulator runs the three real bootstraps of the scheduled
// sweep under aws-lambda-rie against the demo fixture, in the order and
// with the payloads the state machine gives them: the list step writes the
// scopes to S3, the per-scope sweeper runs once per scope (its answers
// written to S3 as the Distributed Map's ResultWriter does), and the
// summary step reads them back and publishes the one notification.
func TestSweepUnderEmulator(t *testing.T) {
	f := sandboxtest.Demo(t)
	sb := sandboxtest.Start(t, f)
	const hub, bucket = "111122223333", "credguard-sweep-111122223333"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base, err := sb.AWSConfig(ctx, hub, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(base)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	env := append(rie.SandboxEnv(sb, hub, "us-east-1"),
		"CREDGUARD_TOPIC_ARN=arn:aws:sns:us-east-1:"+hub+":credguard-notifications",
		"CREDGUARD_SELF_ROLE_ARNS=arn:aws:iam::"+hub+":role/credguard-imds-enforcer,arn:aws:iam::"+hub+":role/credguard-trust-guard,arn:aws:iam::"+hub+":role/credguard-sweeper",
		"CREDGUARD_ORGANIZATION_ID=o-sandbox0001",
		"CREDGUARD_REGIONS=us-east-1,eu-west-1",
		"CREDGUARD_DRY_RUN_IMDS=false",
		"CREDGUARD_DRY_RUN_TRUST=true",
		sweep.EnvBucket+"="+bucket,
	)
	list := rie.Run(t, ctx, "sweep-list", "../sweep-list", env)
	scope := rie.Run(t, ctx, "sweeper", "../sweeper", env)
	summary := rie.Run(t, ctx, "sweep-summary", ".", env)

	body, err := list.Invoke(ctx, []byte(`{"execution":"e2e-run"}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, list.Output())
	}
	var listed sweep.Listed
	if err := json.Unmarshal(body, &listed); err != nil || listed.Scopes != 6 || listed.Accounts != 2 || listed.Key != "scopes/e2e-run.json" {
		t.Fatalf("list answered %s (%v)\n%s", body, err, list.Output())
	}
	var scopes []sweep.Scope
	if err := sweeptest.ReadJSON(ctx, client, bucket, listed.Key, &scopes); err != nil {
		t.Fatal(err)
	}
	key, err := sweeptest.Map(ctx, client, bucket, "e2e-run", scopes, func(sc sweep.Scope) sweeptest.Child {
		in, _ := json.Marshal(sc)
		out, err := scope.Invoke(ctx, in)
		var fnErr struct {
			Message string `json:"errorMessage"`
			Type    string `json:"errorType"`
		}
		if err != nil || (json.Unmarshal(out, &fnErr) == nil && fnErr.Type != "") {
			t.Errorf("scope %v: %v %s\n%s", sc, err, out, scope.Output())
			return sweeptest.Child{Error: fnErr.Type, Cause: string(out)}
		}
		return sweeptest.Child{Output: out}
	})
	if err != nil {
		t.Fatal(err)
	}
	in := sweep.SummaryInput{Execution: "e2e-run", Listed: listed, Map: &sweep.MapOutput{}}
	in.Map.ResultWriterDetails.Bucket, in.Map.ResultWriterDetails.Key = bucket, key
	payload, _ := json.Marshal(in)
	body, err = summary.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%v\n%s", err, summary.Output())
	}
	var res sweep.SummaryResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	// The demo's 9 non-exempt instances remediated, the exempt one left;
	// trust in dry-run: the three critical roles stay (dry-run) with the
	// warned one.
	if res.Accounts != 2 || res.Regions != 2 || res.Swept != 6 || res.Outcomes["remediated"] != 9 || res.Outcomes["exempt"] != 1 ||
		res.Outcomes["dry-run"] != 3 || res.Outcomes["warned"] != 1 || res.Remaining != 4 || len(res.Errors) != 0 || !res.Notified {
		t.Fatalf("response %s\n%s", body, summary.Output())
	}
	for _, inst := range sb.State().Accounts["444455556666"].Regions["eu-west-1"].Instances {
		if inst.MetadataOptions.HTTPTokens != "required" || inst.MetadataOptions.HTTPPutResponseHopLimit != 1 {
			t.Errorf("member instance %s not remediated: %+v", inst.ID, inst.MetadataOptions)
		}
	}
	notes := sb.Notifications()
	if len(notes) != 1 || notes[0].Attributes["guardrail"] != "sweep" {
		t.Fatalf("notifications %+v", notes)
	}
	if _, err := notify.Parse([]byte(notes[0].Message)); err != nil {
		t.Errorf("summary is not a chatbot message: %v", err)
	}
}
