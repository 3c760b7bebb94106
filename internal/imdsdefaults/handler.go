package imdsdefaults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/credguard/credguard/internal/accounts"
	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/settings"
)

// EC2 lists the calls the resource makes.
type EC2 interface {
	GetInstanceMetadataDefaults(ctx context.Context, in *ec2.GetInstanceMetadataDefaultsInput, optFns ...func(*ec2.Options)) (*ec2.GetInstanceMetadataDefaultsOutput, error)
	ModifyInstanceMetadataDefaults(ctx context.Context, in *ec2.ModifyInstanceMetadataDefaultsInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataDefaultsOutput, error)
}

// CloudFormation lists the call that verifies a request.
type CloudFormation interface {
	DescribeStackResource(ctx context.Context, in *cloudformation.DescribeStackResourceInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourceOutput, error)
}

// Clients act in one account and region.
type Clients struct {
	EC2            EC2
	CloudFormation CloudFormation
}

// ClientFor returns the clients acting in account and region. An AWS
// AccessDenied error means the account cannot be reached (no member role).
type ClientFor func(ctx context.Context, account, region string) (Clients, error)

// Waiting for the member role and for CloudFormation's record (see Options).
const (
	// DefaultAccessWait leaves the function (300 s) time to act and answer.
	DefaultAccessWait = 4 * time.Minute
	DefaultSettleWait = 20 * time.Second
	DefaultReserve    = 30 * time.Second
	firstDelay        = 2 * time.Second
	maxDelay          = 20 * time.Second
)

// Options tune a handler; the zero value is the function's behaviour.
type Options struct {
	Log *slog.Logger
	// AccessWait bounds how long Create and Update keep trying while the
	// member role cannot be assumed or may not describe the stack yet: a
	// StackSet deploys regions in parallel and creates the (global) role in
	// one of them. Default DefaultAccessWait.
	AccessWait time.Duration
	// SettleWait bounds how long a request waits for CloudFormation to
	// report the resource as the request implies. Default DefaultSettleWait.
	SettleWait time.Duration
	// Reserve is kept before the invocation's deadline for the work itself
	// and the answer to CloudFormation: no wait runs into it. Default
	// DefaultReserve.
	Reserve time.Duration
	// Sleep waits between attempts, ending early with ctx. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Handler handles the custom resource's requests.
type Handler struct {
	clientFor                       ClientFor
	log                             *slog.Logger
	accessWait, settleWait, reserve time.Duration
	sleep                           func(ctx context.Context, d time.Duration) error
}

// New builds a handler.
func New(clientFor ClientFor, o Options) *Handler {
	h := &Handler{clientFor: clientFor, log: o.Log, accessWait: o.AccessWait, settleWait: o.SettleWait, reserve: o.Reserve, sleep: o.Sleep}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.accessWait <= 0 {
		h.accessWait = DefaultAccessWait
	}
	if h.settleWait <= 0 {
		h.settleWait = DefaultSettleWait
	}
	if h.reserve <= 0 {
		h.reserve = DefaultReserve
	}
	if h.sleep == nil {
		h.sleep = sleep
	}
	return h
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FromConfig wires a handler from the function's AWS configuration: stacks in
// its own account are served with its own credentials, stacks in other
// accounts through its own member role (s.DefaultsRoleName), which may do
// nothing but this resource's calls.
func FromConfig(base aws.Config, s settings.Settings, o Options) *Handler {
	prov := accounts.New(base, sts.NewFromConfig(base), accounts.Options{
		HubAccount: s.HubAccount, RoleName: s.DefaultsRoleName, SessionName: ids.FunctionName(ids.FnIMDSDefaults),
	})
	return New(accounts.Clients(prov, func(cfg aws.Config) Clients {
		return Clients{EC2: ec2.NewFromConfig(cfg), CloudFormation: cloudformation.NewFromConfig(cfg)}
	}), o)
}

// Handle is a cfn.CustomResourceFunction: cfn.LambdaWrap(h.Handle) sends the
// response to CloudFormation. Every request that would write is first
// verified against CloudFormation (see Check); an error answers FAILED.
func (h *Handler) Handle(ctx context.Context, e cfn.Event) (physicalID string, data map[string]any, err error) {
	account, region, err := StackLocation(e.StackID)
	if err != nil {
		return e.PhysicalResourceID, nil, err
	}
	switch e.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete:
	default:
		return e.PhysicalResourceID, nil, fmt.Errorf("unknown request type %q", e.RequestType)
	}
	props, perr := ParseProperties(e.ResourceProperties)
	if perr != nil && e.RequestType != cfn.RequestDelete {
		return e.PhysicalResourceID, nil, perr
	}
	var previous Defaults // what Delete restores
	if e.RequestType == cfn.RequestDelete {
		pAccount, pRegion, prev, ok := ParsePhysicalID(e.PhysicalResourceID)
		if !ok || pAccount != account || pRegion != region {
			h.log.InfoContext(ctx, "delete: not a physical id this resource made; nothing to restore",
				"physical_id", e.PhysicalResourceID, "account", account, "region", region)
			return e.PhysicalResourceID, nil, nil
		}
		previous = prev
	}
	if e.LogicalResourceID == "" {
		return e.PhysicalResourceID, nil, h.refused(ctx, e, "the request names no LogicalResourceId", true)
	}
	clients, skip, err := h.verify(ctx, e, account, region)
	if err != nil || skip {
		return e.PhysicalResourceID, nil, err
	}

	switch e.RequestType {
	case cfn.RequestCreate:
		return h.create(ctx, clients.EC2, account, region, props)
	case cfn.RequestUpdate:
		old, _ := ParseProperties(e.OldResourceProperties)
		pAccount, pRegion, prev, ok := ParsePhysicalID(e.PhysicalResourceID)
		if !ok || pAccount != account || pRegion != region {
			// Not one of ours (or moved): start afresh. CloudFormation then
			// deletes the old id, which Delete leaves alone.
			return h.create(ctx, clients.EC2, account, region, props)
		}
		if err := modify(ctx, clients.EC2, account, region, Target(props.Enforce, old.Enforce, prev)); err != nil {
			return e.PhysicalResourceID, nil, err
		}
		return e.PhysicalResourceID, dataOf(prev, props), nil
	default: // Delete
		// A property that no longer parses still leaves enforcement restored.
		enforced := props.Enforce || perr != nil
		if err := modify(ctx, clients.EC2, account, region, Restore(previous, enforced)); err != nil {
			return e.PhysicalResourceID, nil, err
		}
		return e.PhysicalResourceID, nil, nil
	}
}

// verify looks the request up in the target account until Check gives a
// final verdict: the clients to act with, skip (answer SUCCESS, write
// nothing), or an error (answer FAILED, write nothing).
func (h *Handler) verify(ctx context.Context, e cfn.Event, account, region string) (Clients, bool, error) {
	req := Request{Kind: e.RequestType, StackID: e.StackID, LogicalID: e.LogicalResourceID, PhysicalID: e.PhysicalResourceID}
	var accessWaited, settleWaited time.Duration
	delay := firstDelay
	for attempt := 1; ; attempt++ {
		clients, f, err := h.inspect(ctx, req, account, region)
		if err != nil {
			return Clients{}, false, err
		}
		verdict, reason := Check(req, f)
		switch verdict {
		case Proceed:
			return clients, false, nil
		case Skip:
			h.log.WarnContext(ctx, "request not acted on", logAttrs(e, "reason", reason)...)
			return Clients{}, true, nil
		case Refuse:
			// Evidence from CloudFormation itself shows the request is not
			// genuine; a refusal for lack of access may be genuine.
			return Clients{}, false, h.refused(ctx, e, reason, f.Evidence == Described)
		}
		waited, limit := &accessWaited, h.accessWait
		if verdict == AwaitSettle {
			waited, limit = &settleWaited, h.settleWait
		}
		d := min(delay, limit-*waited)
		if d <= 0 || !h.timeLeft(ctx, d) {
			return Clients{}, false, h.refused(ctx, e, fmt.Sprintf("%s; still so after %d attempts over %s",
				reason, attempt, (accessWaited+settleWaited).Round(time.Second)), verdict == AwaitSettle)
		}
		h.log.InfoContext(ctx, "request not verified yet; trying again", logAttrs(e, "reason", reason, "attempt", attempt, "wait", d.String())...)
		if err := h.sleep(ctx, d); err != nil {
			return Clients{}, false, fmt.Errorf("%s; stopped waiting: %w", reason, err)
		}
		*waited += d
		delay = min(delay*2, maxDelay)
	}
}

// timeLeft reports whether a wait of d still leaves the reserve before the
// invocation's deadline.
func (h *Handler) timeLeft(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d+h.reserve
}

// refused logs a refused request and returns the reason as the error: one
// that answers FAILED, or, when forged (CloudFormation's own record or the
// request's shape shows it does not come from CloudFormation), one that
// gets no answer (Forged).
func (h *Handler) refused(ctx context.Context, e cfn.Event, reason string, forged bool) error {
	h.log.WarnContext(ctx, "request refused; nothing written", logAttrs(e, "reason", reason, "forged", forged)...)
	return &refusal{reason: reason, forged: forged}
}

func logAttrs(e cfn.Event, more ...any) []any {
	return append([]any{"request_type", string(e.RequestType), "stack_id", e.StackID,
		"logical_id", e.LogicalResourceID, "physical_id", e.PhysicalResourceID}, more...)
}

// inspect gets the clients for the account and region (assuming the member
// role) and asks CloudFormation about the request's resource. Answers that
// are evidence (AccessDenied, no such stack or resource) come back as a
// Finding; any other failure as an error.
func (h *Handler) inspect(ctx context.Context, r Request, account, region string) (Clients, Finding, error) {
	clients, err := h.clientFor(ctx, account, region)
	if err != nil {
		if ev, ok := evidenceOf(true, err); ok {
			return Clients{}, Finding{Evidence: ev, Detail: err.Error()}, nil
		}
		return Clients{}, Finding{}, fmt.Errorf("no access to %s/%s: %w", account, region, err)
	}
	out, err := clients.CloudFormation.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(r.StackID), LogicalResourceId: aws.String(r.LogicalID),
	})
	if err != nil {
		if ev, ok := evidenceOf(false, err); ok {
			return clients, Finding{Evidence: ev, Detail: err.Error()}, nil
		}
		return Clients{}, Finding{}, fmt.Errorf("describe %s of stack %s: %w", r.LogicalID, r.StackID, err)
	}
	d := out.StackResourceDetail
	if d == nil {
		return Clients{}, Finding{}, fmt.Errorf("describe %s of stack %s: no StackResourceDetail in the answer", r.LogicalID, r.StackID)
	}
	return clients, Finding{Evidence: Described, Resource: Reported{
		Type: aws.ToString(d.ResourceType), Status: string(d.ResourceStatus), PhysicalID: aws.ToString(d.PhysicalResourceId),
	}}, nil
}

func evidenceOf(role bool, err error) (Evidence, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return 0, false
	}
	return classifyError(role, ae.ErrorCode(), ae.ErrorMessage())
}

func (h *Handler) create(ctx context.Context, client EC2, account, region string, props Properties) (string, map[string]any, error) {
	previous, err := current(ctx, client, account, region)
	if err != nil {
		return "", nil, err
	}
	if err := modify(ctx, client, account, region, Target(props.Enforce, false, previous)); err != nil {
		return "", nil, err
	}
	return PhysicalID(account, region, previous), dataOf(previous, props), nil
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
	hop := NoPreference
	if previous.HopLimit != 0 {
		hop = strconv.Itoa(previous.HopLimit)
	}
	return map[string]any{
		"PreviousHttpTokens":              restoreWord(previous.HTTPTokens),
		"PreviousHttpPutResponseHopLimit": hop,
		"PreviousHttpTokensEnforced":      restoreWord(previous.HTTPTokensEnforced),
		"Enforce":                         strconv.FormatBool(p.Enforce),
	}
}
