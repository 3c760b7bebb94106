package imdsguard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/outcome"
)

// EC2 lists the calls the guardrail makes.
type EC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	ModifyInstanceMetadataOptions(ctx context.Context, in *ec2.ModifyInstanceMetadataOptionsInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceMetadataOptionsOutput, error)
}

// instanceIDPattern finds the ids named in an InvalidInstanceID.NotFound message:
// "The instance IDs 'i-1, i-2' do not exist" / "The instance ID 'i-1' does not exist".
var instanceIDPattern = regexp.MustCompile(`i-[0-9a-f]{8,17}`)

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// describeAll describes ids in batches. Ids EC2 says do not exist are left
// out of found and listed in gone (with the error code). Batches run
// concurrently; a batch that fails with InvalidInstanceID.NotFound is retried
// without the missing ids.
func describeAll(ctx context.Context, client EC2, ids []string, batch int) (found map[string]imds.Instance, gone map[string]string, err error) {
	found = map[string]imds.Instance{}
	gone = map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, g, err := describeBatch(ctx, client, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			maps.Copy(found, f)
			maps.Copy(gone, g)
		}()
	}
	wg.Wait()
	return found, gone, firstErr
}

func describeBatch(ctx context.Context, client EC2, ids []string) (map[string]imds.Instance, map[string]string, error) {
	found := map[string]imds.Instance{}
	gone := map[string]string{}
	remaining := ids
	for len(remaining) > 0 {
		out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: remaining})
		if err == nil {
			for _, res := range out.Reservations {
				for _, in := range res.Instances {
					inst := FromEC2(in)
					found[inst.ID] = inst
				}
			}
			return found, gone, nil
		}
		code := errorCode(err)
		if code != notFound && code != malformedID {
			return found, gone, fmt.Errorf("describe %d instances: %w", len(remaining), err)
		}
		// Drop the ids EC2 named and try the rest; if it named none we
		// recognise, fall back to one call per id.
		missing := map[string]bool{}
		for _, id := range instanceIDPattern.FindAllString(err.Error(), -1) {
			missing[id] = true
		}
		var next []string
		for _, id := range remaining {
			if missing[id] {
				gone[id] = code
			} else {
				next = append(next, id)
			}
		}
		if len(next) == len(remaining) {
			if len(remaining) == 1 {
				gone[remaining[0]] = code
				return found, gone, nil
			}
			for _, id := range remaining {
				f, g, err := describeBatch(ctx, client, []string{id})
				if err != nil {
					return found, gone, err
				}
				maps.Copy(found, f)
				maps.Copy(gone, g)
			}
			return found, gone, nil
		}
		remaining = next
	}
	return found, gone, nil
}

// FromEC2 converts an EC2 API instance to what the guardrail decides on.
func FromEC2(in ec2types.Instance) imds.Instance {
	inst := imds.Instance{ID: aws.ToString(in.InstanceId), Tags: map[string]string{}}
	if in.State != nil {
		inst.State = string(in.State.Name)
	}
	for _, t := range in.Tags {
		inst.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if mo := in.MetadataOptions; mo != nil {
		inst.Options = imds.Options{
			HTTPTokens:   string(mo.HttpTokens),
			HopLimit:     int(aws.ToInt32(mo.HttpPutResponseHopLimit)),
			HTTPEndpoint: string(mo.HttpEndpoint),
			State:        string(mo.State),
		}
	}
	return inst
}

// modifyRefusal says why ModifyInstanceMetadataOptions could not act on an
// instance yet (0: it did not refuse).
type modifyRefusal int

const (
	refusedNotFound modifyRefusal = iota + 1 // InvalidInstanceID.NotFound for a just-launched instance
	refusedState                             // IncorrectInstanceState: pending, or terminating (a describe tells)
)

// EC2's error codes for an instance it does not know (yet), and for an id
// that cannot be one.
const (
	notFound    = "InvalidInstanceID.NotFound"
	malformedID = "InvalidInstanceID.Malformed"
)

// modify sets tokens required and hop limit 1 and nothing else. It returns an
// empty outcome on success, the refusal when the instance is to be tried
// again (IncorrectInstanceState always: a describe then tells pending from
// terminating; InvalidInstanceID.NotFound when launched says the instance
// was just launched), else the outcome and detail to report.
func modify(ctx context.Context, client EC2, id string, launched bool) (outcome.Outcome, string, modifyRefusal) {
	_, err := client.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId:              aws.String(id),
		HttpTokens:              ec2types.HttpTokensStateRequired,
		HttpPutResponseHopLimit: aws.Int32(imds.TargetHopLimit),
	})
	if err == nil {
		return "", "", 0
	}
	switch errorCode(err) {
	case notFound:
		if launched {
			return "", "", refusedNotFound
		}
		return outcome.Gone, "instance disappeared before it could be modified", 0
	case "IncorrectInstanceState":
		return "", "", refusedState
	}
	return outcome.Failed, fmt.Sprintf("modify metadata options: %v", err), 0
}
