package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/credguard/credguard/internal/ids"
)

// Validate checks every field of the fixture and returns all problems found,
// each prefixed with the path to the field.
func (f *Fixture) Validate() error {
	v := &validator{}
	if f == nil {
		return errors.New("fixture is empty")
	}
	switch {
	case f.HubAccount == "":
		v.add("hubAccount", "required")
	case !ids.ValidAccount(f.HubAccount):
		v.add("hubAccount", "account id must be 12 digits, got %q", f.HubAccount)
	case f.Accounts[f.HubAccount] == nil:
		v.add("hubAccount", "account %s is not in accounts", f.HubAccount)
	}
	if len(f.Accounts) == 0 {
		v.add("accounts", "at least one account is required")
	}
	if f.Faults != nil {
		v.faults("faults", f.Faults)
	}
	for _, id := range sortedKeys(f.Accounts) {
		v.account(fmt.Sprintf("accounts[%q]", id), id, f.Accounts[id])
	}
	return v.err()
}

var (
	regionRe       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	policyNameRe   = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	rolePathRe     = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	instanceIDRe   = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	templateIDRe   = regexp.MustCompile(`^lt-[0-9a-f]{17}$`)
	clusterNameRe  = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	oidcIssuerRe   = regexp.MustCompile(`^https://oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[0-9A-Za-z]+$`)
	roleARNRe      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role(/[\x21-\x7e]*)?/([\w+=,.@-]{1,64})$`)
	faultCodeRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]*$`)
	stackIDRe      = regexp.MustCompile(`^arn:aws[a-z-]*:cloudformation:([a-z0-9-]+):([0-9]{12}):stack/([^/]+)/([A-Za-z0-9-]+)$`)
	stackNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	logicalIDRe    = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
	resourceTypeRe = regexp.MustCompile(`^[A-Za-z0-9]+(::[A-Za-z0-9_@-]+)+$`)
)

// resourceStatuses are CloudFormation's resource statuses.
var resourceStatuses = []string{
	"CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE",
	"DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_COMPLETE", "DELETE_SKIPPED",
	"UPDATE_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_COMPLETE",
	"IMPORT_FAILED", "IMPORT_COMPLETE", "IMPORT_IN_PROGRESS",
	"IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
	"UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
	"ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
}

// instanceStateCode is the EC2 code of an instance state name; -1 for a
// name that is not a state.
func instanceStateCode(name string) int {
	switch name {
	case "pending":
		return 0
	case "running":
		return 16
	case "shutting-down":
		return 32
	case "terminated":
		return 48
	case "stopping":
		return 64
	case "stopped":
		return 80
	}
	return -1
}

type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return errors.Join(v.errs...)
}

func (v *validator) faults(path string, f *Faults) {
	for _, k := range sortedKeys(f.LatencyMs) {
		p := fmt.Sprintf("%s.latencyMs[%q]", path, k)
		v.faultKey(p, k)
		if ms := f.LatencyMs[k]; ms < 0 || ms > 600000 {
			v.add(p, "latency must be between 0 and 600000 ms, got %d", ms)
		}
	}
	for _, k := range sortedKeys(f.Throttle) {
		p := fmt.Sprintf("%s.throttle[%q]", path, k)
		v.faultKey(p, k)
		t := f.Throttle[k]
		if t.Burst < 1 {
			v.add(p+".burst", "must be at least 1, got %d", t.Burst)
		}
		if t.RatePerSecond < 0 {
			v.add(p+".ratePerSecond", "must not be negative, got %g", t.RatePerSecond)
		}
	}
	for _, k := range sortedKeys(f.Errors) {
		p := fmt.Sprintf("%s.errors[%q]", path, k)
		v.faultKey(p, k)
		e := f.Errors[k]
		if e.Rate < 0 || e.Rate > 1 {
			v.add(p+".rate", "must be between 0 and 1, got %g", e.Rate)
		}
		if !faultCodeRe.MatchString(e.Code) {
			v.add(p+".code", "must be an AWS error code such as InternalError, got %q", e.Code)
		}
		if e.Account != "" && !ids.ValidAccount(e.Account) {
			v.add(p+".account", "account id must be 12 digits, got %q", e.Account)
		}
		if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
			v.add(p+".status", "must be an HTTP error status (400–599), got %d", e.Status)
		}
	}
	if f.ApplyDelayMs < 0 {
		v.add(path+".applyDelayMs", "must not be negative, got %d", f.ApplyDelayMs)
	}
}

func (v *validator) faultKey(path, key string) {
	service, op, ok := strings.Cut(key, ":")
	if !ok {
		v.add(path, "fault key must be service:Operation (for example ec2:DescribeInstances)")
		return
	}
	if _, known := lookupOperation(service, op); !known && !(service == "s3" && s3Operations[op]) {
		v.add(path, "the sandbox has no operation %s in service %q", op, service)
	}
}

func (v *validator) account(path, id string, a *Account) {
	if !ids.ValidAccount(id) {
		v.add(path, "account id must be 12 digits")
	}
	if a == nil {
		v.add(path, "account must be an object, got null")
		return
	}
	seen := firsts{}
	for i, r := range a.Roles {
		v.role(fmt.Sprintf("%s.roles[%d]", path, i), r)
		key := strings.ToLower(r.Name)
		if j, dup := seen.dup(key, i); dup && r.Name != "" {
			v.add(fmt.Sprintf("%s.roles[%d].name", path, i), "duplicate role name %q (also roles[%d]; IAM names are case-insensitive)", r.Name, j)
		}
	}
	for _, name := range sortedKeys(a.Regions) {
		p := fmt.Sprintf("%s.regions[%q]", path, name)
		if !regionRe.MatchString(name) {
			v.add(p, "not a region name (for example us-east-1)")
		}
		if a.Regions[name] == nil {
			v.add(p, "region must be an object, got null")
			continue
		}
		v.region(p, id, name, a.Regions[name])
	}
}

func (v *validator) role(path string, r Role) {
	if !ids.ValidRoleName(r.Name) {
		v.add(path+".name", "role name must be 1–64 characters of letters, digits and +=,.@_-, got %q", r.Name)
	}
	if r.Path != "" && (!rolePathRe.MatchString(r.Path) || len(r.Path) > 512) {
		v.add(path+".path", "path must begin and end with / (for example /service/), got %q", r.Path)
	}
	if len(r.TrustPolicy) == 0 {
		v.add(path+".trustPolicy", "required")
	} else if !isJSONObject(r.TrustPolicy) {
		v.add(path+".trustPolicy", "must be a JSON object")
	}
	v.tags(path+".tags", r.Tags)
	for _, name := range sortedKeys(r.InlinePolicies) {
		p := fmt.Sprintf("%s.inlinePolicies[%q]", path, name)
		if !policyNameRe.MatchString(name) {
			v.add(p, "policy name must be 1–128 characters of letters, digits and +=,.@_-")
		}
		if !isJSONObject(r.InlinePolicies[name]) {
			v.add(p, "must be a JSON object")
		}
	}
}

func (v *validator) tags(path string, tags map[string]string) {
	if len(tags) > 50 {
		v.add(path, "at most 50 tags, got %d", len(tags))
	}
	for _, k := range sortedKeys(tags) {
		if k == "" || len(k) > 128 {
			v.add(fmt.Sprintf("%s[%q]", path, k), "tag key must be 1–128 characters")
		}
		if len(tags[k]) > 256 {
			v.add(fmt.Sprintf("%s[%q]", path, k), "tag value must be at most 256 characters")
		}
	}
}

func (v *validator) region(path, account, regionName string, r *Region) {
	ids := firsts{}
	for i, in := range r.Instances {
		p := fmt.Sprintf("%s.instances[%d]", path, i)
		v.uniqueID(p+".id", in.ID, instanceIDRe, "instance id must be i- and 8 or 17 lowercase hex digits", ids, i, "instance id", "instances")
		switch {
		case in.RunningAfterMs > 0 && in.State != "" && in.State != "pending":
			v.add(p+".state", "must be pending (or left out) with runningAfterMs; got %q", in.State)
		case in.RunningAfterMs > 0:
		case instanceStateCode(in.State) < 0:
			v.add(p+".state", "must be one of pending, running, stopping, stopped, shutting-down, terminated; got %q", in.State)
		}
		if in.VisibleAfterMs < 0 {
			v.add(p+".visibleAfterMs", "must be 0 or more milliseconds, got %d", in.VisibleAfterMs)
		}
		if in.RunningAfterMs < 0 {
			v.add(p+".runningAfterMs", "must be 0 or more milliseconds, got %d", in.RunningAfterMs)
		}
		v.tags(p+".tags", in.Tags)
		m := in.MetadataOptions
		v.metadataOptions(p+".metadataOptions", TemplateMetadataOptions{
			HTTPTokens:              m.HTTPTokens,
			HTTPPutResponseHopLimit: m.HTTPPutResponseHopLimit,
			HTTPEndpoint:            m.HTTPEndpoint,
			HTTPProtocolIPv6:        m.HTTPProtocolIPv6,
			InstanceMetadataTags:    m.InstanceMetadataTags,
		})
		v.oneOf(p+".metadataOptions.state", m.State, "pending", "applied")
		if in.ReservationID != "" && !strings.HasPrefix(in.ReservationID, "r-") {
			v.add(p+".reservationId", "reservation id must start with r-, got %q", in.ReservationID)
		}
	}
	for i, c := range r.Clusters {
		if !clusterNameRe.MatchString(c.Name) {
			v.add(fmt.Sprintf("%s.clusters[%d]", path, i), "cluster name must be 1–100 letters, digits, - and _, starting with a letter or digit; got %q", c.Name)
		}
		if c.OIDCIssuer != "" && !oidcIssuerRe.MatchString(c.OIDCIssuer) {
			v.add(fmt.Sprintf("%s.clusters[%d].oidcIssuer", path, i), "must be https://oidc.eks.REGION.amazonaws.com/id/ID; got %q", c.OIDCIssuer)
		}
	}
	v.clusterContents(path, r.Clusters)
	assoc := firsts{}
	for i, a := range r.PodIdentityAssociations {
		p := fmt.Sprintf("%s.podIdentityAssociations[%d]", path, i)
		if !clusterNameRe.MatchString(a.ClusterName) {
			v.add(p+".clusterName", "cluster name must be 1–100 letters, digits, - and _, starting with a letter or digit; got %q", a.ClusterName)
		}
		if a.AssociationID == "" {
			v.add(p+".associationId", "required")
		}
		key := a.ClusterName + "/" + a.AssociationID
		if j, dup := assoc.dup(key, i); dup {
			v.add(p+".associationId", "duplicate association %s in cluster %s (also podIdentityAssociations[%d])", a.AssociationID, a.ClusterName, j)
		}
		if a.Namespace == "" {
			v.add(p+".namespace", "required")
		}
		if a.ServiceAccount == "" {
			v.add(p+".serviceAccount", "required")
		}
		if !roleARNRe.MatchString(a.RoleARN) {
			v.add(p+".roleArn", "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got %q", a.RoleARN)
		}
		if a.TargetRoleARN != "" && !roleARNRe.MatchString(a.TargetRoleARN) {
			v.add(p+".targetRoleArn", "must be an IAM role ARN, got %q", a.TargetRoleARN)
		}
	}
	ltIDs, ltNames := firsts{}, firsts{}
	for i, t := range r.LaunchTemplates {
		p := fmt.Sprintf("%s.launchTemplates[%d]", path, i)
		v.uniqueID(p+".id", t.ID, templateIDRe, "launch template id must be lt- and 17 lowercase hex digits", ltIDs, i, "launch template id", "launchTemplates")
		if len(t.Name) < 3 || len(t.Name) > 128 {
			v.add(p+".name", "launch template name must be 3–128 characters, got %q", t.Name)
		}
		if j, dup := ltNames.dup(t.Name, i); dup {
			v.add(p+".name", "duplicate launch template name %q (also launchTemplates[%d])", t.Name, j)
		}
		if len(t.Versions) == 0 {
			v.add(p+".versions", "at least one version is required")
		}
		if t.DefaultVersion < 0 || (len(t.Versions) > 0 && t.DefaultVersion > len(t.Versions)) {
			v.add(p+".defaultVersion", "must name one of the versions (1–%d), got %d", len(t.Versions), t.DefaultVersion)
		}
		v.tags(p+".tags", t.Tags)
		for j, ver := range t.Versions {
			v.templateData(fmt.Sprintf("%s.versions[%d].data", p, j), ver.Data)
		}
	}
	if d := r.MetadataDefaults; d != nil {
		p := path + ".metadataDefaults"
		v.oneOf(p+".httpTokens", d.HTTPTokens, "optional", "required")
		v.hopLimit(p+".httpPutResponseHopLimit", d.HTTPPutResponseHopLimit)
		v.oneOf(p+".httpEndpoint", d.HTTPEndpoint, "enabled", "disabled")
		v.oneOf(p+".instanceMetadataTags", d.InstanceMetadataTags, "enabled", "disabled")
		v.oneOf(p+".httpTokensEnforced", d.HTTPTokensEnforced, "enabled", "disabled")
	}
	v.stacks(path, account, regionName, r.Stacks)
}

// stacks checks the CloudFormation stacks of one account and region: ids of
// that account and region, unique ids and names, unique logical ids.
func (v *validator) stacks(path, account, region string, stacks []Stack) {
	ids, names := firsts{}, firsts{}
	for i, st := range stacks {
		p := fmt.Sprintf("%s.stacks[%d]", path, i)
		m := stackIDRe.FindStringSubmatch(st.StackID)
		switch {
		case m == nil:
			v.add(p+".stackId", "must be a stack ARN (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID), got %q", st.StackID)
		case m[1] != region || m[2] != account:
			v.add(p+".stackId", "names %s/%s, but the stack is listed under %s/%s", m[2], m[1], account, region)
		case !stackNameRe.MatchString(m[3]):
			v.add(p+".stackId", "stack name %q must be 1–128 letters, digits and -, starting with a letter", m[3])
		case st.StackName != "" && st.StackName != m[3]:
			v.add(p+".stackName", "%q is not the name in stackId (%s)", st.StackName, m[3])
		}
		if j, dup := ids.dup(st.StackID, i); dup {
			v.add(p+".stackId", "duplicate stack id (also stacks[%d])", j)
		}
		if m != nil {
			if j, dup := names.dup(m[3], i); dup {
				v.add(p+".stackId", "duplicate stack name %s (also stacks[%d]; one live stack per name)", m[3], j)
			}
		}
		logical := firsts{}
		for k, res := range st.Resources {
			rp := fmt.Sprintf("%s.resources[%d]", p, k)
			v.uniqueID(rp+".logicalId", res.LogicalID, logicalIDRe, "must be 1–255 letters and digits", logical, k, "logical id", "resources")
			if !resourceTypeRe.MatchString(res.Type) {
				v.add(rp+".type", "must be a resource type such as AWS::IAM::Role or Custom::Name, got %q", res.Type)
			}
			if len(res.PhysicalID) > 1024 {
				v.add(rp+".physicalId", "at most 1,024 characters, got %d", len(res.PhysicalID))
			}
			if !slices.Contains(resourceStatuses, res.Status) {
				v.add(rp+".status", "must be a CloudFormation resource status such as CREATE_IN_PROGRESS or UPDATE_COMPLETE, got %q", res.Status)
			}
		}
	}
}

func (v *validator) templateData(path string, d TemplateData) {
	if d.MetadataOptions != nil {
		v.metadataOptions(path+".metadataOptions", *d.MetadataOptions)
	}
}

// metadataOptions checks the IMDS settings an instance and a launch template
// share.
func (v *validator) metadataOptions(path string, m TemplateMetadataOptions) {
	v.oneOf(path+".httpTokens", m.HTTPTokens, "optional", "required")
	v.hopLimit(path+".httpPutResponseHopLimit", m.HTTPPutResponseHopLimit)
	v.oneOf(path+".httpEndpoint", m.HTTPEndpoint, "enabled", "disabled")
	v.oneOf(path+".httpProtocolIpv6", m.HTTPProtocolIPv6, "enabled", "disabled")
	v.oneOf(path+".instanceMetadataTags", m.InstanceMetadataTags, "enabled", "disabled")
}

// oneOf accepts "" (not set) or one of the allowed words.
func (v *validator) oneOf(path, got string, allowed ...string) {
	if got == "" {
		return
	}
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	v.add(path, "must be %s; got %q", strings.Join(allowed, " or "), got)
}

func (v *validator) hopLimit(path string, n int) {
	if n != 0 && (n < 1 || n > 64) {
		v.add(path, "must be between 1 and 64, got %d", n)
	}
}

func isJSONObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && m != nil
}

// uniqueID checks the id at index i of list: it matches re (else problem)
// and is not a repeat of an earlier one (what names it in the message).
func (v *validator) uniqueID(path, id string, re *regexp.Regexp, problem string, seen firsts, i int, what, list string) {
	if !re.MatchString(id) {
		v.add(path, problem+", got %q", id)
	}
	if j, dup := seen.dup(id, i); dup {
		v.add(path, "duplicate %s %s (also %s[%d])", what, id, list, j)
	}
}

// firsts remembers where each key was first seen, to report duplicates.
type firsts map[string]int

// dup records key at index i. When key was seen before, it returns that
// first index and true.
func (f firsts) dup(key string, i int) (int, bool) {
	if j, ok := f[key]; ok {
		return j, true
	}
	f[key] = i
	return 0, false
}
