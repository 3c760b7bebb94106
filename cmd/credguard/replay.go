package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/slack"
)

const replayUsage = `usage: credguard replay --fixture F.json [--json] [--dry-run] [--log FILE] EVENT.json...

Starts a fresh sandbox seeded from F.json, runs each event (in order) through
the guardrail whose rule matches it, and reports what happened.
Exit 0 when nothing failed, 1 when any outcome is "failed", 2 for a bad fixture or usage.
`

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, replayUsage) }
	fixturePath := fs.String("fixture", "", "sandbox fixture (JSON)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	dryRun := fs.Bool("dry-run", false, "decide but write nothing")
	logPath := fs.String("log", "", "write the guardrails' JSON logs to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *fixturePath == "" || fs.NArg() == 0 {
		fmt.Fprint(stderr, "credguard replay: --fixture and at least one event file are required\n"+replayUsage)
		return 2
	}
	fixture, err := sandbox.LoadFixture(*fixturePath)
	if err != nil {
		fmt.Fprintf(stderr, "credguard replay: %v\n", err)
		return 2
	}
	var inputs []replay.Input
	for _, name := range fs.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "credguard replay: %v\n", err)
			return 2
		}
		inputs = append(inputs, replay.Input{Name: name, Data: data})
	}
	opts := replay.Options{DryRun: *dryRun}
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintf(stderr, "credguard replay: %v\n", err)
			return 2
		}
		defer f.Close()
		opts.Log = f
	}
	rep, err := replay.Run(context.Background(), fixture, inputs, opts)
	if err != nil {
		fmt.Fprintf(stderr, "credguard replay: %v\n", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "credguard replay: %v\n", err)
			return 2
		}
	} else {
		printReport(stdout, rep, "replay")
	}
	if rep.Failed() > 0 {
		return 1
	}
	return 0
}

// printReport writes the readable report: a line per resource, each
// notification as Slack would show it, and a closing summary line.
func printReport(w io.Writer, rep replay.Report, label string) {
	byEvent := map[string][]replay.Notification{}
	for _, n := range rep.Notifications {
		byEvent[n.Event] = append(byEvent[n.Event], n)
	}
	last := ""
	for i, r := range rep.Results {
		if r.Event != last {
			if last != "" {
				printNotifications(w, byEvent[last])
			}
			fmt.Fprintf(w, "\n%s\n", r.Event)
			if r.Summary != "" {
				fmt.Fprintf(w, "  %s\n", r.Summary)
			}
			last = r.Event
		}
		fmt.Fprintf(w, "  %s\n", resultLine(r.Full))
		if i == len(rep.Results)-1 {
			printNotifications(w, byEvent[last])
		}
	}
	fmt.Fprintf(w, "\n%s: %d events, %d resources changed, %d notifications, %d failed\n",
		label, rep.Events, rep.Changed(), len(rep.Notifications), rep.Failed())
}

func resultLine(r guardrail.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-11s", r.Guardrail, r.Outcome)
	res := r.Resource
	if res == "" {
		res = "-"
	}
	b.WriteString(" " + res)
	if r.Name != "" && !strings.HasSuffix(res, "/"+r.Name) {
		fmt.Fprintf(&b, " (%s)", r.Name)
	}
	if r.Account != "" {
		fmt.Fprintf(&b, " in %s/%s", r.Account, r.Region)
	}
	if r.Detail != "" {
		b.WriteString(": " + firstLine(r.Detail))
	}
	if c := r.IMDS; c.Changes() {
		fmt.Fprintf(&b, "\n        %s → %s", c.Before, c.After)
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func printNotifications(w io.Writer, notes []replay.Notification) {
	for _, n := range notes {
		text := string(n.Message)
		if m, err := notify.Parse(n.Message); err == nil {
			text = slack.RenderBlocksText(slack.FromMessage(m).Blocks)
		}
		fmt.Fprintf(w, "  ┌─ Slack (via %s)\n", n.Topic)
		for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			fmt.Fprintf(w, "  │ %s\n", line)
		}
		fmt.Fprintln(w, "  └─")
	}
}
