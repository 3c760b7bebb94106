// Package k8saudit finds, in a Kubernetes cluster's pods and service
// accounts, the workloads that get AWS credentials they should not have:
// hostNetwork pods that reach the node role through IMDS, static AWS keys in
// container environments, service accounts without IRSA or Pod Identity,
// roles shared by several workloads or bound to a namespace's default service
// account, and roles whose trust is critical or does not admit the service
// account bound to them.
//
// Audit is pure: it takes the project's own decoded data (Decode reads
// Kubernetes JSON; the live sources convert to the same types) and returns
// findings. It never sees a Secret nor keeps the value of an environment
// variable.
package k8saudit

import "github.com/credguard/credguard/internal/trust"

// Inventory is everything one audit looks at.
type Inventory struct {
	Cluster         Cluster
	Pods            []Pod
	ServiceAccounts []ServiceAccount
	Associations    []Association
	// Roles holds the trust of the roles bound to service accounts, by role
	// ARN; nil when the trust rules cannot run (offline input).
	Roles map[string]RoleTrust
}

// Cluster identifies the audited EKS cluster where known (live --cluster
// mode): the trust evaluator needs its OIDC issuer, ARN and account.
type Cluster struct {
	Name       string
	ARN        string
	Account    string
	OIDCIssuer string // https://oidc.eks.<region>.amazonaws.com/id/<id>
}

// Pod is the part of a Kubernetes pod the audit reads.
type Pod struct {
	Namespace      string
	Name           string
	ServiceAccount string // spec.serviceAccountName ("default" when unset)
	HostNetwork    bool
	Owner          Owner  // the controlling owner reference; Kind "" for a bare pod
	TemplateHash   string // label pod-template-hash
	Env            []EnvVar
}

// Owner is an owner reference.
type Owner struct {
	Kind string
	Name string
}

// EnvVar is one environment variable of one container: its name and where
// its value comes from, never the value itself.
type EnvVar struct {
	Container string
	Name      string
	// Source is "literal value" or the valueFrom reference such as
	// "secretKeyRef aws-creds/key-id".
	Source string
}

// ServiceAccount is the part of a service account the audit reads.
type ServiceAccount struct {
	Namespace string
	Name      string
	// IRSARole is the eks.amazonaws.com/role-arn annotation ("" when absent).
	IRSARole string
}

// Association is an EKS Pod Identity association. RoleARN is empty when the
// source lists associations without their role (list-pod-identity-associations).
type Association struct {
	Namespace      string
	ServiceAccount string
	AssociationID  string
	RoleARN        string
}

// RoleTrust is what IAM GetRole said about a role.
type RoleTrust struct {
	// Missing: the role does not exist (NoSuchEntity).
	Missing bool
	// Policy is the parsed trust policy when Err is "".
	Policy trust.Policy
	// Err says why the trust policy could not be read or parsed.
	Err string
}

// IRSAAnnotation is the service-account annotation naming an IRSA role.
const IRSAAnnotation = "eks.amazonaws.com/role-arn"
