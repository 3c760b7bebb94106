package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestLaunchKnobs: visibleAfterMs hides an instance from DescribeInstances
// (by id and in listings) and from ModifyInstanceMetadataOptions until it is
// due; runningAfterMs keeps an instance pending, refusing metadata changes
// with IncorrectInstanceState, then makes it running. Real SDK client.
func TestLaunchKnobs(t *testing.T) {
	const hidden, starting, plain = "i-0aaa00000000000e1", "i-0aaa00000000000e2", "i-0aaa00000000000e3"
	f, err := ParseFixture([]byte(fixtureWith("", `{"instances": [
		{"id": "`+hidden+`", "state": "pending", "visibleAfterMs": 400},
		{"id": "`+starting+`", "state": "pending", "runningAfterMs": 400},
		{"id": "`+plain+`", "state": "pending"}]}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, f)
	began := time.Now()
	c := ec2.NewFromConfig(config(t, s, hub, "us-east-1"))
	modify := func(id string) error {
		_, err := c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{
			InstanceId: aws.String(id), HttpTokens: ec2types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)})
		return err
	}
	states := func() map[string]string {
		out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
		mustOK(t, err)
		m := map[string]string{}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				m[aws.ToString(in.InstanceId)] = string(in.State.Name)
			}
		}
		return m
	}

	_, err = c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{hidden, plain}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	if err != nil && (!strings.Contains(err.Error(), hidden) || strings.Contains(err.Error(), plain)) {
		t.Errorf("NotFound names the wrong ids: %v", err)
	}
	wantAPIError(t, modify(hidden), "InvalidInstanceID.NotFound", 400)
	wantAPIError(t, modify(starting), "IncorrectInstanceState", 400)
	mustOK(t, modify(plain)) // a pending instance without runningAfterMs accepts the change
	if got := states(); got[hidden] != "" || got[starting] != "pending" || got[plain] != "pending" {
		t.Errorf("listing before the knobs are due: %v", got)
	}
	if time.Since(began) > 300*time.Millisecond {
		t.Skip("the checks before the knobs are due took too long on this machine")
	}

	time.Sleep(time.Until(began.Add(500 * time.Millisecond)))
	if got := states(); got[hidden] != "pending" || got[starting] != "running" || got[plain] != "pending" {
		t.Errorf("listing after the knobs are due: %v", got)
	}
	mustOK(t, modify(hidden))
	mustOK(t, modify(starting))
	st := s.State().Accounts[hub].Regions["us-east-1"].Instances
	if st[0].VisibleAfterMs != 400 || st[1].RunningAfterMs != 400 || st[1].State != "running" || st[1].MetadataOptions.HTTPTokens != "required" {
		t.Errorf("state = %+v", st)
	}
}

func TestLaunchKnobsValidation(t *testing.T) {
	for _, tt := range []struct{ inst, want string }{
		{`{"id": "i-0aaa00000000000e1", "state": "running", "runningAfterMs": 10}`, `instances[0].state: must be pending (or left out) with runningAfterMs; got "running"`},
		{`{"id": "i-0aaa00000000000e1", "state": "pending", "visibleAfterMs": -1}`, `instances[0].visibleAfterMs: must be 0 or more milliseconds, got -1`},
		{`{"id": "i-0aaa00000000000e1", "state": "pending", "runningAfterMs": -5}`, `instances[0].runningAfterMs: must be 0 or more milliseconds, got -5`},
		{`{"id": "i-0aaa00000000000e1", "state": "pending", "visibleAfterMs": "soon"}`, `instances[0].visibleAfterMs`},
	} {
		_, err := ParseFixture([]byte(fixtureWith("", `{"instances": [`+tt.inst+`]}`, "")))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.inst, err, tt.want)
		}
	}
	// The state may be left out with runningAfterMs: the instance starts pending.
	f, err := ParseFixture([]byte(fixtureWith("", `{"instances": [{"id": "i-0aaa00000000000e1", "runningAfterMs": 60000}]}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.State().Accounts[hub].Regions["us-east-1"].Instances[0].State; got != "pending" {
		t.Errorf("state %q, want pending", got)
	}
}
