package replay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
)

// TestGovCloudPartition runs the IMDS guardrail with the hub and a member in
// us-gov-west-1 (partition aws-us-gov), through real SDK clients and the
// sandbox's STS: the member role is assumed by its aws-us-gov ARN (the
// sandbox, like STS, refuses an arn:aws: role there), and the notification
// names the instance arn:aws-us-gov:ec2:….
func TestGovCloudPartition(t *testing.T) {
	const member, region, id = "444455556666", "us-gov-west-1", "i-0ccc0000000000001"
	trust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws-us-gov:iam::111122223333:role/credguard-imds-enforcer"},"Action":"sts:AssumeRole"}]}`)
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub: {},
		member: {Roles: []sandbox.Role{{Name: "credguard-imds-remediation", TrustPolicy: trust}},
			Regions: map[string]*sandbox.Region{region: {Instances: []sandbox.Instance{{ID: id, State: "pending",
				MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPEndpoint: "enabled"}}}}}},
	}}
	ev, _ := json.Marshal(map[string]any{
		"version": "0", "id": "c4a1b3f0-2d7e-4f18-8a6c-51e9d0b7c3f4", "detail-type": "EC2 Instance State-change Notification",
		"source": "aws.ec2", "account": member, "time": "2026-03-02T09:16:30Z", "region": region,
		"resources": []string{"arn:aws-us-gov:ec2:" + region + ":" + member + ":instance/" + id},
		"detail":    map[string]any{"instance-id": id, "state": "pending"},
	})
	rep, err := replay.Run(context.Background(), f, []replay.Input{{Name: "gov.json", Data: ev}}, replay.Options{HubRegion: region})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Outcome != outcome.Remediated {
		t.Fatalf("results %+v", rep.Results)
	}
	assumed := false
	for _, c := range rep.Journal {
		if c.Operation == "ModifyInstanceMetadataOptions" {
			assumed = c.Account == member && strings.HasPrefix(c.Principal, "arn:aws-us-gov:sts::"+member+":assumed-role/credguard-imds-remediation/")
		}
	}
	if !assumed {
		t.Errorf("the write was not made as the aws-us-gov member role: %+v", rep.Journal)
	}
	if len(rep.Notifications) != 1 {
		t.Fatalf("notifications %+v", rep.Notifications)
	}
	msg := string(rep.Notifications[0].Message)
	if !strings.Contains(msg, `"arn:aws-us-gov:ec2:us-gov-west-1:444455556666:instance/`+id+`"`) || strings.Contains(msg, "arn:aws:") {
		t.Errorf("notification does not name the instance in aws-us-gov: %s", msg)
	}
	if !strings.HasPrefix(rep.Notifications[0].Topic, "arn:aws-us-gov:sns:us-gov-west-1:111122223333:") {
		t.Errorf("topic %s", rep.Notifications[0].Topic)
	}
}
