package accounts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

func TestConfigAssumesOnceAndCaches(t *testing.T) {
	f, err := sandbox.ParseFixture([]byte(`{"hubAccount":"111122223333","accounts":{
		"111122223333":{"roles":[]},
		"444455556666":{"roles":[{"name":"credguard-imds-remediation","path":"/","trustPolicy":{"Version":"2012-10-17","Statement":[]}}]},
		"777788889999":{"roles":[]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t, f)
	ctx := context.Background()
	base, err := sb.AWSConfig(ctx, "111122223333", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	p := accounts.New(base, sts.NewFromConfig(base), accounts.Options{RoleName: ids.IMDSRoleName, SessionName: "credguard-test"})

	// The hub account is learned once from GetCallerIdentity.
	hub, err := p.HubAccount(ctx)
	if err != nil || hub != "111122223333" {
		t.Fatalf("hub = %q, %v", hub, err)
	}
	// Hub: the base credentials, no AssumeRole.
	if _, err := p.Config(ctx, hub, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	// Member: assumed once, then cached across calls and regions.
	for _, region := range []string{"eu-west-1", "us-east-1", "eu-west-1"} {
		cfg, err := p.Config(ctx, "444455556666", region)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != region {
			t.Errorf("region = %s, want %s", cfg.Region, region)
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if *id.Account != "444455556666" || !strings.Contains(*id.Arn, "assumed-role/credguard-imds-remediation/credguard-test") {
			t.Errorf("identity = %s", *id.Arn)
		}
	}
	assumes, identities := 0, 0
	for _, c := range sb.Journal() {
		switch c.Operation {
		case "AssumeRole":
			assumes++
		case "GetCallerIdentity":
			identities++
		}
	}
	if assumes != 1 {
		t.Errorf("AssumeRole calls = %d, want 1 (cached)", assumes)
	}
	if identities != 4 { // one for the hub lookup, three from the test itself
		t.Errorf("GetCallerIdentity calls = %d, want 4", identities)
	}

	// A member without the role: the error names the role.
	if _, err := p.Config(ctx, "777788889999", "us-east-1"); err == nil || !strings.Contains(err.Error(), "arn:aws:iam::777788889999:role/credguard-imds-remediation") {
		t.Errorf("missing role error = %v", err)
	}
	if _, err := p.Config(ctx, "12345", "us-east-1"); err == nil {
		t.Error("want an error for a malformed account id")
	}
}
