package event_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/event"
	"github.com/credguard/credguard/internal/ids"
)

// FuzzDecode feeds Decode arbitrary bytes, seeded with every embedded file.
// Decode must never panic; an error must be a classified *DecodeError; a
// success must carry a known Kind with exactly its own detail set and only
// well-formed ids.
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"*.json", "invalid/*.json", "fixtures/*.json"} {
		for _, name := range globSample(f, pattern) {
			f.Add(readSample(f, name))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := event.Decode(data)
		if err != nil {
			var de *event.DecodeError
			if !errors.As(err, &de) || (!errors.Is(err, event.ErrMalformed) && !errors.Is(err, event.ErrUnsupported)) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "decode event: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		set := map[event.Kind]bool{
			event.KindStateChange:                  ev.StateChange != nil,
			event.KindRunInstances:                 ev.RunInstances != nil,
			event.KindCreateFleet:                  ev.Fleet != nil,
			event.KindModifyMetadataOptions:        ev.MetadataOptions != nil,
			event.KindCreatePodIdentityAssociation: ev.PodIdentity != nil,
			event.KindUpdatePodIdentityAssociation: ev.PodIdentity != nil,
			event.KindCreateRole:                   ev.Role != nil,
			event.KindUpdateAssumeRolePolicy:       ev.Role != nil,
		}
		own, known := set[ev.Kind]
		if !known {
			t.Fatalf("unknown Kind %q", ev.Kind)
		}
		if !own {
			t.Fatalf("Kind %q without its detail", ev.Kind)
		}
		details := 0
		for _, p := range []bool{ev.StateChange != nil, ev.RunInstances != nil, ev.Fleet != nil, ev.MetadataOptions != nil, ev.PodIdentity != nil, ev.Role != nil} {
			if p {
				details++
			}
		}
		if details != 1 {
			t.Fatalf("Kind %q with %d details set", ev.Kind, details)
		}
		if !ids.ValidAccount(ev.Account) || ev.Region == "" {
			t.Fatalf("bad envelope account %q region %q", ev.Account, ev.Region)
		}
		for _, id := range ev.InstanceIDs() {
			if !event.ValidInstanceID(id) {
				t.Fatalf("instance id %q is not well formed", id)
			}
		}
		if !ev.Failed() {
			if ev.RunInstances != nil && len(ev.RunInstances.Instances) == 0 {
				t.Fatal("successful RunInstances without instances")
			}
			if f := ev.Fleet; f != nil && f.Type != event.FleetInstant && f.Type != event.FleetRequest && f.Type != event.FleetMaintain {
				t.Fatalf("fleet type %q", f.Type)
			}
			if (ev.Role != nil && ev.Role.RoleName == "") || (ev.PodIdentity != nil && ev.PodIdentity.ClusterName == "") {
				t.Fatal("successful event without the resource it names")
			}
		}
		if event.Describe(ev) == "" {
			t.Fatal("empty Describe")
		}
	})
}
