package partition

import "testing"

func TestOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "ap-southeast-2": "aws", "": "aws",
		"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e",
		"us-isof-south-1": "aws-iso-f",
	} {
		if got := Of(region); got != want {
			t.Errorf("Of(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestIAMRegion(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1": "us-east-1", "us-east-1": "us-east-1",
		"cn-northwest-1": "cn-north-1", "us-gov-east-1": "us-gov-west-1", "us-iso-east-1": "",
	} {
		if got := IAMRegionOf(region); got != want {
			t.Errorf("IAMRegionOf(%q) = %q, want %q", region, got, want)
		}
	}
	for p, want := range map[string]string{"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-iso": ""} {
		if got := DNSSuffix(p); got != want {
			t.Errorf("DNSSuffix(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestARNs(t *testing.T) {
	if got, want := ARN("ec2", "cn-north-1", "111122223333", "instance/i-1"), "arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-1"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
}
