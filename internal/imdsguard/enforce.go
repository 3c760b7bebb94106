package imdsguard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// enforce is plan → write → confirm: describe and decide (plan), modify what
// is due and retry what EC2 could not act on yet (write, then settle), and
// wait for the new options to apply (confirm). It returns one result per id,
// in order.
func (h *Handler) enforce(ctx context.Context, client EC2, e event.Event, ids []string) []guardrail.Result {
	p, results := h.plan(ctx, client, e, ids)
	if len(p.jobs) == 0 && len(p.later) == 0 {
		return results
	}
	// Writes stop Reserve before the deadline so that what was done is
	// still confirmed and announced within the invocation.
	wctx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, d.Add(-h.cfg.Reserve))
		defer cancel()
	}
	pending := h.write(wctx, client, e, p, results)
	if len(p.later) > 0 {
		pending = append(pending, h.settle(wctx, client, e, p.later, p.launched, p.policy, results, p.index)...)
	}
	h.confirm(ctx, client, pending, p.index, results)
	return results
}

// job is one instance whose write is due: results[i] is its result.
type job struct {
	i    int
	inst imds.Instance
}

// plan is what the first describe decided.
type plan struct {
	describedAt time.Time
	policy      imds.Policy
	launched    bool           // see justLaunched
	index       map[string]int // id → position in the results
	jobs        []job          // the writes due, in id order
	// later lists the ids to retry after the first pass (see settle), with
	// whether ModifyInstanceMetadataOptions refused them as not running.
	later map[string]bool
}

// plan describes the instances and decides on each. The results hold the
// decisions; a due write is reported remediated until the write says otherwise.
func (h *Handler) plan(ctx context.Context, client EC2, e event.Event, ids []string) (plan, []guardrail.Result) {
	p := plan{describedAt: h.now(), policy: h.policy(), launched: h.justLaunched(e), index: map[string]int{}, later: map[string]bool{}}
	found, gone, err := describeAll(ctx, client, ids, h.cfg.DescribeBatch)
	results := make([]guardrail.Result, len(ids))
	if err != nil {
		for i, id := range ids {
			results[i] = h.result(e, id, "", outcome.Failed, fmt.Sprintf("describe: %v", err))
		}
		return plan{}, results
	}
	for i, id := range ids {
		p.index[id] = i
		inst, ok := found[id]
		if !ok && p.launched && gone[id] != malformedID {
			p.later[id] = false
			results[i] = h.result(e, id, "", outcome.Failed, notVisibleDetail)
			continue
		}
		if !ok {
			detail := "instance not found"
			if gone[id] == "" {
				detail = "instance not returned by DescribeInstances"
			}
			results[i] = h.result(e, id, "", outcome.Gone, detail)
			continue
		}
		d := imds.Decide(inst, p.policy)
		results[i] = h.decided(e, inst, d)
		if d.Modify {
			p.jobs = append(p.jobs, job{i, inst})
		}
	}
	return p, results
}

// write makes the plan's writes, Concurrency at a time (the SDK's retryer
// absorbs throttling). It fills each job's result (by index) and returns the
// ids modified; those EC2 refused for now join p.later.
func (h *Handler) write(ctx context.Context, client EC2, e event.Event, p plan, results []guardrail.Result) []string {
	rc := &recheck{checked: make([]time.Time, len(p.jobs)), done: make([]bool, len(p.jobs)), skip: make([]bool, len(p.jobs))}
	for j := range rc.checked {
		rc.checked[j] = p.describedAt
	}
	modified := make([]bool, len(p.jobs))
	refused := make([]modifyRefusal, len(p.jobs))
	var g errgroup.Group
	g.SetLimit(h.cfg.Concurrency)
	for j := range p.jobs {
		g.Go(func() error {
			if !h.stillDue(ctx, client, e, p, rc, j, results) {
				return nil
			}
			jb := p.jobs[j]
			if ctx.Err() != nil {
				results[jb.i].Outcome, results[jb.i].Detail = outcome.Failed,
					"not modified: the invocation ran out of time before this instance's turn; the event will be retried"
				return nil
			}
			o, detail, refusal := modify(ctx, client, jb.inst.ID, p.launched)
			switch {
			case refusal != 0:
				refused[j] = refusal
			case o != "":
				results[jb.i].Outcome, results[jb.i].Detail = o, detail
			default:
				modified[j] = true
			}
			return nil
		})
	}
	_ = g.Wait() // the jobs report through results, never an error

	var pending []string
	for j, jb := range p.jobs {
		switch {
		case modified[j]:
			pending = append(pending, jb.inst.ID)
		case refused[j] != 0:
			p.later[jb.inst.ID] = refused[j] == refusedState
		}
	}
	return pending
}

// recheck is the write step's record of how fresh each job's description
// is. Its fields are guarded by mu.
type recheck struct {
	mu      sync.Mutex
	checked []time.Time // when each job's instance was last described
	done    []bool      // the job has passed stillDue (its write may be in flight)
	skip    []bool      // a fresh description showed no write is due any more
}

// stillDue reports whether job j's write is still due. Another event (the
// state-change notification of an instance a RunInstances event lists, or
// the other way round) may have fixed the instance since it was described:
// when j's description is older than recheckAfter, j and the following jobs
// not yet started (Concurrency in all) are described again, and those no
// longer due are decided afresh and skipped. If that look fails, the writes
// go ahead on the first description.
func (h *Handler) stillDue(ctx context.Context, client EC2, e event.Event, p plan, rc *recheck, j int, results []guardrail.Result) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.done[j] = true
	if rc.skip[j] {
		return false
	}
	if h.now().Sub(rc.checked[j]) <= recheckAfter || ctx.Err() != nil {
		return true
	}
	var next []int
	for k := j; k < len(p.jobs) && len(next) < h.cfg.Concurrency; k++ {
		if k == j || !rc.done[k] {
			next = append(next, k)
		}
	}
	again := make([]string, len(next))
	for n, k := range next {
		again[n] = p.jobs[k].inst.ID
	}
	fresh, _, err := describeAll(ctx, client, again, h.cfg.DescribeBatch)
	if err != nil {
		return true
	}
	now := h.now()
	for _, k := range next {
		rc.checked[k] = now
		if inst, ok := fresh[p.jobs[k].inst.ID]; ok {
			if d := imds.Decide(inst, p.policy); !d.Modify {
				results[p.jobs[k].i] = h.decided(e, inst, d)
				rc.skip[k] = true
			}
		}
	}
	return !rc.skip[j]
}

// confirm waits for the written options to apply and fails the instances
// whose options were not confirmed.
func (h *Handler) confirm(ctx context.Context, client EC2, pending []string, index map[string]int, results []guardrail.Result) {
	notApplied, err := h.waitApplied(ctx, client, pending)
	for _, id := range notApplied {
		i := index[id]
		detail := "metadata options still pending when the wait ended"
		if err != nil {
			detail = fmt.Sprintf("could not confirm the new options: %v", err)
		}
		results[i].Outcome, results[i].Detail = outcome.Failed, detail
	}
}
