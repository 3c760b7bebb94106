package kubesource

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/credguard/credguard/internal/sandbox/sandboxtest"
)

// client-go against the sandbox's Kubernetes API of the demo cluster, with
// the endpoint, CA and token of Cluster, in pages of 2 and of 500.
func TestClusterAndList(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Demo(t))
	ctx := context.Background()
	cfg, err := sb.AWSConfig(ctx, "111122223333", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	api := eks.NewFromConfig(cfg)
	info, rc, err := Cluster(ctx, cfg, api, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if info.ARN != "arn:aws:eks:us-east-1:111122223333:cluster/prod" || info.Account != "111122223333" ||
		info.OIDCIssuer != "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE" ||
		!strings.HasPrefix(rc.Host, "https://") || len(rc.TLSClientConfig.CAData) == 0 || !strings.HasPrefix(rc.BearerToken, TokenPrefix) {
		t.Fatalf("cluster %+v, host %s", info, rc.Host)
	}
	for _, limit := range []int{2, pageSize} {
		d, err := list(ctx, rc, limit)
		if err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if len(d.Pods) != 11 || len(d.ServiceAccounts) != 12 {
			t.Errorf("limit %d: %d pods, %d service accounts", limit, len(d.Pods), len(d.ServiceAccounts))
		}
	}
	pages := 0
	for _, c := range sb.Journal() {
		if c.Service == "kubernetes" && strings.HasPrefix(c.Operation, "GET /api/v1/pods") {
			pages++
		}
	}
	if pages != 6+1 { // 11 pods in pages of 2, then one page of 500
		t.Errorf("%d pod list requests", pages)
	}
	as, err := Associations(ctx, api, "prod")
	if err != nil || len(as) != 2 || as[0].RoleARN == "" {
		t.Errorf("associations %+v, %v", as, err)
	}
	// A token for the wrong action is refused by the sandbox.
	rc.BearerToken = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9uPUdldFNlc3Npb25Ub2tlbg"
	if _, err := List(ctx, rc); err == nil || !strings.Contains(err.Error(), "provide credentials") {
		t.Errorf("bad token: %v", err)
	}
}
