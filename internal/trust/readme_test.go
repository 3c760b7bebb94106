package trust

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMERewriteExamples runs every example of the README's section on
// what the rewrite keeps, scopes and removes.
func TestREADMERewriteExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	const heading = "### What the rewrite keeps, scopes and removes"
	start := strings.Index(readme, heading)
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	section := readme[start+len(heading):]
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	bullets := map[string]string{}
	for _, item := range strings.Split(section, "\n- ") {
		if m := regexp.MustCompile(`^\*\*(\w+)\*\*`).FindStringSubmatch(item); m != nil {
			bullets[m[1]] = strings.Join(strings.Fields(item), " ")
		}
	}
	policies := regexp.MustCompile("`(\\{[^`]*\\})`")
	examples := func(kind string, n int) []string {
		t.Helper()
		var out []string
		for _, m := range policies.FindAllStringSubmatch(bullets[kind], -1) {
			out = append(out, m[1])
		}
		if len(out) != n {
			t.Fatalf("%s: %d example policies, want %d: %q", kind, len(out), n, bullets[kind])
		}
		return out
	}
	fix := func(doc string, w *Workload) (string, Policy) {
		t.Helper()
		p := mustParse(t, doc)
		checkFixed(t, p, w, 0) // the properties hold for the example too
		out, _, err := Fix(p, w)
		if err != nil {
			t.Fatal(err)
		}
		return mustMarshal(t, out), out
	}

	keeps := examples("Keeps", 2)
	if got, _ := fix(keeps[0], nil); got != keeps[1] {
		t.Errorf("Keeps: fix gives\n%s\nthe README says\n%s", got, keeps[1])
	}

	scopes := examples("Scopes", 2)
	m := regexp.MustCompile("for `([a-z0-9-]+)/([a-z0-9-]+)` in `(arn:[^`]+)`").FindStringSubmatch(bullets["Scopes"])
	if m == nil {
		t.Fatalf("Scopes: no workload (for `NS/SA` in `CLUSTER-ARN`): %q", bullets["Scopes"])
	}
	w := &Workload{Namespace: m[1], ServiceAccount: m[2], ClusterARN: m[3]}
	if got, _ := fix(scopes[0], w); got != scopes[1] {
		t.Errorf("Scopes: fix gives\n%s\nthe README says\n%s", got, scopes[1])
	}

	removes := examples("Removes", 1)
	_, out := fix(removes[0], nil)
	if len(out.Statements) != 1 || out.Statements[0].Sid != RevokedSid || out.Statements[0].Effect != Deny ||
		!strings.Contains(bullets["Removes"], RevokedSid) {
		t.Errorf("Removes: fix gives %s", mustMarshal(t, out))
	}
}
