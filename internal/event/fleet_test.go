package event_test

import (
	"errors"
	"testing"

	"github.com/credguard/credguard/internal/event"
)

const (
	fleetOne  = "cloudtrail-create-fleet-one.json"
	fleetMany = "cloudtrail-create-fleet-many.json"
	fleetResp = "detail.responseElements.CreateFleetResponse"
	fleetReq  = "detail.requestParameters.CreateFleetRequest"
)

// TestDecodeCreateFleet: the forms CloudTrail writes a CreateFleet call in
// (its response is converted from XML: a one-element set is that element),
// and the fleet types that name no instances.
func TestDecodeCreateFleet(t *testing.T) {
	items := fleetResp + ".fleetInstanceSet.item"
	tests := []struct {
		name    string
		data    []byte
		typ     string
		ids     []string
		fleetID string
	}{
		{"one item as an object, one id as a string", readSample(t, fleetOne), event.FleetInstant, []string{"i-0aaa0000000000009"}, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"items as an array, ids as an array and as a string", readSample(t, fleetMany), event.FleetInstant,
			[]string{"i-0aaa000000000000a", "i-0aaa000000000000b", "i-0aaa000000000000c"}, "fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10"},
		{"one item in an array, one id in an array", variant(t, fleetOne,
			set(items, []any{map[string]any{"instanceIds": map[string]any{"item": []any{"i-0aaa0000000000009"}}}})),
			event.FleetInstant, []string{"i-0aaa0000000000009"}, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"flat request and response", variant(t, fleetOne,
			set("detail.requestParameters", map[string]any{"type": "instant"}),
			set("detail.responseElements", map[string]any{"fleetId": "fleet-1", "fleetInstanceSet": map[string]any{"item": map[string]any{"instanceIds": map[string]any{"item": "i-0aaa0000000000009"}}}})),
			event.FleetInstant, []string{"i-0aaa0000000000009"}, "fleet-1"},
		{"an item that launched nothing", variant(t, fleetMany, del(items+".1.instanceIds")), event.FleetInstant,
			[]string{"i-0aaa000000000000a", "i-0aaa000000000000b"}, "fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10"},
		{"instant fleet that launched nothing (errorSet)", variant(t, fleetOne, del(fleetResp+".fleetInstanceSet"),
			set(fleetResp+".errorSet", map[string]any{"item": map[string]any{"errorCode": "InsufficientInstanceCapacity"}})),
			event.FleetInstant, nil, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"empty elements written as empty strings", variant(t, fleetMany, set(items+".1.instanceIds", "")),
			event.FleetInstant, []string{"i-0aaa000000000000a", "i-0aaa000000000000b"}, "fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10"},
		{"no instance set, written as an empty string", variant(t, fleetOne, set(fleetResp+".fleetInstanceSet", "")),
			event.FleetInstant, nil, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"request fleet", variant(t, fleetOne, set(fleetReq+".Type", "request"), del(fleetResp+".fleetInstanceSet")),
			event.FleetRequest, nil, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"no type is a maintain fleet", variant(t, fleetOne, del(fleetReq+".Type"), del(fleetResp+".fleetInstanceSet")),
			event.FleetMaintain, nil, "fleet-0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c09"},
		{"duplicate ids listed once", variant(t, fleetMany, set(items+".1.instanceIds.item", "i-0aaa000000000000a")), event.FleetInstant,
			[]string{"i-0aaa000000000000a", "i-0aaa000000000000b"}, "fleet-1b2c3d4e-5f6a-4b7c-8d9e-1f2a3b4c5d10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := event.Decode(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			want(t, ev.Kind, event.KindCreateFleet)
			want(t, ev.Fleet.Type, tt.typ)
			want(t, ev.Fleet.FleetID, tt.fleetID)
			want(t, ev.InstanceIDs(), tt.ids)
			want(t, ev.Launch(), true)
		})
	}
}

func TestDecodeCreateFleetErrors(t *testing.T) {
	items := fleetResp + ".fleetInstanceSet.item"
	tests := []struct {
		name, field, reason string
		data                []byte
	}{
		{"unknown type", fleetReq + ".Type", `"spot" is not instant, request or maintain`, variant(t, fleetOne, set(fleetReq+".Type", "spot"))},
		{"type a number", fleetReq + ".Type", "want string, got number", variant(t, fleetOne, set(fleetReq+".Type", 3))},
		{"item a string", items + "[0]", "want object, got string", variant(t, fleetOne, set(items, "i-0aaa0000000000009"))},
		{"id a number", items + "[0].instanceIds.item[0]", "want string, got number", variant(t, fleetOne, set(items+".instanceIds.item", 9))},
		{"id not an instance id", items + "[1].instanceIds.item[0]", `"i-xyz" is not an instance id`, variant(t, fleetMany, set(items+".1.instanceIds.item", "i-xyz"))},
		{"instanceIds not an object", items + "[0].instanceIds", "want object, got array", variant(t, fleetMany, set(items+".0.instanceIds", []any{"i-0aaa000000000000a"}))},
		{"fleetInstanceSet a string", fleetResp + ".fleetInstanceSet", "want object, got string", variant(t, fleetOne, set(fleetResp+".fleetInstanceSet", "x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.Decode(tt.data)
			var de *event.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, event.ErrMalformed) {
				t.Fatalf("err = %v, want a malformed DecodeError", err)
			}
			if de.Field != tt.field || de.Reason != tt.reason {
				t.Errorf("field %q reason %q, want %q %q", de.Field, de.Reason, tt.field, tt.reason)
			}
		})
	}
	// A failed call decodes, for the guardrail to report it ignored.
	ev, err := event.Decode(variant(t, fleetOne, set("detail.errorCode", "Client.UnauthorizedOperation"), set("detail.errorMessage", "no"), del("detail.responseElements")))
	if err != nil || !ev.Failed() || ev.Kind != event.KindCreateFleet {
		t.Errorf("failed call: %+v, %v", ev, err)
	}
}
