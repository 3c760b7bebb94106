package kubesource

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

type fakeIAM map[string]*iamtypes.Role

func (f fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	name := aws.ToString(in.RoleName)
	if name == "denied" {
		return nil, errors.New("AccessDenied")
	}
	r, ok := f[name]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("no role " + name)}
	}
	return &iam.GetRoleOutput{Role: r}, nil
}

func TestRoles(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	api := fakeIAM{
		"web":     {Arn: aws.String("arn:aws:iam::111122223333:role/web"), AssumeRolePolicyDocument: aws.String(url.PathEscape(doc))},
		"pathed":  {Arn: aws.String("arn:aws:iam::111122223333:role/team/pathed"), AssumeRolePolicyDocument: aws.String(url.PathEscape(doc))},
		"garbage": {Arn: aws.String("arn:aws:iam::111122223333:role/garbage"), AssumeRolePolicyDocument: aws.String("%7Bnot")},
	}
	arns := []string{
		"arn:aws:iam::111122223333:role/web", "arn:aws:iam::111122223333:role/gone", "arn:aws:iam::444455556666:role/web",
		"arn:aws:iam::111122223333:role/pathed", "arn:aws:iam::111122223333:role/denied", "arn:aws:iam::111122223333:role/garbage",
		"not-an-arn", "arn:aws:iam::111122223333:role/web",
	}
	got := Roles(context.Background(), api, "111122223333", arns)
	check := func(arn string, missing bool, errPart string) {
		t.Helper()
		rt := got[arn]
		if rt.Missing != missing || !strings.Contains(rt.Err, errPart) || (errPart == "" && rt.Err != "") {
			t.Errorf("%s: %+v", arn, rt)
		}
	}
	check("arn:aws:iam::111122223333:role/web", false, "")
	if len(got["arn:aws:iam::111122223333:role/web"].Policy.Statements) != 1 {
		t.Error("web's trust policy not parsed")
	}
	check("arn:aws:iam::111122223333:role/gone", true, "")
	check("arn:aws:iam::444455556666:role/web", false, "not the cluster's account")
	check("arn:aws:iam::111122223333:role/pathed", true, "") // the annotation names another path
	check("arn:aws:iam::111122223333:role/denied", false, "AccessDenied")
	check("arn:aws:iam::111122223333:role/garbage", false, "not understood")
	check("not-an-arn", false, "not an IAM role ARN")
	if len(got) != 7 {
		t.Errorf("%d roles read", len(got))
	}
}
