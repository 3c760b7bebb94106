package imdsguard

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// notVisibleDetail is the provisional result of a just-launched instance
// DescribeInstances does not show yet.
const notVisibleDetail = "EC2 does not show the just-launched instance yet (InvalidInstanceID.NotFound)"

// policy is the pure decision's configuration.
func (h *Handler) policy() imds.Policy {
	return imds.Policy{DryRun: h.cfg.DryRun, ExemptIDs: h.exempt, Scope: h.cfg.Scope}
}

// justLaunched reports whether the event announces instances launched
// recently enough that EC2 answering InvalidInstanceID.NotFound means "not
// visible yet" (eventual consistency) rather than "gone". An event without a
// time counts as recent.
func (h *Handler) justLaunched(e event.Event) bool {
	if !e.Launch() {
		return false
	}
	return e.Time.IsZero() || h.now().Sub(e.Time) < h.cfg.LaunchRecent
}

// settle retries, with backoff, the instances EC2 could not act on in the
// first pass, until each is decided or written or the wait ends (LaunchWait,
// or ctx's deadline: the writes' deadline, Reserve before the invocation's).
// waiting maps each id to whether ModifyInstanceMetadataOptions refused it
// with IncorrectInstanceState; the others were not found. Each round
// describes the instances still waiting:
//   - not found: still waiting if launched (a launch event), else gone;
//   - terminated or shutting-down: gone;
//   - pending or stopping after a refusal: still waiting for it to run;
//   - otherwise decided afresh (it may be compliant or exempt by now) and,
//     when a write is due, modified; a new refusal keeps it waiting.
//
// It fills results (by index) and returns the ids it modified. The ids
// still waiting at the end are failed, so that SQS delivers the event again:
// a just-launched instance is never reported gone because EC2 does not show
// it yet, nor a pending one because EC2 refused to modify it.
func (h *Handler) settle(ctx context.Context, client EC2, e event.Event, waiting map[string]bool, launched bool,
	policy imds.Policy, results []guardrail.Result, index map[string]int) []string {
	start := h.now()
	deadline := start.Add(h.cfg.LaunchWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var modified []string
	var lastErr error
	lastState := map[string]string{} // what the last describe said of a refused instance
	interval := h.cfg.RetryInterval
	for len(waiting) > 0 && !h.now().Add(interval).After(deadline) {
		if h.sleep(ctx, interval) != nil {
			break
		}
		interval = min(interval*2, h.cfg.MaxPollInterval)
		ids := make([]string, 0, len(waiting))
		for id := range waiting {
			ids = append(ids, id)
		}
		found, gone, err := describeAll(ctx, client, ids, h.cfg.DescribeBatch)
		if err != nil {
			lastErr = err // throttling or a 5xx the SDK gave up on: try again next round
			continue
		}
		lastErr = nil
		var due []imds.Instance
		for _, id := range ids {
			i := index[id]
			inst, ok := found[id]
			switch {
			case !ok && launched && gone[id] != malformedID:
				// still not visible (not found, or left out of the answer)
			case !ok:
				results[i] = h.result(e, id, "", outcome.Gone, "instance not found")
				delete(waiting, id)
			case waiting[id] && (inst.State == "pending" || inst.State == "stopping"):
				lastState[id] = inst.State // refused while pending: wait for it to run
			default:
				lastState[id] = inst.State
				d := imds.Decide(inst, policy)
				results[i] = h.decided(e, inst, d)
				if d.Modify {
					due = append(due, inst)
				} else {
					delete(waiting, id)
				}
			}
		}
		for k, o := range h.modifyAll(ctx, client, due, launched) {
			id := due[k].ID
			switch {
			case o.refusal == refusedState:
				waiting[id] = true
			case o.refusal == refusedNotFound:
				waiting[id] = false
			case o.outcome != "":
				results[index[id]].Outcome, results[index[id]].Detail = o.outcome, o.detail
				delete(waiting, id)
			default:
				modified = append(modified, id)
				delete(waiting, id)
			}
		}
	}
	waited := h.now().Sub(start).Round(100 * time.Millisecond)
	for id, refusedWhilePending := range waiting {
		i := index[id]
		detail := fmt.Sprintf("%s after %s; the event will be retried", notVisibleDetail, waited)
		if refusedWhilePending {
			state := lastState[id]
			if state == "" {
				state = "pending"
			}
			detail = fmt.Sprintf("ModifyInstanceMetadataOptions answered IncorrectInstanceState; the instance was still %s after %s; the event will be retried", state, waited)
		}
		if lastErr != nil {
			detail += fmt.Sprintf(" (last describe: %v)", lastErr)
		}
		results[i].Outcome, results[i].Detail = outcome.Failed, detail
	}
	return modified
}

// modifyResult is what modify answered for one instance.
type modifyResult struct {
	outcome outcome.Outcome
	detail  string
	refusal modifyRefusal
}

// modifyAll modifies the instances, Concurrency at a time, and returns what
// each call answered, in order.
func (h *Handler) modifyAll(ctx context.Context, client EC2, insts []imds.Instance, launched bool) []modifyResult {
	out := make([]modifyResult, len(insts))
	var g errgroup.Group
	g.SetLimit(h.cfg.Concurrency)
	for k, inst := range insts {
		g.Go(func() error {
			o, d, r := modify(ctx, client, inst.ID, launched)
			out[k] = modifyResult{o, d, r}
			return nil
		})
	}
	_ = g.Wait() // each call reports through out, never an error
	return out
}
