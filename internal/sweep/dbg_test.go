package sweep

import (
	"fmt"
	"testing"
	"time"
	"github.com/credguard/credguard/internal/sandbox"
)

func TestDbgThrottle(t *testing.T) {
	for k := 0; k < 8; k++ {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub:     bigAccount(0, 0, 210, oneInTwenty, "0aaa"),
	}}
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
		"ec2:CreateLaunchTemplateVersion":   {Burst: 3, RatePerSecond: 200},
	}}
	s := startSandbox(t, f)
	rep := sweeperWith(t, s, Config{}, fastRetryer).Run(testContext(t), []string{hub}, []string{"us-east-1"})
	bad := false
	for _, f := range rep.Findings { if f.Outcome == "failed" { bad = true; t.Log(f.Detail) } }
	if !bad { continue }
	j := s.Journal()
	t0 := j[0].Time
	for _, c := range j {
		if c.Operation == "CreateLaunchTemplateVersion" {
		fmt.Printf("%8v %s %s %.30s\n", c.Time.Sub(t0).Round(time.Microsecond), c.Operation, c.Outcome, c.Resource)
		}
	}
	break
	}
}
