// Package rie runs a function's real bootstrap binary under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie), so tests invoke it over HTTP
// exactly as Lambda would, through the real runtime API.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Emulator is one running aws-lambda-rie process hosting one bootstrap.
type Emulator struct {
	cmd    *exec.Cmd
	addr   string
	output *syncBuffer
	done   chan struct{}
}

// Start runs rieBin hosting bootstrap with env (added to a minimal
// environment) and waits until the emulator accepts connections. Both the
// invoke endpoint and the runtime API the bootstrap polls listen on free
// loopback ports (the emulator's default runtime API port, 9001, would
// collide between emulators running at once).
func Start(ctx context.Context, rieBin, bootstrap string, env []string) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cmd := exec.Command(rieBin,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", rieBin, err)
	}
	e := &Emulator{cmd: cmd, addr: addr, output: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("aws-lambda-rie exited: %s", out.String())
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, errors.New("aws-lambda-rie did not listen within 10s")
		}
	}
}

// Invoke posts payload to the function and returns its response body.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	url := "http://" + e.addr + "/2015-03-31/functions/function/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// Output is what the emulator and the function printed so far.
func (e *Emulator) Output() string { return e.output.String() }

// WaitOutput reports whether the output contains s within d. The function's
// output reaches the emulator's pipe asynchronously, so a line logged just
// before an invocation returned may arrive just after it.
func (e *Emulator) WaitOutput(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if strings.Contains(e.Output(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends the emulator and the function.
func (e *Emulator) Stop() {
	if e.cmd.Process != nil {
		_ = e.cmd.Process.Kill()
	}
	<-e.done
}

// syncBuffer collects the process's output; the process writes while tests read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePorts returns n distinct loopback ports free at the time of the call.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close() // held until all are chosen, so they differ
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
