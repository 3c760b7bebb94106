package event

import "fmt"

// decodeCreateFleet reads a CloudTrail CreateFleet call: the fleet type from
// the request (nested under CreateFleetRequest, as CloudTrail logs newer EC2
// actions, or flat) and, for an instant fleet, the instance ids from
// responseElements.CreateFleetResponse.fleetInstanceSet.item[].instanceIds.item[].
//
// CloudTrail converts the response from EC2's XML, so a set holding one
// element is written as that element rather than as an array: an item may
// be an object instead of an array of objects, and instanceIds.item a string
// instead of an array of strings. Both forms are accepted at every level.
func decodeCreateFleet(ev *Event, c call) error {
	f := &Fleet{}
	ev.Fleet = f
	req := c.request
	if nested, ok, err := req.obj("CreateFleetRequest"); err != nil {
		return err
	} else if ok {
		req = nested
	}
	typ, typPath, err := req.firstStr("Type", "type")
	if err != nil {
		return err
	}
	switch typ {
	case "":
		f.Type = FleetMaintain // EC2's default
	case FleetInstant, FleetRequest, FleetMaintain:
		f.Type = typ
	default:
		return malformed(typPath, fmt.Sprintf("%q is not instant, request or maintain", typ))
	}

	resp := c.response
	if nested, ok, err := resp.obj("CreateFleetResponse"); err != nil {
		return err
	} else if ok {
		resp = nested
	}
	if f.FleetID, _, err = resp.firstStr("fleetId", "FleetId"); err != nil {
		return err
	}
	set, ok, err := xmlSet(resp, "fleetInstanceSet")
	if err != nil || !ok {
		// No instance launched (request/maintain fleets, or an instant
		// fleet whose every launch failed: see errorSet).
		return err
	}
	items, itemsPath, err := oneOrMany(set, "item")
	if err != nil {
		return err
	}
	for i, raw := range items {
		item, err := asObject(index(itemsPath, i), raw)
		if err != nil {
			return err
		}
		idSet, ok, err := xmlSet(item, "instanceIds")
		if err != nil {
			return err
		}
		if !ok {
			continue // a launch specification that launched nothing
		}
		ids, idsPath, err := oneOrMany(idSet, "item")
		if err != nil {
			return err
		}
		for j, v := range ids {
			p := index(idsPath, j)
			id, isStr := v.(string)
			if !isStr {
				return wrongType(p, "string", v)
			}
			if !ValidInstanceID(id) {
				return malformed(p, fmt.Sprintf("%q is not an instance id", id))
			}
			f.InstanceIDs = append(f.InstanceIDs, id)
		}
	}
	return nil
}

// xmlSet returns the optional object member key, taking an empty string
// (how CloudTrail writes an empty XML element, as in "errorSet": "") for
// absent.
func xmlSet(o object, key string) (object, bool, error) {
	if v, ok := o.value(key); ok && v == "" {
		return object{}, false, nil
	}
	return o.obj(key)
}

// oneOrMany returns the member key as a list: an array as it is, any other
// value (the one element of a set CloudTrail converted from XML) as a list
// of one; absent or null, an empty list. The path names the member.
func oneOrMany(o object, key string) ([]any, string, error) {
	path := join(o.path, key)
	v, ok := o.value(key)
	if !ok {
		return nil, path, nil
	}
	if a, isArr := v.([]any); isArr {
		return a, path, nil
	}
	return []any{v}, path, nil
}
