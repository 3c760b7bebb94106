package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"

	"github.com/credguard/credguard/events"
	"github.com/credguard/credguard/internal/k8saudit"
	"github.com/credguard/credguard/internal/replay"
	"github.com/credguard/credguard/internal/sandbox"
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
	if err := demoK8sAudit(context.Background(), rep.State, stdout); err != nil {
		fmt.Fprintf(stderr, "credguard demo: k8s audit: %v\n", err)
		return 1
	}
	return 0
}

// demoK8sAudit ends the demo with credguard k8s audit --cluster of every
// cluster that has pods, against a sandbox holding the state the guardrails
// left (fixture is the replay's final state): what remains is what the cloud
// side cannot fix. The token, the endpoint, the Kubernetes API, EKS and IAM
// all go through the sandbox. Its findings are the demo's subject, not a
// failure of the demo.
func demoK8sAudit(ctx context.Context, fixture *sandbox.Fixture, stdout io.Writer) error {
	sb, err := sandbox.Serve(fixture)
	if err != nil {
		return err
	}
	defer sb.Close()
	for _, account := range sortedKeysOf(fixture.Accounts) {
		for _, region := range sortedKeysOf(fixture.Accounts[account].Regions) {
			for _, c := range fixture.Accounts[account].Regions[region].Clusters {
				if len(c.Pods) == 0 {
					continue
				}
				cfg, err := sb.AWSConfig(ctx, account, region)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "\nKubernetes workload audit of cluster %s (%s, %s), after the guardrails: credguard k8s audit --cluster %s --region %s\n",
					c.Name, account, region, c.Name, region)
				inv, err := inventoryFromEKS(ctx, cfg, c.Name)
				if err != nil {
					return err
				}
				if err := writeK8sTable(stdout, inv, k8saudit.Audit(inv, k8saudit.Options{})); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
