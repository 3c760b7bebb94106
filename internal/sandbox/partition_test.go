package sandbox

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// STS in a region of one partition refuses a role ARN of another, as AWS
// does (AccessDenied), and names the assumed role in its own partition.
func TestAssumeRoleStaysInItsPartition(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	for _, tt := range []struct {
		region, roleARN, want string
	}{
		{"us-gov-west-1", "arn:aws:iam::444455556666:role/credguard-imds-remediation", "AccessDenied"},
		{"us-east-1", "arn:aws-us-gov:iam::444455556666:role/credguard-imds-remediation", "AccessDenied"},
		{"cn-north-1", "arn:aws-us-gov:iam::444455556666:role/credguard-imds-remediation", "AccessDenied"},
		{"us-gov-west-1", "arn:aws-us-gov:iam::444455556666:role/credguard-imds-remediation", ""},
		{"cn-north-1", "arn:aws-cn:iam::444455556666:role/credguard-imds-remediation", ""},
	} {
		st := sts.NewFromConfig(config(t, s, hub, tt.region))
		out, err := st.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(tt.roleARN), RoleSessionName: aws.String("s1")})
		var ae smithy.APIError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %s: %v", tt.region, tt.roleARN, err)
		case tt.want == "":
			p := tt.roleARN[len("arn:") : len(tt.roleARN)-len(":iam::444455556666:role/credguard-imds-remediation")]
			if want := "arn:" + p + ":sts::444455556666:assumed-role/credguard-imds-remediation/s1"; aws.ToString(out.AssumedRoleUser.Arn) != want {
				t.Errorf("%s: assumed role %s, want %s", tt.region, aws.ToString(out.AssumedRoleUser.Arn), want)
			}
		case !errors.As(err, &ae) || ae.ErrorCode() != tt.want:
			t.Errorf("%s %s: err %v, want %s", tt.region, tt.roleARN, err, tt.want)
		}
	}
}
