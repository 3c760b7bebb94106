package imdsdefaults

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/settings"
)

// EC2 lists the calls the resource makes.
type EC2 interface {
	GetInstanceMetadataDefaults(ctx context.Context, in *ec2.GetInstanceMetadataDefaultsInput, optFns ...func(*ec2.Options)) (*ec2.GetInstanceMetadataDefaultsOutput, error)
	ModifyInstanceMetadataDefaults(ctx context.Context, in *ec2.ModifyInstanceMetadataDefaultsInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataDefaultsOutput, error)
}

// ClientFor returns the EC2 client acting in account and region.
type ClientFor func(ctx context.Context, account, region string) (EC2, error)

// Handler handles the custom resource's requests.
type Handler struct {
	clientFor ClientFor
	log       *slog.Logger
}

// New builds a handler.
func New(clientFor ClientFor, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{clientFor: clientFor, log: log}
}

// SessionName is the role session name the resource uses in member accounts.
const SessionName = "credguard-imds-defaults"

// FromConfig wires a handler from the function's AWS configuration: stacks in
// its own account are served with its own credentials, stacks in other
// accounts through the member role (s.MemberRoleName).
func FromConfig(base aws.Config, s settings.Settings, log *slog.Logger) *Handler {
	prov := accounts.New(base, sts.NewFromConfig(base), accounts.Options{
		HubAccount: s.HubAccount, RoleName: s.MemberRoleName, SessionName: SessionName,
	})
	var mu sync.Mutex
	clients := map[string]*ec2.Client{}
	return New(func(ctx context.Context, account, region string) (EC2, error) {
		cfg, err := prov.Config(ctx, account, region)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		key := account + "/" + region
		if c, ok := clients[key]; ok {
			return c, nil
		}
		c := ec2.NewFromConfig(cfg)
		clients[key] = c
		return c, nil
	}, log)
}

// Handle is a cfn.CustomResourceFunction: cfn.LambdaWrap(h.Handle) sends the
// response to CloudFormation.
func (h *Handler) Handle(ctx context.Context, e cfn.Event) (physicalID string, data map[string]any, err error) {
	account, region, err := StackLocation(e.StackID)
	if err != nil {
		return e.PhysicalResourceID, nil, err
	}
	props, err := ParseProperties(e.ResourceProperties)
	if err != nil && e.RequestType != cfn.RequestDelete {
		return e.PhysicalResourceID, nil, err
	}
	switch e.RequestType {
	case cfn.RequestCreate:
		return h.create(ctx, account, region, props)
	case cfn.RequestUpdate:
		old, _ := ParseProperties(e.OldResourceProperties)
		pAccount, pRegion, previous, ok := ParsePhysicalID(e.PhysicalResourceID)
		if !ok || pAccount != account || pRegion != region {
			// Not one of ours (or moved): start afresh. CloudFormation then
			// deletes the old id, which Delete leaves alone.
			return h.create(ctx, account, region, props)
		}
		if err := h.apply(ctx, account, region, Target(props.Enforce, old.Enforce, previous)); err != nil {
			return e.PhysicalResourceID, nil, err
		}
		return e.PhysicalResourceID, dataOf(previous, props), nil
	case cfn.RequestDelete:
		pAccount, pRegion, previous, ok := ParsePhysicalID(e.PhysicalResourceID)
		if !ok || pAccount != account || pRegion != region {
			h.log.InfoContext(ctx, "delete: not a physical id this resource made; nothing to restore",
				"physical_id", e.PhysicalResourceID, "account", account, "region", region)
			return e.PhysicalResourceID, nil, nil
		}
		// A property that no longer parses still leaves enforcement restored.
		enforced := props.Enforce || err != nil
		if err := h.apply(ctx, account, region, Restore(previous, enforced)); err != nil {
			return e.PhysicalResourceID, nil, err
		}
		return e.PhysicalResourceID, nil, nil
	}
	return e.PhysicalResourceID, nil, fmt.Errorf("unknown request type %q", e.RequestType)
}

func (h *Handler) create(ctx context.Context, account, region string, props Properties) (string, map[string]any, error) {
	client, err := h.clientFor(ctx, account, region)
	if err != nil {
		return "", nil, fmt.Errorf("no EC2 access in %s/%s: %w", account, region, err)
	}
	previous, err := current(ctx, client, account, region)
	if err != nil {
		return "", nil, err
	}
	if err := modify(ctx, client, account, region, Target(props.Enforce, false, previous)); err != nil {
		return "", nil, err
	}
	return PhysicalID(account, region, previous), dataOf(previous, props), nil
}

func (h *Handler) apply(ctx context.Context, account, region string, c Change) error {
	client, err := h.clientFor(ctx, account, region)
	if err != nil {
		return fmt.Errorf("no EC2 access in %s/%s: %w", account, region, err)
	}
	return modify(ctx, client, account, region, c)
}

// current reads the managed defaults. Defaults managed by an EC2 declarative
// policy cannot be changed by the account: that is reported as an error
// naming the policy's message.
func current(ctx context.Context, client EC2, account, region string) (Defaults, error) {
	out, err := client.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil {
		return Defaults{}, fmt.Errorf("get instance metadata defaults in %s/%s: %w", account, region, err)
	}
	d := Defaults{}
	if a := out.AccountLevel; a != nil {
		if a.ManagedBy == ec2types.ManagedByDeclarativePolicy {
			return Defaults{}, fmt.Errorf("the IMDS defaults of %s/%s are managed by an EC2 declarative policy (%s): set them there, or leave this resource out",
				account, region, aws.ToString(a.ManagedExceptionMessage))
		}
		d = Defaults{HTTPTokens: string(a.HttpTokens), HopLimit: int(aws.ToInt32(a.HttpPutResponseHopLimit)), HTTPTokensEnforced: string(a.HttpTokensEnforced)}
		if d.HTTPTokens == NoPreference {
			d.HTTPTokens = ""
		}
		if d.HTTPTokensEnforced == NoPreference {
			d.HTTPTokensEnforced = ""
		}
		if d.HopLimit < 0 {
			d.HopLimit = 0
		}
	}
	return d, nil
}

func modify(ctx context.Context, client EC2, account, region string, c Change) error {
	in := &ec2.ModifyInstanceMetadataDefaultsInput{
		HttpTokens:         ec2types.MetadataDefaultHttpTokensState(c.HTTPTokens),
		HttpTokensEnforced: ec2types.DefaultHttpTokensEnforcedState(c.HTTPTokensEnforced),
	}
	if c.HopLimit != 0 {
		in.HttpPutResponseHopLimit = aws.Int32(int32(c.HopLimit))
	}
	if _, err := client.ModifyInstanceMetadataDefaults(ctx, in); err != nil {
		return fmt.Errorf("modify instance metadata defaults in %s/%s (%s): %w", account, region, c, err)
	}
	return nil
}

// String is a readable form for errors and logs.
func (c Change) String() string {
	hop := ""
	switch {
	case c.HopLimit == -1:
		hop = NoPreference
	case c.HopLimit > 0:
		hop = strconv.Itoa(c.HopLimit)
	}
	return fmt.Sprintf("HttpTokens=%s HttpPutResponseHopLimit=%s HttpTokensEnforced=%s", or(c.HTTPTokens), or(hop), or(c.HTTPTokensEnforced))
}

func or(v string) string {
	if v == "" {
		return "unchanged"
	}
	return v
}

// dataOf is the response Data (Fn::GetAtt): the values replaced and whether
// enforcement is on.
func dataOf(previous Defaults, p Properties) map[string]any {
	word := func(v string) string {
		if v == "" {
			return NoPreference
		}
		return v
	}
	hop := NoPreference
	if previous.HopLimit != 0 {
		hop = strconv.Itoa(previous.HopLimit)
	}
	return map[string]any{
		"PreviousHttpTokens":              word(previous.HTTPTokens),
		"PreviousHttpPutResponseHopLimit": hop,
		"PreviousHttpTokensEnforced":      word(previous.HTTPTokensEnforced),
		"Enforce":                         strconv.FormatBool(p.Enforce),
	}
}
