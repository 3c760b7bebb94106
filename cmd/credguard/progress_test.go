package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/sweep"
)

func TestProgressMeter(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var buf bytes.Buffer
	if m := newProgressMeter(progressAuto, &buf, 40, now); m != nil {
		t.Error("auto shows progress on a writer that is not a terminal")
	}
	if m := newProgressMeter(progressNever, &buf, 40, now); m != nil {
		t.Error("never shows progress")
	}
	m := newProgressMeter(progressAlways, &buf, 25, now)
	for i := range 25 {
		clock = clock.Add(time.Second)
		m.update(sweep.Progress{Account: "111122223333"}) // a start shows nothing
		p := sweep.Progress{Account: "111122223333", Done: true, Findings: i % 2}
		if i == 3 {
			p.Errors = []sweep.ScopeError{{}}
		}
		m.update(p)
	}
	want := []string{
		"scan: 3/25 scopes (12%) · 1 finding · elapsed 3s · ETA 22s",
		"scan: 5/25 scopes (20%) · 2 findings · 1 error · elapsed 5s · ETA 20s",
		"scan: 8/25 scopes (32%) · 4 findings · 1 error · elapsed 8s · ETA 17s",
		"scan: 10/25 scopes (40%) · 5 findings · 1 error · elapsed 10s · ETA 15s",
		"scan: 13/25 scopes (52%) · 6 findings · 1 error · elapsed 13s · ETA 12s",
		"scan: 15/25 scopes (60%) · 7 findings · 1 error · elapsed 15s · ETA 10s",
		"scan: 18/25 scopes (72%) · 9 findings · 1 error · elapsed 18s · ETA 7s",
		"scan: 20/25 scopes (80%) · 10 findings · 1 error · elapsed 20s · ETA 5s",
		"scan: 23/25 scopes (92%) · 11 findings · 1 error · elapsed 23s · ETA 2s",
		"scan: 25/25 scopes (100%) · 12 findings · 1 error · elapsed 25s · ETA 0s",
	}
	if got := strings.TrimSpace(buf.String()); got != strings.Join(want, "\n") {
		t.Errorf("lines at each tenth:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	// On a terminal: one line rewritten in place after every scope.
	buf.Reset()
	m = &progressMeter{w: &buf, tty: true, total: 2, start: clock, now: now}
	m.update(sweep.Progress{Done: true, Findings: 1})
	m.update(sweep.Progress{Done: true})
	if got := buf.String(); got != "\r\x1b[Kscan: 1/2 scopes (50%) · 1 finding · elapsed 0s · ETA 0s\r\x1b[Kscan: 2/2 scopes (100%) · 1 finding · elapsed 0s · ETA 0s\n" {
		t.Errorf("in place: %q", got)
	}
}

func TestScanProgressFlag(t *testing.T) {
	code, _, errOut := runCLI("scan", "--progress", "sometimes")
	if code != 2 || !strings.Contains(errOut, `--progress "sometimes": want auto, always or never`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
