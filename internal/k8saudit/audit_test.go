package k8saudit

import (
	"os"
	"strings"
	"testing"
)

func loadInventory(t testing.TB, files ...string) *Inventory {
	t.Helper()
	inv := &Inventory{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f, "associations") {
			as, err := DecodeAssociations(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			inv.Associations = append(inv.Associations, as...)
			continue
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		inv.Pods = append(inv.Pods, d.Pods...)
		inv.ServiceAccounts = append(inv.ServiceAccounts, d.ServiceAccounts...)
	}
	return inv
}

// key is how a test names a finding.
func key(f Finding) string {
	return string(f.Rule) + " " + f.Namespace + " " + f.Workload + " sa=" + f.ServiceAccount
}

func TestAuditCluster(t *testing.T) {
	inv := loadInventory(t, "testdata/cluster.json", "testdata/associations.json")
	got := Audit(inv, Options{})
	byKey := map[string]Finding{}
	for _, f := range got {
		if _, dup := byKey[key(f)]; dup {
			t.Errorf("duplicate finding %s", key(f))
		}
		byKey[key(f)] = f
	}
	tests := []struct {
		name, key, pod string
		sev            Severity
		detail         []string
	}{
		{"hostNetwork DaemonSet outside kube-system", "host-network-node-role monitoring DaemonSet/node-exporter sa=node-exporter", "node-exporter-4kz2p", Critical, []string{"IMDS"}},
		{"hostNetwork Deployment in kube-system is not a node agent", "host-network-node-role kube-system Deployment/metrics-agent sa=metrics-agent", "metrics-agent-5d6f7-zz9x8", Critical, nil},
		{"literal key and secretKeyRef on a bare pod", "static-aws-keys payments Pod/debug sa=default", "debug", Critical,
			[]string{"container main sets AWS_ACCESS_KEY_ID (literal value)", "container main sets AWS_SECRET_ACCESS_KEY (secretKeyRef aws-creds/secret)"}},
		{"init container key; ReplicaSet whose hash does not match stays a ReplicaSet", "static-aws-keys payments ReplicaSet/batch-5b7c9 sa=payments-batch", "batch-5b7c9-abcde", Critical,
			[]string{"container init sets AWS_SECRET_ACCESS_KEY"}},
		{"StatefulSet on the default service account", "no-workload-identity ledger StatefulSet/postgres sa=default", "postgres-0", Warning, []string{"used by StatefulSet/postgres"}},
		{"Job not from a CronJob", "no-workload-identity ledger Job/migrate-schema sa=migrator", "migrate-schema-q7w8e", Warning, nil},
		{"DaemonSet without identity", "no-workload-identity monitoring DaemonSet/node-exporter sa=node-exporter", "node-exporter-4kz2p", Warning, nil},
		{"Deployment and CronJob share an IRSA role", "shared-service-account ledger Deployment/ledger sa=ledger", "ledger-7d9f8b6c5d-x2x9q", Warning,
			[]string{"IRSA role arn:aws:iam::111122223333:role/ledger", "2 workloads (Deployment/ledger, CronJob/reports)"}},
		{"default service account with a role", "default-service-account-role payments Pod/debug sa=default", "debug", Warning, []string{"payments-default"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := byKey[tc.key]
			if !ok {
				t.Fatalf("missing finding %q; got:\n%s", tc.key, keys(got))
			}
			if f.Pod != tc.pod || f.Severity != tc.sev {
				t.Errorf("pod %q severity %q, want %q %q", f.Pod, f.Severity, tc.pod, tc.sev)
			}
			for _, d := range tc.detail {
				if !strings.Contains(f.Detail, d) {
					t.Errorf("detail %q lacks %q", f.Detail, d)
				}
			}
		})
	}
	if len(got) != len(tests) {
		t.Errorf("%d findings, want %d:\n%s", len(got), len(tests), keys(got))
	}
	for _, f := range got {
		if strings.Contains(f.Detail, "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("a finding prints a credential value: %s", f.Detail)
		}
	}
	if !HasCritical(got) || got[0].Severity != Critical || got[len(got)-1].Severity != Warning {
		t.Errorf("findings not sorted critical first:\n%s", keys(got))
	}
}

func keys(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + key(f) + "\n")
	}
	return b.String()
}

func TestWorkloadOf(t *testing.T) {
	tests := []struct {
		name string
		pod  Pod
		want string
	}{
		{"ReplicaSet to Deployment by pod-template-hash", Pod{Name: "ledger-7d9f8b6c5d-x2x9q", Owner: Owner{"ReplicaSet", "ledger-7d9f8b6c5d"}, TemplateHash: "7d9f8b6c5d"}, "Deployment/ledger"},
		{"Deployment name with dashes", Pod{Name: "a-b-c-5f6-x", Owner: Owner{"ReplicaSet", "a-b-c-5f6"}, TemplateHash: "5f6"}, "Deployment/a-b-c"},
		{"ReplicaSet without hash label", Pod{Name: "rs-x", Owner: Owner{"ReplicaSet", "web-abc"}}, "ReplicaSet/web-abc"},
		{"ReplicaSet hash not its suffix", Pod{Name: "rs-x", Owner: Owner{"ReplicaSet", "web-abc"}, TemplateHash: "xyz"}, "ReplicaSet/web-abc"},
		{"ReplicaSet named only the hash", Pod{Name: "x", Owner: Owner{"ReplicaSet", "-abc"}, TemplateHash: "abc"}, "ReplicaSet/-abc"},
		{"Job to CronJob", Pod{Name: "reports-29012340-abcde", Owner: Owner{"Job", "reports-29012340"}}, "CronJob/reports"},
		{"Job with a non-numeric suffix", Pod{Name: "m-x", Owner: Owner{"Job", "migrate-schema"}}, "Job/migrate-schema"},
		{"Job ending in a dash", Pod{Name: "m-x", Owner: Owner{"Job", "migrate-"}}, "Job/migrate-"},
		{"StatefulSet is itself", Pod{Name: "postgres-0", Owner: Owner{"StatefulSet", "postgres"}}, "StatefulSet/postgres"},
		{"DaemonSet is itself", Pod{Name: "aws-node-1", Owner: Owner{"DaemonSet", "aws-node"}}, "DaemonSet/aws-node"},
		{"other controller is itself", Pod{Name: "r-1", Owner: Owner{"Rollout", "r"}}, "Rollout/r"},
		{"bare pod", Pod{Name: "debug"}, "Pod/debug"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WorkloadOf(&tc.pod); got != tc.want {
				t.Errorf("WorkloadOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHostNetworkAllowList(t *testing.T) {
	inv := loadInventory(t, "testdata/cluster.json", "testdata/associations.json")
	tests := []struct {
		allow []string
		want  int // host-network findings left
	}{
		{nil, 2},
		{[]string{"monitoring/node-exporter"}, 1},       // workload name
		{[]string{"monitoring/node-exporter-4kz2p"}, 1}, // pod name
		{[]string{"monitoring/*", "kube-system/metrics-agent"}, 0},
		{[]string{"other/node-exporter"}, 2},
	}
	for _, tc := range tests {
		n := 0
		for _, f := range Audit(inv, Options{AllowHostNetwork: tc.allow}) {
			if f.Rule == RuleHostNetwork {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("allow %v: %d host-network findings, want %d", tc.allow, n, tc.want)
		}
	}
	for _, bad := range []string{"ns", "/x", "ns/", "a/b/c"} {
		if CheckAllowEntry(bad) == nil {
			t.Errorf("CheckAllowEntry(%q) accepted", bad)
		}
	}
	if err := CheckAllowEntry("monitoring/node-exporter"); err != nil {
		t.Error(err)
	}
}

func TestDefaultSAWithPodIdentityOnly(t *testing.T) {
	// The default service account is not in the input; its association alone
	// gives it a role, and no pod uses it.
	inv := &Inventory{Associations: []Association{{Namespace: "shop", ServiceAccount: "default", AssociationID: "a-1"}}}
	got := Audit(inv, Options{})
	if len(got) != 1 || got[0].Rule != RuleDefaultSARole || got[0].Workload != "" || !strings.Contains(got[0].Detail, "Pod Identity association") {
		t.Fatalf("got %+v", got)
	}
}

func TestSharedPodIdentity(t *testing.T) {
	inv := &Inventory{
		Pods: []Pod{
			{Namespace: "shop", Name: "a-1", ServiceAccount: "shared"},
			{Namespace: "shop", Name: "b-1", ServiceAccount: "shared"},
		},
		Associations: []Association{{Namespace: "shop", ServiceAccount: "shared", RoleARN: "arn:aws:iam::111122223333:role/shop"}},
	}
	got := Audit(inv, Options{})
	if len(got) != 1 || got[0].Rule != RuleSharedSA || !strings.Contains(got[0].Detail, "Pod Identity role arn:aws:iam::111122223333:role/shop") {
		t.Fatalf("got %+v", got)
	}
}
