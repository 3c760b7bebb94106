package stacks

import (
	"slices"
	"testing"

	"github.com/credguard/credguard/internal/settings"
)

// The CLI, replay and the sweep name Credguard's own roles from
// settings.FunctionRoles; the stacks create them from SelfRoleFunctions: the
// two lists must be the same roles.
func TestSelfRoleNamesMatchSettings(t *testing.T) {
	var deployed []string
	for _, fn := range SelfRoleFunctions {
		deployed = append(deployed, RoleName(fn))
	}
	if !slices.Equal(deployed, settings.FunctionRoles) {
		t.Errorf("stacks create %v, settings.FunctionRoles lists %v", deployed, settings.FunctionRoles)
	}
}
