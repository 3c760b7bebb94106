package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/sandbox"
)

func TestDebug1000(t *testing.T) {
	ids := InstanceIDs("0eee", 1000)
	ev, _ := RunInstancesEvent("x", ids)
	f, _ := DemoFixture()
	AddInstances(f, Hub, HubRegion, ids)
	f.Faults = &sandbox.Faults{Throttle: map[string]sandbox.Throttle{"ec2:ModifyInstanceMetadataOptions": {Burst: 50, RatePerSecond: 100}}}
	sb, _ := StartSandbox(f)
	ctx := context.Background()
	cfg, _ := HubConfig(ctx, sb)
	std := func(so *retry.StandardOptions) { so.MaxAttempts = 10; so.MaxBackoff = 5 * time.Second; if os.Getenv("NOQUOTA") != "" { so.RateLimiter = ratelimit.None } }
	switch os.Getenv("MODE") {
	case "standard":
		cfg.Retryer = func() aws.Retryer { return retry.NewStandard(std) }
	case "adaptive-noquota":
		cfg.Retryer = func() aws.Retryer { return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions){ o.StandardOptions = append(o.StandardOptions, std)}) }
	}
	h := IMDSGuardrail(cfg)
	start := time.Now()
	res, err := h.Handle(ctx, ev)
	o := map[guardrail.Outcome]int{}
	for _, r := range res { o[r.Outcome]++ }
	t.Log(time.Since(start), err != nil, o)
	hist := map[int][2]int{}
	for _, c := range sb.Journal() {
		s := int(c.Time.Sub(start) / (time.Second))
		v := hist[s]
		if c.Outcome == "ok" { v[0]++ } else { v[1]++ }
		hist[s] = v
	}
	line := ""
	for s := 0; s < 40; s++ { if v, ok := hist[s]; ok { line += fmt.Sprintf(" %d:%d/%d", s, v[0], v[1]) } }
	t.Log(line)
}
