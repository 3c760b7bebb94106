package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode"

	"github.com/credguard/credguard/internal/ids"
)

// IAM quotas the sandbox enforces (IAM's defaults).
const (
	trustPolicyQuota  = 2048  // non-whitespace characters of a role trust policy
	inlinePolicyQuota = 10240 // non-whitespace characters of all inline policies of a role
	maxTags           = 50
)

// ---- IAM response shapes ----

type iamTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type iamRole struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	Arn                      string           `xml:"Arn"`
	CreateDate               string           `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument"`
	Description              string           `xml:"Description,omitempty"`
	MaxSessionDuration       int              `xml:"MaxSessionDuration"`
	Tags                     *members[iamTag] `xml:"Tags,omitempty"`
}

type roleResult struct {
	Role iamRole `xml:"Role"`
}

type listRolesResult struct {
	Roles       members[iamRole] `xml:"Roles"`
	IsTruncated bool             `xml:"IsTruncated"`
	Marker      string           `xml:"Marker,omitempty"`
}

type getRolePolicyResult struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type listRolePoliciesResult struct {
	PolicyNames members[string] `xml:"PolicyNames"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

type listRoleTagsResult struct {
	Tags        members[iamTag] `xml:"Tags"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

func iamTags(m map[string]string) []iamTag {
	var out []iamTag
	for _, k := range sortedKeys(m) {
		out = append(out, iamTag{Key: k, Value: m[k]})
	}
	return out
}

// xml renders the role; withTags is false for ListRoles, which (like IAM)
// does not return tags.
func (r *role) xml(account string, withTags bool) iamRole {
	x := iamRole{
		Path: r.path, RoleName: r.name, RoleID: r.id, Arn: r.arn(account),
		CreateDate:               r.created.Format(isoTime),
		AssumeRolePolicyDocument: percentEncode(r.trust),
		Description:              r.description,
		MaxSessionDuration:       r.maxSession,
	}
	if withTags && len(r.tags) > 0 {
		x.Tags = &members[iamTag]{Members: iamTags(r.tags)}
	}
	return x
}

// ---- helpers ----

func iamError(code, format string, args ...any) *apiError {
	return newError(statusForCode(code), code, format, args...)
}

func validationError(field, value, constraint string) *apiError {
	return newError(http.StatusBadRequest, "ValidationError",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// findRole looks a role up by name (case-insensitively, as IAM does).
func (s *Server) findRole(r *request) (*role, *apiError) {
	name := r.p.str("RoleName")
	r.resource = "arn:aws:iam::" + r.account() + ":role/" + name
	if name == "" {
		return nil, validationError("roleName", name, "Member must not be null")
	}
	ro := s.world.accounts[r.account()].roles[strings.ToLower(name)]
	if ro == nil {
		return nil, iamError("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	r.resource = ro.arn(r.account())
	return ro, nil
}

func protectedRole(ro *role) *apiError {
	if strings.HasPrefix(ro.path, "/aws-service-role/") {
		return iamError("UnmodifiableEntity", "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", ro.name)
	}
	return nil
}

// iamPage reads MaxItems (1–1000, default 100) and the Marker.
func iamPage(p params, keys []string) (start, limit int, err *apiError) {
	limit, set, perr := p.int("MaxItems")
	if perr != nil {
		return 0, 0, iamError("ValidationError", "%s", perr.Message)
	}
	if !set {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return 0, 0, validationError("maxItems", itoa(limit), "Member must have value between 1 and 1000")
	}
	start, ok := pageStart(keys, p.str("Marker"))
	if !ok {
		return 0, 0, iamError("InvalidInput", "Invalid Marker %q.", p.str("Marker"))
	}
	return start, limit, nil
}

// nonWhitespace counts the characters IAM's policy size quotas count.
func nonWhitespace(s string) int {
	n := 0
	for _, c := range s {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

// validatePolicy checks a policy document as IAM does: a JSON object with a
// supported Version and a Statement of objects, each with an Effect and an
// Action; a trust policy names a Principal and no Resource, a permissions
// policy names a Resource and no Principal.
func validatePolicy(doc string, trust bool) *apiError {
	malformed := func(format string, args ...any) *apiError {
		return iamError("MalformedPolicyDocument", format, args...)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
		return malformed("Syntax errors in policy.")
	}
	var version string
	if raw, ok := obj["Version"]; !ok {
		return malformed("Missing required field Version")
	} else if json.Unmarshal(raw, &version) != nil || (version != "2012-10-17" && version != "2008-10-17") {
		return malformed("The policy failed legacy parsing")
	}
	raw, ok := obj["Statement"]
	if !ok {
		return malformed("Missing required field Statement")
	}
	var statements []map[string]json.RawMessage
	var one map[string]json.RawMessage
	if json.Unmarshal(raw, &one) == nil && one != nil {
		statements = []map[string]json.RawMessage{one}
	} else if json.Unmarshal(raw, &statements) != nil {
		return malformed("Syntax errors in policy.")
	}
	for _, st := range statements {
		if st == nil {
			return malformed("Syntax errors in policy.")
		}
		var effect string
		if e, ok := st["Effect"]; !ok {
			return malformed("Missing required field Effect")
		} else if json.Unmarshal(e, &effect) != nil || (effect != "Allow" && effect != "Deny") {
			return malformed("Invalid effect: %s", strings.Trim(string(e), `"`))
		}
		if !has(st, "Action") && !has(st, "NotAction") {
			return malformed("Missing required field Action")
		}
		if trust {
			if !has(st, "Principal") && !has(st, "NotPrincipal") {
				return malformed("Missing required field Principal")
			}
			for _, f := range []string{"Resource", "NotResource"} {
				if has(st, f) {
					return malformed("Has prohibited field %s", f)
				}
			}
		} else {
			if !has(st, "Resource") && !has(st, "NotResource") {
				return malformed("Missing required field Resource")
			}
			for _, f := range []string{"Principal", "NotPrincipal"} {
				if has(st, f) {
					return malformed("Has prohibited field %s", f)
				}
			}
		}
	}
	return nil
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

func checkTrustPolicy(doc string) *apiError {
	if doc == "" {
		return validationError("assumeRolePolicyDocument", doc, "Member must not be null")
	}
	if err := validatePolicy(doc, true); err != nil {
		return err
	}
	if nonWhitespace(doc) > trustPolicyQuota {
		return iamError("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustPolicyQuota)
	}
	return nil
}

func checkTags(tags []tag) *apiError {
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return iamError("InvalidInput", "Tag key %q must be 1–128 characters.", t.Key)
		}
		if len(t.Value) > 256 {
			return iamError("InvalidInput", "The value of tag %q must be at most 256 characters.", t.Key)
		}
	}
	return nil
}

// ---- operations ----

func (s *Server) iamGetRole(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	return &roleResult{Role: ro.xml(r.account(), true)}, nil
}

func (s *Server) iamListRoles(r *request) (any, error) {
	prefix := r.p.str("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	if !strings.HasPrefix(prefix, "/") || len(prefix) > 512 {
		return nil, validationError("pathPrefix", prefix, "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*")
	}
	a := s.world.accounts[r.account()]
	start, limit, err := iamPage(r.p, a.roleKeys)
	if err != nil {
		return nil, err
	}
	out := &listRolesResult{}
	for i := start; i < len(a.roleKeys); i++ {
		ro := a.roles[a.roleKeys[i]]
		if !strings.HasPrefix(ro.path, prefix) {
			continue
		}
		if len(out.Roles.Members) == limit {
			out.IsTruncated, out.Marker = true, pageToken(a.roleKeys[i])
			break
		}
		out.Roles.Members = append(out.Roles.Members, ro.xml(r.account(), false))
	}
	return out, nil
}

func (s *Server) iamCreateRole(r *request) (any, error) {
	name := r.p.str("RoleName")
	r.resource = "arn:aws:iam::" + r.account() + ":role/" + name
	if !ids.ValidRoleName(name) {
		return nil, validationError("roleName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64")
	}
	path := r.p.str("Path")
	if path == "" {
		path = "/"
	}
	if !rolePathRe.MatchString(path) || len(path) > 512 {
		return nil, validationError("path", path, "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)")
	}
	doc := r.p.str("AssumeRolePolicyDocument")
	if err := checkTrustPolicy(doc); err != nil {
		return nil, err
	}
	desc := r.p.str("Description")
	if len(desc) > 1000 {
		return nil, validationError("description", desc, "Member must have length less than or equal to 1000")
	}
	maxSession, set, perr := r.p.int("MaxSessionDuration")
	if perr != nil {
		return nil, iamError("ValidationError", "%s", perr.Message)
	}
	if !set {
		maxSession = 3600
	}
	if maxSession < 3600 || maxSession > 43200 {
		return nil, validationError("maxSessionDuration", itoa(maxSession), "Member must have value between 3600 and 43200")
	}
	tags := r.p.queryTags("Tags.member")
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	if len(tags) > maxTags {
		return nil, iamError("LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	a := s.world.accounts[r.account()]
	if existing := a.roles[strings.ToLower(name)]; existing != nil {
		return nil, iamError("EntityAlreadyExists", "Role with name %s already exists.", existing.name)
	}
	ro := &role{
		name: name, path: path, description: desc,
		id:      stableID("AROA", r.account()+path+name),
		created: r.now.UTC().Truncate(1e9), exportCreated: true,
		trust: doc, tags: map[string]string{}, inline: map[string]string{},
		maxSession: maxSession,
	}
	for _, t := range tags {
		ro.tags[t.Key] = t.Value
	}
	a.addRole(ro)
	r.resource = ro.arn(r.account())
	return &roleResult{Role: ro.xml(r.account(), true)}, nil
}

func (s *Server) iamUpdateAssumeRolePolicy(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	if err := protectedRole(ro); err != nil {
		return nil, err
	}
	doc := r.p.str("PolicyDocument")
	if doc == "" {
		return nil, validationError("policyDocument", doc, "Member must not be null")
	}
	if err := checkTrustPolicy(doc); err != nil {
		return nil, err
	}
	ro.trust = doc
	return nil, nil
}

func (s *Server) iamPutRolePolicy(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	if err := protectedRole(ro); err != nil {
		return nil, err
	}
	name, doc := r.p.str("PolicyName"), r.p.str("PolicyDocument")
	if !policyNameRe.MatchString(name) {
		return nil, validationError("policyName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 128")
	}
	if doc == "" {
		return nil, validationError("policyDocument", doc, "Member must not be null")
	}
	if err := validatePolicy(doc, false); err != nil {
		return nil, err
	}
	total := nonWhitespace(doc)
	for other, d := range ro.inline {
		if other != name {
			total += nonWhitespace(d)
		}
	}
	if total > inlinePolicyQuota {
		return nil, iamError("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", inlinePolicyQuota, ro.name)
	}
	ro.inline[name] = doc
	return nil, nil
}

func (s *Server) iamGetRolePolicy(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	name := r.p.str("PolicyName")
	doc, ok := ro.inline[name]
	if !ok {
		return nil, iamError("NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return &getRolePolicyResult{RoleName: ro.name, PolicyName: name, PolicyDocument: percentEncode(doc)}, nil
}

func (s *Server) iamListRolePolicies(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	names := sortedKeys(ro.inline)
	start, limit, perr := iamPage(r.p, names)
	if perr != nil {
		return nil, perr
	}
	out := &listRolePoliciesResult{PolicyNames: members[string]{Members: []string{}}}
	end := min(start+limit, len(names))
	out.PolicyNames.Members = append(out.PolicyNames.Members, names[start:end]...)
	if end < len(names) {
		out.IsTruncated, out.Marker = true, pageToken(names[end])
	}
	return out, nil
}

func (s *Server) iamDeleteRolePolicy(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	if err := protectedRole(ro); err != nil {
		return nil, err
	}
	name := r.p.str("PolicyName")
	if _, ok := ro.inline[name]; !ok {
		return nil, iamError("NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	delete(ro.inline, name)
	return nil, nil
}

func (s *Server) iamListRoleTags(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	keys := sortedKeys(ro.tags)
	start, limit, perr := iamPage(r.p, keys)
	if perr != nil {
		return nil, perr
	}
	out := &listRoleTagsResult{}
	end := min(start+limit, len(keys))
	for _, k := range keys[start:end] {
		out.Tags.Members = append(out.Tags.Members, iamTag{Key: k, Value: ro.tags[k]})
	}
	if end < len(keys) {
		out.IsTruncated, out.Marker = true, pageToken(keys[end])
	}
	return out, nil
}

func (s *Server) iamTagRole(r *request) (any, error) {
	ro, err := s.findRole(r)
	if err != nil {
		return nil, err
	}
	tags := r.p.queryTags("Tags.member")
	if len(tags) == 0 {
		return nil, validationError("tags", "[]", "Member must not be null")
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	next := copyMap(ro.tags)
	for _, t := range tags {
		next[t.Key] = t.Value
	}
	if len(next) > maxTags {
		return nil, iamError("LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	ro.tags = next
	return nil, nil
}
