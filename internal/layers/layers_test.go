package layers

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/credguard/credguard/internal/"

// The layers of docs/architecture.md, top first; a package may import its
// own layer and those below it. Packages not listed (accounts, settings,
// sandbox, …) are adapters and tools beside the layers.
var layers = [][]string{
	{"invoke", "replay", "sweep"},
	{"imdsguard", "trustguard"},
	{"announce"},
	{"notify", "slack"},
	{"guardrail"},
	{"imds", "trust"},
	{"event", "ids", "outcome", "partition"},
}

func TestImportsRunDownTheLayers(t *testing.T) {
	level := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			level[p] = i
		}
	}
	for pkg, at := range level {
		bp, err := build.ImportDir(filepath.Join("..", pkg), 0)
		if err != nil {
			t.Fatalf("read %s: %v", pkg, err)
		}
		for _, imp := range bp.Imports {
			name, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if to, listed := level[name]; listed && to < at {
				t.Errorf("%s (layer %d) imports %s (layer %d, above it)", pkg, at, name, to)
			}
		}
	}
	// The leaves import nothing of Credguard's but each other.
	for _, leaf := range layers[len(layers)-1] {
		bp, err := build.ImportDir(filepath.Join("..", leaf), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range bp.Imports {
			if name, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(layers[len(layers)-1], name) {
				t.Errorf("leaf %s imports %s", leaf, name)
			}
		}
	}
}
