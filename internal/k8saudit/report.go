package k8saudit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON prints {"findings":[…]} (an empty array when there is none).
func WriteJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []Finding `json:"findings"`
	}{fs})
}

// WriteTable prints the findings as a readable table grouped by severity,
// critical first, and a closing count.
func WriteTable(w io.Writer, fs []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	counts := map[Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	for _, sev := range []Severity{Critical, Warning} {
		if counts[sev] == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s (%d)\n", strings.ToUpper(string(sev)), counts[sev])
		fmt.Fprintln(tw, "  RULE\tNAMESPACE\tWORKLOAD\tSERVICE ACCOUNT\tEXAMPLE POD\tDETAIL")
		for _, f := range fs {
			if f.Severity == sev {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.Rule, f.Namespace, dash(f.Workload), f.ServiceAccount, dash(f.Pod), f.Detail)
			}
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "%d critical, %d warning\n", counts[Critical], counts[Warning])
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
