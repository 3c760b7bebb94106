package sweep

import (
	"testing"
	"time"
	"fmt"
	"github.com/credguard/credguard/internal/sandbox"
)

func TestDbgThrottle(t *testing.T) {
	f := &sandbox.Fixture{HubAccount: hub, Accounts: map[string]*sandbox.Account{
		hub:     bigAccount(60, 1200, 250, true, "0aaa"),
		member:     bigAccount(60, 1200, 250, true, "0bbb"),
	}}
	read := sandbox.Throttle{Burst: 3, RatePerSecond: 40}
	write := sandbox.Throttle{Burst: 20, RatePerSecond: 400}
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
		"ec2:DescribeInstances":              read,
		"ec2:DescribeLaunchTemplates":        read,
		"ec2:DescribeLaunchTemplateVersions": read,
		"iam:ListRoles":                      read,
		"sts:AssumeRole":                     read,
		"iam:GetRole":                        write,
		"ec2:ModifyInstanceMetadataOptions":  write,
		"ec2:CreateLaunchTemplateVersion":    write,
		"ec2:ModifyLaunchTemplate":           write,
		"iam:UpdateAssumeRolePolicy":         write,
		"iam:PutRolePolicy":                  write,
	}}
	s := startSandbox(t, f)
	start := time.Now()
	sweeperWith(t, s, Config{}, fastRetryer).Run(testContext(t), []string{hub, member}, []string{"us-east-1"})
	t.Logf("took %v", time.Since(start))
	j := s.Journal()
	t0 := j[0].Time
	type st struct{ first, last time.Duration; n, thr int }
	m := map[string]*st{}
	for _, c := range j {
		k := c.Account + " " + c.Operation
		x := m[k]
		d := c.Time.Sub(t0)
		if x == nil { x = &st{first: d}; m[k] = x }
		x.last = d; x.n++
		if c.Outcome != "ok" { x.thr++ }
	}
	for k, x := range m { fmt.Printf("%-45s n=%5d thr=%4d %v..%v\n", k, x.n, x.thr, x.first.Round(time.Millisecond), x.last.Round(time.Millisecond)) }
}
