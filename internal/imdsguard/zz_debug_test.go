package imdsguard_test

import (
	"testing"

	"github.com/credguard/credguard/internal/sandbox"
)

func TestDebugThrottle(t *testing.T) {
	f := demoFixture(t, 10)
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
		"ec2:DescribeInstances":             {Burst: 1, RatePerSecond: 50},
		"ec2:ModifyInstanceMetadataOptions": {Burst: 2, RatePerSecond: 50},
	}}
	r := newRig(t, f)
	in := []input{runInstances(t, stormIDs(10))}
	r.deliver(t, in)
	j := r.sb.Journal()
	for _, c := range j {
		t.Logf("%s %s %s %s", c.Time.Sub(j[0].Time), c.Operation, c.Outcome, c.Resource)
	}
}
