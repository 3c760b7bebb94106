package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

const kubeFixture = `{"hubAccount":"111122223333","accounts":{"111122223333":{"regions":{"us-east-1":{
  "clusters":["bare",{"name":"prod","oidcIssuer":"https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
    "pods":[%s],
    "serviceAccounts":[{"kind":"ServiceAccount","metadata":{"name":"default","namespace":"a"}},
                       {"metadata":{"name":"web","namespace":"b","annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::111122223333:role/web"}}}]}]}}}}}`

func kubePods(n int) string {
	var pods []string
	for i := range n {
		ns := "a"
		if i%2 == 1 {
			ns = "b"
		}
		pods = append(pods, fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%02d","namespace":"%s"},"spec":{"containers":[{"name":"c"}]}}`, i, ns))
	}
	return strings.Join(pods, ",")
}

// kubeClient trusts the CA DescribeCluster reports and returns the endpoint.
func kubeClient(t *testing.T, s *Server, cluster string) (*http.Client, string) {
	t.Helper()
	out, err := eks.NewFromConfig(config(t, s, hub, "us-east-1")).DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String(cluster)})
	mustOK(t, err)
	ca, err := base64.StdEncoding.DecodeString(aws.ToString(out.Cluster.CertificateAuthority.Data))
	mustOK(t, err)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("certificateAuthority.data is not a PEM certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, aws.ToString(out.Cluster.Endpoint)
}

func kubeGetJSON(t *testing.T, c *http.Client, url, token, accept string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	mustOK(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: not JSON: %s", url, b)
	}
	return resp.StatusCode, doc
}

func TestDescribeCluster(t *testing.T) {
	s := start(t, parse(t, fmt.Sprintf(kubeFixture, kubePods(1))))
	c := eks.NewFromConfig(config(t, s, hub, "us-east-1"))
	out, err := c.DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String("prod")})
	mustOK(t, err)
	cl := out.Cluster
	if aws.ToString(cl.Arn) != "arn:aws:eks:us-east-1:111122223333:cluster/prod" || string(cl.Status) != "ACTIVE" ||
		aws.ToString(cl.Identity.Oidc.Issuer) != "https://oidc.eks.us-east-1.amazonaws.com/id/ABC" ||
		aws.ToString(cl.Endpoint) != s.KubeURL()+"/k8s/111122223333/us-east-1/prod" {
		t.Errorf("cluster %+v", cl)
	}
	out, err = c.DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String("bare")})
	mustOK(t, err)
	if iss := aws.ToString(out.Cluster.Identity.Oidc.Issuer); !strings.HasPrefix(iss, "https://oidc.eks.us-east-1.amazonaws.com/id/") || iss == "https://oidc.eks.us-east-1.amazonaws.com/id/ABC" {
		t.Errorf("a cluster without oidcIssuer reports issuer %s", iss)
	}
	_, err = c.DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	// The state keeps the clusters in the fixture's shape.
	st := s.State().Accounts[hub].Regions["us-east-1"].Clusters
	if len(st) != 2 || st[0].Name != "bare" || len(st[1].Pods) != 1 || len(st[1].ServiceAccounts) != 2 {
		t.Errorf("state clusters %+v", st)
	}
}

func TestKubeAPI(t *testing.T) {
	s := start(t, parse(t, fmt.Sprintf(kubeFixture, kubePods(5))))
	c, ep := kubeClient(t, s, "prod")
	const tok = "static"
	// Paging across all namespaces: a, a, a then b, b (sorted by namespace and name).
	var names []string
	cont := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		u := ep + "/api/v1/pods?limit=2"
		if cont != "" {
			u += "&continue=" + cont
		}
		code, doc := kubeGetJSON(t, c, u, tok, "application/json")
		if code != 200 || doc["kind"] != "PodList" {
			t.Fatalf("%d %v", code, doc)
		}
		for _, it := range doc["items"].([]any) {
			md := it.(map[string]any)["metadata"].(map[string]any)
			names = append(names, md["namespace"].(string)+"/"+md["name"].(string))
		}
		cont, _ = doc["metadata"].(map[string]any)["continue"].(string)
		if cont == "" {
			break
		}
	}
	if fmt.Sprint(names) != "[a/p00 a/p02 a/p04 b/p01 b/p03]" {
		t.Errorf("paged pods %v", names)
	}
	tests := []struct {
		name, path, token, accept string
		code                      int
		want                      string // kind, or reason of a Status
	}{
		{"one namespace", "/api/v1/namespaces/b/pods", tok, "", 200, "PodList"},
		{"service accounts", "/api/v1/serviceaccounts", tok, "", 200, "ServiceAccountList"},
		{"one pod", "/api/v1/namespaces/a/pods/p02", tok, "", 200, "Pod"},
		{"missing pod", "/api/v1/namespaces/a/pods/p01", tok, "", 404, "NotFound"},
		{"table for kubectl", "/api/v1/pods", tok, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", 200, "Table"},
		{"discovery /api", "/api", tok, "", 200, "APIVersions"},
		{"discovery /api/v1", "/api/v1", tok, "", 200, "APIResourceList"},
		{"discovery /apis", "/apis", tok, "", 200, "APIGroupList"},
		{"secrets are never served", "/api/v1/secrets", tok, "", 403, "Forbidden"},
		{"other resources", "/api/v1/nodes", tok, "", 404, "NotFound"},
		{"no token", "/api/v1/pods", "", "", 401, "Unauthorized"},
		{"EKS token not base64url", "/api/v1/pods", "k8s-aws-v1.%%%", "", 401, "Unauthorized"},
		{"EKS token for another action", "/api/v1/pods",
			"k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte("https://sts.amazonaws.com/?Action=GetSessionToken")), "", 401, "Unauthorized"},
		{"EKS token without x-k8s-aws-id", "/api/v1/pods", "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(
			"https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=abc")), "", 401, "Unauthorized"},
		{"EKS token signing x-k8s-aws-id", "/api/v1/pods", "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(
			"https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abc")), "", 200, "PodList"},
		{"bad continue", "/api/v1/pods?continue=zzz", tok, "", 410, "Expired"},
		{"selectors are refused", "/api/v1/pods?labelSelector=app%3Dx", tok, "", 400, "BadRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, doc := kubeGetJSON(t, c, ep+tc.path, tc.token, tc.accept)
			got, _ := doc["kind"].(string)
			if got == "Status" {
				got, _ = doc["reason"].(string)
			}
			if code != tc.code || got != tc.want {
				t.Errorf("%d %s, want %d %s: %v", code, got, tc.code, tc.want, doc)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodDelete, ep+"/api/v1/namespaces/a/pods/p00", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	mustOK(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	// Unknown cluster, and the plain-HTTP path on the AWS port.
	if code, _ := kubeGetJSON(t, c, strings.Replace(ep, "/prod", "/nope", 1)+"/api/v1/pods", tok, ""); code != 404 {
		t.Errorf("unknown cluster: %d", code)
	}
	if code, doc := kubeGetJSON(t, http.DefaultClient, s.URL()+"/k8s/111122223333/us-east-1/prod/api/v1/pods", tok, ""); code != 200 || doc["kind"] != "PodList" {
		t.Errorf("plain HTTP: %d %v", code, doc)
	}
	var kube int
	for _, call := range s.Journal() {
		if call.Service == "kubernetes" {
			kube++
			if call.Write {
				t.Errorf("a Kubernetes call is a write: %+v", call)
			}
		}
	}
	if kube == 0 {
		t.Error("Kubernetes calls are not journaled")
	}
}

func TestClusterFixtureValidation(t *testing.T) {
	tests := []struct{ name, clusters, want string }{
		{"bad issuer", `[{"name":"p","oidcIssuer":"http://x"}]`, `clusters[0].oidcIssuer: must be https://oidc.eks.REGION.amazonaws.com/id/ID`},
		{"duplicate", `["p",{"name":"p"}]`, `clusters[1].name: duplicate cluster p`},
		{"bad name", `[{"name":"-p"}]`, `clusters[0]: cluster name must be`},
		{"pod kind", `[{"name":"p","pods":[{"kind":"Secret","metadata":{"name":"x","namespace":"y"}}]}]`, `clusters[0].pods[0].kind: must be Pod`},
		{"pod without namespace", `[{"name":"p","pods":[{"metadata":{"name":"x"}}]}]`, `clusters[0].pods[0].metadata: name and namespace are required`},
		{"duplicate service account", `[{"name":"p","serviceAccounts":[{"metadata":{"name":"x","namespace":"y"}},{"metadata":{"name":"x","namespace":"y"}}]}]`, `serviceAccounts[1].metadata.name: duplicate`},
		{"unknown field", `[{"name":"p","pod":[]}]`, `clusters[0].pod: unknown field`},
		{"not an object", `[3]`, `clusters[0]: must be an object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFixture([]byte(`{"hubAccount":"111122223333","accounts":{"111122223333":{"regions":{"us-east-1":{"clusters":` + tc.clusters + `}}}}}`))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func parse(t *testing.T, doc string) *Fixture {
	t.Helper()
	f, err := ParseFixture([]byte(doc))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return f
}
