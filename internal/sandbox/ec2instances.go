package sandbox

import (
	"strconv"
	"strings"
	"time"
)

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

// ---- instance operations ----

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
