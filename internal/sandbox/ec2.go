package sandbox

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- EC2 response shapes (element names as the EC2 API model spells them) ----

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// ec2Tags is the tagSet of a resource; nil (no element) when it has no tags,
// as EC2 answers.
func ec2Tags(m map[string]string) *items[ec2Tag] {
	if len(m) == 0 {
		return nil
	}
	l := &items[ec2Tag]{}
	for _, k := range sortedKeys(m) {
		l.Items = append(l.Items, ec2Tag{Key: k, Value: m[k]})
	}
	return l
}

type ec2InstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2MetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type ec2Instance struct {
	InstanceID      string             `xml:"instanceId"`
	ImageID         string             `xml:"imageId"`
	State           ec2InstanceState   `xml:"instanceState"`
	InstanceType    string             `xml:"instanceType"`
	Tags            *items[ec2Tag]     `xml:"tagSet,omitempty"`
	MetadataOptions ec2MetadataOptions `xml:"metadataOptions"`
}

type ec2Reservation struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	Instances     items[ec2Instance] `xml:"instancesSet"`
}

type describeInstancesResult struct {
	ec2Response
	Reservations items[ec2Reservation] `xml:"reservationSet"`
	NextToken    string                `xml:"nextToken,omitempty"`
}

type modifyInstanceMetadataOptionsResult struct {
	ec2Response
	InstanceID      string             `xml:"instanceId"`
	MetadataOptions ec2MetadataOptions `xml:"instanceMetadataOptions"`
}

type ec2MetadataDefaults struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
	HTTPTokensEnforced      string `xml:"httpTokensEnforced,omitempty"`
}

type getInstanceMetadataDefaultsResult struct {
	ec2Response
	AccountLevel ec2MetadataDefaults `xml:"accountLevel"`
}

type ec2ReturnResult struct {
	ec2Response
	Return bool `xml:"return"`
}

type ec2LaunchTemplate struct {
	ID                   string         `xml:"launchTemplateId"`
	Name                 string         `xml:"launchTemplateName"`
	CreateTime           string         `xml:"createTime"`
	CreatedBy            string         `xml:"createdBy"`
	DefaultVersionNumber int            `xml:"defaultVersionNumber"`
	LatestVersionNumber  int            `xml:"latestVersionNumber"`
	Tags                 *items[ec2Tag] `xml:"tagSet,omitempty"`
}

type ec2TemplateMetadataOptions struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
}

type ec2InstanceProfile struct {
	ARN  string `xml:"arn,omitempty"`
	Name string `xml:"name,omitempty"`
}

type ec2TemplateData struct {
	ImageID            string                      `xml:"imageId,omitempty"`
	InstanceType       string                      `xml:"instanceType,omitempty"`
	KeyName            string                      `xml:"keyName,omitempty"`
	UserData           string                      `xml:"userData,omitempty"`
	EbsOptimized       *bool                       `xml:"ebsOptimized,omitempty"`
	IamInstanceProfile *ec2InstanceProfile         `xml:"iamInstanceProfile,omitempty"`
	SecurityGroupIDs   *items[string]              `xml:"securityGroupIdSet,omitempty"`
	MetadataOptions    *ec2TemplateMetadataOptions `xml:"metadataOptions,omitempty"`
}

type ec2TemplateVersion struct {
	TemplateID         string          `xml:"launchTemplateId"`
	TemplateName       string          `xml:"launchTemplateName"`
	VersionNumber      int             `xml:"versionNumber"`
	VersionDescription string          `xml:"versionDescription,omitempty"`
	CreateTime         string          `xml:"createTime"`
	CreatedBy          string          `xml:"createdBy"`
	DefaultVersion     bool            `xml:"defaultVersion"`
	Data               ec2TemplateData `xml:"launchTemplateData"`
}

type describeLaunchTemplatesResult struct {
	ec2Response
	LaunchTemplates items[ec2LaunchTemplate] `xml:"launchTemplates"`
	NextToken       string                   `xml:"nextToken,omitempty"`
}

type describeLaunchTemplateVersionsResult struct {
	ec2Response
	Versions  items[ec2TemplateVersion] `xml:"launchTemplateVersionSet"`
	NextToken string                    `xml:"nextToken,omitempty"`
}

type createLaunchTemplateVersionResult struct {
	ec2Response
	Version ec2TemplateVersion `xml:"launchTemplateVersion"`
}

type modifyLaunchTemplateResult struct {
	ec2Response
	LaunchTemplate ec2LaunchTemplate `xml:"launchTemplate"`
}

// ---- helpers ----

func ec2Error(code, format string, args ...any) *apiError {
	return newError(statusForCode(code), code, format, args...)
}

func invalidValue(format string, args ...any) *apiError {
	return ec2Error("InvalidParameterValue", format, args...)
}

// dryRun answers EC2's DryRun=true: the call would have succeeded.
func dryRun(r *request) *apiError {
	if r.p.bool("DryRun") {
		return ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

func (s *Server) ec2Region(r *request, create bool) *region {
	return s.world.accounts[r.account()].region(r.region, create)
}

func checkWord(name, got string, allowed ...string) *apiError {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return invalidValue("Value (%s) for parameter %s is invalid. Valid values: %s.", got, name, strings.Join(allowed, ", "))
}

// checkMetadataWords checks the word-valued IMDS settings of an instance or
// a launch template (parameter names prefix + HttpTokens, …); "" is not set.
func checkMetadataWords(prefix, tokens, endpoint, ipv6, tags string) *apiError {
	for _, c := range []struct{ name, v, a, b string }{
		{"HttpTokens", tokens, "optional", "required"},
		{"HttpEndpoint", endpoint, "enabled", "disabled"},
		{"HttpProtocolIpv6", ipv6, "enabled", "disabled"},
		{"InstanceMetadataTags", tags, "enabled", "disabled"},
	} {
		if c.v != "" {
			if err := checkWord(prefix+c.name, c.v, c.a, c.b); err != nil {
				return err
			}
		}
	}
	return nil
}

// globMatch matches EC2 filter values: * any run of characters, ? one.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func anyGlob(patterns []string, v string) bool {
	for _, p := range patterns {
		if globMatch(p, v) {
			return true
		}
	}
	return false
}

func tagFilter(f filter, tags map[string]string) (matched, handled bool) {
	if key, ok := strings.CutPrefix(f.name, "tag:"); ok {
		v, has := tags[key]
		return has && anyGlob(f.values, v), true
	}
	if f.name == "tag-key" {
		for k := range tags {
			if anyGlob(f.values, k) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func (in *instance) field(name string, now time.Time) (string, bool) {
	switch name {
	case "instance-id":
		return in.id, true
	case "instance-state-name":
		return in.state, true
	case "instance-state-code":
		return strconv.Itoa(instanceStateCode(in.state)), true
	case "instance-type":
		return orDefault(in.instanceType, "m5.large"), true
	case "image-id":
		return orDefault(in.imageID, "ami-0123456789abcdef0"), true
	case "reservation-id":
		return in.reservationID, true
	case "metadata-options.http-tokens":
		return in.md.HTTPTokens, true
	case "metadata-options.http-put-response-hop-limit":
		return strconv.Itoa(in.md.HTTPPutResponseHopLimit), true
	case "metadata-options.http-endpoint":
		return in.md.HTTPEndpoint, true
	case "metadata-options.http-protocol-ipv6":
		return in.md.HTTPProtocolIPv6, true
	case "metadata-options.instance-metadata-tags":
		return in.md.InstanceMetadataTags, true
	case "metadata-options.state":
		return in.metadataState(now), true
	}
	return "", false
}

func checkInstanceFilters(fs []filter) *apiError {
	probe := &instance{}
	for _, f := range fs {
		if len(f.values) == 0 {
			return invalidValue("The filter '%s' needs at least one value.", f.name)
		}
		if _, handled := tagFilter(f, nil); handled {
			continue
		}
		if _, known := probe.field(f.name, time.Time{}); !known {
			return invalidValue("The filter '%s' is invalid", f.name)
		}
	}
	return nil
}

func (in *instance) matches(fs []filter, now time.Time) bool {
	for _, f := range fs {
		if m, handled := tagFilter(f, in.tags); handled {
			if !m {
				return false
			}
			continue
		}
		v, _ := in.field(f.name, now)
		if !anyGlob(f.values, v) {
			return false
		}
	}
	return true
}

func (in *instance) xml(now time.Time) ec2Instance {
	return ec2Instance{
		InstanceID:   in.id,
		ImageID:      orDefault(in.imageID, "ami-0123456789abcdef0"),
		State:        ec2InstanceState{Code: instanceStateCode(in.state), Name: in.state},
		InstanceType: orDefault(in.instanceType, "m5.large"),
		Tags:         ec2Tags(in.tags),
		MetadataOptions: ec2MetadataOptions{
			State:                   in.metadataState(now),
			HTTPTokens:              in.md.HTTPTokens,
			HTTPPutResponseHopLimit: in.md.HTTPPutResponseHopLimit,
			HTTPEndpoint:            in.md.HTTPEndpoint,
			HTTPProtocolIPv6:        in.md.HTTPProtocolIPv6,
			InstanceMetadataTags:    in.md.InstanceMetadataTags,
		},
	}
}

func notFoundInstances(ids []string) *apiError {
	if len(ids) == 1 {
		return ec2Error("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", ids[0])
	}
	return ec2Error("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

// ---- operations ----

func (s *Server) ec2DescribeInstances(r *request) (any, error) {
	ids := r.p.list("InstanceId")
	r.resource = strings.Join(ids, ",")
	fs, err := r.p.filters()
	if err != nil {
		return nil, err
	}
	if err := checkInstanceFilters(fs); err != nil {
		return nil, err
	}
	maxResults, hasMax, perr := r.p.int("MaxResults")
	if perr != nil {
		return nil, perr
	}
	if hasMax && len(ids) > 0 {
		return nil, ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if hasMax && (maxResults < 5 || maxResults > 1000) {
		return nil, invalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", maxResults)
	}
	for _, id := range ids {
		if !instanceIDRe.MatchString(id) {
			return nil, ec2Error("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	reg := s.ec2Region(r, false)
	out := &describeInstancesResult{}
	var page []*instance
	if len(ids) > 0 {
		var missing []string
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			var in *instance
			if reg != nil {
				in = reg.instances[id]
			}
			if in == nil || !in.visible(r.now) {
				missing = append(missing, id)
				continue
			}
			in.advance(r.now)
			if in.matches(fs, r.now) {
				page = append(page, in)
			}
		}
		if len(missing) > 0 {
			return nil, notFoundInstances(missing)
		}
	} else if reg != nil {
		start, ok := pageStart(reg.instanceIDs, r.p.str("NextToken"))
		if !ok {
			return nil, invalidValue("Invalid value '%s' for nextToken", r.p.str("NextToken"))
		}
		limit := len(reg.instanceIDs)
		if hasMax {
			limit = maxResults
		}
		i := start
		for ; i < len(reg.instanceIDs) && len(page) < limit; i++ {
			in := reg.instances[reg.instanceIDs[i]]
			if !in.visible(r.now) {
				continue
			}
			in.advance(r.now)
			if in.matches(fs, r.now) {
				page = append(page, in)
			}
		}
		if i < len(reg.instanceIDs) {
			out.NextToken = pageToken(reg.instanceIDs[i])
		}
	} else if r.p.str("NextToken") != "" {
		return nil, invalidValue("Invalid value '%s' for nextToken", r.p.str("NextToken"))
	}
	byResv := map[string]int{}
	for _, in := range page {
		idx, ok := byResv[in.reservationID]
		if !ok {
			idx = len(out.Reservations.Items)
			byResv[in.reservationID] = idx
			out.Reservations.Items = append(out.Reservations.Items, ec2Reservation{ReservationID: in.reservationID, OwnerID: r.account()})
		}
		res := &out.Reservations.Items[idx]
		res.Instances.Items = append(res.Instances.Items, in.xml(r.now))
	}
	return out, nil
}

func (s *Server) ec2ModifyInstanceMetadataOptions(r *request) (any, error) {
	id := r.p.str("InstanceId")
	r.resource = id
	if id == "" {
		return nil, ec2Error("MissingParameter", "The request must contain the parameter InstanceId")
	}
	if !instanceIDRe.MatchString(id) {
		return nil, ec2Error("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	want := MetadataOptions{
		HTTPTokens:           r.p.str("HttpTokens"),
		HTTPEndpoint:         r.p.str("HttpEndpoint"),
		HTTPProtocolIPv6:     r.p.str("HttpProtocolIpv6"),
		InstanceMetadataTags: r.p.str("InstanceMetadataTags"),
	}
	hop, hasHop, perr := r.p.int("HttpPutResponseHopLimit")
	if perr != nil {
		return nil, perr
	}
	if hasHop && (hop < 1 || hop > 64) {
		return nil, invalidValue("The HttpPutResponseHopLimit must be between 1 and 64, got %d.", hop)
	}
	if err := checkMetadataWords("", want.HTTPTokens, want.HTTPEndpoint, want.HTTPProtocolIPv6, want.InstanceMetadataTags); err != nil {
		return nil, err
	}
	if !hasHop && want == (MetadataOptions{}) {
		return nil, ec2Error("MissingParameter", "At least one of HttpTokens, HttpPutResponseHopLimit, HttpEndpoint, HttpProtocolIpv6 or InstanceMetadataTags must be specified.")
	}
	reg := s.ec2Region(r, false)
	var in *instance
	if reg != nil {
		in = reg.instances[id]
	}
	if in == nil || !in.visible(r.now) {
		return nil, notFoundInstances([]string{id})
	}
	in.advance(r.now)
	if in.state == "terminated" || in.state == "shutting-down" || in.starting(r.now) {
		return nil, ec2Error("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified (it is %s).", id, in.state)
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	if want.HTTPTokens != "" {
		in.md.HTTPTokens = want.HTTPTokens
	}
	if hasHop {
		in.md.HTTPPutResponseHopLimit = hop
	}
	if want.HTTPEndpoint != "" {
		in.md.HTTPEndpoint = want.HTTPEndpoint
	}
	if want.HTTPProtocolIPv6 != "" {
		in.md.HTTPProtocolIPv6 = want.HTTPProtocolIPv6
	}
	if want.InstanceMetadataTags != "" {
		in.md.InstanceMetadataTags = want.InstanceMetadataTags
	}
	in.applyAt = r.now.Add(s.applyDelay)
	x := in.xml(r.now)
	x.MetadataOptions.State = "pending"
	return &modifyInstanceMetadataOptionsResult{InstanceID: id, MetadataOptions: x.MetadataOptions}, nil
}

func (s *Server) ec2GetInstanceMetadataDefaults(r *request) (any, error) {
	if err := dryRun(r); err != nil {
		return nil, err
	}
	out := &getInstanceMetadataDefaultsResult{}
	if reg := s.ec2Region(r, false); reg != nil {
		d := reg.defaults
		out.AccountLevel = ec2MetadataDefaults{
			HTTPTokens: d.HTTPTokens, HTTPPutResponseHopLimit: d.HTTPPutResponseHopLimit,
			HTTPEndpoint: d.HTTPEndpoint, InstanceMetadataTags: d.InstanceMetadataTags,
			HTTPTokensEnforced: d.HTTPTokensEnforced,
		}
	}
	return out, nil
}

func (s *Server) ec2ModifyInstanceMetadataDefaults(r *request) (any, error) {
	type setting struct {
		name  string
		field *string
		words []string
	}
	var next MetadataDefaults
	if reg := s.ec2Region(r, false); reg != nil {
		next = reg.defaults
	}
	given := false
	for _, st := range []setting{
		{"HttpTokens", &next.HTTPTokens, []string{"optional", "required", "no-preference"}},
		{"HttpEndpoint", &next.HTTPEndpoint, []string{"enabled", "disabled", "no-preference"}},
		{"InstanceMetadataTags", &next.InstanceMetadataTags, []string{"enabled", "disabled", "no-preference"}},
		{"HttpTokensEnforced", &next.HTTPTokensEnforced, []string{"enabled", "disabled", "no-preference"}},
	} {
		if !r.p.has(st.name) {
			continue
		}
		given = true
		v := r.p.str(st.name)
		if err := checkWord(st.name, v, st.words...); err != nil {
			return nil, err
		}
		if v == "no-preference" {
			v = ""
		}
		*st.field = v
	}
	hop, hasHop, perr := r.p.int("HttpPutResponseHopLimit")
	if perr != nil {
		return nil, perr
	}
	if hasHop {
		given = true
		switch {
		case hop == -1:
			next.HTTPPutResponseHopLimit = 0
		case hop >= 1 && hop <= 64:
			next.HTTPPutResponseHopLimit = hop
		default:
			return nil, invalidValue("The HttpPutResponseHopLimit must be between 1 and 64, or -1 for no preference; got %d.", hop)
		}
	}
	if !given {
		return nil, ec2Error("MissingParameter", "At least one of HttpTokens, HttpPutResponseHopLimit, HttpEndpoint, InstanceMetadataTags or HttpTokensEnforced must be specified.")
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	reg := s.ec2Region(r, true)
	reg.defaults, reg.exportDefaults = next, true
	return &ec2ReturnResult{Return: true}, nil
}

// ---- launch templates ----

func (t *template) xml(account string) ec2LaunchTemplate {
	return ec2LaunchTemplate{
		ID: t.id, Name: t.name, CreateTime: t.created.Format(isoTime),
		CreatedBy:            "arn:aws:iam::" + account + ":user/sandbox",
		DefaultVersionNumber: t.defaultVersion, LatestVersionNumber: len(t.versions),
		Tags: ec2Tags(t.tags),
	}
}

func (t *template) versionXML(v *templateVersion, account string) ec2TemplateVersion {
	d := v.data
	x := ec2TemplateVersion{
		TemplateID: t.id, TemplateName: t.name, VersionNumber: v.number, VersionDescription: v.description,
		CreateTime: v.created.Format(isoTime), CreatedBy: "arn:aws:iam::" + account + ":user/sandbox",
		DefaultVersion: v.number == t.defaultVersion,
		Data: ec2TemplateData{
			ImageID: d.ImageID, InstanceType: d.InstanceType, KeyName: d.KeyName, UserData: d.UserData,
			EbsOptimized: d.EbsOptimized,
		},
	}
	if p := d.IamInstanceProfile; p != nil {
		x.Data.IamInstanceProfile = &ec2InstanceProfile{ARN: p.ARN, Name: p.Name}
	}
	if len(d.SecurityGroupIDs) > 0 {
		x.Data.SecurityGroupIDs = &items[string]{Items: d.SecurityGroupIDs}
	}
	if m := d.MetadataOptions; m != nil {
		x.Data.MetadataOptions = &ec2TemplateMetadataOptions{
			HTTPTokens: m.HTTPTokens, HTTPPutResponseHopLimit: m.HTTPPutResponseHopLimit, HTTPEndpoint: m.HTTPEndpoint,
			HTTPProtocolIPv6: m.HTTPProtocolIPv6, InstanceMetadataTags: m.InstanceMetadataTags,
		}
	}
	return x
}

// findTemplate resolves LaunchTemplateId or LaunchTemplateName.
func findTemplate(reg *region, id, name string) (*template, *apiError) {
	switch {
	case id != "" && name != "":
		return nil, ec2Error("InvalidParameterCombination", "Specify either the launch template ID or the launch template name, but not both.")
	case id != "":
		if !templateIDRe.MatchString(id) {
			return nil, ec2Error("InvalidLaunchTemplateId.Malformed", "The specified launch template ID '%s' is malformed.", id)
		}
		if reg != nil {
			if t := reg.templates[id]; t != nil {
				return t, nil
			}
		}
		return nil, ec2Error("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	case name != "":
		if reg != nil {
			if t := reg.templatesByName[name]; t != nil {
				return t, nil
			}
		}
		return nil, ec2Error("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
	}
	return nil, ec2Error("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName.")
}

// resolveVersion finds "$Latest", "$Default" or a version number.
func (t *template) resolveVersion(spec string) (*templateVersion, *apiError) {
	switch spec {
	case "$Latest":
		return t.versions[len(t.versions)-1], nil
	case "$Default":
		return t.versions[t.defaultVersion-1], nil
	}
	n, err := strconv.Atoi(spec)
	if err != nil {
		return nil, invalidValue("Invalid launch template version '%s': use a version number, $Latest or $Default.", spec)
	}
	if n < 1 || n > len(t.versions) {
		return nil, ec2Error("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %d for launch template %s.", n, t.id)
	}
	return t.versions[n-1], nil
}

func (s *Server) ec2DescribeLaunchTemplates(r *request) (any, error) {
	ids, names := r.p.list("LaunchTemplateId"), r.p.list("LaunchTemplateName")
	fs, err := r.p.filters()
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if _, handled := tagFilter(f, nil); !handled && f.name != "launch-template-name" {
			return nil, invalidValue("The filter '%s' is invalid", f.name)
		}
	}
	maxResults, hasMax, perr := r.p.int("MaxResults")
	if perr != nil {
		return nil, perr
	}
	if hasMax && (maxResults < 1 || maxResults > 200) {
		return nil, invalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 1 and 200.", maxResults)
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	reg := s.ec2Region(r, false)
	var candidates []*template
	if len(ids) > 0 || len(names) > 0 {
		for _, id := range ids {
			t, err := findTemplate(reg, id, "")
			if err != nil {
				if err.Code == "InvalidLaunchTemplateId.NotFound" {
					err.Message = "At least one of the launch templates specified in the request does not exist."
				}
				return nil, err
			}
			candidates = append(candidates, t)
		}
		for _, n := range names {
			t, err := findTemplate(reg, "", n)
			if err != nil {
				return nil, err
			}
			candidates = append(candidates, t)
		}
		sort.Slice(candidates, func(i, j int) bool { return candidates[i].id < candidates[j].id })
	} else if reg != nil {
		for _, id := range reg.templateIDs {
			candidates = append(candidates, reg.templates[id])
		}
	}
	keys := make([]string, len(candidates))
	for i, t := range candidates {
		keys[i] = t.id
	}
	start, ok := pageStart(keys, r.p.str("NextToken"))
	if !ok {
		return nil, invalidValue("Invalid value '%s' for nextToken", r.p.str("NextToken"))
	}
	limit := len(candidates)
	if hasMax {
		limit = maxResults
	}
	out := &describeLaunchTemplatesResult{}
	i := start
	for ; i < len(candidates) && len(out.LaunchTemplates.Items) < limit; i++ {
		t := candidates[i]
		if templateMatches(t, fs) {
			out.LaunchTemplates.Items = append(out.LaunchTemplates.Items, t.xml(r.account()))
		}
	}
	if i < len(candidates) {
		out.NextToken = pageToken(keys[i])
	}
	return out, nil
}

func templateMatches(t *template, fs []filter) bool {
	for _, f := range fs {
		if m, handled := tagFilter(f, t.tags); handled {
			if !m {
				return false
			}
			continue
		}
		if !anyGlob(f.values, t.name) {
			return false
		}
	}
	return true
}

func (s *Server) ec2DescribeLaunchTemplateVersions(r *request) (any, error) {
	id, name := r.p.str("LaunchTemplateId"), r.p.str("LaunchTemplateName")
	r.resource = id
	specs := r.p.list("LaunchTemplateVersion")
	if fs, err := r.p.filters(); err != nil {
		return nil, err
	} else if len(fs) > 0 {
		return nil, invalidValue("The filter '%s' is invalid (the credguard sandbox supports no filters for DescribeLaunchTemplateVersions)", fs[0].name)
	}
	maxResults, hasMax, perr := r.p.int("MaxResults")
	if perr != nil {
		return nil, perr
	}
	if hasMax && (maxResults < 1 || maxResults > 200) {
		return nil, invalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 1 and 200.", maxResults)
	}
	minV, hasMin, perr := r.p.int("MinVersion")
	if perr != nil {
		return nil, perr
	}
	maxV, hasMaxV, perr := r.p.int("MaxVersion")
	if perr != nil {
		return nil, perr
	}
	reg := s.ec2Region(r, false)
	var templates []*template
	if id == "" && name == "" {
		if len(specs) == 0 {
			return nil, ec2Error("MissingParameter", "Specify LaunchTemplateId or LaunchTemplateName, or only the versions $Latest and $Default to describe them for every launch template.")
		}
		for _, v := range specs {
			if v != "$Latest" && v != "$Default" {
				return nil, ec2Error("InvalidParameterCombination", "Without a launch template ID or name, only the versions $Latest and $Default can be described; got %s.", v)
			}
		}
		if reg != nil {
			for _, tid := range reg.templateIDs {
				templates = append(templates, reg.templates[tid])
			}
		}
	} else {
		t, err := findTemplate(reg, id, name)
		if err != nil {
			return nil, err
		}
		r.resource = t.id
		templates = []*template{t}
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	type entry struct {
		t *template
		v *templateVersion
	}
	var all []entry
	for _, t := range templates {
		if len(specs) > 0 {
			seen := map[int]bool{}
			for _, spec := range specs {
				v, err := t.resolveVersion(spec)
				if err != nil {
					return nil, err
				}
				if !seen[v.number] {
					seen[v.number] = true
					all = append(all, entry{t, v})
				}
			}
			continue
		}
		for _, v := range t.versions {
			if (hasMin && v.number < minV) || (hasMaxV && v.number > maxV) {
				continue
			}
			all = append(all, entry{t, v})
		}
	}
	start := 0
	if tok := r.p.str("NextToken"); tok != "" {
		key, ok := parsePageToken(tok)
		n, err := strconv.Atoi(key)
		if !ok || err != nil || n < 0 || n > len(all) {
			return nil, invalidValue("Invalid value '%s' for nextToken", tok)
		}
		start = n
	}
	end := len(all)
	if hasMax && start+maxResults < end {
		end = start + maxResults
	}
	out := &describeLaunchTemplateVersionsResult{}
	for _, e := range all[start:end] {
		out.Versions.Items = append(out.Versions.Items, e.t.versionXML(e.v, r.account()))
	}
	if end < len(all) {
		out.NextToken = pageToken(strconv.Itoa(end))
	}
	return out, nil
}

// templateDataKeys are the LaunchTemplateData parameters the sandbox models.
const templateDataKeys = "ImageId, InstanceType, KeyName, UserData, EbsOptimized, IamInstanceProfile.{Arn,Name}, " +
	"SecurityGroupId.N, MetadataOptions.{HttpTokens,HttpPutResponseHopLimit,HttpEndpoint,HttpProtocolIpv6,InstanceMetadataTags}"

// parseTemplateData reads LaunchTemplateData.* into data, replacing each
// top-level field the request names (as EC2 overrides the source version's
// launch parameters). It rejects parameters the sandbox does not model.
func parseTemplateData(p params, data *TemplateData) (given bool, _ *apiError) {
	const pre = "LaunchTemplateData."
	top := map[string]bool{}
	for k := range p.Values {
		rest, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		field, sub, _ := strings.Cut(rest, ".")
		switch field {
		case "ImageId", "InstanceType", "KeyName", "UserData", "EbsOptimized":
			if sub != "" {
				return false, invalidValue("Unknown parameter %s", k)
			}
		case "IamInstanceProfile":
			if sub != "Arn" && sub != "Name" {
				return false, invalidValue("Unknown parameter %s", k)
			}
		case "SecurityGroupId":
			if _, err := strconv.Atoi(sub); err != nil {
				return false, invalidValue("Unknown parameter %s", k)
			}
		case "MetadataOptions":
			switch sub {
			case "HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "HttpProtocolIpv6", "InstanceMetadataTags":
			default:
				return false, invalidValue("Unknown parameter %s", k)
			}
		default:
			return false, ec2Error("UnsupportedOperation",
				"The credguard sandbox does not model %s; it models LaunchTemplateData %s.", k, templateDataKeys)
		}
		top[field] = true
	}
	get := func(name string) string { return p.Get(pre + name) }
	for field := range top {
		switch field {
		case "ImageId":
			data.ImageID = get("ImageId")
		case "InstanceType":
			data.InstanceType = get("InstanceType")
		case "KeyName":
			data.KeyName = get("KeyName")
		case "UserData":
			data.UserData = get("UserData")
		case "EbsOptimized":
			b := strings.EqualFold(get("EbsOptimized"), "true")
			data.EbsOptimized = &b
		case "IamInstanceProfile":
			data.IamInstanceProfile = &IamInstanceProfile{ARN: get("IamInstanceProfile.Arn"), Name: get("IamInstanceProfile.Name")}
		case "SecurityGroupId":
			data.SecurityGroupIDs = p.list(pre + "SecurityGroupId")
		case "MetadataOptions":
			m := &TemplateMetadataOptions{
				HTTPTokens:           get("MetadataOptions.HttpTokens"),
				HTTPEndpoint:         get("MetadataOptions.HttpEndpoint"),
				HTTPProtocolIPv6:     get("MetadataOptions.HttpProtocolIpv6"),
				InstanceMetadataTags: get("MetadataOptions.InstanceMetadataTags"),
			}
			if v := get("MetadataOptions.HttpPutResponseHopLimit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 64 {
					return false, invalidValue("The HttpPutResponseHopLimit must be between 1 and 64, got %s.", v)
				}
				m.HTTPPutResponseHopLimit = n
			}
			if err := checkMetadataWords("MetadataOptions.", m.HTTPTokens, m.HTTPEndpoint, m.HTTPProtocolIPv6, m.InstanceMetadataTags); err != nil {
				return false, err
			}
			data.MetadataOptions = m
		}
	}
	return len(top) > 0, nil
}

func (s *Server) ec2CreateLaunchTemplateVersion(r *request) (any, error) {
	reg := s.ec2Region(r, false)
	t, err := findTemplate(reg, r.p.str("LaunchTemplateId"), r.p.str("LaunchTemplateName"))
	if err != nil {
		r.resource = r.p.str("LaunchTemplateId")
		return nil, err
	}
	r.resource = t.id
	var data TemplateData
	source := r.p.str("SourceVersion")
	if source != "" {
		v, err := t.resolveVersion(source)
		if err != nil {
			return nil, err
		}
		data = copyTemplateData(v.data)
	}
	given, perr := parseTemplateData(r.p, &data)
	if perr != nil {
		return nil, perr
	}
	if !given && source == "" {
		return nil, ec2Error("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	if desc := r.p.str("VersionDescription"); len(desc) > 255 {
		return nil, invalidValue("VersionDescription must be at most 255 characters.")
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	v := &templateVersion{number: len(t.versions) + 1, description: r.p.str("VersionDescription"), data: data, created: r.now.UTC()}
	t.versions = append(t.versions, v)
	return &createLaunchTemplateVersionResult{Version: t.versionXML(v, r.account())}, nil
}

func (s *Server) ec2ModifyLaunchTemplate(r *request) (any, error) {
	reg := s.ec2Region(r, false)
	t, err := findTemplate(reg, r.p.str("LaunchTemplateId"), r.p.str("LaunchTemplateName"))
	if err != nil {
		r.resource = r.p.str("LaunchTemplateId")
		return nil, err
	}
	r.resource = t.id
	next := t.defaultVersion
	if spec := r.p.str("SetDefaultVersion"); spec != "" {
		v, err := t.resolveVersion(spec)
		if err != nil {
			return nil, err
		}
		next = v.number
	}
	if err := dryRun(r); err != nil {
		return nil, err
	}
	t.defaultVersion = next
	return &modifyLaunchTemplateResult{LaunchTemplate: t.xml(r.account())}, nil
}
