package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kubeMeta is what the sandbox reads of a Kubernetes object.
type kubeMeta struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// clusterContents checks what fixture clusters carry beyond name and issuer
// (checked with the region): unique names, and their Kubernetes objects.
func (v *validator) clusterContents(path string, cs []Cluster) {
	names := map[string]int{}
	for i, c := range cs {
		p := fmt.Sprintf("%s.clusters[%d]", path, i)
		if j, dup := names[c.Name]; dup {
			v.add(p+".name", "duplicate cluster %s (also clusters[%d])", c.Name, j)
		}
		names[c.Name] = i
		v.kubeObjects(p+".pods", "Pod", c.Pods)
		v.kubeObjects(p+".serviceAccounts", "ServiceAccount", c.ServiceAccounts)
	}
}

func (v *validator) kubeObjects(path, kind string, objs []json.RawMessage) {
	seen := map[string]int{}
	for i, raw := range objs {
		p := fmt.Sprintf("%s[%d]", path, i)
		var m kubeMeta
		if err := json.Unmarshal(raw, &m); err != nil {
			v.add(p, "must be a Kubernetes %s object: %v", kind, err)
			continue
		}
		if m.Kind != "" && m.Kind != kind {
			v.add(p+".kind", "must be %s (or absent), got %q", kind, m.Kind)
		}
		if m.Metadata.Name == "" || m.Metadata.Namespace == "" {
			v.add(p+".metadata", "name and namespace are required")
			continue
		}
		key := m.Metadata.Namespace + "/" + m.Metadata.Name
		if j, dup := seen[key]; dup {
			v.add(p+".metadata.name", "duplicate %s %s (also [%d])", kind, key, j)
		}
		seen[key] = i
	}
}

// kubeObject is one served object: its sort key (namespace NUL name) and JSON.
type kubeObject struct {
	key, namespace string
	raw            json.RawMessage
}

// kubeObjects indexes a fixture's objects, sorted by namespace and name.
func kubeObjects(raws []json.RawMessage) []kubeObject {
	out := make([]kubeObject, 0, len(raws))
	for _, raw := range raws {
		var m kubeMeta
		_ = json.Unmarshal(raw, &m) // validated with the fixture
		out = append(out, kubeObject{
			key: m.Metadata.Namespace + "\x00" + m.Metadata.Name, namespace: m.Metadata.Namespace,
			raw: append(json.RawMessage(nil), raw...),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// load sets a cluster's fixture data.
func (c *cluster) load(fc Cluster) {
	c.explicit = true
	c.issuer = fc.OIDCIssuer
	c.pods = kubeObjects(fc.Pods)
	c.serviceAccounts = kubeObjects(fc.ServiceAccounts)
}

// export is the cluster in the fixture's shape.
func (c *cluster) export() Cluster {
	out := Cluster{Name: c.name, OIDCIssuer: c.issuer}
	for _, o := range c.pods {
		out.Pods = append(out.Pods, append(json.RawMessage(nil), o.raw...))
	}
	for _, o := range c.serviceAccounts {
		out.ServiceAccounts = append(out.ServiceAccounts, append(json.RawMessage(nil), o.raw...))
	}
	return out
}

// kubePrefix starts the path of every cluster's Kubernetes API:
// /k8s/<account>/<region>/<cluster>.
const kubePrefix = "/k8s/"

// kubeTLS is the certificate authority DescribeCluster reports and the
// serving certificate it signs (for 127.0.0.1, ::1, localhost and the
// listening host): made once per sandbox, on first use.
type kubeTLS struct {
	once  sync.Once
	caPEM []byte
	cert  tls.Certificate
	err   error
}

func (k *kubeTLS) init(host string) error {
	k.once.Do(func() { k.caPEM, k.cert, k.err = newKubeCerts(host) })
	return k.err
}

// caData is the CA as DescribeCluster reports it (base64 of the PEM).
func (k *kubeTLS) caData() string {
	if k.init("127.0.0.1") != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k.caPEM)
}

func newKubeCerts(host string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	if ip := net.ParseIP(host); ip != nil {
		leaf.IPAddresses = append(leaf.IPAddresses, ip)
	} else if host != "" {
		leaf.DNSNames = append(leaf.DNSNames, host)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}, nil
}

// startKube serves the clusters' Kubernetes APIs over TLS on a second
// loopback port of the host (called by Start, under lnMu).
func (s *Server) startKube(host string) error {
	if err := s.kubeTLS.init(host); err != nil {
		return fmt.Errorf("sandbox: Kubernetes API certificates: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("sandbox: listen for the Kubernetes API: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serveKube), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{s.kubeTLS.cert}, MinVersion: tls.VersionTLS12}}
	s.kubeSrv = srv
	s.kubeURL = "https://" + ln.Addr().String()
	go srv.ServeTLS(ln, "", "") // returns http.ErrServerClosed on Close
	return nil
}

// KubeURL is the base URL of the started sandbox's Kubernetes APIs (https,
// with the CA DescribeCluster reports); a cluster's API is at
// KubeURL()/k8s/<account>/<region>/<cluster>. "" before Start.
func (s *Server) KubeURL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.kubeURL
}

// kubeEndpoint is the URL of a cluster's Kubernetes API: on the TLS port of
// a started sandbox, else on the host the request reached (plain HTTP).
func (s *Server) kubeEndpoint(host, account, region, name string) string {
	base := s.KubeURL()
	if base == "" {
		base = "http://" + host
	}
	return base + kubePrefix + account + "/" + region + "/" + url.PathEscape(name)
}

// serveKube answers the read-only Kubernetes API of a fixture cluster:
// discovery (/version, /api, /api/v1, /apis), and list or get of pods and
// service accounts, in all namespaces or one, with limit/continue paging.
// It needs a bearer token; an EKS token (k8s-aws-v1.…) must be a presigned
// sts:GetCallerIdentity URL that signs the x-k8s-aws-id header.
func (s *Server) serveKube(w http.ResponseWriter, hr *http.Request) {
	rest := strings.TrimPrefix(hr.URL.Path, kubePrefix)
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		writeKubeStatus(w, http.StatusNotFound, "NotFound", "the sandbox serves Kubernetes APIs at /k8s/<account>/<region>/<cluster>")
		return
	}
	account, region, name := parts[0], parts[1], parts[2]
	path := "/"
	if len(parts) == 4 {
		path += parts[3]
	}
	call := Call{Service: "kubernetes", Operation: hr.Method + " " + path, Account: account, Region: region,
		Principal: "kubernetes-bearer", Time: time.Now(), Resource: name}
	status, body := s.kubeAnswer(hr, account, region, name, path)
	call.Outcome = "ok"
	if status != http.StatusOK {
		call.Outcome = strconv.Itoa(status)
	}
	s.mu.Lock()
	s.journal = append(s.journal, call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) kubeAnswer(hr *http.Request, account, region, name, path string) (int, []byte) {
	fail := func(status int, reason, format string, args ...any) (int, []byte) {
		return status, kubeStatus(status, reason, fmt.Sprintf(format, args...))
	}
	if hr.Method != http.MethodGet {
		return fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "the sandbox's Kubernetes API is read-only")
	}
	token, ok := strings.CutPrefix(hr.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return fail(http.StatusUnauthorized, "Unauthorized", "a bearer token is required")
	}
	if err := checkEKSToken(token); err != nil {
		return fail(http.StatusUnauthorized, "Unauthorized", "invalid EKS token: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *cluster
	if a := s.world.accounts[account]; a != nil {
		if reg := a.region(region, false); reg != nil {
			c = reg.clusters[name]
		}
	}
	if c == nil {
		return fail(http.StatusNotFound, "NotFound", "no cluster %s in account %s region %s", name, account, region)
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/version" || path == "/version/":
		return http.StatusOK, mustJSON(map[string]string{"major": "1", "minor": "31", "gitVersion": "v1.31.0-eks-sandbox",
			"platform": "linux/amd64", "goVersion": "go1.26", "compiler": "gc", "buildDate": "2024-01-01T00:00:00Z"})
	case path == "/api" || path == "/api/":
		return http.StatusOK, mustJSON(map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": hr.Host}}})
	case path == "/apis" || path == "/apis/":
		return http.StatusOK, mustJSON(map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{}})
	case path == "/api/v1" || path == "/api/v1/":
		res := func(name, singular, kind, short string) map[string]any {
			return map[string]any{"name": name, "singularName": singular, "namespaced": true, "kind": kind,
				"verbs": []string{"get", "list"}, "shortNames": []string{short}}
		}
		return http.StatusOK, mustJSON(map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
			"resources": []any{res("pods", "pod", "Pod", "po"), res("serviceaccounts", "serviceaccount", "ServiceAccount", "sa")}})
	case len(segs) == 3 && segs[0] == "api" && segs[1] == "v1":
		return kubeList(hr, c, "", segs[2])
	case len(segs) == 5 && segs[0] == "api" && segs[1] == "v1" && segs[2] == "namespaces":
		return kubeList(hr, c, segs[3], segs[4])
	case len(segs) == 6 && segs[0] == "api" && segs[1] == "v1" && segs[2] == "namespaces":
		return kubeGet(c, segs[3], segs[4], segs[5])
	}
	return fail(http.StatusNotFound, "NotFound", "the server could not find the requested resource %s (the sandbox serves pods and serviceaccounts)", path)
}

// kubeResource returns the objects and kind of a served resource.
func kubeResource(c *cluster, resource string) ([]kubeObject, string, int, []byte) {
	switch resource {
	case "pods":
		return c.pods, "Pod", 0, nil
	case "serviceaccounts":
		return c.serviceAccounts, "ServiceAccount", 0, nil
	case "secrets", "configmaps":
		return nil, "", http.StatusForbidden, kubeStatus(http.StatusForbidden, "Forbidden",
			resource+" is forbidden: the sandbox serves pods and serviceaccounts only")
	}
	return nil, "", http.StatusNotFound, kubeStatus(http.StatusNotFound, "NotFound",
		"the server could not find the requested resource "+resource)
}

func kubeList(hr *http.Request, c *cluster, namespace, resource string) (int, []byte) {
	objs, kind, status, body := kubeResource(c, resource)
	if status != 0 {
		return status, body
	}
	q := hr.URL.Query()
	if q.Get("labelSelector") != "" || q.Get("fieldSelector") != "" || q.Get("watch") == "true" || q.Get("watch") == "1" {
		return http.StatusBadRequest, kubeStatus(http.StatusBadRequest, "BadRequest", "the sandbox does not serve label or field selectors, nor watches")
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return http.StatusBadRequest, kubeStatus(http.StatusBadRequest, "BadRequest", "limit must be a non-negative integer")
		}
		limit = n
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.key
	}
	start, ok := pageStart(keys, q.Get("continue"))
	if !ok {
		return http.StatusGone, kubeStatus(http.StatusGone, "Expired", "the provided continue parameter is too old or invalid")
	}
	var items []json.RawMessage
	cont := ""
	for i := start; i < len(objs); i++ {
		if namespace != "" && objs[i].namespace != namespace {
			continue
		}
		if limit > 0 && len(items) == limit {
			cont = pageToken(objs[i].key)
			break
		}
		items = append(items, objs[i].raw)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	if wantsTable(hr) {
		return http.StatusOK, kubeTable(kind, items, cont)
	}
	meta := map[string]any{"resourceVersion": "1"}
	if cont != "" {
		meta["continue"] = cont
	}
	return http.StatusOK, mustJSON(map[string]any{"kind": kind + "List", "apiVersion": "v1", "metadata": meta, "items": items})
}

func kubeGet(c *cluster, namespace, resource, name string) (int, []byte) {
	objs, _, status, body := kubeResource(c, resource)
	if status != 0 {
		return status, body
	}
	key := namespace + "\x00" + name
	i := sort.Search(len(objs), func(i int) bool { return objs[i].key >= key })
	if i < len(objs) && objs[i].key == key {
		return http.StatusOK, objs[i].raw
	}
	return http.StatusNotFound, kubeStatus(http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name))
}

// wantsTable reports whether the client asked for a meta.k8s.io Table first
// (kubectl's human-readable get), rather than the objects.
func wantsTable(hr *http.Request) bool {
	first, _, _ := strings.Cut(hr.Header.Get("Accept"), ",")
	return strings.Contains(first, "as=Table")
}

// kubeTable is the Table kubectl prints: name and age columns, each row with
// its object's metadata (kubectl adds the NAMESPACE column from it).
func kubeTable(kind string, items []json.RawMessage, cont string) []byte {
	rows := make([]map[string]any, 0, len(items))
	for _, raw := range items {
		var o struct {
			Metadata map[string]any `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &o)
		rows = append(rows, map[string]any{
			"cells":  []any{o.Metadata["name"], kind},
			"object": map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.Metadata},
		})
	}
	meta := map[string]any{"resourceVersion": "1"}
	if cont != "" {
		meta["continue"] = cont
	}
	return mustJSON(map[string]any{
		"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
		"columnDefinitions": []map[string]any{
			{"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
			{"name": "Kind", "type": "string", "format": "", "description": "Kind of the object", "priority": 0},
		},
		"rows": rows,
	})
}

func kubeStatus(code int, reason, message string) []byte {
	return mustJSON(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code})
}

func writeKubeStatus(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(kubeStatus(code, reason, message))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return kubeStatus(http.StatusInternalServerError, "InternalError", err.Error())
	}
	return b
}

// checkEKSToken checks a token of the k8s-aws-v1. form: base64url (no
// padding) of a presigned STS GetCallerIdentity URL whose signature covers
// the x-k8s-aws-id header. Other bearer tokens (a kubeconfig's static
// token) are accepted as they are.
func checkEKSToken(token string) error {
	enc, ok := strings.CutPrefix(token, "k8s-aws-v1.")
	if !ok {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("not base64url without padding: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("not a presigned URL")
	}
	q := u.Query()
	switch {
	case q.Get("Action") != "GetCallerIdentity":
		return fmt.Errorf("Action is %q, not GetCallerIdentity", q.Get("Action"))
	case !strings.Contains(q.Get("X-Amz-Credential"), "/sts/aws4_request"):
		return fmt.Errorf("X-Amz-Credential %q is not an STS scope", q.Get("X-Amz-Credential"))
	case q.Get("X-Amz-Signature") == "":
		return fmt.Errorf("no X-Amz-Signature")
	case !strings.Contains(";"+q.Get("X-Amz-SignedHeaders")+";", ";x-k8s-aws-id;"):
		return fmt.Errorf("X-Amz-SignedHeaders %q does not sign x-k8s-aws-id", q.Get("X-Amz-SignedHeaders"))
	}
	return nil
}
