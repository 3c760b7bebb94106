package event

import (
	"fmt"
	"strings"
)

// maxListedIDs bounds how many instance ids Describe spells out.
const maxListedIDs = 5

// Describe is a one-line human summary of an event, for logs and replay
// output, for example
// "RunInstances by arn:aws:iam::111122223333:user/alice: 3 instances (i-…, i-…, i-…) in 111122223333/us-east-1".
func Describe(e Event) string {
	var b strings.Builder
	where := e.Account + "/" + e.Region
	switch {
	case e.StateChange != nil:
		fmt.Fprintf(&b, "EC2 instance %s is %s in %s", e.StateChange.InstanceID, e.StateChange.State, where)
	case e.RunInstances != nil, e.Fleet != nil:
		b.WriteString(e.EventName + by(e.Actor) + ": ")
		if f := e.Fleet; f != nil {
			b.WriteString(f.Type + " fleet " + orUnknown(f.FleetID, "?") + ", ")
		}
		ids := e.InstanceIDs()
		b.WriteString(plural(len(ids), "instance"))
		if len(ids) > 0 {
			shown := ids
			if len(shown) > maxListedIDs {
				shown = shown[:maxListedIDs]
			}
			b.WriteString(" (" + strings.Join(shown, ", "))
			if len(ids) > len(shown) {
				fmt.Fprintf(&b, ", … %d more", len(ids)-len(shown))
			}
			b.WriteString(")")
		}
		b.WriteString(" in " + where)
	case e.MetadataOptions != nil:
		b.WriteString(e.EventName + by(e.Actor) + ": ")
		b.WriteString(orUnknown(e.MetadataOptions.InstanceID, "unknown instance"))
		if req := FormatOptions(e.MetadataOptions.Requested); req != "" {
			b.WriteString(" set " + req)
		}
		b.WriteString(" in " + where)
	case e.PodIdentity != nil:
		p := e.PodIdentity
		b.WriteString(e.EventName + by(e.Actor) + ": ")
		fmt.Fprintf(&b, "cluster %s", orUnknown(p.ClusterName, "?"))
		if p.Namespace != "" || p.ServiceAccount != "" {
			fmt.Fprintf(&b, ", %s/%s", orUnknown(p.Namespace, "?"), orUnknown(p.ServiceAccount, "?"))
		}
		if p.AssociationID != "" {
			fmt.Fprintf(&b, " (%s)", p.AssociationID)
		}
		if p.RoleARN != "" {
			b.WriteString(" → " + p.RoleARN)
		}
		if p.TargetRoleARN != "" {
			b.WriteString(" → " + p.TargetRoleARN)
		}
		b.WriteString(" in " + where)
	case e.Role != nil:
		b.WriteString(e.EventName + by(e.Actor) + ": role ")
		b.WriteString(orUnknown(e.Role.RoleARN, orUnknown(e.Role.RoleName, "?")))
	default:
		fmt.Fprintf(&b, "%s event in %s", orUnknown(e.DetailType, "unknown"), where)
	}
	if e.Failed() {
		b.WriteString(" — the call failed: " + e.ErrorCode)
	}
	return b.String()
}

// FormatOptions renders the options that are set, in a fixed order, for
// example "httpTokens=required hop=1" ("" when none is set).
func FormatOptions(mo MetadataOptions) string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("httpTokens", mo.HTTPTokens)
	if mo.HopLimit != 0 {
		add("hop", fmt.Sprint(mo.HopLimit))
	}
	add("httpEndpoint", mo.HTTPEndpoint)
	add("httpProtocolIpv6", mo.HTTPProtocolIPv6)
	add("instanceMetadataTags", mo.InstanceTags)
	return strings.Join(parts, " ")
}

func by(a Actor) string {
	if s := a.String(); s != "" {
		return " by " + s
	}
	return ""
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orUnknown(s, unknown string) string {
	if s == "" {
		return unknown
	}
	return s
}
