// Package replay runs EventBridge events through the guardrails against a
// fresh local sandbox, exactly as the Lambdas would handle them, and reports
// what happened: per-resource outcomes, the notifications published, and the
// sandbox state afterwards.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/imdsguard"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/partition"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/trustguard"
)

// Guardrail handles one raw EventBridge event (the same interface the Lambdas adapt).
type Guardrail interface {
	Handle(ctx context.Context, raw []byte) ([]guardrail.Result, error)
}

// Input is one event file.
type Input struct {
	Name string // as given on the command line
	Data []byte
}

// Options tune a run.
type Options struct {
	DryRun bool
	// Log receives the guardrails' structured logs (nil: discarded).
	Log io.Writer
	// HubRegion is where the hub's functions and topic live (default us-east-1).
	HubRegion string
	// ExemptRoleARNs and ExemptInstanceIDs are the guardrails' configured allow-lists.
	ExemptRoleARNs    []string
	ExemptInstanceIDs []string
	// OrganizationID, when set, runs the guardrails in organization mode
	// (member roles with Credguard's own trust are recognised).
	OrganizationID string
	// IMDSScope is the imdsScope option ("" means all).
	IMDSScope string
}

// Result is one line of the report (a contract: replay --json).
type Result struct {
	Event     string          `json:"event"`
	Guardrail guardrail.Name  `json:"guardrail"`
	Resource  string          `json:"resource"`
	Outcome   outcome.Outcome `json:"outcome"`
	Detail    string          `json:"detail"`

	Full guardrail.Result `json:"-"` // everything the guardrail reported
	// Summary says in one line what the event was (event.Describe); empty
	// when it could not be decoded.
	Summary string `json:"-"`
}

// Notification is one message published to SNS during the run.
type Notification struct {
	Topic   string          `json:"topic"`
	Message json.RawMessage `json:"message"` // the published message, parsed (a JSON string when it is not JSON)

	Event string `json:"-"` // the event file that caused it
}

// Report is the whole outcome of a run (replay --json prints it).
type Report struct {
	Results       []Result         `json:"results"`
	Notifications []Notification   `json:"notifications"`
	State         *sandbox.Fixture `json:"state"`
	Journal       []sandbox.Call   `json:"-"`
	Events        int              `json:"-"`
}

// Failed counts failed results.
func (r Report) Failed() int {
	return r.count(func(o outcome.Outcome) bool { return o == outcome.Failed })
}

// Changed counts resources that were modified.
func (r Report) Changed() int { return r.count(outcome.Outcome.Changed) }

func (r Report) count(f func(outcome.Outcome) bool) int {
	n := 0
	for _, res := range r.Results {
		if f(res.Outcome) {
			n++
		}
	}
	return n
}

// Run starts a sandbox seeded from fixture, runs each input in order through
// the guardrail whose rule matches it, and reports.
func Run(ctx context.Context, fixture *sandbox.Fixture, inputs []Input, o Options) (Report, error) {
	sb, err := sandbox.Serve(fixture)
	if err != nil {
		return Report{}, fmt.Errorf("sandbox: %w", err)
	}
	defer sb.Close()
	return RunAgainst(ctx, sb, fixture.HubAccount, inputs, o)
}

// RunAgainst runs the inputs against an already started sandbox.
func RunAgainst(ctx context.Context, sb *sandbox.Server, hub string, inputs []Input, o Options) (Report, error) {
	region := o.HubRegion
	if region == "" {
		region = "us-east-1"
	}
	cfg, err := sb.AWSConfig(ctx, hub, region)
	if err != nil {
		return Report{}, fmt.Errorf("sandbox config: %w", err)
	}
	cfg.Retryer = accounts.Retryer
	logOut := o.Log
	if logOut == nil {
		logOut = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	s := Settings(hub, region, o.DryRun)
	s.ExemptRoleARNs, s.ExemptInstanceIDs = o.ExemptRoleARNs, o.ExemptInstanceIDs
	s.OrganizationID = o.OrganizationID
	if o.IMDSScope != "" {
		s.IMDSScope = o.IMDSScope
	}
	guardrails := map[guardrail.Name]Guardrail{
		guardrail.IMDS:  imdsguard.FromConfig(cfg, s, log.With("function", ids.FnIMDSEnforcer), nil),
		guardrail.Trust: trustguard.FromConfig(cfg, s, log.With("function", ids.FnTrustGuard), nil),
	}

	rep := Report{Results: []Result{}, Notifications: []Notification{}, Events: len(inputs)}
	seen := 0
	for _, in := range inputs {
		name := guardrail.None
		var results []guardrail.Result
		e, decodeErr := event.Decode(in.Data)
		if decodeErr == nil {
			name = guardrail.Name(e.Kind.Guardrail())
		}
		if g, ok := guardrails[name]; ok {
			// A failed result is reported, not returned: the run goes on.
			results, _ = g.Handle(ctx, in.Data)
		} else {
			detail := "no guardrail handles this event"
			if decodeErr != nil {
				detail = decodeErr.Error()
			}
			results = []guardrail.Result{{Guardrail: guardrail.None, Account: e.Account, Region: e.Region, Outcome: outcome.Ignored, Detail: detail}}
		}
		summary := ""
		if decodeErr == nil {
			summary = event.Describe(e)
		}
		for _, r := range results {
			rep.Results = append(rep.Results, Result{Event: in.Name, Guardrail: r.Guardrail, Resource: r.Resource, Outcome: r.Outcome, Detail: r.Detail, Full: r, Summary: summary})
		}
		notes := sb.Notifications()
		for _, n := range notes[seen:] {
			msg := json.RawMessage(n.Message)
			if !json.Valid(msg) {
				msg, _ = json.Marshal(n.Message)
			}
			rep.Notifications = append(rep.Notifications, Notification{Topic: n.TopicARN, Message: msg, Event: in.Name})
		}
		seen = len(notes)
	}
	rep.State = sb.State()
	rep.Journal = sb.Journal()
	return rep, nil
}

// Settings are the function settings replay gives both guardrails: the hub's
// topic, the default member roles (ids.IMDSRoleName, TrustRoleName),
// and the hub function roles as "self", every ARN in region's partition.
func Settings(hub, region string, dryRun bool) settings.Settings {
	return settings.Settings{
		TopicARN:     partition.ARN("sns", region, hub, ids.TopicName),
		HubAccount:   hub,
		DryRun:       dryRun,
		SelfRoleARNs: settings.SelfRoleARNs(region, hub),
	}.WithDefaultRoles()
}
