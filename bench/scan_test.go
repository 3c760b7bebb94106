package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credguard/credguard/internal/sandbox"
)

// scanRegions are the regions of the scan benchmark's organization.
var scanRegions = []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"}

// scanOrgFixture is an organization of n accounts (the hub first), each
// with the member role and one compliant role, and in each region one
// compliant instance and one that allows IMDSv1 with hop limit 2; latency
// is injected on every call the scan makes.
func scanOrgFixture(n int, latency time.Duration) *sandbox.Fixture {
	ms := int(latency / time.Millisecond)
	f := &sandbox.Fixture{HubAccount: Hub, Accounts: map[string]*sandbox.Account{},
		Faults: &sandbox.Faults{LatencyMs: map[string]int{
			"ec2:DescribeInstances": ms, "ec2:DescribeLaunchTemplates": ms, "iam:ListRoles": ms, "sts:AssumeRole": ms,
		}}}
	trustHub := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + Hub + `:root"},"Action":"sts:AssumeRole"}]}`)
	trustLambda := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for i := range n {
		id := fmt.Sprintf("%012d", 111122223333+i)
		a := &sandbox.Account{Roles: []sandbox.Role{{Name: "credguard-remediation", TrustPolicy: trustHub}, {Name: "app", TrustPolicy: trustLambda}},
			Regions: map[string]*sandbox.Region{}}
		for r, region := range scanRegions {
			a.Regions[region] = &sandbox.Region{Instances: []sandbox.Instance{
				{ID: fmt.Sprintf("i-%08x%09x", i, 2*r), State: "running",
					MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 1, HTTPEndpoint: "enabled"}},
				{ID: fmt.Sprintf("i-%08x%09x", i, 2*r+1), State: "running",
					MetadataOptions: sandbox.MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2, HTTPEndpoint: "enabled"}},
			}}
		}
		f.Accounts[id] = a
	}
	return f
}

// BenchmarkScanOrg runs `credguard scan` (the built binary, its sandbox
// in-process) on an organization of 500 accounts × 4 regions with 20 ms
// injected on every call, and compares the wall time with the bound
// scopes × sequential calls per scope × latency / concurrency. A region
// scope makes 3 sequential calls (DescribeInstances to list,
// DescribeLaunchTemplates, the IMDS guardrail's DescribeInstances of the
// non-compliant instance), an IAM scope 1 (ListRoles), and each member
// account 1 AssumeRole. It reports the peak resident memory of the process.
func BenchmarkScanOrg(b *testing.B) {
	const (
		accounts = 500
		latency  = 20 * time.Millisecond
	)
	dir := b.TempDir()
	bin := filepath.Join(dir, "credguard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/credguard").CombinedOutput(); err != nil {
		b.Fatalf("build credguard: %v\n%s", err, out)
	}
	data, err := json.Marshal(scanOrgFixture(accounts, latency))
	if err != nil {
		b.Fatal(err)
	}
	fixture := filepath.Join(dir, "org.json")
	if err := os.WriteFile(fixture, data, 0o600); err != nil {
		b.Fatal(err)
	}
	regionScopes, iamScopes := accounts*len(scanRegions), accounts
	calls := regionScopes*3 + iamScopes*1 + (accounts - 1)
	for _, concurrency := range []int{16, 64} {
		b.Run(fmt.Sprintf("concurrency-%d", concurrency), func(b *testing.B) {
			bound := time.Duration(calls) * latency / time.Duration(concurrency)
			var wall time.Duration
			var rssKiB int64
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, "scan", "--fixture", fixture, "--json", "--progress", "never",
					"--concurrency", fmt.Sprint(concurrency), "--regions", strings.Join(scanRegions, ","))
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				err := cmd.Run()
				wall += time.Since(start)
				if code := cmd.ProcessState.ExitCode(); code != 1 { // 1: non-compliant instances found
					b.Fatalf("exit %d (%v)\n%s", code, err, stderr.String())
				}
				var out struct{ Findings []map[string]string }
				if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil || len(out.Findings) != regionScopes {
					b.Fatalf("%d findings, want %d (%v)\n%s", len(out.Findings), regionScopes, err, stderr.String())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					rssKiB = max(rssKiB, ru.Maxrss)
				}
			}
			perRun := wall / time.Duration(b.N)
			b.ReportMetric(perRun.Seconds(), "wall-s/op")
			b.ReportMetric(bound.Seconds(), "bound-s")
			b.ReportMetric(perRun.Seconds()/bound.Seconds(), "wall/bound")
			b.ReportMetric(float64(rssKiB)/1024, "peak-RSS-MiB")
		})
	}
}
