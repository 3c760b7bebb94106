package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// routeEKS maps an EKS REST request to its operation and path parameters.
func routeEKS(method, escapedPath string) (string, map[string]string) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i, sg := range segs {
		u, err := url.PathUnescape(sg)
		if err != nil {
			return "", nil
		}
		segs[i] = u
	}
	if method == http.MethodGet && len(segs) == 2 && segs[0] == "clusters" {
		return "DescribeCluster", map[string]string{"clusterName": segs[1]}
	}
	if method != http.MethodGet || len(segs) < 3 || segs[0] != "clusters" || segs[2] != "pod-identity-associations" {
		return "", nil
	}
	switch len(segs) {
	case 3:
		return "ListPodIdentityAssociations", map[string]string{"clusterName": segs[1]}
	case 4:
		return "DescribePodIdentityAssociation", map[string]string{"clusterName": segs[1], "associationId": segs[3]}
	}
	return "", nil
}

type eksAssociation struct {
	ClusterName        string            `json:"clusterName"`
	Namespace          string            `json:"namespace"`
	ServiceAccount     string            `json:"serviceAccount"`
	RoleARN            string            `json:"roleArn"`
	AssociationARN     string            `json:"associationArn"`
	AssociationID      string            `json:"associationId"`
	Tags               map[string]string `json:"tags"`
	CreatedAt          float64           `json:"createdAt"`
	ModifiedAt         float64           `json:"modifiedAt"`
	DisableSessionTags bool              `json:"disableSessionTags"`
	TargetRoleARN      string            `json:"targetRoleArn,omitempty"`
	ExternalID         string            `json:"externalId,omitempty"`
}

type eksAssociationSummary struct {
	ClusterName    string `json:"clusterName"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	AssociationARN string `json:"associationArn"`
	AssociationID  string `json:"associationId"`
}

func associationARN(r *request, a *association) string {
	return "arn:aws:eks:" + r.region + ":" + r.account() + ":podidentityassociation/" + a.ClusterName + "/" + a.AssociationID
}

func (s *Server) eksCluster(r *request) (*cluster, *apiError) {
	name := r.path["clusterName"]
	var reg *region
	if a := s.world.accounts[r.account()]; a != nil {
		reg = a.region(r.region, false)
	}
	if reg != nil {
		if c := reg.clusters[name]; c != nil {
			return c, nil
		}
	}
	return nil, newError(http.StatusNotFound, "ResourceNotFoundException", "No cluster found for name: %s.", name)
}

func (s *Server) eksDescribePodIdentityAssociation(r *request) (any, error) {
	id := r.path["associationId"]
	r.resource = id
	c, err := s.eksCluster(r)
	if err != nil {
		return nil, err
	}
	a := c.assocs[id]
	if a == nil {
		return nil, newError(http.StatusNotFound, "ResourceNotFoundException",
			"No pod identity association found for id %s in cluster %s.", id, c.name)
	}
	ts := float64(a.created.Unix())
	out := eksAssociation{
		ClusterName: a.ClusterName, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
		RoleARN: a.RoleARN, AssociationARN: associationARN(r, a), AssociationID: a.AssociationID,
		Tags: map[string]string{}, CreatedAt: ts, ModifiedAt: ts, TargetRoleARN: a.TargetRoleARN,
	}
	if a.TargetRoleARN != "" {
		out.ExternalID = stableID("", r.account()+a.ClusterName+a.AssociationID)
	}
	return map[string]any{"association": out}, nil
}

func (s *Server) eksListPodIdentityAssociations(r *request) (any, error) {
	limit := 100
	if v := r.query.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, newError(http.StatusBadRequest, "InvalidParameterException", "maxResults must be between 1 and 100, got %s.", v)
		}
		limit = n
	}
	c, err := s.eksCluster(r)
	if err != nil {
		return nil, err
	}
	r.resource = c.name
	start, ok := pageStart(c.assocIDs, r.query.Get("nextToken"))
	if !ok {
		return nil, newError(http.StatusBadRequest, "InvalidParameterException", "The nextToken %q is not valid.", r.query.Get("nextToken"))
	}
	ns, sa := r.query.Get("namespace"), r.query.Get("serviceAccount")
	out := struct {
		Associations []eksAssociationSummary `json:"associations"`
		NextToken    string                  `json:"nextToken,omitempty"`
	}{Associations: []eksAssociationSummary{}}
	for i := start; i < len(c.assocIDs); i++ {
		a := c.assocs[c.assocIDs[i]]
		if (ns != "" && a.Namespace != ns) || (sa != "" && a.ServiceAccount != sa) {
			continue
		}
		if len(out.Associations) == limit {
			out.NextToken = pageToken(c.assocIDs[i])
			break
		}
		out.Associations = append(out.Associations, eksAssociationSummary{
			ClusterName: a.ClusterName, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
			AssociationARN: associationARN(r, a), AssociationID: a.AssociationID,
		})
	}
	return out, nil
}

// eksDescribeCluster reports a cluster's name, ARN, status, OIDC issuer
// (identity.oidc.issuer: the fixture's, or a stable made-up one), and the
// endpoint and CA of its Kubernetes API on this sandbox.
func (s *Server) eksDescribeCluster(r *request) (any, error) {
	c, err := s.eksCluster(r)
	if err != nil {
		return nil, err
	}
	r.resource = c.name
	issuer := c.issuer
	if issuer == "" {
		sum := sha256.Sum256([]byte(r.account() + "/" + r.region + "/" + c.name))
		issuer = "https://oidc.eks." + r.region + ".amazonaws.com/id/" + strings.ToUpper(hex.EncodeToString(sum[:16]))
	}
	return map[string]any{"cluster": map[string]any{
		"name":            c.name,
		"arn":             "arn:aws:eks:" + r.region + ":" + r.account() + ":cluster/" + c.name,
		"status":          "ACTIVE",
		"createdAt":       float64(defaultCreateDate.Unix()),
		"identity":        map[string]any{"oidc": map[string]any{"issuer": issuer}},
		"version":         "1.31",
		"platformVersion": "eks.1",
		// The cluster's read-only Kubernetes API on this sandbox and its CA (kube.go).
		"endpoint":             s.kubeEndpoint(r.host, r.account(), r.region, c.name),
		"certificateAuthority": map[string]string{"data": s.kubeTLS.caData()},
		"roleArn":              "arn:aws:iam::" + r.account() + ":role/eks-cluster-" + c.name,
		"tags":                 map[string]string{},
	}}, nil
}
