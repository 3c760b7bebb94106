package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/sandbox"
	"github.com/credguard/credguard/internal/settings"
	"github.com/credguard/credguard/internal/sweep"
)

const scanUsage = `usage: credguard scan [--fixture F] [--accounts a,b|all] [--regions r1,r2] [--remediate] [--json]
                     [--concurrency N] [--progress auto|always|never] [--role-name NAME] [--imds-scope all|eks-nodes]

Lists every instance whose metadata options are not HttpTokens=required with
hop limit 1, every launch template whose default version allows IMDSv1 or a
hop limit above 1 (or leaves either unset), and every role whose trust policy
is critical or warning, across the accounts (entered through the member
role) and regions. Compliant resources are counted, not listed.

Read-only unless --remediate, which fixes what it lists with the same code
the event guardrails run (exemptions included): instances get tokens required
and hop limit 1, launch templates a new default version with only those two
settings changed, critical roles their wildcard trust narrowed and older
sessions revoked.

  --fixture F        scan a local sandbox seeded from the fixture F instead of AWS
                     (accounts default to every account of the fixture, regions to
                     every region in it)
  --accounts LIST    comma-separated account ids, or "all" for the organization's
                     active accounts (organizations:ListAccounts; run from the
                     management account or a delegated administrator).
                     Default: the caller's account
  --regions LIST     comma-separated regions. Default: the configured region
  --remediate        fix what is found
  --json             print {"findings": [...]} instead of a table
  --concurrency N    scopes scanned at once, 1 to 64 (default 4); a scope is one
                     account's roles, or its instances and launch templates in one
                     region: accounts × (regions + 1) scopes in all
  --progress MODE    progress on stderr: auto (the default: only when stderr is a
                     terminal), always, or never. It shows scopes done of the total,
                     findings so far, elapsed time and ETA, in place on a terminal,
                     else one line at each tenth of the scopes
  --imds-role-name NAME   the role assumed in accounts other than the caller's
                     for instances and launch templates (default
                     credguard-imds-remediation)
  --trust-role-name NAME  the same for roles (default credguard-trust-remediation)
  --role-name NAME   one role for both, unless the flags above name their own:
                     the member roles trust only the hub's Credguard functions,
                     so people scanning from their own credentials name a role
                     they may assume, such as OrganizationAccountAccessRole (or
                     credguard-remediation, before the member roles were split)
  --imds-scope S     all (default), or eks-nodes: instances without an EKS or
                     Karpenter tag (eks:cluster-name, aws:eks:cluster-name,
                     kubernetes.io/cluster/*, karpenter.sh/nodepool) are listed
                     as ignored and never changed

Without --fixture the default AWS credential chain is used (environment,
shared config and credentials files, SSO, instance or container role).
Progress goes to stderr.

Each finding: account, region (empty for roles: IAM is global), resource
(instance id, launch template id or role ARN), kind (instance,
launch-template, role), verdict and outcome.
  verdict  instance and launch-template: imdsv1 (tokens not required),
           hop-limit (hop limit above 1), imdsv1+hop-limit; unset values in a
           launch template count as not compliant.
           role: critical (wildcard trust), warning (broad but bounded trust),
           unreadable (the trust policy could not be parsed).
  outcome  the guardrail's own word. Read-only: dry-run (--remediate would
           change it), warned (risky; never changed automatically), exempt
           (tagged credguard:exempt with a reason, or Credguard's own role),
           failed (could not be checked). With --remediate: remediated,
           revoked, or the same words for what was not changed. compliant
           and gone mean the resource was fixed or deleted by someone else
           between the listing and the check.

Exit 0 when nothing non-compliant remains (exempt resources are accepted
exceptions), 1 when any finding is dry-run, warned or failed, or a part of
the scan could not be completed (stderr says which), 2 for usage errors, a
bad fixture, or no usable AWS credentials or region.
`

var (
	scanRegionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// scanTarget is where a scan runs: the base configuration (acting in the
// hub account), the accounts and the regions.
type scanTarget struct {
	base     aws.Config
	hub      string
	accounts []string
	regions  []string
}

func runScan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fixturePath := fs.String("fixture", "", "sandbox fixture (JSON)")
	accountsFlag := fs.String("accounts", "", "account ids, or all")
	regionsFlag := fs.String("regions", "", "regions")
	remediate := fs.Bool("remediate", false, "fix what is found")
	asJSON := fs.Bool("json", false, "print JSON")
	concurrency := fs.Int("concurrency", 4, "scopes at once")
	progressMode := fs.String("progress", progressAuto, "auto, always or never")
	roleName := fs.String("role-name", "", "one member role name for both guardrails")
	imdsRole := fs.String("imds-role-name", ids.IMDSRoleName, "member role for instances and launch templates")
	trustRole := fs.String("trust-role-name", ids.TrustRoleName, "member role for roles")
	imdsScope := fs.String("imds-scope", settings.IMDSScopeAll, "all or eks-nodes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, scanUsage)
			return 0
		}
		fmt.Fprint(stderr, scanUsage)
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "credguard scan: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (see credguard scan --help)", fs.Arg(0))
	}
	if *concurrency < 1 || *concurrency > 64 {
		return usage("--concurrency %d: want 1 to 64", *concurrency)
	}
	switch *progressMode {
	case progressAuto, progressAlways, progressNever:
	default:
		return usage("--progress %q: want auto, always or never", *progressMode)
	}
	if *imdsScope != settings.IMDSScopeAll && *imdsScope != settings.IMDSScopeEKSNodes {
		return usage("--imds-scope %q: want %s or %s", *imdsScope, settings.IMDSScopeAll, settings.IMDSScopeEKSNodes)
	}
	for flagName, v := range map[string]string{"role-name": *roleName, "imds-role-name": *imdsRole, "trust-role-name": *trustRole} {
		if (v != "" || flagName != "role-name") && !ids.ValidRoleName(v) {
			return usage("--%s %q is not an IAM role name", flagName, v)
		}
	}
	wantAll := strings.TrimSpace(*accountsFlag) == "all"
	accountList := settings.List(*accountsFlag)
	if !wantAll {
		for _, a := range accountList {
			if !ids.ValidAccount(a) {
				return usage("--accounts: %q is not a 12-digit account id (or use --accounts all)", a)
			}
		}
	}
	regionList := settings.List(*regionsFlag)
	for _, r := range regionList {
		if !scanRegionRe.MatchString(r) {
			return usage("--regions: %q is not a region name (for example us-east-1)", r)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var target scanTarget
	if *fixturePath != "" {
		f, err := sandbox.LoadFixture(*fixturePath)
		if err != nil {
			return usage("%v", err)
		}
		for _, a := range accountList {
			if f.Accounts[a] == nil && !wantAll {
				return usage("--accounts: account %s is not in the fixture %s", a, *fixturePath)
			}
		}
		sb, err := sandbox.Serve(f)
		if err != nil {
			return usage("%v", err)
		}
		defer sb.Close()
		regions := fixtureRegions(f)
		base, err := sb.AWSConfig(ctx, f.HubAccount, firstOr(regionList, regions[0]))
		if err != nil {
			return usage("%v", err)
		}
		target = scanTarget{base: base, hub: f.HubAccount, accounts: slices.Sorted(maps.Keys(f.Accounts)), regions: regions}
	} else {
		base, err := config.LoadDefaultConfig(ctx, config.WithRetryer(accounts.Retryer))
		if err != nil {
			return usage("AWS configuration: %v", err)
		}
		if base.Region == "" && len(regionList) > 0 {
			base.Region = regionList[0]
		}
		if base.Region == "" {
			return usage("no AWS region: set AWS_REGION (or a profile's region), or pass --regions")
		}
		who, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return usage("no usable AWS credentials: %v", err)
		}
		target = scanTarget{base: base, hub: aws.ToString(who.Account), accounts: []string{aws.ToString(who.Account)}, regions: []string{base.Region}}
	}
	target.base.Retryer = accounts.Retryer // the sandbox's configuration too
	switch {
	case wantAll:
		ids, err := sweep.OrganizationAccounts(ctx, organizations.NewFromConfig(target.base))
		if err != nil {
			return usage("--accounts all: %v", err)
		}
		target.accounts = ids
	case len(accountList) > 0:
		target.accounts = accountList
	}
	if len(regionList) > 0 {
		target.regions = regionList
	}

	st := settings.Settings{HubAccount: target.hub, IMDSRoleName: *imdsRole, TrustRoleName: *trustRole,
		SelfRoleARNs: settings.SelfRoleARNs(target.base.Region, target.hub), IMDSScope: *imdsScope}
	if *roleName != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["imds-role-name"] {
			st.IMDSRoleName = *roleName
		}
		if !set["trust-role-name"] {
			st.TrustRoleName = *roleName
		}
	}
	cfg := sweep.Config{DryRunIMDS: !*remediate, DryRunTrust: !*remediate, Concurrency: *concurrency}
	if m := newProgressMeter(*progressMode, stderr, len(sweep.Scopes(target.accounts, target.regions)), time.Now); m != nil {
		cfg.Progress = m.update
	}
	sw := sweep.FromConfig(target.base, st, cfg, slog.New(slog.DiscardHandler))
	rep := sw.Run(ctx, target.accounts, target.regions)

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Findings []sweep.Finding `json:"findings"`
		}{Findings: append([]sweep.Finding{}, rep.Findings...)}); err != nil {
			fmt.Fprintf(stderr, "credguard scan: %v\n", err)
			return 2
		}
	} else {
		printScan(stdout, rep, *remediate)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(stderr, "credguard scan: not scanned: %v\n", e)
	}
	if !rep.Clean() {
		return 1
	}
	return 0
}

// fixtureRegions is every region named in the fixture, sorted (us-east-1
// when it names none).
func fixtureRegions(f *sandbox.Fixture) []string {
	seen := map[string]bool{}
	for _, a := range f.Accounts {
		for r := range a.Regions {
			seen[r] = true
		}
	}
	if len(seen) == 0 {
		return []string{"us-east-1"}
	}
	return slices.Sorted(maps.Keys(seen))
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

func scanCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printScan writes the table and a closing summary.
func printScan(w io.Writer, rep sweep.Report, remediate bool) {
	if len(rep.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tREGION\tKIND\tRESOURCE\tVERDICT\tOUTCOME\tDETAIL")
		for _, f := range rep.Findings {
			region := f.Region
			if region == "" {
				region = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Account, region, f.Kind, f.Label(), f.Verdict, f.Outcome, shorten(firstLine(f.Detail), 120))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	var checked []string
	for _, k := range sweep.Kinds {
		checked = append(checked, scanCount(rep.Checked[k], string(k)))
	}
	fmt.Fprintf(w, "scan: %s checked in %s × %s; %d not compliant",
		strings.Join(checked, ", "), scanCount(len(rep.Accounts), "account"), scanCount(len(rep.Regions), "region"), len(rep.Findings))
	if outcomes := rep.Outcomes(); len(outcomes) > 0 {
		var parts []string
		for _, o := range outcome.All {
			if n := outcomes[o]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, o))
			}
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "; %d remain", rep.Remaining())
	if len(rep.Errors) > 0 {
		fmt.Fprintf(w, "; %s not scanned", scanCount(len(rep.Errors), "part"))
	}
	fmt.Fprintln(w)
	if !remediate && rep.Outcomes()[outcome.DryRun] > 0 {
		fmt.Fprintln(w, "Nothing was changed: run with --remediate to fix the dry-run findings.")
	}
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
