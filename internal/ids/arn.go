package ids

import (
	"regexp"
	"strings"
)

// partitionRe is the shape of an ARN partition: aws, aws-cn, aws-us-gov,
// aws-iso-b and the like.
var partitionRe = regexp.MustCompile(`^aws(-[a-z]+)*$`)

// ValidPartition reports whether s has the shape of an ARN partition (aws,
// aws-cn, aws-us-gov, aws-iso-b, …).
func ValidPartition(s string) bool { return partitionRe.MatchString(s) }

// RoleARN is an IAM role's ARN taken apart:
// arn:Partition:iam::Account:role<Path>Name.
type RoleARN struct {
	Partition string // aws, aws-cn, aws-us-gov, …
	Account   string // 12 digits ("*" in a policy's resource pattern)
	Path      string // "/" or "" for none, else "/a/b/"
	Name      string
}

// String formats the ARN; an empty Path is written as "/".
func (r RoleARN) String() string {
	path := r.Path
	if path == "" {
		path = "/"
	}
	return "arn:" + r.Partition + ":iam::" + r.Account + ":role" + path + r.Name
}

// SameRole reports whether r and o name the same role: the same account and
// name. The path is not part of a role's identity (IAM role names are unique
// in an account whatever their path), and an account belongs to one
// partition.
func (r RoleARN) SameRole(o RoleARN) bool {
	return r.Name != "" && r.Account == o.Account && r.Name == o.Name
}

// In reports whether one of the role ARNs in list (surrounding spaces
// ignored, entries that are no role ARN skipped) names the same role as r.
// The zero RoleARN is in no list.
func (r RoleARN) In(list []string) bool {
	for _, s := range list {
		if o, ok := ParseRoleARN(strings.TrimSpace(s)); ok && r.SameRole(o) {
			return true
		}
	}
	return false
}

// RoleListed reports whether arn is a role ARN naming the same role as one of
// the ARNs in list (see RoleARN.In).
func RoleListed(arn string, list []string) bool {
	r, ok := ParseRoleARN(arn)
	return ok && r.In(list)
}

// maxPathLen is IAM's limit on a path's length.
const maxPathLen = 512

// validPath reports whether p is an IAM path: "/" or /…/ of printable ASCII
// (IAM's pattern), at most 512 characters.
func validPath(p string) bool {
	if len(p) == 0 || len(p) > maxPathLen || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] > 0x7e {
			return false
		}
	}
	return true
}

// arnParts splits an ARN into its six fields; ok is false when it has fewer
// or does not start with "arn".
func arnParts(arn string) (p []string, ok bool) {
	p = strings.SplitN(arn, ":", 6)
	return p, len(p) == 6 && p[0] == "arn"
}

// ParseRoleARN takes apart arn:PARTITION:iam::ACCOUNT:role/PATH/NAME. ok is
// false for anything else: another service or resource type, a region, a
// partition or account of the wrong shape, a malformed path or an invalid
// role name.
func ParseRoleARN(arn string) (RoleARN, bool) {
	p, ok := arnParts(arn)
	if !ok || p[2] != "iam" || p[3] != "" || !ValidPartition(p[1]) || !ValidAccount(p[4]) {
		return RoleARN{}, false
	}
	rest, ok := strings.CutPrefix(p[5], "role/")
	if !ok {
		return RoleARN{}, false
	}
	slash := strings.LastIndexByte(rest, '/')
	path, name := "/"+rest[:slash+1], rest[slash+1:]
	if !validPath(path) || !ValidRoleName(name) {
		return RoleARN{}, false
	}
	return RoleARN{Partition: p[1], Account: p[4], Path: path, Name: name}, true
}

// ParseAssumedRoleARN finds the role behind an STS session ARN,
// arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION. The session ARN
// does not carry the role's path: Path is empty. ok is false for anything
// else (users, federated sessions, malformed ARNs).
func ParseAssumedRoleARN(arn string) (RoleARN, bool) {
	p, ok := arnParts(arn)
	if !ok || p[2] != "sts" || p[3] != "" || !ValidPartition(p[1]) || !ValidAccount(p[4]) {
		return RoleARN{}, false
	}
	res := strings.Split(p[5], "/")
	if len(res) != 3 || res[0] != "assumed-role" || !ValidRoleName(res[1]) || res[2] == "" {
		return RoleARN{}, false
	}
	return RoleARN{Partition: p[1], Account: p[4], Name: res[1]}, true
}
