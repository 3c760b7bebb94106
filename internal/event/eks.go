package event

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/credguard/credguard/internal/ids"
)

var associationIDPattern = regexp.MustCompile(`^a-[a-z0-9]+$`)

// decodePodIdentity reads a Create/UpdatePodIdentityAssociation call. Each
// field comes from responseElements.association when present there, else
// from requestParameters (Update's request carries only clusterName,
// associationId, roleArn and targetRoleArn; namespace and service account
// then come from the response or stay empty for the guardrail to describe).
func decodePodIdentity(ev *Event, c call) error {
	p := &PodIdentityAssociation{}
	ev.PodIdentity = p
	assoc, _, err := c.response.obj("association")
	if err != nil {
		return err
	}
	if assoc.m == nil {
		assoc = object{path: join(c.response.path, "association"), m: map[string]any{}}
	}
	fields := []struct {
		dst     *string
		reqKeys []string
		check   func(string) string // returns the problem, "" when fine
	}{
		{&p.ClusterName, []string{"clusterName", "name"}, nil},
		{&p.AssociationID, []string{"associationId"}, checkAssociationID},
		{&p.AssociationARN, []string{"associationArn"}, checkARN("eks", "podidentityassociation/")},
		{&p.Namespace, []string{"namespace"}, nil},
		{&p.ServiceAccount, []string{"serviceAccount"}, nil},
		{&p.RoleARN, []string{"roleArn"}, checkRoleARN},
		{&p.TargetRoleARN, []string{"targetRoleArn"}, checkRoleARN},
	}
	for _, f := range fields {
		v, path, err := assoc.firstStr(f.reqKeys...)
		if err != nil {
			return err
		}
		if v == "" {
			if v, path, err = c.request.firstStr(f.reqKeys...); err != nil {
				return err
			}
		}
		if v != "" && f.check != nil {
			if problem := f.check(v); problem != "" {
				return malformed(path, problem)
			}
		}
		*f.dst = v
	}
	if p.ClusterName == "" {
		return malformed(join(c.request.path, "clusterName"), "missing")
	}
	if ev.Kind == KindUpdatePodIdentityAssociation && p.AssociationID == "" {
		return malformed(join(c.request.path, "associationId"), "missing")
	}
	if ev.Kind == KindCreatePodIdentityAssociation && p.AssociationID == "" && (p.Namespace == "" || p.ServiceAccount == "") {
		return malformed(join(c.request.path, "namespace"), "missing (with no associationId in the response either)")
	}
	return nil
}

func checkAssociationID(id string) string {
	if !associationIDPattern.MatchString(id) {
		return fmt.Sprintf("%q is not a pod identity association id", id)
	}
	return ""
}

func checkRoleARN(arn string) string {
	if _, ok := ids.ParseRoleARN(arn); !ok {
		return fmt.Sprintf("%q is not an iam role ARN", arn)
	}
	return ""
}

// checkARN returns a check that an ARN is arn:<partition>:<service>:…:<account>:<resource…>
// with the given resource prefix.
func checkARN(service, resourcePrefix string) func(string) string {
	return func(arn string) string {
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != service ||
			!ids.ValidAccount(parts[4]) || !strings.HasPrefix(parts[5], resourcePrefix) || len(parts[5]) == len(resourcePrefix) {
			return fmt.Sprintf("%q is not an %s %s ARN", arn, service, strings.TrimSuffix(resourcePrefix, "/"))
		}
		return ""
	}
}
