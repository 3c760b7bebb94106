// Command coldstart measures each function bootstrap's cold start beside the
// Python boto3 baseline, in one run with the runs interleaved, and reports
// medians, their ratio, peak memory and binary sizes (BENCHMARKS.md).
//
// A bootstrap is started with AWS_LAMBDA_RUNTIME_API pointing at a local
// runtime API that records when the first GET …/invocation/next arrives: the
// function is then initialised and ready for its first event. The runtime API
// answers with a sample event (handled against a local sandbox, reset before
// every run so each run does the same work), waits for the response, and
// ends the process; its peak RSS (getrusage of the child) covers
// initialisation and that first event. The baseline is timed the same way,
// from process start to ready: the line it prints once boto3 and its clients
// are set up (its peak RSS covers the whole process).
//
//	go run ./bench/coldstart -bin .bin/host -dist dist -python ../shared/bench/python_baseline.py -runs 20 -out bench/results/coldstart.txt
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
)

const (
	hub    = "111122223333"
	region = "us-east-1"
)

// firstEvent is the sample each function is given once ready ("" = none:
// the process is ended as soon as it is ready).
var firstEvent = map[string]string{
	ids.FnIMDSEnforcer: "ec2-state-change-pending.json",
	ids.FnTrustGuard:   "iam-create-role.json",
}

func main() {
	bin := flag.String("bin", ".bin/host", "directory of host bootstraps: <bin>/<function>/bootstrap")
	dist := flag.String("dist", "dist", "directory of the deployable (linux/arm64) bootstraps, for their sizes")
	python := flag.String("python", "", "the Python baseline script (skipped with a message when absent)")
	pythonBin := flag.String("python-bin", "/usr/bin/python3", "the interpreter for the baseline")
	runs := flag.Int("runs", 20, "runs per bootstrap and of the baseline")
	out := flag.String("out", "", "also write the report to this file")
	flag.Parse()
	if err := run(*bin, *dist, *python, *pythonBin, *runs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// sample is one measurement.
type sample struct {
	ready  time.Duration // process start → ready: the first GET next (bootstraps), the init_s line (baseline)
	maxRSS int64         // bytes
}

func run(bin, dist, python, pythonBin string, runs int, out string) error {
	if runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", runs)
	}
	bin, err := filepath.Abs(bin) // the bootstraps run in their own directory
	if err != nil {
		return err
	}
	functions, err := bootstraps(bin)
	if err != nil {
		return err
	}
	baseline := python != ""
	var skipped string
	if baseline {
		if _, err := os.Stat(python); err != nil {
			baseline, skipped = false, fmt.Sprintf("Python baseline skipped: %s not found", python)
		} else if err := exec.Command(pythonBin, "-c", "import boto3").Run(); err != nil {
			baseline, skipped = false, fmt.Sprintf("Python baseline skipped: %s cannot import boto3 (apt-get install -y python3-boto3)", pythonBin)
		}
	} else {
		skipped = "Python baseline skipped: no -python script given"
	}

	fixture, err := demoFixture()
	if err != nil {
		return err
	}
	sb, err := sandbox.Serve(fixture)
	if err != nil {
		return err
	}
	defer sb.Close()

	goSamples := map[string][]sample{}
	var pySamples []sample
	paired := map[string][]float64{} // per run: bootstrap ready / baseline time
	for i := range runs {
		// Alternate which side goes first so drift hits both.
		order := []string{"go", "python"}
		if i%2 == 1 {
			order = []string{"python", "go"}
		}
		var py sample
		got := map[string]sample{}
		for _, side := range order {
			if side == "python" {
				if !baseline {
					continue
				}
				s, err := measurePython(pythonBin, python)
				if err != nil {
					return fmt.Errorf("baseline run %d: %w", i+1, err)
				}
				py = s
				pySamples = append(pySamples, s)
				continue
			}
			for _, fn := range functions {
				sb.Reset()
				s, err := measureBootstrap(filepath.Join(bin, fn, "bootstrap"), fn, sb)
				if err != nil {
					return fmt.Errorf("%s run %d: %w", fn, i+1, err)
				}
				got[fn] = s
				goSamples[fn] = append(goSamples[fn], s)
			}
		}
		if baseline {
			for fn, s := range got {
				paired[fn] = append(paired[fn], float64(s.ready)/float64(py.ready))
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "cold start: %d runs each, interleaved; medians\n\n", runs)
	fmt.Fprintf(&b, "%-16s %12s %12s %12s %14s %12s %12s\n", "function", "ready ms", "p90 ms", "peak RSS MiB", "host size MB", "arm64 MB", "vs baseline")
	pyMedian := time.Duration(0)
	if baseline {
		pyMedian = median(durations(pySamples))
	}
	for _, fn := range functions {
		ss := goSamples[fn]
		ratio := "n/a"
		if baseline {
			ratio = fmt.Sprintf("%.3f", medianFloat(paired[fn]))
		}
		fmt.Fprintf(&b, "%-16s %12.1f %12.1f %12.1f %14s %12s %12s\n", fn,
			ms(median(durations(ss))), ms(percentile(durations(ss), 0.9)), mib(maxRSS(ss)),
			size(filepath.Join(bin, fn, "bootstrap")), size(filepath.Join(dist, fn, "bootstrap")), ratio)
	}
	if baseline {
		fmt.Fprintf(&b, "%-16s %12.1f %12.1f %12.1f\n", "python baseline", ms(pyMedian), ms(percentile(durations(pySamples), 0.9)), mib(maxRSS(pySamples)))
		fmt.Fprintf(&b, "\nvs baseline = median over runs of (bootstrap ready time / baseline ready time) in the same run.\n")
	} else {
		fmt.Fprintf(&b, "\n%s\n", skipped)
	}
	fmt.Fprintf(&b, "ready = process start to the first GET /2018-06-01/runtime/invocation/next; baseline = process start to its init_s line (boto3 and four clients set up).\n")
	fmt.Fprintf(&b, "peak RSS = the largest getrusage maxrss over the runs (bootstraps: initialisation plus one sample event where one is listed).\n")
	fmt.Print(b.String())
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// bootstraps lists the functions with a bootstrap under bin.
func bootstraps(bin string) ([]string, error) {
	entries, err := os.ReadDir(bin)
	if err != nil {
		return nil, fmt.Errorf("host bootstraps: %w (run `make build-host`)", err)
	}
	var fns []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(bin, e.Name(), "bootstrap")); err == nil {
			fns = append(fns, e.Name())
		}
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("no <function>/bootstrap under %s (run `make build-host`)", bin)
	}
	sort.Strings(fns)
	return fns, nil
}

func demoFixture() (*sandbox.Fixture, error) {
	data, err := fs.ReadFile(events.Files, "fixtures/demo.json")
	if err != nil {
		return nil, err
	}
	return sandbox.ParseFixture(data)
}

// runtimeAPI is a minimal Lambda runtime API for one process: it notes when
// the first next-invocation request arrives, hands out at most one event,
// and signals when the function answered it.
type runtimeAPI struct {
	event []byte

	mu       sync.Mutex
	ready    time.Time
	served   bool
	readyCh  chan struct{}
	answered chan string // "response" or "error: …"
}

func (api *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
		api.mu.Lock()
		first := api.ready.IsZero()
		if first {
			api.ready = time.Now()
			close(api.readyCh)
		}
		serve := api.event != nil && !api.served
		api.served = api.served || serve
		api.mu.Unlock()
		if !serve {
			<-r.Context().Done() // hold the request until the process is ended
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "coldstart-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:coldstart")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		w.Write(api.event)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/response"):
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		api.answered <- "response"
	case r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/error") || strings.HasSuffix(r.URL.Path, "/init/error")):
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		api.answered <- "error: " + string(body)
	default:
		http.NotFound(w, r)
	}
}

func measureBootstrap(path, function string, sb *sandbox.Server) (sample, error) {
	api := &runtimeAPI{readyCh: make(chan struct{}), answered: make(chan string, 2)}
	if name := firstEvent[function]; name != "" {
		ev, err := fs.ReadFile(events.Files, name)
		if err != nil {
			return sample{}, err
		}
		api.event = ev
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sample{}, err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	creds := sb.Credentials(hub)
	home, err := os.MkdirTemp("", "coldstart-home-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(home)
	cmd := exec.Command(path)
	cmd.Dir = filepath.Dir(path)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin", "HOME=" + home,
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + function, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=" + region, "AWS_DEFAULT_REGION=" + region,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_ENDPOINT_URL=" + sb.URL(), "AWS_EC2_METADATA_DISABLED=true",
		"CREDGUARD_HUB_ACCOUNT=" + hub,
		"CREDGUARD_TOPIC_ARN=" + partition.ARN("sns", region, hub, ids.TopicName),
		"CREDGUARD_SELF_ROLE_ARNS=" + strings.Join(settings.SelfRoleARNs(region, hub), ","),
		"CREDGUARD_SLACK_WEBHOOK_SECRET_ARN=arn:aws:secretsmanager:us-east-1:" + hub + ":secret:credguard-slack-AbCdEf",
		"CREDGUARD_SWEEP_BUCKET=credguard-sweep-" + hub, // the sweep steps' results bucket
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("start %s: %w", path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Kill()
		return <-exited
	}

	select {
	case <-api.readyCh:
	case err := <-exited:
		return sample{}, fmt.Errorf("%s exited before asking for an event: %v\n%s", function, err, stderr.String())
	case <-time.After(30 * time.Second):
		stop()
		return sample{}, errors.New("not ready within 30s")
	}
	if api.event != nil {
		select {
		case a := <-api.answered:
			if a != "response" {
				stop()
				return sample{}, fmt.Errorf("%s answered the sample event with %s", function, a)
			}
		case err := <-exited:
			return sample{}, fmt.Errorf("%s exited during its first event: %v\n%s", function, err, stderr.String())
		case <-time.After(30 * time.Second):
			stop()
			return sample{}, errors.New("no answer to the sample event within 30s")
		}
	}
	stop()
	api.mu.Lock()
	ready := api.ready.Sub(start)
	api.mu.Unlock()
	return sample{ready: ready, maxRSS: rss(cmd.ProcessState)}, nil
}

func measurePython(pythonBin, script string) (sample, error) {
	cmd := exec.CommandContext(context.Background(), pythonBin, script)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.TempDir(), "AWS_EC2_METADATA_DISABLED=true"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("%s %s: %v", pythonBin, script, err)
	}
	// Ready is when the baseline says its clients are set up (its
	// "init_s" line), measured here from process start, as the bootstraps'
	// first GET next is.
	var ready time.Duration
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if ready == 0 && strings.HasPrefix(lines.Text(), "init_s") {
			ready = time.Since(start)
		}
	}
	if err := cmd.Wait(); err != nil {
		return sample{}, fmt.Errorf("%s %s: %v\n%s", pythonBin, script, err, stderr.String())
	}
	if ready == 0 {
		return sample{}, fmt.Errorf("%s %s printed no init_s line", pythonBin, script)
	}
	return sample{ready: ready, maxRSS: rss(cmd.ProcessState)}, nil
}

func rss(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024 // kilobytes on Linux
	}
	return 0
}

func durations(ss []sample) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = s.ready
	}
	return out
}

func maxRSS(ss []sample) int64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.maxRSS)
	}
	return m
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1)+0.5)]
}

func median(ds []time.Duration) time.Duration {
	fs := make([]float64, len(ds))
	for i, d := range ds {
		fs[i] = float64(d)
	}
	return time.Duration(medianFloat(fs))
}

func medianFloat(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := append([]float64(nil), fs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }

func size(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(st.Size())/1e6)
}
