package notify

// exemptLines lists the exempt resources a sweep found (at most
// MaxSweepItems), after the worst offenders: accepted exceptions, shown so
// that an exemption nobody remembers is seen.
func exemptLines(items []SweepItem) []string {
	if len(items) == 0 {
		return nil
	}
	lines := []string{"\n*Exempt*"}
	for i, it := range items {
		if i == MaxSweepItems {
			break
		}
		lines = append(lines, sweepItemLine(it))
	}
	return lines
}
