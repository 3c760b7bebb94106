package bench

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/sandbox"
)

// The demo accounts (events/fixtures/README.md).
const (
	Hub          = "111122223333"
	Member       = "444455556666"
	HubRegion    = "us-east-1"
	MemberRegion = "eu-west-1"
)

// InstanceIDs returns n instance ids, distinct for each prefix (4 hex digits).
func InstanceIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-%s%013x", prefix, i+1)
	}
	return ids
}

// demoFixture returns events/fixtures/demo.json, parsed.
func demoFixture() (*sandbox.Fixture, error) {
	data, err := fs.ReadFile(events.Files, "fixtures/demo.json")
	if err != nil {
		return nil, fmt.Errorf("read demo fixture: %w", err)
	}
	f, err := sandbox.ParseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("demo fixture: %w", err)
	}
	return f, nil
}

// addInstances adds pending instances launched with IMDSv1 allowed and hop
// limit 2 (what the guardrail must fix) to account and region of f.
func addInstances(f *sandbox.Fixture, account, region string, ids []string) error {
	a := f.Accounts[account]
	if a == nil {
		return fmt.Errorf("account %s is not in the fixture", account)
	}
	if a.Regions == nil {
		a.Regions = map[string]*sandbox.Region{}
	}
	reg := a.Regions[region]
	if reg == nil {
		reg = &sandbox.Region{}
		a.Regions[region] = reg
	}
	for _, id := range ids {
		reg.Instances = append(reg.Instances, sandbox.Instance{
			ID: id, State: "pending", Tags: map[string]string{"Name": "fleet"},
			MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPEndpoint: "enabled"},
		})
	}
	return nil
}

// FleetSandbox starts a sandbox seeded with the demo fixture plus the fleet
// ids in account and region, under the given faults.
func FleetSandbox(account, region string, ids []string, faults *sandbox.Faults) (*sandbox.Server, error) {
	f, err := demoFixture()
	if err != nil {
		return nil, err
	}
	if err := addInstances(f, account, region, ids); err != nil {
		return nil, err
	}
	f.Faults = faults
	return sandbox.Serve(f)
}

// sampleEvent reads an event file of events/ as a generic JSON object.
func sampleEvent(name string) (map[string]any, error) {
	data, err := fs.ReadFile(events.Files, name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ev, nil
}

// StateChangeEvent is ec2-state-change-pending.json for instance id in
// account and region.
func StateChangeEvent(account, region, id string) ([]byte, error) {
	ev, err := sampleEvent("ec2-state-change-pending.json")
	if err != nil {
		return nil, err
	}
	ev["id"] = "state-change-" + id
	ev["account"], ev["region"] = account, region
	ev["resources"] = []any{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, account, id)}
	ev["detail"] = map[string]any{"instance-id": id, "state": "pending"}
	return json.Marshal(ev)
}

// RunInstancesEvent is cloudtrail-run-instances-one.json in the hub listing
// ids (its one instance item repeated with each id).
func RunInstancesEvent(eventID string, ids []string) ([]byte, error) {
	ev, err := sampleEvent("cloudtrail-run-instances-one.json")
	if err != nil {
		return nil, err
	}
	detail, _ := ev["detail"].(map[string]any)
	resp, _ := detail["responseElements"].(map[string]any)
	set, _ := resp["instancesSet"].(map[string]any)
	items, _ := set["items"].([]any)
	if len(items) == 0 {
		return nil, fmt.Errorf("cloudtrail-run-instances-one.json: no instance item to repeat")
	}
	proto, _ := items[0].(map[string]any)
	out := make([]any, len(ids))
	for i, id := range ids {
		item := make(map[string]any, len(proto))
		for k, v := range proto {
			item[k] = v
		}
		item["instanceId"] = id
		out[i] = item
	}
	set["items"] = out
	ev["id"] = eventID
	return json.Marshal(ev)
}
