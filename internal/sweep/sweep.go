package sweep

import (
	"context"
	"fmt"
	"sync"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// Instances is the IMDS guardrail as the sweep uses it
// (imdsguard.Handler.Enforce): describe, decide, modify and confirm, one
// result per id.
type Instances interface {
	Enforce(ctx context.Context, account, region string, ids []string) []guardrail.Result
}

// Roles is the trust guardrail as the sweep uses it
// (trustguard.Handler.Enforce): read the role afresh, decide, act, confirm.
type Roles interface {
	Enforce(ctx context.Context, roleARN string) guardrail.Result
}

// EC2For returns the EC2 client acting in account and region.
type EC2For func(ctx context.Context, account, region string) (EC2, error)

// IAMFor returns the IAM client acting in account.
type IAMFor func(ctx context.Context, account string) (IAM, error)

// Config tunes a sweep.
type Config struct {
	// DryRunIMDS and DryRunTrust make the sweep decide but write nothing:
	// DryRunIMDS for instances and launch templates, DryRunTrust for roles.
	// New applies DryRunIMDS to launch templates only (the Instances and
	// Roles guardrails carry their own setting); FromConfig applies both.
	DryRunIMDS  bool
	DryRunTrust bool
	// IMDSScope is the launch templates' imdsScope (imds.ScopeAll or
	// imds.ScopeEKSNodes); FromConfig takes it from the settings, which
	// also give the instances' guardrail its scope.
	IMDSScope string
	// Concurrency bounds the scopes swept at once: an account's roles, or an
	// account's instances and launch templates in one region (default 4).
	Concurrency int
	// Workers bounds the role checks and launch template fixes in flight
	// within one scope (default 8).
	Workers int
	// Progress, when set, is called as each scope starts and ends (from
	// several goroutines, one call at a time).
	Progress func(Progress)
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	return c
}

// Progress reports one scope starting (Done false) or ending (Done true).
type Progress struct {
	Account string
	Region  string // "" for the account's roles
	Done    bool
	// When done: the resources checked per kind, the findings, and the
	// errors of the scope.
	Checked  map[Kind]int
	Findings int
	Errors   []ScopeError
}

// Sweeper sweeps accounts and regions. It is safe for concurrent use.
type Sweeper struct {
	ec2For    EC2For
	iamFor    IAMFor
	instances Instances
	roles     Roles
	cfg       Config
	progress  sync.Mutex
}

// New builds a sweeper from its clients and the two guardrails.
func New(ec2For EC2For, iamFor IAMFor, instances Instances, roles Roles, cfg Config) *Sweeper {
	return &Sweeper{ec2For: ec2For, iamFor: iamFor, instances: instances, roles: roles, cfg: cfg.withDefaults()}
}

// Run sweeps every scope of accounts × regions (see Scopes), at most
// Concurrency scopes at once. It never fails as a whole: what could not be
// swept is in Report.Errors. Scopes not started when ctx ends are reported
// as errors.
func (s *Sweeper) Run(ctx context.Context, accounts, regions []string) Report {
	rep := newReport()
	rep.Accounts, rep.Regions = append([]string(nil), accounts...), append([]string(nil), regions...)
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, s.cfg.Concurrency)
	)
	add := func(part Report) {
		mu.Lock()
		defer mu.Unlock()
		rep.merge(part)
	}
	for _, sc := range Scopes(accounts, regions) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			add(notStarted(sc, ctx.Err()))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.report(Progress{Account: sc.Account, Region: sc.Region})
			part := s.Scope(ctx, sc)
			s.report(Progress{Account: sc.Account, Region: sc.Region, Done: true,
				Checked: part.Checked, Findings: len(part.Findings), Errors: part.Errors})
			add(part)
		}()
	}
	wg.Wait()
	rep.sort()
	return rep
}

func notStarted(sc Scope, err error) Report {
	part := newReport()
	for _, k := range sc.Kinds() {
		part.Errors = append(part.Errors, ScopeError{Account: sc.Account, Region: sc.Region, Kind: k, Err: fmt.Errorf("not swept: %w", err)})
	}
	return part
}

func (s *Sweeper) report(p Progress) {
	if s.cfg.Progress == nil {
		return
	}
	s.progress.Lock()
	defer s.progress.Unlock()
	s.cfg.Progress(p)
}

// Scope sweeps one scope: the account's roles (Region "") or its instances
// and launch templates in one region. The report's findings are sorted.
func (s *Sweeper) Scope(ctx context.Context, sc Scope) Report {
	part := newReport()
	if sc.Region == "" {
		part = s.sweepRoles(ctx, sc.Account)
		part.sort()
		return part
	}
	client, err := s.ec2For(ctx, sc.Account, sc.Region)
	if err != nil {
		for _, k := range sc.Kinds() {
			part.Errors = append(part.Errors, ScopeError{Account: sc.Account, Region: sc.Region, Kind: k, Err: fmt.Errorf("no EC2 access: %w", err)})
		}
		return part
	}
	part.merge(s.sweepInstances(ctx, client, sc.Account, sc.Region))
	part.merge(s.sweepTemplates(ctx, client, sc.Account, sc.Region))
	part.sort()
	return part
}

// sweepInstances lists the live instances and hands the non-compliant ones
// to the IMDS guardrail.
func (s *Sweeper) sweepInstances(ctx context.Context, client EC2, account, region string) Report {
	part := newReport()
	var ids []string
	listed := map[string]imds.Instance{}
	verdicts := map[string]Verdict{}
	err := listInstances(ctx, client, func(in imds.Instance) {
		if _, dup := listed[in.ID]; dup {
			return // listed twice while instances came and went between pages
		}
		listed[in.ID] = in
		part.Checked[KindInstance]++
		v := IMDSVerdict(in.Options)
		if v == "" {
			part.Compliant[KindInstance]++
			return
		}
		verdicts[in.ID] = v
		ids = append(ids, in.ID)
	})
	if err != nil {
		// Report the error, and still act on what was listed.
		part.Errors = append(part.Errors, ScopeError{Account: account, Region: region, Kind: KindInstance, Err: err})
	}
	if len(ids) == 0 {
		return part
	}
	byID := map[string]guardrail.Result{}
	for _, r := range s.instances.Enforce(ctx, account, region, ids) {
		byID[r.Resource] = r
	}
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			r = guardrail.Result{Outcome: outcome.Failed, Detail: "the IMDS guardrail reported nothing for this instance"}
		}
		f := Finding{Account: account, Region: region, Resource: id, Kind: KindInstance, Verdict: verdicts[id],
			Outcome: r.Outcome, Name: listed[id].Name(), Detail: r.Detail}
		f.Before, f.After = r.ChangeText()
		if r.Name != "" {
			f.Name = r.Name
		}
		if f.Before == "" {
			f.Before = listed[id].Options.String()
		}
		part.Findings = append(part.Findings, f)
	}
	return part
}

// sweepTemplates lists the launch templates and fixes the default version of
// the non-compliant ones.
func (s *Sweeper) sweepTemplates(ctx context.Context, client EC2, account, region string) Report {
	part := newReport()
	templates, err := listTemplates(ctx, client)
	if err != nil {
		part.Errors = append(part.Errors, ScopeError{Account: account, Region: region, Kind: KindLaunchTemplate, Err: err})
	}
	var bad []Template
	for _, t := range templates {
		part.Checked[KindLaunchTemplate]++
		if t.Verdict() == "" {
			part.Compliant[KindLaunchTemplate]++
			continue
		}
		bad = append(bad, t)
	}
	findings := make([]Finding, len(bad))
	s.each(len(bad), func(i int) {
		t := bad[i]
		f := Finding{Account: account, Region: region, Resource: t.ID, Kind: KindLaunchTemplate, Verdict: t.Verdict(), Name: t.Name}
		f.Outcome, f.Detail, f.Before, f.After = s.checkTemplate(ctx, client, t)
		findings[i] = f
	})
	part.Findings = append(part.Findings, findings...)
	return part
}

// checkTemplate decides on the listed template; when the decision is to
// write, it reads the default version afresh (it may have changed since the
// listing), decides again and writes.
func (s *Sweeper) checkTemplate(ctx context.Context, client EC2, listed Template) (o outcome.Outcome, detail, before, after string) {
	if d := DecideTemplate(listed, s.cfg.DryRunIMDS, s.cfg.IMDSScope); !d.Write {
		return d.Outcome, d.Reason, d.Before, d.After
	}
	t := listed
	v, err := defaultVersion(ctx, client, t.ID)
	switch {
	case isTemplateNotFound(err):
		return outcome.Gone, "launch template no longer exists", listed.options().String(), ""
	case err != nil:
		return outcome.Failed, err.Error(), listed.options().String(), ""
	}
	setVersion(&t, v)
	d := DecideTemplate(t, s.cfg.DryRunIMDS, s.cfg.IMDSScope)
	if !d.Write {
		return d.Outcome, d.Reason, d.Before, d.After
	}
	version, err := fixTemplate(ctx, client, t.ID, t.DefaultVersion, d.Target)
	switch {
	case isTemplateNotFound(err) && version == 0:
		return outcome.Gone, "launch template deleted before it could be changed", d.Before, ""
	case err != nil:
		return outcome.Failed, err.Error(), d.Before, d.After
	}
	return outcome.Remediated, fmt.Sprintf("%s: version %d is the new default", d.Reason, version), d.Before, d.After
}

// sweepRoles lists the account's roles, analyses each trust policy from the
// listing, and hands the ones with findings to the trust guardrail.
func (s *Sweeper) sweepRoles(ctx context.Context, account string) Report {
	part := newReport()
	client, err := s.iamFor(ctx, account)
	if err != nil {
		part.Errors = append(part.Errors, ScopeError{Account: account, Kind: KindRole, Err: fmt.Errorf("no IAM access: %w", err)})
		return part
	}
	type flagged struct {
		role    listedRole
		verdict Verdict
		reason  string
	}
	var bad []flagged
	seen := map[string]bool{}
	err = listRoles(ctx, client, func(r listedRole) {
		if seen[r.ARN] {
			return
		}
		seen[r.ARN] = true
		part.Checked[KindRole]++
		v, reason := RoleVerdict(r.EncodedPolicy)
		if v == "" {
			part.Compliant[KindRole]++
			return
		}
		bad = append(bad, flagged{r, v, reason})
	})
	if err != nil {
		part.Errors = append(part.Errors, ScopeError{Account: account, Kind: KindRole, Err: err})
	}
	findings := make([]Finding, len(bad))
	s.each(len(bad), func(i int) {
		b := bad[i]
		r := s.roles.Enforce(ctx, b.role.ARN)
		f := Finding{Account: account, Resource: b.role.ARN, Kind: KindRole, Verdict: b.verdict, Outcome: r.Outcome,
			Name: b.role.Name, Detail: r.Detail}
		f.Before, f.After = r.ChangeText()
		if r.Resource != "" {
			f.Resource = r.Resource
		}
		if f.Detail == "" {
			f.Detail = b.reason
		}
		findings[i] = f
	})
	part.Findings = append(part.Findings, findings...)
	return part
}

// each runs f(0) … f(n-1) with at most Workers in flight.
func (s *Sweeper) each(n int, f func(i int)) {
	if n == 0 {
		return
	}
	sem := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
