package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"
)

// defaultCreateDate is the creation time of fixture roles that name none.
var defaultCreateDate = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// world is the sandbox's mutable state, indexed for lookups by id and for
// paging in a stable order. Every access holds Server.mu.
type world struct {
	hub        string
	accounts   map[string]*account
	accountIDs []string // sorted
}

type account struct {
	id, name, email string
	roles           map[string]*role // by lower-case name (IAM names are case-insensitive)
	roleKeys        []string         // sorted lower-case names, for ListRoles paging
	roleOrder       []*role          // fixture order, then creation order (State)
	regions         map[string]*region
}

type role struct {
	name, path, description string
	id                      string
	created                 time.Time
	exportCreated           bool              // State shows createDate (set in the fixture or by CreateRole)
	trust                   string            // the trust policy as the caller wrote it
	tags                    map[string]string // never nil
	inline                  map[string]string // policy name → document as written; never nil
	maxSession              int
}

func (r *role) arn(account string) string {
	return "arn:aws:iam::" + account + ":role" + r.path + r.name
}

type region struct {
	name          string
	instances     map[string]*instance
	instanceIDs   []string // sorted
	instanceOrder []*instance

	clusters     map[string]*cluster
	clusterOrder []*cluster
	assocOrder   []*association

	templates       map[string]*template // by id
	templatesByName map[string]*template
	templateIDs     []string // sorted
	templateOrder   []*template

	secrets map[string]string // name → secret string

	stacks []*stack // fixture order

	defaults MetadataDefaults
	// exportDefaults shows metadataDefaults in State (set in the fixture or
	// by ModifyInstanceMetadataDefaults).
	exportDefaults bool
}

// stack is a CloudFormation stack: what DescribeStackResource reports.
type stack struct {
	id, name  string
	resources []StackResource // fixture order, logical ids unique
}

// resource returns the stack's resource with the logical id, or nil.
func (st *stack) resource(logicalID string) *StackResource {
	for i := range st.resources {
		if st.resources[i].LogicalID == logicalID {
			return &st.resources[i]
		}
	}
	return nil
}

// findStack returns the region's stack with the id (an ARN) or name; nil
// when none.
func (r *region) findStack(nameOrID string) *stack {
	for _, st := range r.stacks {
		if st.id == nameOrID || st.name == nameOrID {
			return st
		}
	}
	return nil
}

type instance struct {
	id, state     string
	tags          map[string]string
	md            MetadataOptions // every field filled
	applyAt       time.Time       // metadata options are "pending" until then
	instanceType  string
	imageID       string
	reservationID string
	exportResv    bool
	// visibleAt and runningAt are the fixture's visibleAfterMs and
	// runningAfterMs (kept for State) as times: EC2 does not show the
	// instance before visibleAt; it stays pending, refusing metadata
	// changes, until runningAt (zero: no such delay).
	visibleAfterMs, runningAfterMs int
	visibleAt, runningAt           time.Time
}

// visible reports whether EC2 shows the instance at now (visibleAfterMs).
func (in *instance) visible(now time.Time) bool { return !now.Before(in.visibleAt) }

// advance makes a pending instance with runningAfterMs running once due.
func (in *instance) advance(now time.Time) {
	if in.state == "pending" && !in.runningAt.IsZero() && !now.Before(in.runningAt) {
		in.state = "running"
	}
}

// starting reports whether the instance is still pending under runningAfterMs.
func (in *instance) starting(now time.Time) bool {
	return in.state == "pending" && !in.runningAt.IsZero() && now.Before(in.runningAt)
}

type cluster struct {
	name     string
	explicit bool   // listed in the fixture's clusters
	issuer   string // the fixture's oidcIssuer ("" when made up)
	// pods and serviceAccounts are served by the cluster's Kubernetes API.
	pods, serviceAccounts []kubeObject
	assocs                map[string]*association
	assocIDs              []string // sorted
}

type association struct {
	PodIdentityAssociation
	created time.Time
}

type template struct {
	id, name       string
	defaultVersion int
	tags           map[string]string
	versions       []*templateVersion
	created        time.Time
}

type templateVersion struct {
	number      int
	description string
	data        TemplateData
	created     time.Time
}

// newWorld builds the state from a validated fixture, the sandbox starting
// at start. Instances whose metadata options the fixture marks "pending"
// become "applied" at applyAt.
func newWorld(f *Fixture, start, applyAt time.Time) *world {
	w := &world{hub: f.HubAccount, accounts: map[string]*account{}}
	for _, id := range sortedKeys(f.Accounts) {
		fa := f.Accounts[id]
		a := &account{
			id: id, name: fa.Name, email: fa.Email,
			roles:   map[string]*role{},
			regions: map[string]*region{},
		}
		for _, fr := range fa.Roles {
			r := &role{
				name:        fr.Name,
				path:        orDefault(fr.Path, "/"),
				description: fr.Description,
				created:     defaultCreateDate,
				trust:       compactJSON(fr.TrustPolicy),
				tags:        copyMap(fr.Tags),
				inline:      map[string]string{},
				maxSession:  3600,
			}
			if fr.CreateDate != nil {
				r.created, r.exportCreated = fr.CreateDate.UTC(), true
			}
			for name, doc := range fr.InlinePolicies {
				r.inline[name] = compactJSON(doc)
			}
			r.id = stableID("AROA", id+r.path+r.name)
			a.addRole(r)
		}
		for _, name := range sortedKeys(fa.Regions) {
			a.regions[name] = newRegion(name, fa.Regions[name], start, applyAt)
		}
		w.accounts[id] = a
		w.accountIDs = append(w.accountIDs, id)
	}
	return w
}

func (a *account) addRole(r *role) {
	key := strings.ToLower(r.name)
	a.roles[key] = r
	i, _ := slices.BinarySearch(a.roleKeys, key)
	a.roleKeys = slices.Insert(a.roleKeys, i, key)
	a.roleOrder = append(a.roleOrder, r)
}

// region returns the named region, creating an empty one when create is set
// (a write into a region the fixture did not list); nil otherwise.
func (a *account) region(name string, create bool) *region {
	if r := a.regions[name]; r != nil || !create {
		return r
	}
	r := newRegion(name, &Region{}, time.Time{}, time.Time{})
	a.regions[name] = r
	return r
}

func newRegion(name string, fr *Region, start, applyAt time.Time) *region {
	r := &region{
		name:            name,
		instances:       map[string]*instance{},
		clusters:        map[string]*cluster{},
		templates:       map[string]*template{},
		templatesByName: map[string]*template{},
		secrets:         copyMap(fr.Secrets),
	}
	for _, fi := range fr.Instances {
		in := &instance{
			id: fi.ID, state: fi.State, tags: copyMap(fi.Tags),
			md:           fillMetadataDefaults(fi.MetadataOptions),
			instanceType: fi.InstanceType,
			imageID:      fi.ImageID,
		}
		in.reservationID, in.exportResv = fi.ReservationID, fi.ReservationID != ""
		in.visibleAfterMs, in.runningAfterMs = fi.VisibleAfterMs, fi.RunningAfterMs
		if fi.VisibleAfterMs > 0 {
			in.visibleAt = start.Add(time.Duration(fi.VisibleAfterMs) * time.Millisecond)
		}
		if fi.RunningAfterMs > 0 {
			in.state = "pending"
			in.runningAt = start.Add(time.Duration(fi.RunningAfterMs) * time.Millisecond)
		}
		if in.reservationID == "" {
			in.reservationID = "r-" + strings.TrimPrefix(fi.ID, "i-")
		}
		if fi.MetadataOptions.State == "pending" {
			in.applyAt = applyAt
		}
		r.instances[in.id] = in
		r.instanceIDs = append(r.instanceIDs, in.id)
		r.instanceOrder = append(r.instanceOrder, in)
	}
	sort.Strings(r.instanceIDs)
	for _, c := range fr.Clusters {
		r.cluster(c.Name).load(c)
	}
	for _, fa := range fr.PodIdentityAssociations {
		a := &association{PodIdentityAssociation: fa, created: defaultCreateDate}
		c := r.cluster(fa.ClusterName)
		c.assocs[fa.AssociationID] = a
		c.assocIDs = append(c.assocIDs, fa.AssociationID)
		sort.Strings(c.assocIDs)
		r.assocOrder = append(r.assocOrder, a)
	}
	for _, ft := range fr.LaunchTemplates {
		t := &template{
			id: ft.ID, name: ft.Name, defaultVersion: max(ft.DefaultVersion, 1),
			tags: copyMap(ft.Tags), created: defaultCreateDate,
		}
		for i, v := range ft.Versions {
			t.versions = append(t.versions, &templateVersion{
				number: i + 1, description: v.Description, data: copyTemplateData(v.Data), created: defaultCreateDate,
			})
		}
		r.templates[t.id] = t
		r.templatesByName[t.name] = t
		r.templateIDs = append(r.templateIDs, t.id)
		r.templateOrder = append(r.templateOrder, t)
	}
	sort.Strings(r.templateIDs)
	if fr.MetadataDefaults != nil {
		r.defaults, r.exportDefaults = *fr.MetadataDefaults, true
	}
	for _, fs := range fr.Stacks {
		m := stackIDRe.FindStringSubmatch(fs.StackID)
		r.stacks = append(r.stacks, &stack{id: fs.StackID, name: m[3], resources: slices.Clone(fs.Resources)})
	}
	return r
}

func (r *region) cluster(name string) *cluster {
	c := r.clusters[name]
	if c == nil {
		c = &cluster{name: name, assocs: map[string]*association{}}
		r.clusters[name] = c
		r.clusterOrder = append(r.clusterOrder, c)
	}
	return c
}

// fillMetadataDefaults gives every unset option EC2's default.
func fillMetadataDefaults(m MetadataOptions) MetadataOptions {
	m.HTTPTokens = orDefault(m.HTTPTokens, "optional")
	if m.HTTPPutResponseHopLimit == 0 {
		m.HTTPPutResponseHopLimit = 1
	}
	m.HTTPEndpoint = orDefault(m.HTTPEndpoint, "enabled")
	m.HTTPProtocolIPv6 = orDefault(m.HTTPProtocolIPv6, "disabled")
	m.InstanceMetadataTags = orDefault(m.InstanceMetadataTags, "disabled")
	m.State = ""
	return m
}

// metadataState is "pending" until the modification has been applied.
func (in *instance) metadataState(now time.Time) string {
	if now.Before(in.applyAt) {
		return "pending"
	}
	return "applied"
}

// fixture exports the state in the fixture's shape.
func (w *world) fixture(faults *Faults, now time.Time) *Fixture {
	f := &Fixture{HubAccount: w.hub, Accounts: map[string]*Account{}}
	if faults != nil {
		c := *faults
		c.LatencyMs = copyMap(faults.LatencyMs)
		c.Throttle = copyMap(faults.Throttle)
		c.Errors = copyMap(faults.Errors)
		f.Faults = &c
	}
	for _, id := range w.accountIDs {
		a := w.accounts[id]
		fa := &Account{Name: a.name, Email: a.email}
		for _, r := range a.roleOrder {
			fr := Role{
				Name: r.name, Path: r.path, Description: r.description,
				TrustPolicy: rawJSON(r.trust),
				Tags:        nilIfEmpty(copyMap(r.tags)),
			}
			if r.exportCreated {
				t := r.created
				fr.CreateDate = &t
			}
			if len(r.inline) > 0 {
				fr.InlinePolicies = map[string]json.RawMessage{}
				for name, doc := range r.inline {
					fr.InlinePolicies[name] = rawJSON(doc)
				}
			}
			fa.Roles = append(fa.Roles, fr)
		}
		if len(a.regions) > 0 {
			fa.Regions = map[string]*Region{}
		}
		for name, r := range a.regions {
			fa.Regions[name] = r.export(now)
		}
		f.Accounts[id] = fa
	}
	return f
}

func (r *region) export(now time.Time) *Region {
	fr := &Region{}
	for _, in := range r.instanceOrder {
		in.advance(now)
		md := in.md
		md.State = in.metadataState(now)
		fi := Instance{
			ID: in.id, State: in.state, Tags: nilIfEmpty(copyMap(in.tags)), MetadataOptions: md,
			InstanceType: in.instanceType, ImageID: in.imageID,
			VisibleAfterMs: in.visibleAfterMs, RunningAfterMs: in.runningAfterMs,
		}
		if in.exportResv {
			fi.ReservationID = in.reservationID
		}
		fr.Instances = append(fr.Instances, fi)
	}
	for _, c := range r.clusterOrder {
		if c.explicit {
			fr.Clusters = append(fr.Clusters, c.export())
		}
	}
	for _, a := range r.assocOrder {
		fr.PodIdentityAssociations = append(fr.PodIdentityAssociations, a.PodIdentityAssociation)
	}
	for _, t := range r.templateOrder {
		ft := LaunchTemplate{ID: t.id, Name: t.name, DefaultVersion: t.defaultVersion, Tags: nilIfEmpty(copyMap(t.tags))}
		for _, v := range t.versions {
			ft.Versions = append(ft.Versions, TemplateVersion{Description: v.description, Data: copyTemplateData(v.data)})
		}
		fr.LaunchTemplates = append(fr.LaunchTemplates, ft)
	}
	if r.exportDefaults {
		d := r.defaults
		fr.MetadataDefaults = &d
	}
	if len(r.secrets) > 0 {
		fr.Secrets = copyMap(r.secrets)
	}
	for _, st := range r.stacks {
		fr.Stacks = append(fr.Stacks, Stack{StackID: st.id, StackName: st.name, Resources: slices.Clone(st.resources)})
	}
	return fr
}

func copyTemplateData(d TemplateData) TemplateData {
	c := d
	if d.EbsOptimized != nil {
		b := *d.EbsOptimized
		c.EbsOptimized = &b
	}
	if d.IamInstanceProfile != nil {
		p := *d.IamInstanceProfile
		c.IamInstanceProfile = &p
	}
	if d.MetadataOptions != nil {
		m := *d.MetadataOptions
		c.MetadataOptions = &m
	}
	c.SecurityGroupIDs = slices.Clone(d.SecurityGroupIDs)
	return c
}

func copyMap[V any](m map[string]V) map[string]V {
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// compactJSON returns the JSON text without insignificant whitespace (the
// fixture's documents are JSON values, not texts with a layout).
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// rawJSON turns a stored document back into a JSON value; a document that is
// not JSON (it cannot be: writes validate) is kept as a JSON string.
func rawJSON(doc string) json.RawMessage {
	if json.Valid([]byte(doc)) {
		return json.RawMessage(doc)
	}
	s, _ := json.Marshal(doc)
	return s
}

// stableID derives an AWS-looking unique id (prefix + 17 characters) from a
// seed, so ids are the same on every run for the same fixture.
func stableID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}
