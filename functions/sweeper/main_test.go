package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/rie"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

// TestSweeperUnderEmulator runs the real bootstrap under aws-lambda-rie
// against the demo fixture, as the schedule invokes it, and checks that it
// remediated, published one summary and answered with the counts.
func TestSweeperUnderEmulator(t *testing.T) {
	f := sandboxtest.Demo(t)
	sb := sandboxtest.Start(t, f)

	const hub = "111122223333"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	em := rie.Run(t, ctx, "sweeper", ".", append(rie.SandboxEnv(sb, hub, "us-east-1"),
		"CREDGUARD_TOPIC_ARN=arn:aws:sns:us-east-1:"+hub+":credguard-notifications",
		"CREDGUARD_SELF_ROLE_ARNS=arn:aws:iam::"+hub+":role/credguard-imds-enforcer,arn:aws:iam::"+hub+":role/credguard-trust-guard,arn:aws:iam::"+hub+":role/credguard-sweeper",
		"CREDGUARD_ORGANIZATION_ID=o-sandbox0001",
		"CREDGUARD_REGIONS=us-east-1,eu-west-1",
		"CREDGUARD_DRY_RUN_IMDS=false",
		"CREDGUARD_DRY_RUN_TRUST=true",
	))

	// EventBridge Scheduler's default payload is an empty object.
	body, err := em.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, em.Output())
	}
	var res struct {
		Accounts, Regions, Findings, Remaining int
		Outcomes                               map[string]int
		Errors                                 []string
		Notified                               bool
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	// Instances remediated (the demo's fleet instances too); trust in
	// dry-run: the three critical roles stay (dry-run) with the warned one.
	if res.Accounts != 2 || res.Regions != 2 || res.Outcomes["remediated"] != 9 || res.Outcomes["dry-run"] != 3 ||
		res.Outcomes["warned"] != 1 || res.Remaining != 4 || len(res.Errors) != 0 || !res.Notified {
		t.Fatalf("response %s\n%s", body, em.Output())
	}
	for _, in := range sb.State().Accounts["444455556666"].Regions["eu-west-1"].Instances {
		if in.MetadataOptions.HTTPTokens != "required" || in.MetadataOptions.HTTPPutResponseHopLimit != 1 {
			t.Errorf("member instance %s not remediated: %+v", in.ID, in.MetadataOptions)
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
