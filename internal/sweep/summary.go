package sweep

import (
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
)

// Summary is the report as the one notification of a scheduled sweep tells
// it: counts per outcome and the worst offenders.
func (r Report) Summary(id string, dryRun bool) notify.Sweep {
	s := notify.Sweep{
		ID: id, Accounts: r.Accounts, Regions: r.Regions, Outcomes: r.Outcomes(),
		Remaining: r.Remaining(), DryRun: dryRun,
	}
	for _, k := range Kinds {
		s.Checked += r.Checked[k]
		s.Compliant += r.Compliant[k]
	}
	for _, f := range r.Worst(len(r.Findings)) {
		it := notify.SweepItem{
			Account: f.Account, Region: f.Region, Kind: string(f.Kind), Resource: f.Resource, Name: f.Name,
			Verdict: string(f.Verdict), Outcome: f.Outcome, Detail: f.Detail,
		}
		switch {
		case f.Outcome == outcome.Exempt:
			if len(s.Exempt) < notify.MaxSweepItems {
				s.Exempt = append(s.Exempt, it)
			}
		case len(s.Worst) < notify.MaxSweepItems:
			s.Worst = append(s.Worst, it)
		}
	}
	for _, e := range r.Errors {
		s.Errors = append(s.Errors, e.Error())
	}
	return s
}
