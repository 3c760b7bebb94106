// Package partition maps an AWS region to its ARN partition (aws, aws-cn,
// aws-us-gov, and the isolated ones) and a partition to what differs between
// partitions: the region where IAM delivers its CloudTrail events, and the
// DNS suffix of its endpoints. Every ARN Credguard builds starts with
// Of(region) (role ARNs are formatted by package ids).
package partition

import (
	"fmt"
	"strings"
)

// The partitions Credguard is built for, and their IAM home regions.
const (
	AWS      = "aws"
	China    = "aws-cn"
	GovCloud = "aws-us-gov"
)

// Of is the partition of region: aws-cn for cn-*, aws-us-gov for us-gov-*,
// aws-iso for us-iso-*, aws-iso-b (…-e, -f) for us-isob-*, and aws for any
// other region (and for "").
func Of(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return China
	case strings.HasPrefix(region, "us-gov-"):
		return GovCloud
	}
	// us-iso-east-1 → aws-iso; us-isob-east-1 → aws-iso-b; eu-isoe-west-1 → aws-iso-e.
	if _, rest, ok := strings.Cut(region, "-iso"); ok && len(region) > 3 && region[2] == '-' {
		letter, _, _ := strings.Cut(rest, "-")
		if letter == "" {
			return "aws-iso"
		}
		if len(letter) == 1 {
			return "aws-iso-" + letter
		}
	}
	return AWS
}

// IAMRegion is the region where IAM, a global service, delivers its
// CloudTrail events to EventBridge in partition: us-east-1, cn-north-1 or
// us-gov-west-1 ("" for a partition it does not know).
func IAMRegion(partition string) string {
	switch partition {
	case AWS:
		return "us-east-1"
	case China:
		return "cn-north-1"
	case GovCloud:
		return "us-gov-west-1"
	}
	return ""
}

// IAMRegionOf is IAMRegion(Of(region)).
func IAMRegionOf(region string) string { return IAMRegion(Of(region)) }

// DNSSuffix is the domain of the partition's endpoints: amazonaws.com.cn in
// China, amazonaws.com in aws and aws-us-gov ("" for the isolated ones,
// which Credguard does not serve endpoints for).
func DNSSuffix(partition string) string {
	switch partition {
	case AWS, GovCloud:
		return "amazonaws.com"
	case China:
		return "amazonaws.com.cn"
	}
	return ""
}

// ARN is arn:<partition of region>:<service>:<region>:<account>:<resource>.
func ARN(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", Of(region), service, region, account, resource)
}
