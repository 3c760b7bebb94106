package sandbox

import (
	"sort"
	"strconv"
	"strings"
)

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

// requestTemplate finds the template a write names (LaunchTemplateId or
// LaunchTemplateName) and records it as the call's resource.
func requestTemplate(r *request, reg *region) (*template, error) {
	id := r.p.str("LaunchTemplateId")
	t, err := findTemplate(reg, id, r.p.str("LaunchTemplateName"))
	if err != nil {
		r.resource = id
		return nil, err
	}
	r.resource = t.id
	return t, nil
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
	t, err := requestTemplate(r, s.ec2Region(r, false))
	if err != nil {
		return nil, err
	}
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
	t, err := requestTemplate(r, s.ec2Region(r, false))
	if err != nil {
		return nil, err
	}
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
