package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
)

// latencyEverywhere injects d before every operation the IMDS guardrail (and
// its credential provider and publisher) can call.
func latencyEverywhere(d time.Duration) map[string]int {
	ms := int(d / time.Millisecond)
	return map[string]int{
		"ec2:DescribeInstances": ms, "ec2:ModifyInstanceMetadataOptions": ms,
		"sts:AssumeRole": ms, "sts:GetCallerIdentity": ms, "sns:Publish": ms,
	}
}

// BenchmarkRoundTrips measures, with the same latency injected on every AWS
// operation, how many calls the handler makes and how long it takes before
// ModifyInstanceMetadataOptions reaches the wire for a single-instance
// event, once the handler is warm (a first event for the same account and
// region has cached the member role's credentials and the client).
func BenchmarkRoundTrips(b *testing.B) {
	const latency = 50 * time.Millisecond
	cases := []struct {
		name            string
		account, region string
		target          string // the demo instance the measured event names
		warm            string // a fleet instance for the warm-up event
	}{
		{"hub", Hub, HubRegion, "i-0aaa0000000000001", InstanceIDs("0ddd", 1)[0]},
		{"cross-account", Member, MemberRegion, "i-0bbb0000000000001", InstanceIDs("0ddd", 1)[0]},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var before, toModify, rounds float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				sb, err := FleetSandbox(tc.account, tc.region, []string{tc.warm}, &sandbox.Faults{LatencyMs: latencyEverywhere(latency)})
				if err != nil {
					b.Fatal(err)
				}
				wire, err := NewWire(sb)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				cfg, err := HubConfig(ctx, sb, RetryProduction)
				if err != nil {
					b.Fatal(err)
				}
				cfg.BaseEndpoint = aws.String(wire.URL())
				h := IMDSGuardrail(cfg)
				warm, err := StateChangeEvent(tc.account, tc.region, tc.warm)
				if err != nil {
					b.Fatal(err)
				}
				if res, err := h.Handle(ctx, warm); err != nil || len(res) != 1 || res[0].Outcome != outcome.Remediated {
					b.Fatalf("warm-up: %+v, %v", res, err)
				}
				ev, err := StateChangeEvent(tc.account, tc.region, tc.target)
				if err != nil {
					b.Fatal(err)
				}

				b.StartTimer()
				start := time.Now()
				res, err := h.Handle(ctx, ev)
				b.StopTimer()

				if err != nil || len(res) != 1 || res[0].Outcome != outcome.Remediated {
					b.Fatalf("measured event: %+v, %v", res, err)
				}
				arrivals := wire.Since(start)
				calls := -1
				for k, a := range arrivals {
					if a.Action == ModifyOp {
						calls = k
						toModify += float64(a.Time.Sub(start)) / float64(time.Millisecond)
						rounds += float64(a.Time.Sub(start)) / float64(latency)
						break
					}
				}
				if calls < 0 {
					b.Fatalf("no %s reached the wire", ModifyOp)
				}
				if calls > 2 {
					b.Errorf("%d calls before %s, want at most 2", calls, ModifyOp)
				}
				before += float64(calls)
				wire.Close()
				sb.Close()
			}
			n := float64(b.N)
			b.ReportMetric(before/n, "calls-before-modify")
			b.ReportMetric(toModify/n, "ms-to-modify")
			b.ReportMetric(rounds/n, "latencies-to-modify")
			b.ReportMetric(float64(latency/time.Millisecond), "latency-ms")
		})
	}
}

// BenchmarkRunInstances1000 handles one RunInstances event listing 1,000
// instances against a token bucket on ModifyInstanceMetadataOptions (burst
// 50, refill 100/s). The bound is the bucket's: (1000-50)/100 = 9.5 s.
// retry=adaptive is the production configuration; retry=standard is the
// same handler with the SDK's standard retry mode, for comparison.
func BenchmarkRunInstances1000(b *testing.B) {
	for _, mode := range []string{RetryProduction, RetryStandard} {
		b.Run("retry="+mode, func(b *testing.B) { runInstances1000(b, mode) })
	}
}

func runInstances1000(b *testing.B, retryMode string) {
	const (
		n     = 1000
		burst = 50
		rate  = 100.0
	)
	bound := BucketBound(n, burst, rate)
	ids := InstanceIDs("0eee", n)
	ev, err := RunInstancesEvent("run-instances-1000", ids)
	if err != nil {
		b.Fatal(err)
	}
	var elapsed, calls, throttled float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sb, err := FleetSandbox(Hub, HubRegion, ids, &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
			"ec2:ModifyInstanceMetadataOptions": {Burst: burst, RatePerSecond: rate},
		}})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		cfg, err := HubConfig(ctx, sb, retryMode)
		if err != nil {
			b.Fatal(err)
		}
		h := IMDSGuardrail(cfg)

		b.StartTimer()
		start := time.Now()
		res, herr := h.Handle(ctx, ev)
		took := time.Since(start)
		b.StopTimer()

		outcomes := map[outcome.Outcome]int{}
		for _, r := range res {
			outcomes[r.Outcome]++
		}
		sum := Summarise(sb.Journal())
		if herr != nil || outcomes[outcome.Remediated] != n || len(sum.OKModify) != n || sum.Duplicates() != 0 {
			b.Fatalf("outcomes %v, %d instances modified (%d twice), error %v", outcomes, len(sum.OKModify), sum.Duplicates(), herr)
		}
		elapsed += took.Seconds()
		calls += float64(sum.Total)
		throttled += float64(sum.Throttled)
		sb.Close()
	}
	nb := float64(b.N)
	b.ReportMetric(elapsed/nb, "s/event")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(elapsed/nb/bound.Seconds(), "ratio")
	b.ReportMetric(calls/nb/n, "calls/instance")
	b.ReportMetric(throttled/nb, "throttled-calls")
}

// stormScale multiplies the refill rates of the EC2-shaped buckets: 10
// (default) runs the storm ten times faster than EC2's rates allow, 1 runs it
// at EC2's rates (about three minutes). CREDGUARD_BENCH_STORM_SCALE
// overrides it; CREDGUARD_BENCH_RETRY=standard swaps the retry mode.
func stormScale(b *testing.B) float64 {
	v := os.Getenv("CREDGUARD_BENCH_STORM_SCALE")
	if v == "" {
		return 10
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s <= 0 {
		b.Fatalf("CREDGUARD_BENCH_STORM_SCALE=%q: want a positive number", v)
	}
	return s
}

// runInstancesDelay is the RunInstances queue's delivery delay the storm
// uses: the deployed default (DeployedRunInstancesDelay), or
// CREDGUARD_BENCH_RUNINSTANCES_DELAY seconds, to try another value of the
// runInstancesDelaySeconds context key. It is not scaled with the refill
// rates: it is the deployed delay in real seconds.
func runInstancesDelay(b *testing.B) time.Duration {
	v := os.Getenv("CREDGUARD_BENCH_RUNINSTANCES_DELAY")
	if v == "" {
		return DeployedRunInstancesDelay
	}
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 || s > 900 {
		b.Fatalf("CREDGUARD_BENCH_RUNINSTANCES_DELAY=%q: want 0 to 900 seconds", v)
	}
	return time.Duration(s) * time.Second
}

// BenchmarkLaunchStorm launches 1,000 instances in ten groups of 100, one
// group a second: each instance's pending state-change notification arrives
// within its group's second (1,000 events in 10 s) and each group's
// RunInstances CloudTrail event is sent one second after the group. The
// kinds go to their own queues, each drained as the infrastructure
// configures it (batch size 10, at most 5 concurrent invocations, each in
// its own execution environment, 120 s per invocation); the RunInstances
// queue delays each message by its delivery delay, as deployed. EC2 is
// modelled with per-API token buckets shaped like EC2's (BENCHMARKS.md);
// the bound is the time the buckets need to admit the fewest calls the
// remediation requires.
//
// kinds=both,delay=<deployed> is the deployment; kinds=both,delay=0s is the
// same storm without the delay (the two kinds racing for the same
// instances, as before the RunInstances queue had one); and
// kinds=state-change-only leaves the RunInstances events out.
func BenchmarkLaunchStorm(b *testing.B) {
	type variant struct {
		name  string
		trail bool
		delay time.Duration
	}
	delay := runInstancesDelay(b)
	variants := []variant{{fmt.Sprintf("kinds=both,delay=%ds", int(delay/time.Second)), true, delay}}
	if delay > 0 {
		variants = append(variants, variant{"kinds=both,delay=0s", true, 0})
	}
	variants = append(variants, variant{"kinds=state-change-only", false, 0})
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) { launchStorm(b, v.trail, v.delay) })
	}
}

func launchStorm(b *testing.B, withTrail bool, trailDelay time.Duration) {
	const (
		groups   = 10
		perGroup = 100
		n        = groups * perGroup
		// EC2-shaped buckets (BENCHMARKS.md): mutating burst 200 refill 5/s,
		// non-mutating burst 100 refill 20/s; the refill rates are multiplied
		// by the scale.
		modifyBurst, modifyRate     = 200, 5.0
		describeBurst, describeRate = 100, 20.0
		cloudTrailLag               = time.Second
	)
	scale := stormScale(b)
	retryMode := os.Getenv("CREDGUARD_BENCH_RETRY")
	ids := InstanceIDs("0fff", n)
	type arrival struct {
		at    time.Duration
		body  []byte
		trail bool
	}
	var plan []arrival
	var lastState time.Duration
	for g := range groups {
		group := ids[g*perGroup : (g+1)*perGroup]
		for k, id := range group {
			body, err := StateChangeEvent(Hub, HubRegion, id)
			if err != nil {
				b.Fatal(err)
			}
			at := time.Duration(g)*time.Second + time.Duration(k)*time.Second/perGroup
			plan = append(plan, arrival{at: at, body: body})
			lastState = max(lastState, at)
		}
		if !withTrail {
			continue
		}
		body, err := RunInstancesEvent(fmt.Sprintf("run-instances-group-%d", g), group)
		if err != nil {
			b.Fatal(err)
		}
		plan = append(plan, arrival{at: time.Duration(g)*time.Second + cloudTrailLag, body: body, trail: true})
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].at < plan[j].at })
	// The fewest calls the remediation needs: one modify per instance and
	// one describe per state-change event before its modify (the
	// confirmation polls come on top), none before the last notification.
	bound := max(lastState,
		BucketBound(n, modifyBurst, modifyRate*scale),
		BucketBound(n, describeBurst, describeRate*scale))

	var elapsed, remediated, lastWrite, stateDone, trailDone float64
	var calls, describes, modifies, throttled, dups, redeliveries, dead, notes float64
	var stateFixed, trailFixed, trailCompliant, trailFailed, trailOther, trailRedeliveries, trailDead float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sb, err := FleetSandbox(Hub, HubRegion, ids, &sandbox.Faults{Throttle: map[string]sandbox.Throttle{
			"ec2:ModifyInstanceMetadataOptions": {Burst: modifyBurst, RatePerSecond: modifyRate * scale},
			"ec2:DescribeInstances":             {Burst: describeBurst, RatePerSecond: describeRate * scale},
		}})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		cfg, err := HubConfig(ctx, sb, retryMode)
		if err != nil {
			b.Fatal(err)
		}
		stateTally, trailTally := &Tally{}, &Tally{}
		stateQueue := NewDeployedSource(func() (Function, error) { return IMDSFunction(cfg, stateTally), nil })
		trailQueue := NewDeployedSource(func() (Function, error) { return IMDSFunction(cfg, trailTally), nil })
		trailQueue.Delay = trailDelay
		sources := []*EventSource{stateQueue, trailQueue}

		b.StartTimer()
		start := time.Now()
		for _, q := range sources {
			if err := q.Start(ctx); err != nil {
				b.Fatal(err)
			}
		}
		for _, a := range plan {
			if d := time.Until(start.Add(a.at)); d > 0 {
				time.Sleep(d)
			}
			if a.trail {
				trailQueue.Send(a.body)
			} else {
				stateQueue.Send(a.body)
			}
		}
		stats := make([]SourceStats, len(sources))
		errs := make([]error, len(sources))
		done := make([]time.Duration, len(sources))
		var wg sync.WaitGroup
		for k, q := range sources {
			q.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				stats[k], errs[k] = q.Wait()
				done[k] = time.Since(start)
			}()
		}
		wg.Wait()
		took := time.Since(start)
		b.StopTimer()

		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		sum := Summarise(sb.Journal())
		if missing := sum.Missing(ids); len(missing) > 0 {
			b.Fatalf("%d instances never remediated (first %s)", len(missing), missing[0])
		}
		for _, in := range sb.State().Accounts[Hub].Regions[HubRegion].Instances {
			if sum.OKModify[in.ID] > 0 && (in.MetadataOptions.HTTPTokens != "required" || in.MetadataOptions.HTTPPutResponseHopLimit != 1) {
				b.Fatalf("%s modified but its options are %+v", in.ID, in.MetadataOptions)
			}
		}
		elapsed += took.Seconds()
		remediated += sum.Remediated().Sub(start).Seconds()
		lastWrite += sum.LastWrite.Sub(start).Seconds()
		stateDone += done[0].Seconds()
		trailDone += done[1].Seconds()
		calls += float64(sum.Total)
		describes += float64(sum.ByOp["DescribeInstances"])
		modifies += float64(sum.ByOp[ModifyOp])
		throttled += float64(sum.Throttled)
		dups += float64(sum.Duplicates())
		notes += float64(len(sb.Notifications()))
		for _, s := range stats {
			redeliveries += float64(s.Redeliveries)
			dead += float64(s.DeadLettered)
		}
		trailRedeliveries += float64(stats[1].Redeliveries)
		trailDead += float64(stats[1].DeadLettered)
		so, to := stateTally.Outcomes(), trailTally.Outcomes()
		stateFixed += float64(so[outcome.Remediated])
		trailFixed += float64(to[outcome.Remediated])
		trailCompliant += float64(to[outcome.Compliant])
		trailFailed += float64(to[outcome.Failed])
		for k, v := range to {
			if k != outcome.Remediated && k != outcome.Compliant && k != outcome.Failed {
				trailOther += float64(v)
			}
		}
		sb.Close()
	}
	nb := float64(b.N)
	// ratio is the criterion: launch to the last instance
	// remediated, over the bucket bound. s/storm is until every queue is
	// drained, the delayed RunInstances pass included.
	b.ReportMetric(elapsed/nb, "s/storm")
	b.ReportMetric(remediated/nb, "s-to-all-remediated")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(remediated/nb/bound.Seconds(), "ratio")
	b.ReportMetric(lastWrite/nb, "s-to-last-write")
	b.ReportMetric(stateDone/nb, "s-state-change-queue-done")
	if withTrail {
		b.ReportMetric(trailDelay.Seconds(), "run-instances-delay-s")
		b.ReportMetric(trailDone/nb, "s-run-instances-queue-done")
		b.ReportMetric(trailFixed/nb, "run-instances-remediated")
		b.ReportMetric(trailCompliant/nb, "run-instances-compliant")
		b.ReportMetric(trailFailed/nb, "run-instances-failed")
		b.ReportMetric(trailOther/nb, "run-instances-other-outcomes")
		b.ReportMetric(trailRedeliveries/nb, "run-instances-redeliveries")
		b.ReportMetric(trailDead/nb, "run-instances-dead-lettered")
	}
	b.ReportMetric(stateFixed/nb, "state-change-remediated")
	b.ReportMetric(calls/nb/n, "calls/instance")
	b.ReportMetric(describes/nb/n, "describes/instance")
	b.ReportMetric(modifies/nb/n, "modify-attempts/instance")
	b.ReportMetric(throttled/nb, "throttled-calls")
	b.ReportMetric(dups/nb, "instances-modified-twice")
	b.ReportMetric(notes/nb, "notifications")
	b.ReportMetric(redeliveries/nb, "redeliveries")
	b.ReportMetric(dead/nb, "dead-lettered")
	b.ReportMetric(scale, "rate-scale")
}
