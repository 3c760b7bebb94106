package sandbox

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func ec2Client(t testing.TB, s *Server, account, region string) *ec2.Client {
	return ec2.NewFromConfig(config(t, s, account, region))
}

func instancesOf(out *ec2.DescribeInstancesOutput) map[string]types.Instance {
	m := map[string]types.Instance{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			m[aws.ToString(in.InstanceId)] = in
		}
	}
	return m
}

func TestDescribeInstancesByID(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")

	out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef2"}})
	mustOK(t, err)
	got := instancesOf(out)
	if len(got) != 2 {
		t.Fatalf("want 2 instances, got %d", len(got))
	}
	web := got["i-0123456789abcdef0"]
	if web.State.Name != types.InstanceStateNameRunning || aws.ToInt32(web.State.Code) != 16 {
		t.Errorf("state = %v/%d, want running/16", web.State.Name, aws.ToInt32(web.State.Code))
	}
	md := web.MetadataOptions
	if md.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(md.HttpPutResponseHopLimit) != 2 ||
		md.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled || md.State != types.InstanceMetadataOptionsStateApplied ||
		md.HttpProtocolIpv6 != types.InstanceMetadataProtocolStateDisabled || md.InstanceMetadataTags != types.InstanceMetadataTagsStateDisabled {
		t.Errorf("metadata options = %+v", md)
	}
	if len(web.Tags) != 1 || aws.ToString(web.Tags[0].Key) != "Name" || aws.ToString(web.Tags[0].Value) != "web" {
		t.Errorf("tags = %+v", web.Tags)
	}
	term := got["i-0123456789abcdef2"]
	if term.State.Name != types.InstanceStateNameTerminated || aws.ToInt32(term.State.Code) != 48 {
		t.Errorf("terminated instance state = %+v", term.State)
	}
	// Defaults fill what the fixture leaves out.
	if term.MetadataOptions.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(term.MetadataOptions.HttpPutResponseHopLimit) != 1 {
		t.Errorf("defaults = %+v", term.MetadataOptions)
	}
	for _, r := range out.Reservations {
		if aws.ToString(r.OwnerId) != hub || aws.ToString(r.ReservationId) == "" {
			t.Errorf("reservation = %+v", r)
		}
	}
	if c := lastCall(t, s); c.Service != "ec2" || c.Operation != "DescribeInstances" || c.Outcome != "ok" || c.Write ||
		c.Account != hub || c.Region != "us-east-1" || c.Principal != "arn:aws:iam::111122223333:user/sandbox" {
		t.Errorf("journal = %+v", c)
	}
}

func TestDescribeInstancesGroupsReservations(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef3", "i-0123456789abcdef4"}})
	mustOK(t, err)
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 2 || aws.ToString(out.Reservations[0].ReservationId) != "r-0aaaaaaaaaaaaaaaa" {
		t.Fatalf("want both instances in r-0aaaaaaaaaaaaaaaa, got %+v", out.Reservations)
	}
}

func TestDescribeInstancesErrors(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	tests := []struct {
		name   string
		in     *ec2.DescribeInstancesInput
		code   string
		status int
	}{
		{"unknown id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-00000000000000000"}}, "InvalidInstanceID.NotFound", 400},
		{"malformed id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}}, "InvalidInstanceID.Malformed", 400},
		{"ids with MaxResults", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination", 400},
		{"MaxResults too small", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)}, "InvalidParameterValue", 400},
		{"unknown filter", &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}}, "InvalidParameterValue", 400},
		{"bad token", &ec2.DescribeInstancesInput{NextToken: aws.String("garbage!")}, "InvalidParameterValue", 400},
		{"dry run", &ec2.DescribeInstancesInput{DryRun: aws.Bool(true)}, "DryRunOperation", 412},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstances(ctx(t), tt.in)
			wantAPIError(t, err, tt.code, tt.status)
			if got := lastCall(t, s).Outcome; got != tt.code {
				t.Errorf("journal outcome = %s, want %s", got, tt.code)
			}
		})
	}
	// Unknown ids in the instance-id filter are no error: they match nothing.
	out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: []string{"i-00000000000000000"}}}})
	mustOK(t, err)
	if len(out.Reservations) != 0 {
		t.Errorf("unknown id filter matched %d reservations", len(out.Reservations))
	}
}

func TestDescribeInstancesFilters(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	tests := []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"instance-id", []types.Filter{{Name: aws.String("instance-id"), Values: []string{"i-0123456789abcdef1", "i-0123456789abcdef3"}}},
			[]string{"i-0123456789abcdef1", "i-0123456789abcdef3"}},
		{"state running", []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
			[]string{"i-0123456789abcdef0", "i-0123456789abcdef1"}},
		{"state and id", []types.Filter{
			{Name: aws.String("instance-state-name"), Values: []string{"running", "pending"}},
			{Name: aws.String("instance-id"), Values: []string{"i-0123456789abcdef1", "i-0123456789abcdef2", "i-0123456789abcdef4"}}},
			[]string{"i-0123456789abcdef1", "i-0123456789abcdef4"}},
		{"tag", []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"we*"}}}, []string{"i-0123456789abcdef0"}},
		{"tag-key", []types.Filter{{Name: aws.String("tag-key"), Values: []string{"credguard:exempt"}}}, []string{"i-0123456789abcdef1"}},
		{"http tokens", []types.Filter{{Name: aws.String("metadata-options.http-tokens"), Values: []string{"optional"}}},
			[]string{"i-0123456789abcdef0", "i-0123456789abcdef2", "i-0123456789abcdef4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: tt.filters})
			mustOK(t, err)
			var got []string
			for id := range instancesOf(out) {
				got = append(got, id)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeInstancesOtherRegionAndAccount(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	// The hub has nothing in eu-west-1; the member's instance is not visible to it.
	out, err := ec2Client(t, s, hub, "eu-west-1").DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	mustOK(t, err)
	if len(out.Reservations) != 0 {
		t.Errorf("hub eu-west-1: %d reservations, want 0", len(out.Reservations))
	}
	out, err = ec2Client(t, s, member, "eu-west-1").DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	mustOK(t, err)
	if got := instancesOf(out); len(got) != 1 || got["i-0fedcba9876543210"].InstanceId == nil {
		t.Errorf("member eu-west-1: %v", got)
	}
}

func TestModifyInstanceMetadataOptions(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	id := "i-0123456789abcdef0"
	out, err := c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1),
	})
	mustOK(t, err)
	md := out.InstanceMetadataOptions
	if aws.ToString(out.InstanceId) != id || md.State != types.InstanceMetadataOptionsStatePending ||
		md.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(md.HttpPutResponseHopLimit) != 1 ||
		md.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
		t.Fatalf("response = %+v", md)
	}
	if c := lastCall(t, s); !c.Write || c.Resource != id || c.Operation != "ModifyInstanceMetadataOptions" || c.Outcome != "ok" {
		t.Errorf("journal = %+v", c)
	}
	// Applied at the next describe (applyDelayMs 0); parameters not given are unchanged.
	d, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	mustOK(t, err)
	got := instancesOf(d)[id].MetadataOptions
	if got.State != types.InstanceMetadataOptionsStateApplied || got.HttpTokens != types.HttpTokensStateRequired ||
		aws.ToInt32(got.HttpPutResponseHopLimit) != 1 || got.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
		t.Errorf("after modify: %+v", got)
	}

	// Only the parameters given change: the disabled endpoint stays disabled.
	_, err = c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String("i-0123456789abcdef1"), HttpPutResponseHopLimit: aws.Int32(3)})
	mustOK(t, err)
	st := s.State().Accounts[hub].Regions["us-east-1"].Instances[1].MetadataOptions
	if st.HTTPEndpoint != "disabled" || st.HTTPTokens != "required" || st.HTTPPutResponseHopLimit != 3 {
		t.Errorf("state after hop-only modify = %+v", st)
	}
}

func TestModifyInstanceMetadataOptionsErrors(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	tests := []struct {
		name string
		in   *ec2.ModifyInstanceMetadataOptionsInput
		code string
	}{
		{"unknown", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-00000000000000000"), HttpTokens: types.HttpTokensStateRequired}, "InvalidInstanceID.NotFound"},
		{"malformed", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("instance-1"), HttpTokens: types.HttpTokensStateRequired}, "InvalidInstanceID.Malformed"},
		{"hop 0", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0"), HttpPutResponseHopLimit: aws.Int32(0)}, "InvalidParameterValue"},
		{"hop 65", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0"), HttpPutResponseHopLimit: aws.Int32(65)}, "InvalidParameterValue"},
		{"bad tokens word", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0"), HttpTokens: "sometimes"}, "InvalidParameterValue"},
		{"nothing to change", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0")}, "MissingParameter"},
		{"terminated", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef2"), HttpTokens: types.HttpTokensStateRequired}, "IncorrectInstanceState"},
		{"other account's instance", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0fedcba9876543210"), HttpTokens: types.HttpTokensStateRequired}, "InvalidInstanceID.NotFound"},
		{"dry run", &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0"), HttpTokens: types.HttpTokensStateRequired, DryRun: aws.Bool(true)}, "DryRunOperation"},
	}
	before := s.State()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ModifyInstanceMetadataOptions(ctx(t), tt.in)
			wantAPIError(t, err, tt.code, 0)
			if c := lastCall(t, s); !c.Write || c.Outcome != tt.code {
				t.Errorf("journal = %+v", c)
			}
		})
	}
	if fmt.Sprint(before.Accounts[hub].Regions["us-east-1"].Instances) != fmt.Sprint(s.State().Accounts[hub].Regions["us-east-1"].Instances) {
		t.Error("a failed modify changed the state")
	}
}

func TestModifyInstanceMetadataOptionsApplyDelay(t *testing.T) {
	f := loadFixture(t, "basic.json")
	f.Faults = &Faults{ApplyDelayMs: 150}
	s := start(t, f)
	c := ec2Client(t, s, hub, "us-east-1")
	id := "i-0123456789abcdef0"
	_, err := c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateRequired})
	mustOK(t, err)
	state := func() types.InstanceMetadataOptionsState {
		out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		mustOK(t, err)
		return instancesOf(out)[id].MetadataOptions.State
	}
	if got := state(); got != types.InstanceMetadataOptionsStatePending {
		t.Fatalf("right after modify: %s, want pending", got)
	}
	if got := s.State().Accounts[hub].Regions["us-east-1"].Instances[0].MetadataOptions.State; got != "pending" {
		t.Errorf("State() shows %q, want pending", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for state() != types.InstanceMetadataOptionsStateApplied {
		if time.Now().After(deadline) {
			t.Fatal("never applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInstanceMetadataDefaults(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	got, err := c.GetInstanceMetadataDefaults(ctx(t), &ec2.GetInstanceMetadataDefaultsInput{})
	mustOK(t, err)
	if got.AccountLevel.HttpTokens != types.HttpTokensStateOptional || got.AccountLevel.HttpPutResponseHopLimit != nil {
		t.Fatalf("fixture defaults = %+v", got.AccountLevel)
	}
	_, err = c.ModifyInstanceMetadataDefaults(ctx(t), &ec2.ModifyInstanceMetadataDefaultsInput{
		HttpTokens: types.MetadataDefaultHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1),
		HttpTokensEnforced: types.DefaultHttpTokensEnforcedStateEnabled,
	})
	mustOK(t, err)
	got, err = c.GetInstanceMetadataDefaults(ctx(t), &ec2.GetInstanceMetadataDefaultsInput{})
	mustOK(t, err)
	a := got.AccountLevel
	if a.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(a.HttpPutResponseHopLimit) != 1 ||
		a.HttpTokensEnforced != types.HttpTokensEnforcedStateEnabled || a.HttpEndpoint != "" {
		t.Fatalf("after modify = %+v", a)
	}
	// no-preference and -1 clear.
	_, err = c.ModifyInstanceMetadataDefaults(ctx(t), &ec2.ModifyInstanceMetadataDefaultsInput{
		HttpTokens: types.MetadataDefaultHttpTokensStateNoPreference, HttpPutResponseHopLimit: aws.Int32(-1)})
	mustOK(t, err)
	d := s.State().Accounts[hub].Regions["us-east-1"].MetadataDefaults
	if d == nil || d.HTTPTokens != "" || d.HTTPPutResponseHopLimit != 0 || d.HTTPTokensEnforced != "enabled" {
		t.Fatalf("after clearing = %+v", d)
	}
	_, err = c.ModifyInstanceMetadataDefaults(ctx(t), &ec2.ModifyInstanceMetadataDefaultsInput{HttpPutResponseHopLimit: aws.Int32(70)})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)

	// A region the fixture does not list starts with no preferences and keeps a write.
	m := ec2Client(t, s, member, "ap-south-1")
	_, err = m.ModifyInstanceMetadataDefaults(ctx(t), &ec2.ModifyInstanceMetadataDefaultsInput{HttpTokens: types.MetadataDefaultHttpTokensStateRequired})
	mustOK(t, err)
	if d := s.State().Accounts[member].Regions["ap-south-1"].MetadataDefaults; d == nil || d.HTTPTokens != "required" {
		t.Fatalf("new region defaults = %+v", d)
	}
}

func TestLaunchTemplates(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")

	lts, err := c.DescribeLaunchTemplates(ctx(t), &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(1)})
	mustOK(t, err)
	if len(lts.LaunchTemplates) != 1 || lts.NextToken == nil {
		t.Fatalf("page 1 = %+v", lts)
	}
	lts2, err := c.DescribeLaunchTemplates(ctx(t), &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(1), NextToken: lts.NextToken})
	mustOK(t, err)
	if len(lts2.LaunchTemplates) != 1 || lts2.NextToken != nil ||
		aws.ToString(lts2.LaunchTemplates[0].LaunchTemplateId) == aws.ToString(lts.LaunchTemplates[0].LaunchTemplateId) {
		t.Fatalf("page 2 = %+v", lts2)
	}
	nodes := lts.LaunchTemplates[0]
	if aws.ToString(nodes.LaunchTemplateName) != "nodes" || aws.ToInt64(nodes.DefaultVersionNumber) != 1 || aws.ToInt64(nodes.LatestVersionNumber) != 2 {
		t.Fatalf("nodes = %+v", nodes)
	}

	v, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String("nodes"), Versions: []string{"$Default"}})
	mustOK(t, err)
	if len(v.LaunchTemplateVersions) != 1 {
		t.Fatalf("versions = %+v", v.LaunchTemplateVersions)
	}
	def := v.LaunchTemplateVersions[0]
	md := def.LaunchTemplateData.MetadataOptions
	if aws.ToInt64(def.VersionNumber) != 1 || !aws.ToBool(def.DefaultVersion) || md == nil ||
		md.HttpTokens != types.LaunchTemplateHttpTokensStateOptional || aws.ToInt32(md.HttpPutResponseHopLimit) != 2 {
		t.Fatalf("default version = %+v / %+v", def, md)
	}

	// Every $Default across templates, without naming one.
	all, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}})
	mustOK(t, err)
	if len(all.LaunchTemplateVersions) != 2 {
		t.Fatalf("$Default for all = %d versions", len(all.LaunchTemplateVersions))
	}

	// A new version from the default: source data copied, MetadataOptions replaced.
	nv, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: nodes.LaunchTemplateId, SourceVersion: aws.String("$Default"), VersionDescription: aws.String("imdsv2"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens: types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1), HttpEndpoint: types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		}},
	})
	mustOK(t, err)
	d := nv.LaunchTemplateVersion.LaunchTemplateData
	if aws.ToInt64(nv.LaunchTemplateVersion.VersionNumber) != 3 || aws.ToString(d.ImageId) != "ami-11111111" ||
		aws.ToString((*string)(&d.InstanceType)) != "m5.large" || fmt.Sprint(d.SecurityGroupIds) != "[sg-1 sg-2]" ||
		d.MetadataOptions.HttpTokens != types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(d.MetadataOptions.HttpPutResponseHopLimit) != 1 {
		t.Fatalf("new version = %+v", nv.LaunchTemplateVersion)
	}
	if c := lastCall(t, s); !c.Write || c.Resource != "lt-0123456789abcdef0" {
		t.Errorf("journal = %+v", c)
	}
	// Without a source, only the given data.
	bare, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateName: aws.String("batch"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Micro}})
	mustOK(t, err)
	if bd := bare.LaunchTemplateVersion.LaunchTemplateData; bd.ImageId != nil || bd.InstanceType != types.InstanceTypeT3Micro {
		t.Fatalf("sourceless version = %+v", bd)
	}

	_, err = c.ModifyLaunchTemplate(ctx(t), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: nodes.LaunchTemplateId, DefaultVersion: aws.String("3")})
	mustOK(t, err)
	v, err = c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: nodes.LaunchTemplateId, Versions: []string{"$Default", "$Latest"}})
	mustOK(t, err)
	if len(v.LaunchTemplateVersions) != 1 || aws.ToInt64(v.LaunchTemplateVersions[0].VersionNumber) != 3 {
		t.Fatalf("after set default: %+v", v.LaunchTemplateVersions)
	}
	st := s.State().Accounts[hub].Regions["us-east-1"].LaunchTemplates[0]
	if st.DefaultVersion != 3 || len(st.Versions) != 3 || st.Versions[2].Data.MetadataOptions.HTTPTokens != "required" || st.Versions[2].Description != "imdsv2" {
		t.Fatalf("state = %+v", st)
	}

	// Paging over versions.
	p, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: nodes.LaunchTemplateId, MaxResults: aws.Int32(2)})
	mustOK(t, err)
	p2, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: nodes.LaunchTemplateId, MaxResults: aws.Int32(2), NextToken: p.NextToken})
	mustOK(t, err)
	if len(p.LaunchTemplateVersions) != 2 || len(p2.LaunchTemplateVersions) != 1 || p2.NextToken != nil {
		t.Fatalf("version pages: %d then %d", len(p.LaunchTemplateVersions), len(p2.LaunchTemplateVersions))
	}
}

func TestLaunchTemplateErrors(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := ec2Client(t, s, hub, "us-east-1")
	call := func(name, code string, fn func() error) {
		t.Run(name, func(t *testing.T) { wantAPIError(t, fn(), code, 0) })
	}
	call("unknown id", "InvalidLaunchTemplateId.NotFound", func() error {
		_, err := c.DescribeLaunchTemplates(ctx(t), &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-00000000000000000"}})
		return err
	})
	call("malformed id", "InvalidLaunchTemplateId.Malformed", func() error {
		_, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String("lt-1")})
		return err
	})
	call("unknown name", "InvalidLaunchTemplateName.NotFoundException", func() error {
		_, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("nope")})
		return err
	})
	call("unknown version", "InvalidLaunchTemplateId.VersionNotFound", func() error {
		_, err := c.DescribeLaunchTemplateVersions(ctx(t), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("nodes"), Versions: []string{"9"}})
		return err
	})
	call("set unknown default", "InvalidLaunchTemplateId.VersionNotFound", func() error {
		_, err := c.ModifyLaunchTemplate(ctx(t), &ec2.ModifyLaunchTemplateInput{LaunchTemplateName: aws.String("nodes"), DefaultVersion: aws.String("7")})
		return err
	})
	call("bad hop in template", "InvalidParameterValue", func() error {
		_, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nodes"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(99)}}})
		return err
	})
	call("bad tokens word in template", "InvalidParameterValue", func() error {
		_, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nodes"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: "sometimes"}}})
		return err
	})
	call("unmodelled data", "UnsupportedOperation", func() error {
		_, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nodes"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{KernelId: aws.String("aki-1")}})
		return err
	})
	call("no data", "MissingParameter", func() error {
		_, err := c.CreateLaunchTemplateVersion(ctx(t), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nodes"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{}})
		return err
	})
	if n := len(s.State().Accounts[hub].Regions["us-east-1"].LaunchTemplates[0].Versions); n != 2 {
		t.Errorf("failed calls added versions: %d", n)
	}
}

func TestUnsupportedEC2Operation(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	_, err := ec2Client(t, s, hub, "us-east-1").RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantAPIError(t, err, "InvalidAction", http.StatusBadRequest)
	if c := lastCall(t, s); c.Operation != "RunInstances" || c.Outcome != "InvalidAction" {
		t.Errorf("journal = %+v", c)
	}
}
