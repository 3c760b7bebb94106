package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func iamClient(t testing.TB, s *Server, account string) *iam.Client {
	return iam.NewFromConfig(config(t, s, account, "us-east-1"))
}

// decodeDoc undoes IAM's URL-encoding exactly once and parses the JSON.
func decodeDoc(t testing.TB, enc string) map[string]any {
	t.Helper()
	plain, err := url.PathUnescape(enc)
	if err != nil {
		t.Fatalf("PathUnescape(%q): %v", enc, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(plain), &m); err != nil {
		t.Fatalf("document %q: %v", plain, err)
	}
	return m
}

func TestGetRole(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := iamClient(t, s, hub)
	out, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
	mustOK(t, err)
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::111122223333:role/workloads/billing-api" || aws.ToString(r.Path) != "/workloads/" ||
		aws.ToString(r.RoleName) != "billing-api" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || r.CreateDate == nil {
		t.Fatalf("role = %+v", r)
	}
	if len(r.Tags) != 2 || aws.ToString(r.Tags[0].Key) != "env" || aws.ToString(r.Tags[1].Value) != "billing" {
		t.Errorf("tags = %+v", r.Tags)
	}
	enc := aws.ToString(r.AssumeRolePolicyDocument)
	// URL-encoded as IAM returns it: no raw JSON punctuation, spaces as %20.
	if strings.ContainsAny(enc, `{}":,/* +`) || !strings.HasPrefix(enc, "%7B%22Version%22%3A%222012-10-17%22") {
		t.Fatalf("document is not URL-encoded like IAM's: %s", enc)
	}
	doc := decodeDoc(t, enc)
	st := doc["Statement"].([]any)[0].(map[string]any)
	if st["Principal"].(map[string]any)["Federated"] != "*" ||
		st["Condition"].(map[string]any)["StringLike"].(map[string]any)["oidc:sub"] != "system:serviceaccount:prod:*" {
		t.Fatalf("decoded document = %v", doc)
	}
	// Case-insensitive lookup, as IAM.
	_, err = c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("BILLING-API")})
	mustOK(t, err)

	_, err = c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)
	var nse *iamtypes.NoSuchEntityException
	if !errorsAs(err, &nse) {
		t.Errorf("SDK did not map NoSuchEntity to its typed error: %T", err)
	}
	if c := lastCall(t, s); c.Service != "iam" || c.Outcome != "NoSuchEntity" || c.Resource != "arn:aws:iam::111122223333:role/nope" {
		t.Errorf("journal = %+v", c)
	}
}

func TestPercentEncodingRoundTrip(t *testing.T) {
	docs := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
		"{\n  \"a b\": \"x+y%2F/z ü\"\n}",
	}
	for _, d := range docs {
		enc := percentEncode(d)
		got, err := url.PathUnescape(enc)
		if err != nil || got != d {
			t.Errorf("PathUnescape(percentEncode(%q)) = %q, %v", d, got, err)
		}
		if q, _ := url.QueryUnescape(enc); q != d {
			t.Errorf("QueryUnescape differs for %q: %q", d, q)
		}
	}
	if got := percentEncode(`{"a": "b c+d"}`); got != "%7B%22a%22%3A%20%22b%20c%2Bd%22%7D" {
		t.Errorf("percentEncode = %s", got)
	}
}

func TestListRolesPaging(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := iamClient(t, s, hub)
	var names []string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		mustOK(t, err)
		pages++
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
			if r.Tags != nil {
				t.Errorf("ListRoles returned tags for %s", aws.ToString(r.RoleName))
			}
		}
	}
	if pages != 2 || fmt.Sprint(names) != "[AWSServiceRoleForEKS billing-api credguard-imds-enforcer]" {
		t.Fatalf("pages=%d names=%v", pages, names)
	}
	out, err := c.ListRoles(ctx(t), &iam.ListRolesInput{PathPrefix: aws.String("/workloads/")})
	mustOK(t, err)
	if len(out.Roles) != 1 || out.IsTruncated {
		t.Fatalf("path prefix: %+v", out)
	}
	_, err = c.ListRoles(ctx(t), &iam.ListRolesInput{Marker: aws.String("not-a-marker")})
	wantAPIError(t, err, "InvalidInput", http.StatusBadRequest)
}

func TestCreateRoleAndUpdateTrust(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := iamClient(t, s, member)
	trust := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}}`
	out, err := c.CreateRole(ctx(t), &iam.CreateRoleInput{
		RoleName: aws.String("new-role"), Path: aws.String("/apps/"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []iamtypes.Tag{{Key: aws.String("owner"), Value: aws.String("me")}},
	})
	mustOK(t, err)
	if aws.ToString(out.Role.Arn) != "arn:aws:iam::444455556666:role/apps/new-role" || len(out.Role.Tags) != 1 {
		t.Fatalf("created = %+v", out.Role)
	}
	if c := lastCall(t, s); !c.Write || c.Account != member || c.Resource != "arn:aws:iam::444455556666:role/apps/new-role" {
		t.Errorf("journal = %+v", c)
	}
	_, err = c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("NEW-ROLE"), AssumeRolePolicyDocument: aws.String(trust)})
	wantAPIError(t, err, "EntityAlreadyExists", http.StatusConflict)

	// GetRole returns the document exactly as written (layout included), URL-encoded.
	g, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("new-role")})
	mustOK(t, err)
	if plain, _ := url.PathUnescape(aws.ToString(g.Role.AssumeRolePolicyDocument)); plain != trust {
		t.Errorf("document = %q, want %q", plain, trust)
	}

	next := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:SourceAccount":"444455556666"}}}]}`
	_, err = c.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("new-role"), PolicyDocument: aws.String(next)})
	mustOK(t, err)
	var st Role
	for _, r := range s.State().Accounts[member].Roles {
		if r.Name == "new-role" {
			st = r
		}
	}
	if string(st.TrustPolicy) != next || st.CreateDate == nil || st.Tags["owner"] != "me" {
		t.Fatalf("state role = %+v (trust %s)", st, st.TrustPolicy)
	}
}

func TestUpdateAssumeRolePolicyValidation(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := iamClient(t, s, hub)
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` +
		strings.Repeat(`"arn:aws:iam::111122223333:role/r",`, 60) + `"x"]},"Action":"sts:AssumeRole"}]}`
	padded := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}` + strings.Repeat(" \n", 3000)
	tests := []struct {
		name, role, doc, code string
		status                int
	}{
		{"not JSON", "billing-api", `{"Version":`, "MalformedPolicyDocument", 400},
		{"array", "billing-api", `[]`, "MalformedPolicyDocument", 400},
		{"no Version", "billing-api", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, "MalformedPolicyDocument", 400},
		{"bad Version", "billing-api", `{"Version":"2020-01-01","Statement":[]}`, "MalformedPolicyDocument", 400},
		{"no Statement", "billing-api", `{"Version":"2012-10-17"}`, "MalformedPolicyDocument", 400},
		{"no Principal", "billing-api", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "MalformedPolicyDocument", 400},
		{"Resource in trust", "billing-api", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, "MalformedPolicyDocument", 400},
		{"bad Effect", "billing-api", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"sts:AssumeRole"}]}`, "MalformedPolicyDocument", 400},
		{"over 2048 characters", "billing-api", big, "LimitExceeded", 409},
		{"unknown role", "nope", `{"Version":"2012-10-17","Statement":[]}`, "NoSuchEntity", 404},
		{"service-linked role", "AWSServiceRoleForEKS", `{"Version":"2012-10-17","Statement":[]}`, "UnmodifiableEntity", 400},
	}
	if nonWhitespace(big) <= trustPolicyQuota {
		t.Fatalf("test document has only %d non-whitespace characters", nonWhitespace(big))
	}
	before := s.State()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(tt.role), PolicyDocument: aws.String(tt.doc)})
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
	if fmt.Sprint(before.Accounts[hub].Roles) != fmt.Sprint(s.State().Accounts[hub].Roles) {
		t.Error("a rejected update changed a role")
	}
	// Whitespace does not count towards the quota.
	if len(padded) <= trustPolicyQuota {
		t.Fatal("padded document too short")
	}
	_, err := c.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("billing-api"), PolicyDocument: aws.String(padded)})
	mustOK(t, err)
}

func TestInlinePoliciesAndTags(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := iamClient(t, s, hub)
	role := aws.String("billing-api")

	g, err := c.GetRolePolicy(ctx(t), &iam.GetRolePolicyInput{RoleName: role, PolicyName: aws.String("read-s3")})
	mustOK(t, err)
	if doc := decodeDoc(t, aws.ToString(g.PolicyDocument)); doc["Version"] != "2012-10-17" || aws.ToString(g.RoleName) != "billing-api" {
		t.Fatalf("GetRolePolicy = %+v", g)
	}
	revoke := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}}`
	_, err = c.PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(revoke)})
	mustOK(t, err)
	l, err := c.ListRolePolicies(ctx(t), &iam.ListRolePoliciesInput{RoleName: role, MaxItems: aws.Int32(1)})
	mustOK(t, err)
	if fmt.Sprint(l.PolicyNames) != "[AWSRevokeOlderSessions]" || !l.IsTruncated {
		t.Fatalf("page 1 = %+v", l)
	}
	l, err = c.ListRolePolicies(ctx(t), &iam.ListRolePoliciesInput{RoleName: role, Marker: l.Marker})
	mustOK(t, err)
	if fmt.Sprint(l.PolicyNames) != "[read-s3]" || l.IsTruncated {
		t.Fatalf("page 2 = %+v", l)
	}
	_, err = c.PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`)})
	wantAPIError(t, err, "MalformedPolicyDocument", http.StatusBadRequest)

	_, err = c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String("read-s3")})
	mustOK(t, err)
	_, err = c.GetRolePolicy(ctx(t), &iam.GetRolePolicyInput{RoleName: role, PolicyName: aws.String("read-s3")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String("read-s3")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)

	_, err = c.TagRole(ctx(t), &iam.TagRoleInput{RoleName: role, Tags: []iamtypes.Tag{
		{Key: aws.String("credguard:revoked"), Value: aws.String("2026-01-01")}, {Key: aws.String("team"), Value: aws.String("payments")}}})
	mustOK(t, err)
	tags, err := c.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: role})
	mustOK(t, err)
	var got []string
	for _, tg := range tags.Tags {
		got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if fmt.Sprint(got) != "[credguard:revoked=2026-01-01 env=prod team=payments]" {
		t.Fatalf("tags = %v", got)
	}
	many := make([]iamtypes.Tag, 49)
	for i := range many {
		many[i] = iamtypes.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err = c.TagRole(ctx(t), &iam.TagRoleInput{RoleName: role, Tags: many})
	wantAPIError(t, err, "LimitExceeded", http.StatusConflict)

	st := s.State().Accounts[hub].Roles[1]
	if _, ok := st.InlinePolicies["AWSRevokeOlderSessions"]; !ok || len(st.InlinePolicies) != 1 || st.Tags["team"] != "payments" {
		t.Fatalf("state = %+v", st)
	}
}

func TestUnsupportedIAMOperation(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	_, err := iamClient(t, s, hub).DeleteRole(ctx(t), &iam.DeleteRoleInput{RoleName: aws.String("billing-api")})
	wantAPIError(t, err, "InvalidAction", http.StatusBadRequest)
}
