package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/rie"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
	"github.com/credguard/credguard/internal/sweep"
)

// TestSweeperUnderEmulator runs the real bootstrap under aws-lambda-rie
// against the demo fixture, as the Distributed Map invokes it: one scope
// per invocation. It remediates the member account's instances through the
// member role, answers the scope's result, and rejects a malformed scope.
func TestSweeperUnderEmulator(t *testing.T) {
	f := sandboxtest.Demo(t)
	sb := sandboxtest.Start(t, f)

	const hub = "111122223333"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	em := rie.Run(t, ctx, "sweeper", ".", append(rie.SandboxEnv(sb, hub, "us-east-1"),
		"CREDGUARD_SELF_ROLE_ARNS=arn:aws:iam::"+hub+":role/credguard-imds-enforcer,arn:aws:iam::"+hub+":role/credguard-trust-guard,arn:aws:iam::"+hub+":role/credguard-sweeper",
		"CREDGUARD_DRY_RUN_IMDS=false",
		"CREDGUARD_DRY_RUN_TRUST=true",
	))

	body, err := em.Invoke(ctx, []byte(`{"account":"444455556666","region":"eu-west-1"}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, em.Output())
	}
	var res sweep.ScopeResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	if res.Account != "444455556666" || res.Region != "eu-west-1" || res.Outcomes["remediated"] == 0 || len(res.Errors) != 0 ||
		len(res.Findings) != res.Outcomes["remediated"] {
		t.Fatalf("response %s\n%s", body, em.Output())
	}
	for _, in := range sb.State().Accounts["444455556666"].Regions["eu-west-1"].Instances {
		if in.MetadataOptions.HTTPTokens != "required" || in.MetadataOptions.HTTPPutResponseHopLimit != 1 {
			t.Errorf("member instance %s not remediated: %+v", in.ID, in.MetadataOptions)
		}
	}
	if n := len(sb.Notifications()); n != 0 {
		t.Errorf("a scope published %d notifications: only the summary step notifies", n)
	}

	before := len(sb.Journal())
	body, err = em.Invoke(ctx, []byte(`{"account":"not-an-account","region":"eu-west-1"}`))
	if err != nil || !strings.Contains(string(body), "not a 12-digit account id") {
		t.Fatalf("malformed scope answered %s (%v)", body, err)
	}
	if n := len(sb.Journal()) - before; n != 0 {
		t.Errorf("a malformed scope made %d AWS calls", n)
	}
}
