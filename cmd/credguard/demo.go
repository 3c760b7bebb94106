package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/replay"
)

// runDemo replays every sample event in events/ against the demo fixture and
// prints the readable report (the files are embedded in the binary, so the
// demo needs nothing but the build).
func runDemo(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: credguard demo")
		return 2
	}
	fixture, err := loadDemoFixture()
	if err != nil {
		fmt.Fprintf(stderr, "credguard demo: %s: %v\n", demoFixture, err)
		return 2
	}
	names, err := fs.Glob(events.Files, "*.json")
	if err != nil {
		fmt.Fprintf(stderr, "credguard demo: %v\n", err)
		return 2
	}
	sort.Strings(names)
	var inputs []replay.Input
	for _, n := range names {
		b, err := fs.ReadFile(events.Files, n)
		if err != nil {
			fmt.Fprintf(stderr, "credguard demo: %v\n", err)
			return 2
		}
		inputs = append(inputs, replay.Input{Name: path.Join("events", n), Data: b})
	}
	fmt.Fprintf(stdout, "Credguard demo: %d sample events against a local AWS sandbox (fixture events/fixtures/demo.json)\n", len(inputs))
	rep, err := replay.Run(context.Background(), fixture, inputs, replay.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "credguard demo: %v\n", err)
		return 2
	}
	printReport(stdout, rep, "demo")
	if rep.Failed() > 0 {
		return 1
	}
	return 0
}
