package k8saudit

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// synthCluster is `kubectl get pods,serviceaccounts -A -o json` of a large
// cluster: pods of Deployments (two replicas each), StatefulSets, CronJobs,
// DaemonSets and bare pods, each with two containers, environment, volumes
// and status as kubectl prints them (about 2.4 KB a pod).
func synthCluster(pods, serviceAccounts int) []byte {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[`)
	for i := range pods {
		if i > 0 {
			b.WriteByte(',')
		}
		ns := "team-" + strconv.Itoa(i%50)
		sa := "sa-" + strconv.Itoa(i%serviceAccounts)
		app := "app-" + strconv.Itoa(i/2)
		owner, hash := `{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"`+app+`-5d8f7c9b6","uid":"u","controller":true,"blockOwnerDeletion":true}`, "5d8f7c9b6"
		switch i % 10 {
		case 7:
			owner, hash = `{"apiVersion":"batch/v1","kind":"Job","name":"`+app+`-29412000","uid":"u","controller":true}`, ""
		case 8:
			owner, hash = `{"apiVersion":"apps/v1","kind":"StatefulSet","name":"`+app+`","uid":"u","controller":true}`, ""
		case 9:
			owner, hash = "", ""
		}
		fmt.Fprintf(&b, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s-5d8f7c9b6-x%05d","namespace":"%s","uid":"0b6f3c1e-9f0a-4c39-8d0e-%012d",
"creationTimestamp":"2026-11-30T10:00:00Z","resourceVersion":"%d","generateName":"%s-5d8f7c9b6-",
"labels":{"app.kubernetes.io/name":"%s","app.kubernetes.io/part-of":"shop","pod-template-hash":"%s","team":"%s"},
"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-30T09:59:00Z","prometheus.io/scrape":"true"},
"ownerReferences":[%s]},
"spec":{"serviceAccountName":"%s","serviceAccount":"%s","hostNetwork":%t,"nodeName":"ip-10-0-%d-%d.ec2.internal","restartPolicy":"Always",
"containers":[{"name":"app","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/%s:1.4.2","ports":[{"containerPort":8080,"protocol":"TCP"}],
"env":[{"name":"AWS_REGION","value":"us-east-1"},{"name":"LOG_LEVEL","value":"info"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},
{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}},{"name":"FEATURE_FLAGS","value":"a,b,c"}%s],
"resources":{"limits":{"cpu":"500m","memory":"512Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},
"volumeMounts":[{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]},
{"name":"sidecar","image":"public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0","env":[{"name":"OTEL_RESOURCE_ATTRIBUTES","value":"service.name=%s"}]}],
"volumes":[{"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}],"defaultMode":420}}]},
"status":{"phase":"Running","podIP":"10.0.%d.%d","hostIP":"10.0.%d.10","startTime":"2026-11-30T10:00:05Z",
"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-30T10:00:20Z"},{"type":"PodScheduled","status":"True","lastTransitionTime":"2026-11-30T10:00:00Z"}],
"containerStatuses":[{"name":"app","ready":true,"restartCount":0,"image":"app:1.4.2","imageID":"sha256:%064d","containerID":"containerd://%064d","started":true,"state":{"running":{"startedAt":"2026-11-30T10:00:10Z"}}}]}}`,
			app, i, ns, i, i, app, app, hash, ns, owner, sa, sa, i%997 == 0, i%250, i%200, app,
			map[bool]string{true: `,{"name":"AWS_ACCESS_KEY_ID","valueFrom":{"secretKeyRef":{"name":"legacy","key":"id"}}}`, false: ""}[i%1000 == 0],
			app, i%250, i%200, i%250, i, i)
	}
	for i := range serviceAccounts {
		ann := ""
		if i%3 == 0 {
			ann = fmt.Sprintf(`,"annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::123456789012:role/sa-%d"}`, i)
		}
		fmt.Fprintf(&b, `,{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa-%d","namespace":"team-%d","uid":"s-%d","creationTimestamp":"2026-11-01T00:00:00Z"%s}}`,
			i, i%50, i, ann)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkK8sAudit decodes and audits 10,000 pods and 2,000 service
// accounts, as credguard k8s audit --from does. peak-RSS-MiB is the test
// process's high-water mark (Linux), input included.
func BenchmarkK8sAudit(b *testing.B) {
	data := synthCluster(10000, 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var findings int
	for b.Loop() {
		d, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(Audit(&Inventory{Pods: d.Pods, ServiceAccounts: d.ServiceAccounts}, Options{}))
	}
	b.ReportMetric(float64(findings), "findings")
	if hwm := peakRSSMiB(); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MiB")
	}
}

// BenchmarkK8sAuditDecoded is the audit alone, on decoded data.
func BenchmarkK8sAuditDecoded(b *testing.B) {
	d, err := Decode(synthCluster(10000, 2000))
	if err != nil {
		b.Fatal(err)
	}
	inv := &Inventory{Pods: d.Pods, ServiceAccounts: d.ServiceAccounts}
	b.ReportAllocs()
	for b.Loop() {
		Audit(inv, Options{})
	}
}

func peakRSSMiB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err == nil {
				return float64(kb) / 1024
			}
		}
	}
	return 0
}

func TestSynthClusterIsKubernetesJSON(t *testing.T) {
	data := synthCluster(20, 4)
	if !json.Valid(data) {
		t.Fatal("synthetic cluster is not JSON")
	}
	d, err := Decode(data)
	if err != nil || len(d.Pods) != 20 || len(d.ServiceAccounts) != 4 {
		t.Fatalf("%d pods %d service accounts: %v", len(d.Pods), len(d.ServiceAccounts), err)
	}
	if out := os.Getenv("CREDGUARD_K8S_SYNTH"); out != "" {
		// Writes the benchmark's cluster for measuring the command itself.
		if err := os.WriteFile(out, synthCluster(10000, 2000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
