package sweep

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/imdsguard"
)

// EC2 lists the EC2 calls the sweep makes itself (instances are then handed
// to the IMDS guardrail, which makes its own).
type EC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, optFns ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, optFns ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error)
}

// Page sizes: the largest each API allows.
const (
	instancePage = 1000
	templatePage = 200
	rolePage     = 1000
)

// liveStates are the instance states a sweep looks at: terminated and
// shutting-down instances are on their way out and cannot be modified.
var liveStates = []string{"pending", "running", "stopping", "stopped"}

// listInstances pages through every live instance of the client's region.
func listInstances(ctx context.Context, client EC2, each func(imds.Instance)) error {
	p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(instancePage),
		Filters:    []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: liveStates}},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe instances: %w", err)
		}
		for _, res := range out.Reservations {
			for _, in := range res.Instances {
				each(imdsguard.FromEC2(in))
			}
		}
	}
	return nil
}

// listTemplates returns every launch template of the client's region with its
// default version's metadata options: one paged DescribeLaunchTemplates (for
// names and tags) and one paged DescribeLaunchTemplateVersions of every
// template's $Default version.
func listTemplates(ctx context.Context, client EC2) ([]Template, error) {
	var templates []Template
	index := map[string]int{}
	p := ec2.NewDescribeLaunchTemplatesPaginator(client, &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(templatePage)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return templates, fmt.Errorf("describe launch templates: %w", err)
		}
		for _, lt := range out.LaunchTemplates {
			t := Template{
				ID: aws.ToString(lt.LaunchTemplateId), Name: aws.ToString(lt.LaunchTemplateName),
				DefaultVersion: aws.ToInt64(lt.DefaultVersionNumber), Tags: map[string]string{},
			}
			for _, tag := range lt.Tags {
				t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			index[t.ID] = len(templates)
			templates = append(templates, t)
		}
	}
	if len(templates) == 0 {
		return templates, nil
	}
	described := make([]bool, len(templates))
	vp := ec2.NewDescribeLaunchTemplateVersionsPaginator(client, &ec2.DescribeLaunchTemplateVersionsInput{
		Versions: []string{"$Default"}, MaxResults: aws.Int32(templatePage),
	})
	for vp.HasMorePages() {
		out, err := vp.NextPage(ctx)
		if err != nil {
			return templates, fmt.Errorf("describe default launch template versions: %w", err)
		}
		for _, v := range out.LaunchTemplateVersions {
			i, ok := index[aws.ToString(v.LaunchTemplateId)]
			if !ok {
				continue // created after the template listing: the next sweep sees it
			}
			setVersion(&templates[i], v)
			described[i] = true
		}
	}
	// A template the versions listing missed (its default changed between
	// the two listings) is described on its own rather than dropped.
	kept := templates[:0]
	for i, t := range templates {
		if !described[i] {
			v, err := defaultVersion(ctx, client, t.ID)
			if isTemplateNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return kept, err
			}
			setVersion(&t, v)
		}
		kept = append(kept, t)
	}
	return kept, nil
}

func setVersion(t *Template, v ec2types.LaunchTemplateVersion) {
	t.DefaultVersion = aws.ToInt64(v.VersionNumber)
	t.Options = nil
	if d := v.LaunchTemplateData; d != nil && d.MetadataOptions != nil {
		m := d.MetadataOptions
		t.Options = &TemplateOptions{
			HTTPTokens:           string(m.HttpTokens),
			HopLimit:             int(aws.ToInt32(m.HttpPutResponseHopLimit)),
			HTTPEndpoint:         string(m.HttpEndpoint),
			HTTPProtocolIPv6:     string(m.HttpProtocolIpv6),
			InstanceMetadataTags: string(m.InstanceMetadataTags),
		}
	}
}

// defaultVersion describes one template's default version.
func defaultVersion(ctx context.Context, client EC2, id string) (ec2types.LaunchTemplateVersion, error) {
	out, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(id), Versions: []string{"$Default"},
	})
	if err != nil {
		return ec2types.LaunchTemplateVersion{}, fmt.Errorf("describe default version of launch template %s: %w", id, err)
	}
	if len(out.LaunchTemplateVersions) != 1 {
		return ec2types.LaunchTemplateVersion{}, fmt.Errorf("describe default version of launch template %s: got %d versions, want 1", id, len(out.LaunchTemplateVersions))
	}
	return out.LaunchTemplateVersions[0], nil
}

// fixTemplate creates a version from source that differs only in its
// metadata options, and makes it the default. It returns the new version
// number (0 when none was created).
func fixTemplate(ctx context.Context, client EC2, id string, source int64, target TemplateOptions) (int64, error) {
	opts := &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
		HttpTokens:              ec2types.LaunchTemplateHttpTokensState(target.HTTPTokens),
		HttpPutResponseHopLimit: aws.Int32(int32(target.HopLimit)),
		// The request replaces the source's whole MetadataOptions block:
		// carry over what was set so that nothing else changes.
		HttpEndpoint:         ec2types.LaunchTemplateInstanceMetadataEndpointState(target.HTTPEndpoint),
		HttpProtocolIpv6:     ec2types.LaunchTemplateInstanceMetadataProtocolIpv6(target.HTTPProtocolIPv6),
		InstanceMetadataTags: ec2types.LaunchTemplateInstanceMetadataTagsState(target.InstanceMetadataTags),
	}
	out, err := client.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(id),
		SourceVersion:      aws.String(strconv.FormatInt(source, 10)),
		VersionDescription: aws.String(fmt.Sprintf("Credguard: IMDSv2 required, hop limit 1 (from version %d)", source)),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{MetadataOptions: opts},
	})
	if err != nil {
		return 0, fmt.Errorf("create launch template version of %s from version %d: %w", id, source, err)
	}
	if out.LaunchTemplateVersion == nil || out.LaunchTemplateVersion.VersionNumber == nil {
		return 0, fmt.Errorf("create launch template version of %s: the response names no version", id)
	}
	version := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
	if _, err := client.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(id),
		DefaultVersion:   aws.String(strconv.FormatInt(version, 10)),
	}); err != nil {
		return version, fmt.Errorf("version %d of %s created, but not made the default: %w", version, id, err)
	}
	return version, nil
}

func isTemplateNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException":
		return true
	}
	return false
}
