// Package stacks defines Credguard's CDK stacks: the hub (security account),
// the member stack that a service-managed StackSet rolls out to every member
// account and region, the organization stack holding that StackSet, and the
// configuration they are built from.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack names (also construct ids).
const (
	HubStackID       = "CredguardHub"
	OrgStackID       = "CredguardOrg"
	ForwarderStackID = "CredguardForwarder" // single mode, one per extra region: CredguardForwarder-<region>
	// Per-region hub stacks are CredguardHub-<region> (RegionalStackID).
)

// Options are the build settings that do not come from the CDK context.
type Options struct {
	// DistDir holds <function>/bootstrap (the Makefile builds dist/).
	DistDir string
}

// Stacks is what Build created.
type Stacks struct {
	Hub        *Hub
	Forwarders []*Member // single mode: one per watched region other than the hub's
	// Regional are the per-region hub stacks (CredguardHub-<region>), one per
	// watched region other than the hub's, when imdsDefaults is on or enforce.
	Regional []*Regional
	Org      *Org // organization mode only
	// MemberTemplate is the StackSet's template body (organization mode only).
	MemberTemplate string
}

// AddChecks applies cdk-nag's AWS Solutions rules to everything under app.
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Build adds Credguard's stacks for cfg to app, with the cdk-nag checks.
func Build(app awscdk.App, cfg Config, opts Options) (*Stacks, error) {
	AddChecks(app)
	var hubAccount *string
	if cfg.HubAccount != "" {
		hubAccount = jsii.String(cfg.HubAccount)
	}
	out := &Stacks{}
	hub, err := NewHub(app, HubStackID, &HubProps{
		StackProps: awscdk.StackProps{
			Env: &awscdk.Environment{Account: hubAccount, Region: jsii.String(cfg.HubRegion)},
		},
		Config:  cfg,
		DistDir: opts.DistDir,
	})
	if err != nil {
		return nil, err
	}
	out.Hub = hub

	if cfg.SetsIMDSDefaults() {
		for _, region := range cfg.Regions {
			if region == cfg.HubRegion {
				continue
			}
			r, err := NewRegional(app, RegionalStackID(region), &RegionalProps{
				StackProps: awscdk.StackProps{
					Env:         &awscdk.Environment{Account: hubAccount, Region: jsii.String(region)},
					Description: jsii.String("Credguard hub in " + region + ": the function behind the account IMDS defaults resource"),
				},
				Config:  cfg,
				DistDir: opts.DistDir,
			})
			if err != nil {
				return nil, err
			}
			r.AddStackDependency(hub.Stack, jsii.String("the hub stack creates the function's role"))
			out.Regional = append(out.Regional, r)
		}
	}

	switch cfg.Mode {
	case Single:
		for _, region := range cfg.Regions {
			if region == cfg.HubRegion {
				continue
			}
			id := ForwarderStackID + "-" + region
			f := NewMember(app, id, &MemberProps{
				StackProps: awscdk.StackProps{
					Env:         &awscdk.Environment{Account: hubAccount, Region: jsii.String(region)},
					Description: jsii.String("Credguard forwarder: sends " + region + "'s guardrail events to the hub in " + cfg.HubRegion),
				},
				Config: cfg,
				TargetBusARN: fmt.Sprintf("arn:%s:events:%s:%s:event-bus/default",
					*awscdk.Aws_PARTITION(), cfg.HubRegion, *awscdk.Aws_ACCOUNT_ID()),
			})
			f.AddStackDependency(hub.Stack, jsii.String("the hub must exist before events reach it"))
			out.Forwarders = append(out.Forwarders, f)
		}
	case Organization:
		tmpl, err := MemberTemplate(cfg)
		if err != nil {
			return nil, err
		}
		out.MemberTemplate = tmpl
		out.Org, err = NewOrg(app, OrgStackID, &OrgProps{
			StackProps: awscdk.StackProps{
				// The management (or delegated administrator) account is the
				// one whose credentials deploy this stack.
				Env: &awscdk.Environment{Region: jsii.String(cfg.HubRegion)},
			},
			Config:         cfg,
			MemberTemplate: tmpl,
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
