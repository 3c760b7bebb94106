package event

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/partition"
)

// decodeCreateRole reads a CreateRole call: the name and path from the
// request (else the response), the ARN from responseElements.role.arn (else
// built), and the trust policy as the caller sent it. When only the response's
// URL-encoded copy exists it is decoded exactly once.
func decodeCreateRole(ev *Event, c call) error {
	rc := &RoleChange{}
	ev.Role = rc
	role, _, err := c.response.obj("role")
	if err != nil {
		return err
	}
	if role.m == nil {
		role = object{path: join(c.response.path, "role"), m: map[string]any{}}
	}
	name, namePath, err := firstOf(c.request, role, "roleName")
	if err != nil {
		return err
	}
	if name == "" {
		return malformed(namePath, "missing")
	}
	if !ids.ValidRoleName(name) {
		return malformed(namePath, fmt.Sprintf("%q is not a role name", name))
	}
	rc.RoleName = name

	path, pathPath, err := firstOf(c.request, role, "path")
	if err != nil {
		return err
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
		return malformed(pathPath, fmt.Sprintf("%q must begin and end with /", path))
	}
	rc.Path = path

	arn, err := role.str("arn")
	if err != nil {
		return err
	}
	if arn == "" {
		arn = ids.RoleARN{Partition: partition.Of(ev.Region), Account: ev.Account, Path: path, Name: name}.String()
	} else if problem := checkRoleARN(arn); problem != "" {
		return malformed(join(role.path, "arn"), problem)
	}
	rc.RoleARN = arn

	doc, err := c.request.str("assumeRolePolicyDocument")
	if err != nil {
		return err
	}
	if doc == "" {
		// The response records the document URL-encoded, as IAM answers.
		// Decoding it is part of reading the CloudTrail record: a record
		// that does not decode is malformed, and the event is ignored
		// before any AWS call.
		encoded, err := role.str("assumeRolePolicyDocument")
		if err != nil {
			return err
		}
		if doc, err = url.PathUnescape(encoded); err != nil {
			return malformed(join(role.path, "assumeRolePolicyDocument"), "bad URL encoding: "+err.Error())
		}
	}
	rc.PolicyDocument = doc
	return nil
}

// decodeUpdateAssumeRolePolicy reads an UpdateAssumeRolePolicy call
// (responseElements is null). The event does not carry the role's path, so
// RoleARN is built without one; the guardrail's GetRole gives the real ARN.
func decodeUpdateAssumeRolePolicy(ev *Event, c call) error {
	rc := &RoleChange{}
	ev.Role = rc
	name, err := c.request.required("roleName")
	if err != nil {
		return err
	}
	if !ids.ValidRoleName(name) {
		return malformed(join(c.request.path, "roleName"), fmt.Sprintf("%q is not a role name", name))
	}
	rc.RoleName = name
	rc.RoleARN = ids.RoleARN{Partition: partition.Of(ev.Region), Account: ev.Account, Name: name}.String()
	rc.PolicyDocument, err = c.request.str("policyDocument")
	return err
}

// firstOf reads key from the request, else from the response object.
func firstOf(request, response object, key string) (string, string, error) {
	v, err := request.str(key)
	if err != nil || v != "" {
		return v, join(request.path, key), err
	}
	v, err = response.str(key)
	if v != "" {
		return v, join(response.path, key), err
	}
	return v, join(request.path, key), err
}
