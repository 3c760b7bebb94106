package rie_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/rie"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

func functionEnv(sb *sandbox.Server, hub string) []string {
	return append(rie.SandboxEnv(sb, hub, "us-east-1"),
		"CREDGUARD_TOPIC_ARN=arn:aws:sns:us-east-1:"+hub+":credguard-notifications",
		"CREDGUARD_SELF_ROLE_ARNS=arn:aws:iam::"+hub+":role/credguard-imds-enforcer,arn:aws:iam::"+hub+":role/credguard-trust-guard",
	)
}

// startGuardrail runs a guardrail function's bootstrap against a sandbox
// of the demo fixture and invokes it with the named sample event, returning
// the sandbox, the emulator and the decoded direct-invocation response.
func startGuardrail(t *testing.T, ctx context.Context, function, sample string) (*sandbox.Server, *rie.Emulator, []byte, []result) {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	em := rie.Run(t, ctx, function, "../../functions/"+function, functionEnv(sb, "111122223333"))
	ev, results := invokeSample(t, ctx, em, sample)
	return sb, em, ev, results
}

// invokeSample invokes em with the named sample event and returns the event
// and the decoded direct-invocation results.
func invokeSample(t *testing.T, ctx context.Context, em *rie.Emulator, sample string) ([]byte, []result) {
	t.Helper()
	ev, err := fs.ReadFile(events.Files, sample)
	if err != nil {
		t.Fatal(err)
	}
	body, err := em.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("%v\n%s", err, em.Output())
	}
	var resp struct {
		Results []result `json:"results"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return ev, resp.Results
}

// result is what the tests read of a guardrail.Result.
type result struct{ Resource, Outcome string }

func instanceOptions(t *testing.T, sb *sandbox.Server, account, region, id string) sandbox.MetadataOptions {
	t.Helper()
	for _, in := range sb.State().Accounts[account].Regions[region].Instances {
		if in.ID == id {
			return in.MetadataOptions
		}
	}
	t.Fatalf("instance %s not in the sandbox state", id)
	return sandbox.MetadataOptions{}
}

// TestIMDSEnforcerUnderEmulator runs the real bootstrap under aws-lambda-rie,
// invokes it with a sample event (directly and wrapped in an SQS batch, as
// the deployed queue delivers it) and checks the sandbox was changed.
func TestIMDSEnforcerUnderEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb, em, ev, results := startGuardrail(t, ctx, "imds-enforcer", "ec2-state-change-pending.json")
	if len(results) != 1 || results[0].Resource != "i-0aaa0000000000001" || results[0].Outcome != "remediated" {
		t.Fatalf("results = %+v\n%s", results, em.Output())
	}
	mo := instanceOptions(t, sb, "111122223333", "us-east-1", "i-0aaa0000000000001")
	if mo.HTTPTokens != "required" || mo.HTTPPutResponseHopLimit != 1 {
		t.Fatalf("options after invoke = %+v", mo)
	}
	if n := len(sb.Notifications()); n != 1 {
		t.Fatalf("notifications = %d, want 1", n)
	}

	// The same event through the SQS path: compliant now, so the batch has no
	// failures and nothing new is written or published.
	batch, _ := json.Marshal(map[string]any{"Records": []map[string]any{{
		"messageId": "m-1", "eventSource": "aws:sqs", "body": string(ev),
	}}})
	body, err := em.Invoke(ctx, batch)
	if err != nil {
		t.Fatalf("%v\n%s", err, em.Output())
	}
	var sqsResp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(body, &sqsResp); err != nil || len(sqsResp.BatchItemFailures) != 0 {
		t.Fatalf("sqs response %s (%v)", body, err)
	}
	if n := len(sb.Notifications()); n != 1 {
		t.Fatalf("redelivery published again: %d notifications", n)
	}
}

// TestIMDSEnforcerScopeAndFleetUnderEmulator: the built bootstrap reads
// CREDGUARD_IMDS_SCOPE; with eks-nodes it remediates the Karpenter nodes a
// CreateFleet event names and ignores an untagged instance, writing nothing.
func TestIMDSEnforcerScopeAndFleetUnderEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	em := rie.Run(t, ctx, "imds-enforcer", "../../functions/imds-enforcer",
		append(functionEnv(sb, "111122223333"), "CREDGUARD_IMDS_SCOPE=eks-nodes"))
	invoke := func(sample string) []result {
		_, results := invokeSample(t, ctx, em, sample)
		return results
	}
	got := invoke("cloudtrail-create-fleet-many.json")
	want := []result{{"i-0aaa000000000000a", "remediated"}, {"i-0aaa000000000000b", "remediated"}, {"i-0aaa000000000000c", "compliant"}}
	if len(got) != len(want) {
		t.Fatalf("results = %+v\n%s", got, em.Output())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := invoke("ec2-state-change-pending.json"); len(got) != 1 || got[0].Outcome != "ignored" {
		t.Errorf("untagged instance: %+v, want ignored", got)
	}
	if mo := instanceOptions(t, sb, "111122223333", "us-east-1", "i-0aaa0000000000001"); mo.HTTPTokens != "optional" {
		t.Errorf("untagged instance changed: %+v", mo)
	}
}

// TestTrustGuardUnderEmulator runs the trust guardrail's bootstrap under the
// emulator with the CreateRole sample: the wildcard trust is revoked.
func TestTrustGuardUnderEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb, em, _, results := startGuardrail(t, ctx, "trust-guard", "iam-create-role.json")
	if len(results) != 1 || results[0].Outcome != "revoked" {
		t.Fatalf("results = %+v\n%s", results, em.Output())
	}
	for _, r := range sb.State().Accounts["111122223333"].Roles {
		if r.Name != "ci-deployer" {
			continue
		}
		if _, ok := r.InlinePolicies["AWSRevokeOlderSessions"]; !ok {
			t.Error("sessions not revoked")
		}
		if strings.Contains(string(r.TrustPolicy), `"Allow"`) {
			t.Errorf("trust still allows: %s", r.TrustPolicy)
		}
	}
}

// TestSlackForwarderUnderEmulator runs the forwarder's bootstrap under the
// emulator: it reads the webhook URL from Secrets Manager (the sandbox) and
// posts a published notification, as Block Kit, to a local stand-in for Slack.
func TestSlackForwarderUnderEmulator(t *testing.T) {
	var mu sync.Mutex
	var posts []map[string]any
	slackServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posts = append(posts, body)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer slackServer.Close()

	// A real notification: replay the CreateRole sample and take what it published.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fixture := sandboxtest.Demo(t)
	fixture.Accounts["111122223333"].Regions["us-east-1"].Secrets = map[string]string{"credguard/slack-webhook": slackServer.URL + "/services/T0/B0/secret"}
	sb2 := sandboxtest.Start(t, fixture)
	ev, _ := fs.ReadFile(events.Files, "iam-create-role.json")
	rep, err := replay.RunAgainst(ctx, sb2, "111122223333", []replay.Input{{Name: "create", Data: ev}}, replay.Options{})
	if err != nil || len(rep.Notifications) != 1 {
		t.Fatalf("replay: %v, %d notifications", err, len(rep.Notifications))
	}
	snsEvent, _ := json.Marshal(map[string]any{"Records": []map[string]any{{
		"EventSource": "aws:sns", "EventSubscriptionArn": "arn:aws:sns:us-east-1:111122223333:credguard-notifications:sub",
		"Sns": map[string]any{"MessageId": "n-1", "TopicArn": rep.Notifications[0].Topic, "Message": string(rep.Notifications[0].Message)},
	}}})

	env := append(functionEnv(sb2, "111122223333"), "CREDGUARD_SLACK_WEBHOOK_SECRET_ARN=credguard/slack-webhook")
	em := rie.Run(t, ctx, "slack-forwarder", "../../functions/slack-forwarder", env)
	if _, err := em.Invoke(ctx, snsEvent); err != nil {
		t.Fatalf("%v\n%s", err, em.Output())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Fatalf("slack received %d posts\n%s", len(posts), em.Output())
	}
	blocks, _ := json.Marshal(posts[0]["blocks"])
	if !strings.Contains(string(blocks), `"type":"header"`) || !strings.Contains(string(blocks), "ci-deployer") {
		t.Errorf("blocks = %s", blocks)
	}
	if strings.Contains(em.Output(), "/services/T0/B0/secret") {
		t.Error("the webhook URL appears in the function's output")
	}
}
