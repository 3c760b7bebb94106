package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/credguard/credguard/internal/sweep"
)

// Progress modes of `credguard scan --progress` (a contract).
const (
	progressAuto   = "auto"   // only when stderr is a terminal
	progressAlways = "always" // on a terminal in place, else a line at each tenth
	progressNever  = "never"
)

// progressMeter shows a scan's progress on stderr: scopes done of the total,
// findings so far, elapsed time and ETA. On a terminal it rewrites one line
// in place after every scope; elsewhere it writes one line each time another
// tenth of the scopes is done. Its method is called one scope at a time
// (sweep.Config.Progress).
type progressMeter struct {
	w        io.Writer
	tty      bool
	total    int
	done     int
	findings int
	errors   int
	tenths   int // tenths already written (non-terminal)
	start    time.Time
	now      func() time.Time
}

// newProgressMeter returns the meter for mode, or nil when nothing is shown.
func newProgressMeter(mode string, w io.Writer, total int, now func() time.Time) *progressMeter {
	tty := isTerminal(w)
	if mode == progressNever || (mode == progressAuto && !tty) || total == 0 {
		return nil
	}
	return &progressMeter{w: w, tty: tty, total: total, start: now(), now: now}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update counts one scope's end (a start changes nothing shown).
func (m *progressMeter) update(p sweep.Progress) {
	if !p.Done {
		return
	}
	m.done++
	m.findings += p.Findings
	m.errors += len(p.Errors)
	if m.tty {
		fmt.Fprintf(m.w, "\r\x1b[K%s", m.line())
		if m.done == m.total {
			fmt.Fprintln(m.w)
		}
		return
	}
	if tenths := m.done * 10 / m.total; tenths > m.tenths {
		m.tenths = tenths
		fmt.Fprintln(m.w, m.line())
	}
}

// line is "scan: 12/40 scopes (30%) · 5 findings · elapsed 3.1s · ETA 7.2s".
func (m *progressMeter) line() string {
	elapsed := m.now().Sub(m.start)
	eta := time.Duration(0)
	if m.done > 0 {
		eta = time.Duration(float64(elapsed) / float64(m.done) * float64(m.total-m.done))
	}
	s := fmt.Sprintf("scan: %d/%d scopes (%d%%) · %s", m.done, m.total, m.done*100/m.total, scanCount(m.findings, "finding"))
	if m.errors > 0 {
		s += " · " + scanCount(m.errors, "error")
	}
	return s + " · elapsed " + roundDuration(elapsed) + " · ETA " + roundDuration(eta)
}

// roundDuration keeps a tenth of a second under a minute, whole seconds above.
func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
