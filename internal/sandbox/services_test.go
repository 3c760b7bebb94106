package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestDescribePodIdentityAssociation(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := eks.NewFromConfig(config(t, s, hub, "us-east-1"))
	out, err := c.DescribePodIdentityAssociation(ctx(t), &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String("prod"), AssociationId: aws.String("a-2")})
	mustOK(t, err)
	a := out.Association
	if aws.ToString(a.ClusterName) != "prod" || aws.ToString(a.Namespace) != "prod" || aws.ToString(a.ServiceAccount) != "orders" ||
		aws.ToString(a.RoleArn) != "arn:aws:iam::111122223333:role/orders" ||
		aws.ToString(a.TargetRoleArn) != "arn:aws:iam::444455556666:role/orders-target" || aws.ToString(a.ExternalId) == "" ||
		aws.ToString(a.AssociationArn) != "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-2" || a.CreatedAt == nil {
		t.Fatalf("association = %+v", a)
	}
	if c := lastCall(t, s); c.Service != "eks" || c.Operation != "DescribePodIdentityAssociation" || c.Resource != "a-2" || c.Outcome != "ok" {
		t.Errorf("journal = %+v", c)
	}

	_, err = c.DescribePodIdentityAssociation(ctx(t), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String("prod"), AssociationId: aws.String("a-9")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	var rnf *ekstypes.ResourceNotFoundException
	if !errorsAs(err, &rnf) {
		t.Errorf("SDK did not map ResourceNotFoundException: %T", err)
	}
	_, err = c.DescribePodIdentityAssociation(ctx(t), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String("staging"), AssociationId: aws.String("a-1")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	// The same cluster name in another region does not exist.
	other := eks.NewFromConfig(config(t, s, hub, "us-west-2"))
	_, err = other.DescribePodIdentityAssociation(ctx(t), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String("prod"), AssociationId: aws.String("a-1")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
}

func TestListPodIdentityAssociations(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := eks.NewFromConfig(config(t, s, hub, "us-east-1"))
	var ids []string
	p := eks.NewListPodIdentityAssociationsPaginator(c, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod"), MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		mustOK(t, err)
		pages++
		for _, a := range out.Associations {
			ids = append(ids, aws.ToString(a.AssociationId))
		}
	}
	if pages != 2 || fmt.Sprint(ids) != "[a-1 a-2 a-3]" {
		t.Fatalf("pages=%d ids=%v", pages, ids)
	}
	out, err := c.ListPodIdentityAssociations(ctx(t), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod"), Namespace: aws.String("prod")})
	mustOK(t, err)
	if len(out.Associations) != 2 {
		t.Errorf("namespace filter: %d", len(out.Associations))
	}
	out, err = c.ListPodIdentityAssociations(ctx(t), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod"),
		Namespace: aws.String("prod"), ServiceAccount: aws.String("orders")})
	mustOK(t, err)
	if len(out.Associations) != 1 || aws.ToString(out.Associations[0].AssociationId) != "a-2" {
		t.Errorf("service account filter: %+v", out.Associations)
	}
	out, err = c.ListPodIdentityAssociations(ctx(t), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("empty")})
	mustOK(t, err)
	if len(out.Associations) != 0 {
		t.Errorf("empty cluster: %+v", out.Associations)
	}
	_, err = c.ListPodIdentityAssociations(ctx(t), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	_, err = c.ListPodIdentityAssociations(ctx(t), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod"), MaxResults: aws.Int32(500)})
	wantAPIError(t, err, "InvalidParameterException", http.StatusBadRequest)
	dc, err := c.DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String("prod")})
	mustOK(t, err)
	if iss := aws.ToString(dc.Cluster.Identity.Oidc.Issuer); !strings.HasPrefix(iss, "https://oidc.eks.us-east-1.amazonaws.com/id/") ||
		aws.ToString(dc.Cluster.Arn) != "arn:aws:eks:us-east-1:111122223333:cluster/prod" {
		t.Errorf("DescribeCluster = %s %s", iss, aws.ToString(dc.Cluster.Arn))
	}
	_, err = c.DescribeCluster(ctx(t), &eks.DescribeClusterInput{Name: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	_, err = c.UpdateClusterVersion(ctx(t), &eks.UpdateClusterVersionInput{Name: aws.String("prod"), Version: aws.String("1.31")})
	wantAPIError(t, err, "UnknownOperationException", http.StatusNotFound)
}

func TestPublish(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := sns.NewFromConfig(config(t, s, hub, "us-east-1"))
	topic := "arn:aws:sns:us-east-1:111122223333:credguard-alerts"
	msg := `{"version":"1.0","source":"custom","content":{"description":"IMDSv2 enforced"}}`
	out, err := c.Publish(ctx(t), &sns.PublishInput{
		TopicArn: aws.String(topic), Message: aws.String(msg), Subject: aws.String("credguard: remediated"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"guardrail": {DataType: aws.String("String"), StringValue: aws.String("imds")},
			"count":     {DataType: aws.String("Number"), StringValue: aws.String("3")},
		},
	})
	mustOK(t, err)
	if aws.ToString(out.MessageId) == "" {
		t.Fatal("no MessageId")
	}
	n := s.Notifications()
	if len(n) != 1 {
		t.Fatalf("notifications = %d", len(n))
	}
	if n[0].TopicARN != topic || n[0].Message != msg || n[0].Subject != "credguard: remediated" || n[0].Account != hub ||
		n[0].Region != "us-east-1" || n[0].Attributes["guardrail"] != "imds" || n[0].Attributes["count"] != "3" || n[0].Time.IsZero() {
		t.Fatalf("notification = %+v", n[0])
	}
	if c := lastCall(t, s); c.Service != "sns" || c.Operation != "Publish" || c.Resource != topic || c.Write {
		t.Errorf("journal = %+v", c)
	}
	tests := []struct {
		name, topic, msg, code string
		status                 int
	}{
		{"other account", "arn:aws:sns:us-east-1:444455556666:t", "m", "AuthorizationError", 403},
		{"other region", "arn:aws:sns:eu-west-1:111122223333:t", "m", "InvalidParameter", 400},
		{"not an ARN", "credguard-alerts", "m", "InvalidParameter", 400},
		{"empty message", topic, "", "InvalidParameter", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(tt.topic), Message: aws.String(tt.msg)})
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
	if len(s.Notifications()) != 1 {
		t.Error("a rejected publish was recorded")
	}
}

func TestCallerIdentityAndAssumeRole(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	hubCfg := config(t, s, hub, "us-east-1")
	st := sts.NewFromConfig(hubCfg)
	me, err := st.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	mustOK(t, err)
	if aws.ToString(me.Account) != hub || aws.ToString(me.Arn) != "arn:aws:iam::111122223333:user/sandbox" || aws.ToString(me.UserId) == "" {
		t.Fatalf("identity = %+v", me)
	}

	roleARN := "arn:aws:iam::444455556666:role/credguard-remediation"
	out, err := st.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("credguard-imds"), DurationSeconds: aws.Int32(900)})
	mustOK(t, err)
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" ||
		cr.Expiration == nil || time.Until(*cr.Expiration) < 14*time.Minute || time.Until(*cr.Expiration) > 16*time.Minute {
		t.Fatalf("credentials = %+v", cr)
	}
	wantARN := "arn:aws:sts::444455556666:assumed-role/credguard-remediation/credguard-imds"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN {
		t.Fatalf("assumed role user = %+v", out.AssumedRoleUser)
	}

	// The assumed credentials act in the member account.
	memberCfg := hubCfg.Copy()
	memberCfg.Region = "eu-west-1"
	memberCfg.Credentials = aws.CredentialsProviderFunc(func(ctx2 contextT) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey, SessionToken: *cr.SessionToken, CanExpire: true, Expires: *cr.Expiration}, nil
	})
	who, err := sts.NewFromConfig(memberCfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	mustOK(t, err)
	if aws.ToString(who.Account) != member || aws.ToString(who.Arn) != wantARN {
		t.Fatalf("assumed identity = %+v", who)
	}
	d, err := ec2.NewFromConfig(memberCfg).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0fedcba9876543210"}})
	mustOK(t, err)
	if len(d.Reservations) != 1 || aws.ToString(d.Reservations[0].OwnerId) != member {
		t.Fatalf("member describe = %+v", d.Reservations)
	}
	if c := lastCall(t, s); c.Account != member || c.Principal != wantARN || c.Region != "eu-west-1" {
		t.Errorf("journal = %+v", c)
	}

	tests := []struct {
		name, arn, session, code string
		status                   int
	}{
		{"role not in account", "arn:aws:iam::444455556666:role/nope", "s1", "AccessDenied", 403},
		{"account not in fixture", "arn:aws:iam::999999999999:role/credguard-remediation", "s1", "AccessDenied", 403},
		{"wrong path", "arn:aws:iam::444455556666:role/other/credguard-remediation", "s1", "AccessDenied", 403},
		{"not an ARN", "credguard-remediation", "s1", "ValidationError", 400},
		{"bad session name", roleARN, "x", "ValidationError", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(tt.arn), RoleSessionName: aws.String(tt.session)})
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
	_, err = st.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
	wantAPIError(t, err, "ValidationError", http.StatusBadRequest)
}

func TestListAccounts(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	c := organizations.NewFromConfig(config(t, s, hub, "us-east-1"))
	var ids []string
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		mustOK(t, err)
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id)+"/"+aws.ToString(a.Name)+"/"+string(a.State))
			if a.JoinedTimestamp == nil || aws.ToString(a.Email) == "" || !strings.HasPrefix(aws.ToString(a.Arn), "arn:aws:organizations::111122223333:account/") {
				t.Errorf("account = %+v", a)
			}
		}
	}
	if fmt.Sprint(ids) != "[111122223333/hub/ACTIVE 444455556666/member/ACTIVE]" {
		t.Fatalf("accounts = %v", ids)
	}
	_, err := organizations.NewFromConfig(config(t, s, member, "us-east-1")).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	_, err = c.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	wantAPIError(t, err, "UnknownOperationException", http.StatusBadRequest)
}

func TestUnknownAccessKeyActsAsHub(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	cfg := config(t, s, hub, "us-east-1")
	cfg.Credentials = aws.CredentialsProviderFunc(func(contextT) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}, nil
	})
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	mustOK(t, err)
	if aws.ToString(who.Account) != hub {
		t.Fatalf("unknown key acts in %s, want hub", aws.ToString(who.Account))
	}
}

func TestJournal(t *testing.T) {
	s := start(t, loadFixture(t, "basic.json"))
	cfg := config(t, s, hub, "us-east-1")
	before := time.Now()
	_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	mustOK(t, err)
	_, err = iam.NewFromConfig(cfg).GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = iam.NewFromConfig(cfg).UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("billing-api"), PolicyDocument: aws.String("{}")})
	wantAPIError(t, err, "MalformedPolicyDocument", 400)

	j := s.Journal()
	if len(j) != 3 {
		t.Fatalf("journal has %d calls, want 3", len(j))
	}
	want := []Call{
		{Service: "ec2", Operation: "DescribeInstances", Account: hub, Region: "us-east-1", Outcome: "ok", Resource: "i-0123456789abcdef0"},
		{Service: "iam", Operation: "GetRole", Account: hub, Region: "us-east-1", Outcome: "NoSuchEntity", Resource: "arn:aws:iam::111122223333:role/nope"},
		{Service: "iam", Operation: "UpdateAssumeRolePolicy", Account: hub, Region: "us-east-1", Outcome: "MalformedPolicyDocument", Write: true,
			Resource: "arn:aws:iam::111122223333:role/workloads/billing-api"},
	}
	for i, c := range j {
		if c.Time.Before(before) || c.Time.After(time.Now()) {
			t.Errorf("call %d time %v", i, c.Time)
		}
		if c.Principal != "arn:aws:iam::111122223333:user/sandbox" {
			t.Errorf("call %d principal %s", i, c.Principal)
		}
		c.Time, c.Principal = time.Time{}, ""
		if c != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, c, want[i])
		}
	}
	// Journal returns a copy.
	j[0].Outcome = "changed"
	if s.Journal()[0].Outcome != "ok" {
		t.Error("Journal exposes internal state")
	}
	s.Reset()
	if len(s.Journal()) != 0 || len(s.Notifications()) != 0 {
		t.Error("Reset kept the journal")
	}
}

func TestStateIsFixtureShape(t *testing.T) {
	f := loadFixture(t, "basic.json")
	s, err := New(f)
	mustOK(t, err)
	st := s.State()
	// The state round-trips through the fixture parser.
	data, err := jsonMarshal(st)
	mustOK(t, err)
	again, err := ParseFixture(data)
	if err != nil {
		t.Fatalf("State() does not parse as a fixture: %v\n%s", err, data)
	}
	if again.Accounts[hub].Roles[1].Name != "billing-api" || compactJSON(again.Accounts[hub].Roles[1].TrustPolicy) != compactJSON(st.Accounts[hub].Roles[1].TrustPolicy) {
		t.Errorf("round trip lost roles")
	}
	// New deep-copies: changing the fixture afterwards changes nothing.
	f.Accounts[hub].Roles[0].Name = "mutated"
	f.Accounts[hub].Regions["us-east-1"].Instances[0].Tags["Name"] = "mutated"
	st2 := s.State()
	if st2.Accounts[hub].Roles[0].Name == "mutated" || st2.Accounts[hub].Regions["us-east-1"].Instances[0].Tags["Name"] == "mutated" {
		t.Error("New did not copy the fixture")
	}
	// State is a copy too.
	st2.Accounts[hub].Regions["us-east-1"].Instances[0].Tags["Name"] = "x"
	if s.State().Accounts[hub].Regions["us-east-1"].Instances[0].Tags["Name"] != "web" {
		t.Error("State exposes internal maps")
	}
}
