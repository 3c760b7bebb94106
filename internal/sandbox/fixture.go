package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

// Fixture is the sandbox's starting state (and, from State, its current
// state) in the JSON shape documented in FIXTURE.md.
type Fixture struct {
	HubAccount string              `json:"hubAccount"`
	Faults     *Faults             `json:"faults,omitempty"`
	Accounts   map[string]*Account `json:"accounts"`
}

// Faults injects latency, throttling and errors per operation. Keys of the
// maps are "service:Operation" with the SigV4 service name, for example
// "ec2:DescribeInstances" or "iam:GetRole".
type Faults struct {
	LatencyMs map[string]int        `json:"latencyMs,omitempty"`
	Throttle  map[string]Throttle   `json:"throttle,omitempty"`
	Errors    map[string]ErrorFault `json:"errors,omitempty"`
	// ApplyDelayMs is how long ModifyInstanceMetadataOptions stays "pending"
	// before DescribeInstances reports "applied" (0: applied at the next describe).
	ApplyDelayMs int `json:"applyDelayMs,omitempty"`
	// Seed makes error injection at rates below 1 deterministic (0: random).
	Seed int64 `json:"seed,omitempty"`
}

// Throttle is a token bucket: Burst requests at once, refilled at
// RatePerSecond. One bucket exists per operation, account and region.
type Throttle struct {
	Burst         int     `json:"burst"`
	RatePerSecond float64 `json:"ratePerSecond"`
}

// ErrorFault fails a share (Rate, 0–1) of an operation's calls with Code.
type ErrorFault struct {
	Rate float64 `json:"rate"`
	Code string  `json:"code"`
	// Account limits the fault to calls acting in that account ("" = all).
	Account string `json:"account,omitempty"`
	// Status overrides the HTTP status the code is answered with (0 = the
	// status AWS uses for that code).
	Status int `json:"status,omitempty"`
}

// Account is one AWS account: IAM roles (global) and per-region resources.
type Account struct {
	// Name and Email are what Organizations ListAccounts reports (defaults:
	// "account-<id>" and "<id>@example.com").
	Name    string             `json:"name,omitempty"`
	Email   string             `json:"email,omitempty"`
	Roles   []Role             `json:"roles,omitempty"`
	Regions map[string]*Region `json:"regions,omitempty"`
}

// Role is an IAM role. TrustPolicy and the inline policies are JSON objects.
type Role struct {
	Name           string                     `json:"name"`
	Path           string                     `json:"path,omitempty"`
	Description    string                     `json:"description,omitempty"`
	TrustPolicy    json.RawMessage            `json:"trustPolicy"`
	Tags           map[string]string          `json:"tags,omitempty"`
	InlinePolicies map[string]json.RawMessage `json:"inlinePolicies,omitempty"`
	// CreateDate defaults to 2024-01-01T00:00:00Z for fixture roles; roles
	// made by CreateRole carry their creation time.
	CreateDate *time.Time `json:"createDate,omitempty"`
}

// Region holds the regional resources of one account.
type Region struct {
	Instances               []Instance               `json:"instances,omitempty"`
	PodIdentityAssociations []PodIdentityAssociation `json:"podIdentityAssociations,omitempty"`
	// Clusters are EKS clusters that exist without any association
	// (clusters named by an association always exist), with their OIDC
	// issuer and the pods and service accounts of their Kubernetes API. Each
	// is a name, or an object {"name", "oidcIssuer", "pods", "serviceAccounts"}.
	Clusters         []Cluster         `json:"clusters,omitempty"`
	LaunchTemplates  []LaunchTemplate  `json:"launchTemplates,omitempty"`
	MetadataDefaults *MetadataDefaults `json:"metadataDefaults,omitempty"`
	// Secrets are Secrets Manager secrets: name → secret string.
	Secrets map[string]string `json:"secrets,omitempty"`
	// Stacks are CloudFormation stacks, as DescribeStackResource reports them.
	Stacks []Stack `json:"stacks,omitempty"`
}

// Cluster is an EKS cluster of a fixture. OIDCIssuer is the issuer
// DescribeCluster reports (identity.oidc.issuer); without one, a stable
// issuer is made up from the account, region and name. Pods and
// ServiceAccounts, in Kubernetes' own JSON (as kubectl get -o json prints an
// item), are what the cluster's read-only Kubernetes API serves (kube.go).
type Cluster struct {
	Name            string            `json:"name"`
	OIDCIssuer      string            `json:"oidcIssuer,omitempty"`
	Pods            []json.RawMessage `json:"pods,omitempty"`
	ServiceAccounts []json.RawMessage `json:"serviceAccounts,omitempty"`
}

// UnmarshalJSON accepts a cluster name alone, or the object form.
func (c *Cluster) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*c = Cluster{}
		return json.Unmarshal(b, &c.Name)
	}
	type plain Cluster
	return json.Unmarshal(b, (*plain)(c))
}

// MarshalJSON writes a cluster with nothing but a name as its name alone.
func (c Cluster) MarshalJSON() ([]byte, error) {
	if c.OIDCIssuer == "" && len(c.Pods) == 0 && len(c.ServiceAccounts) == 0 {
		return json.Marshal(c.Name)
	}
	type plain Cluster
	return json.Marshal(plain(c))
}

// Stack is a CloudFormation stack of the account and region: its id
// (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID), its name (the
// NAME of the id; optional in a fixture) and the resources
// DescribeStackResource reports.
type Stack struct {
	StackID   string          `json:"stackId"`
	StackName string          `json:"stackName,omitempty"`
	Resources []StackResource `json:"resources,omitempty"`
}

// StackResource is one resource of a stack: its logical id (unique in the
// stack), physical id (empty while a create is in progress), type (such as
// AWS::IAM::Role or Custom::Name) and status (a CloudFormation resource
// status such as CREATE_IN_PROGRESS).
type StackResource struct {
	LogicalID  string `json:"logicalId"`
	PhysicalID string `json:"physicalId,omitempty"`
	Type       string `json:"type"`
	Status     string `json:"status"`
}

// Instance is an EC2 instance.
type Instance struct {
	ID              string            `json:"id"`
	State           string            `json:"state"`
	Tags            map[string]string `json:"tags,omitempty"`
	MetadataOptions MetadataOptions   `json:"metadataOptions"`
	InstanceType    string            `json:"instanceType,omitempty"`
	ImageID         string            `json:"imageId,omitempty"`
	// ReservationID groups instances into one reservation (default: one
	// reservation per instance).
	ReservationID string `json:"reservationId,omitempty"`
	// VisibleAfterMs models EC2's eventual consistency: DescribeInstances
	// and ModifyInstanceMetadataOptions answer InvalidInstanceID.NotFound
	// for the instance until that many milliseconds after the sandbox
	// started (0: at once).
	VisibleAfterMs int `json:"visibleAfterMs,omitempty"`
	// RunningAfterMs keeps a pending instance pending until that many
	// milliseconds after the sandbox started, then makes it running; while
	// it is pending, ModifyInstanceMetadataOptions answers
	// IncorrectInstanceState. The state must be pending (or left out).
	RunningAfterMs int `json:"runningAfterMs,omitempty"`
}

// MetadataOptions are an instance's IMDS settings. Omitted fields take EC2's
// defaults: httpTokens "optional", hop limit 1, endpoint "enabled", IPv6
// endpoint "disabled", instance tags "disabled"; state "applied".
type MetadataOptions struct {
	HTTPTokens              string `json:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `json:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `json:"httpEndpoint,omitempty"`
	HTTPProtocolIPv6        string `json:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `json:"instanceMetadataTags,omitempty"`
	State                   string `json:"state,omitempty"`
}

// PodIdentityAssociation is an EKS Pod Identity association.
type PodIdentityAssociation struct {
	ClusterName    string `json:"clusterName"`
	AssociationID  string `json:"associationId"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	RoleARN        string `json:"roleArn"`
	TargetRoleARN  string `json:"targetRoleArn,omitempty"`
}

// LaunchTemplate is an EC2 launch template. Versions are numbered 1, 2, …
// in order.
type LaunchTemplate struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	DefaultVersion int               `json:"defaultVersion,omitempty"` // default 1
	Tags           map[string]string `json:"tags,omitempty"`
	Versions       []TemplateVersion `json:"versions"`
}

// TemplateVersion is one launch template version.
type TemplateVersion struct {
	Description string       `json:"description,omitempty"`
	Data        TemplateData `json:"data"`
}

// TemplateData is the part of a launch template's data the sandbox models.
// Empty fields are not set in the template.
type TemplateData struct {
	ImageID            string                   `json:"imageId,omitempty"`
	InstanceType       string                   `json:"instanceType,omitempty"`
	KeyName            string                   `json:"keyName,omitempty"`
	UserData           string                   `json:"userData,omitempty"`
	EbsOptimized       *bool                    `json:"ebsOptimized,omitempty"`
	IamInstanceProfile *IamInstanceProfile      `json:"iamInstanceProfile,omitempty"`
	SecurityGroupIDs   []string                 `json:"securityGroupIds,omitempty"`
	MetadataOptions    *TemplateMetadataOptions `json:"metadataOptions,omitempty"`
}

// IamInstanceProfile names an instance profile by ARN or name.
type IamInstanceProfile struct {
	ARN  string `json:"arn,omitempty"`
	Name string `json:"name,omitempty"`
}

// TemplateMetadataOptions are a launch template's IMDS settings; empty
// fields are not set (the launch then uses the account or AMI defaults).
type TemplateMetadataOptions struct {
	HTTPTokens              string `json:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `json:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `json:"httpEndpoint,omitempty"`
	HTTPProtocolIPv6        string `json:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `json:"instanceMetadataTags,omitempty"`
}

// MetadataDefaults are the account's regional IMDS defaults
// (Get/ModifyInstanceMetadataDefaults); empty fields mean "no preference".
type MetadataDefaults struct {
	HTTPTokens              string `json:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `json:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `json:"httpEndpoint,omitempty"`
	InstanceMetadataTags    string `json:"instanceMetadataTags,omitempty"`
	HTTPTokensEnforced      string `json:"httpTokensEnforced,omitempty"`
}

// LoadFixture reads and validates a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	f, err := ParseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return f, nil
}

// ParseFixture decodes and validates a fixture. Unknown fields, wrong types
// and invalid values are errors naming the path to the bad field, for
// example `accounts["111"]: account id must be 12 digits`.
func ParseFixture(data []byte) (*Fixture, error) {
	if err := checkShape(data, &Fixture{}); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode fixture: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cloneFixture returns a deep copy of a validated fixture.
func cloneFixture(f *Fixture) (*Fixture, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("copy fixture: %w", err)
	}
	var c Fixture
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("copy fixture: %w", err)
	}
	return &c, nil
}

// itoa is strconv.Itoa, kept short for the many response builders.
func itoa(n int) string { return strconv.Itoa(n) }
