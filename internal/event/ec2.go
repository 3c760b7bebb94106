package event

import "fmt"

// decodeRunInstances reads the launched instances from
// responseElements.instancesSet.items[] (the request only says how many).
func decodeRunInstances(ev *Event, c call) error {
	ri := &RunInstances{}
	ev.RunInstances = ri
	set, err := c.response.requiredObj("instancesSet")
	if err != nil {
		return err
	}
	items, ok, err := set.arr("items")
	if err != nil {
		return err
	}
	itemsPath := join(set.path, "items")
	if !ok || len(items) == 0 {
		return malformed(itemsPath, "no instances")
	}
	for i, raw := range items {
		item, err := asObject(index(itemsPath, i), raw)
		if err != nil {
			return err
		}
		id, err := instanceID(item, "instanceId")
		if err != nil {
			return err
		}
		inst := LaunchedInstance{InstanceID: id}
		if mo, ok, err := item.obj("metadataOptions"); err != nil {
			return err
		} else if ok {
			if inst.MetadataOptions, err = decodeMetadataOptions(mo); err != nil {
				return err
			}
		}
		ri.Instances = append(ri.Instances, inst)
	}
	return nil
}

// decodeModifyMetadataOptions reads a ModifyInstanceMetadataOptions call. The
// request is nested under ModifyInstanceMetadataOptionsRequest with PascalCase
// members (as CloudTrail logs newer EC2 actions) or flat with camelCase
// members; both are accepted. The response, when present, is nested under
// ModifyInstanceMetadataOptionsResponse (or flat).
func decodeModifyMetadataOptions(ev *Event, c call) error {
	m := &MetadataOptionsChange{}
	ev.MetadataOptions = m
	req := c.request
	if nested, ok, err := req.obj("ModifyInstanceMetadataOptionsRequest"); err != nil {
		return err
	} else if ok {
		req = nested
	}
	resp := c.response
	if nested, ok, err := resp.obj("ModifyInstanceMetadataOptionsResponse"); err != nil {
		return err
	} else if ok {
		resp = nested
	}

	reqID, reqPath, err := req.firstStr("InstanceId", "instanceId")
	if err != nil {
		return err
	}
	respID, respPath, err := resp.firstStr("instanceId", "InstanceId")
	if err != nil {
		return err
	}
	switch {
	case reqID != "":
		if !ValidInstanceID(reqID) {
			return malformed(reqPath, fmt.Sprintf("%q is not an instance id", reqID))
		}
		if respID != "" && respID != reqID {
			return malformed(respPath, fmt.Sprintf("%q does not match the requested instance %q", respID, reqID))
		}
		m.InstanceID = reqID
	case respID != "":
		if !ValidInstanceID(respID) {
			return malformed(respPath, fmt.Sprintf("%q is not an instance id", respID))
		}
		m.InstanceID = respID
	default:
		return malformed(reqPath, "missing")
	}

	if m.Requested, err = decodeMetadataOptions(req); err != nil {
		return err
	}
	if mo, ok, err := resp.obj("instanceMetadataOptions"); err != nil {
		return err
	} else if ok {
		if m.Resulting, err = decodeMetadataOptions(mo); err != nil {
			return err
		}
	}
	return nil
}

// instanceID reads a required, well-formed instance id member.
func instanceID(o object, key string) (string, error) {
	id, err := o.required(key)
	if err != nil {
		return "", err
	}
	if !ValidInstanceID(id) {
		return "", malformed(join(o.path, key), fmt.Sprintf("%q is not an instance id", id))
	}
	return id, nil
}

// decodeMetadataOptions reads IMDS options written with camelCase members
// (RunInstances response items, the flat request form, response options) or
// PascalCase members (the nested request form). Each value is checked against
// the values EC2 accepts.
func decodeMetadataOptions(o object) (MetadataOptions, error) {
	var mo MetadataOptions
	enums := []struct {
		dst     *string
		allowed [2]string
		keys    []string
	}{
		{&mo.HTTPTokens, [2]string{"optional", "required"}, []string{"HttpTokens", "httpTokens"}},
		{&mo.HTTPEndpoint, [2]string{"enabled", "disabled"}, []string{"HttpEndpoint", "httpEndpoint"}},
		{&mo.State, [2]string{"pending", "applied"}, []string{"State", "state"}},
		{&mo.HTTPProtocolIPv6, [2]string{"enabled", "disabled"}, []string{"HttpProtocolIpv6", "httpProtocolIpv6"}},
		{&mo.InstanceTags, [2]string{"enabled", "disabled"}, []string{"InstanceMetadataTags", "instanceMetadataTags"}},
	}
	for _, e := range enums {
		v, path, err := o.firstStr(e.keys...)
		if err != nil {
			return mo, err
		}
		if v != "" && v != e.allowed[0] && v != e.allowed[1] {
			return mo, malformed(path, fmt.Sprintf("%q is not %q or %q", v, e.allowed[0], e.allowed[1]))
		}
		*e.dst = v
	}
	hop, path, ok, err := o.integer("HttpPutResponseHopLimit", "httpPutResponseHopLimit")
	if err != nil {
		return mo, err
	}
	if ok {
		if hop < 1 || hop > 64 {
			return mo, malformed(path, fmt.Sprintf("hop limit %d is outside 1-64", hop))
		}
		mo.HopLimit = hop
	}
	return mo, nil
}
