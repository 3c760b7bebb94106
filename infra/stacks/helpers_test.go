package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/infra/stacks"
	"github.com/credguard/credguard/internal/ids"
)

const (
	hubAccount    = "111122223333"
	memberAccount = "444455556666"
	orgID         = "o-a1b2c3d4e5"
	secretARN     = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credguard/slack-AbCdEf"
)

// distDir holds dummy bootstraps: the stacks only need the files to exist.
var distDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "credguard-dist-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, fn := range []string{ids.FnIMDSEnforcer, ids.FnTrustGuard, ids.FnSweeper, ids.FnSweepList, ids.FnSweepSummary, ids.FnSlackForwarder, ids.FnIMDSDefaults} {
		p := filepath.Join(dir, fn, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, []byte("placeholder for "+fn), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	distDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	jsii.Close()
	os.Exit(code)
}

// scenario is one configuration, synthesized once and shared by the tests.
type scenario struct {
	name string
	ctx  map[string]any

	once  sync.Once
	err   error
	cfg   stacks.Config
	out   *stacks.Stacks
	hub   assertions.Template
	hubT  template
	fwd   []template // single mode forwarders
	reg   []template // per-region hub stacks (imdsDefaults)
	org   template   // organization stack
	orgA  assertions.Template
	membT template // the StackSet's template body
	membA assertions.Template
}

var (
	single = &scenario{name: "single", ctx: map[string]any{
		"regions":           "us-east-1,eu-west-1",
		"dryRunTrust":       true,
		"exemptRoleArns":    []any{"arn:aws:iam::111122223333:role/break-glass"},
		"exemptInstanceIds": []any{"i-0123456789abcdef0", "i-0fedcba9876543210"},
		"imdsDefaults":      "on",
	}}
	organization = &scenario{name: "organization", ctx: map[string]any{
		"mode":                     "organization",
		"organizationId":           orgID,
		"targetOuIds":              []any{"ou-ab12-cdef3456", "ou-ab12-9876fedc"},
		"hubAccount":               hubAccount,
		"regions":                  []any{"us-east-1", "eu-west-1"},
		"dryRunImds":               true,
		"slackWorkspaceId":         "T0123ABCDEF",
		"slackChannelId":           "C0123ABCDEF",
		"slackWebhookSecretArn":    secretARN,
		"stackSetCallAs":           "DELEGATED_ADMIN",
		"sweepAccounts":            "444455556666,111122223333",
		"sweepSchedule":            "rate(12 hours)",
		"imdsDefaults":             "enforce",
		"attachScp":                true,
		"runInstancesDelaySeconds": "120", "imdsScope": "eks-nodes",
		"sweepMaxConcurrency": "20",
	}}
	scenarios = []*scenario{single, organization}
	// plain is cdk.json's defaults (every optional feature off), with a
	// second region; it is not in scenarios.
	plain = &scenario{name: "plain", ctx: map[string]any{
		"hubRegion": "eu-west-1",
		"regions":   "eu-west-1,eu-central-1",
	}}
)

// projectContext is cdk.json's context, which `cdk synth` passes to the app:
// the tests build from the same defaults.
func projectContext() (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("read cdk.json: %w", err)
	}
	var c struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	if c.App != "go run ./infra" {
		return nil, fmt.Errorf("cdk.json app = %q, want %q", c.App, "go run ./infra")
	}
	return c.Context, nil
}

func (s *scenario) get(t *testing.T) *scenario {
	t.Helper()
	s.once.Do(func() {
		ctx, err := projectContext()
		if err != nil {
			s.err = err
			return
		}
		for k, v := range s.ctx {
			ctx[k] = v
		}
		s.cfg, s.err = stacks.LoadConfig(func(k string) any { return ctx[k] })
		if s.err != nil {
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(distDir, "cdk.out-"+s.name))})
		s.out, s.err = stacks.Build(app, s.cfg, stacks.Options{DistDir: distDir})
		if s.err != nil {
			return
		}
		s.hub = assertions.Template_FromStack(s.out.Hub.Stack, nil)
		s.hubT = newTemplate(*s.hub.ToJSON())
		for _, f := range s.out.Forwarders {
			s.fwd = append(s.fwd, newTemplate(*assertions.Template_FromStack(f.Stack, nil).ToJSON()))
		}
		for _, r := range s.out.Regional {
			s.reg = append(s.reg, newTemplate(*assertions.Template_FromStack(r.Stack, nil).ToJSON()))
		}
		if s.out.Org != nil {
			s.orgA = assertions.Template_FromStack(s.out.Org.Stack, nil)
			s.org = newTemplate(*s.orgA.ToJSON())
			s.membA = assertions.Template_FromString(jsii.String(s.out.MemberTemplate), nil)
			var m map[string]any
			if err := json.Unmarshal([]byte(s.out.MemberTemplate), &m); err != nil {
				s.err = fmt.Errorf("member template: %w", err)
				return
			}
			s.membT = newTemplate(m)
		}
	})
	if s.err != nil {
		t.Fatalf("scenario %s: %v", s.name, s.err)
	}
	return s
}

// must runs a CDK assertion, which panics on failure, as a test error.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// template is a synthesized CloudFormation template.
type template struct {
	raw       map[string]any
	resources map[string]resource
}

type resource struct {
	ID        string
	Type      string
	Props     map[string]any
	Condition string
	Metadata  map[string]any
}

func newTemplate(raw map[string]any) template {
	t := template{raw: raw, resources: map[string]resource{}}
	res, _ := raw["Resources"].(map[string]any)
	for id, v := range res {
		m := v.(map[string]any)
		r := resource{ID: id, Type: str(m["Type"])}
		r.Props, _ = m["Properties"].(map[string]any)
		r.Condition = str(m["Condition"])
		r.Metadata, _ = m["Metadata"].(map[string]any)
		t.resources[id] = r
	}
	return t
}

// ofType lists the resources of a type, ordered by logical id.
func (t template) ofType(typ string) []resource {
	var out []resource
	for _, r := range t.resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// byProp finds the single resource of a type whose property equals value.
func (t template) byProp(tb *testing.T, typ, prop string, value any) resource {
	tb.Helper()
	var found []resource
	for _, r := range t.ofType(typ) {
		if jsonEqual(r.Props[prop], value) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d resources of type %s with %s = %v, want 1", len(found), typ, prop, value)
	}
	return found[0]
}

// ref returns the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} names.
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		return str(ga[0])
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// pseudo are the values intrinsic references resolve to in these tests.
type pseudo struct{ Partition, Account, Region string }

// resolve renders the intrinsic functions the templates use into plain
// values, so that policies can be read as IAM will see them.
func resolve(v any, p pseudo) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch k {
				case "Ref":
					switch arg {
					case "AWS::Partition":
						return p.Partition, nil
					case "AWS::AccountId":
						return p.Account, nil
					case "AWS::Region":
						return p.Region, nil
					case "AWS::URLSuffix":
						return "amazonaws.com", nil
					}
					return fmt.Sprintf("ref-%v", arg), nil
				case "Fn::GetAtt":
					ga := list(arg)
					if len(ga) == 2 && ga[1] == "Arn" {
						return fmt.Sprintf("arn:%s:iam::%s:role/%v", p.Partition, p.Account, ga[0]), nil
					}
					return nil, fmt.Errorf("unsupported Fn::GetAtt %v", arg)
				case "Fn::Sub":
					text, ok := arg.(string)
					if !ok {
						return nil, fmt.Errorf("unsupported Fn::Sub with variables %v", arg)
					}
					return strings.NewReplacer("${AWS::Partition}", p.Partition, "${AWS::AccountId}", p.Account,
						"${AWS::Region}", p.Region).Replace(text), nil
				case "Fn::Join":
					parts := list(arg)
					if len(parts) != 2 {
						return nil, fmt.Errorf("malformed Fn::Join %v", arg)
					}
					var b strings.Builder
					for i, el := range list(parts[1]) {
						r, err := resolve(el, p)
						if err != nil {
							return nil, err
						}
						if i > 0 {
							b.WriteString(str(parts[0]))
						}
						b.WriteString(fmt.Sprint(r))
					}
					return b.String(), nil
				}
				if strings.HasPrefix(k, "Fn::") {
					return nil, fmt.Errorf("unsupported intrinsic %s", k)
				}
			}
		}
		out := map[string]any{}
		for k, el := range v {
			r, err := resolve(el, p)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			r, err := resolve(el, p)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// statements lists the statements of a policy document (resolved).
func statements(t *testing.T, doc any, p pseudo) []map[string]any {
	t.Helper()
	r, err := resolve(doc, p)
	if err != nil {
		t.Fatalf("resolve policy: %v", err)
	}
	m, _ := r.(map[string]any)
	var out []map[string]any
	for _, st := range list(m["Statement"]) {
		out = append(out, st.(map[string]any))
	}
	return out
}

// rolePolicies gathers the statements of every policy attached to a role:
// its inline Policies and the AWS::IAM::Policy resources naming it.
func rolePolicies(t *testing.T, tp template, roleID string, p pseudo) []map[string]any {
	t.Helper()
	role := tp.resources[roleID]
	var out []map[string]any
	for _, pol := range list(role.Props["Policies"]) {
		out = append(out, statements(t, pol.(map[string]any)["PolicyDocument"], p)...)
	}
	for _, pol := range tp.ofType("AWS::IAM::Policy") {
		for _, r := range list(pol.Props["Roles"]) {
			if ref(r) == roleID {
				out = append(out, statements(t, pol.Props["PolicyDocument"], p)...)
			}
		}
	}
	return out
}

// allowedActions is the set of actions the Allow statements grant, each
// with the resources it is granted on.
func allowedActions(sts []map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, st := range sts {
		if st["Effect"] != "Allow" {
			continue
		}
		for _, a := range list(st["Action"]) {
			for _, r := range list(st["Resource"]) {
				out[str(a)] = append(out[str(a)], fmt.Sprint(r))
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
