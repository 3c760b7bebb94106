package sandbox

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func withFaults(t testing.TB, f Faults) *Server {
	t.Helper()
	fx := loadFixture(t, "basic.json")
	fx.Faults = &f
	return start(t, fx)
}

func TestLatency(t *testing.T) {
	s := withFaults(t, Faults{LatencyMs: map[string]int{"ec2:DescribeInstances": 60}})
	c := ec2Client(t, s, hub, "us-east-1")
	began := time.Now()
	_, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	mustOK(t, err)
	if d := time.Since(began); d < 60*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 60ms", d)
	}
	// Other operations are not delayed.
	began = time.Now()
	_, err = c.GetInstanceMetadataDefaults(ctx(t), &ec2.GetInstanceMetadataDefaultsInput{})
	mustOK(t, err)
	if d := time.Since(began); d >= 60*time.Millisecond {
		t.Errorf("undelayed call took %v", d)
	}
}

func TestLatencyPastClientTimeout(t *testing.T) {
	s := withFaults(t, Faults{LatencyMs: map[string]int{"ec2:DescribeInstances": 30000}})
	c := ec2Client(t, s, hub, "us-east-1")
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.DescribeInstances(cctx, &ec2.DescribeInstancesInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("client waited %v", d)
	}
	// The handler notices the client went away and stops waiting.
	deadline := time.Now().Add(3 * time.Second)
	for {
		j := s.Journal()
		if len(j) == 1 && j[0].Outcome == "canceled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal = %+v, want one canceled call", j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestThrottlingCodesPerService(t *testing.T) {
	tests := []struct {
		key    string
		code   string
		status int
		call   func(cfg aws.Config) error
	}{
		{"ec2:ModifyInstanceMetadataOptions", "RequestLimitExceeded", 503, func(cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).ModifyInstanceMetadataOptions(context.Background(), &ec2.ModifyInstanceMetadataOptionsInput{
				InstanceId: aws.String("i-0123456789abcdef0"), HttpTokens: types.HttpTokensStateRequired})
			return err
		}},
		{"iam:GetRole", "Throttling", 400, func(cfg aws.Config) error {
			_, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
			return err
		}},
		{"sns:Publish", "Throttling", 400, func(cfg aws.Config) error {
			_, err := sns.NewFromConfig(cfg).Publish(context.Background(), &sns.PublishInput{
				TopicArn: aws.String("arn:aws:sns:us-east-1:111122223333:t"), Message: aws.String("m")})
			return err
		}},
		{"sts:GetCallerIdentity", "Throttling", 400, func(cfg aws.Config) error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			return err
		}},
		{"eks:ListPodIdentityAssociations", "ThrottlingException", 429, func(cfg aws.Config) error {
			_, err := eks.NewFromConfig(cfg).ListPodIdentityAssociations(context.Background(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("prod")})
			return err
		}},
		{"organizations:ListAccounts", "TooManyRequestsException", 400, func(cfg aws.Config) error {
			_, err := organizations.NewFromConfig(cfg).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			s := withFaults(t, Faults{Throttle: map[string]Throttle{tt.key: {Burst: 2, RatePerSecond: 0.01}}})
			cfg := config(t, s, hub, "us-east-1")
			mustOK(t, tt.call(cfg))
			mustOK(t, tt.call(cfg))
			wantAPIError(t, tt.call(cfg), tt.code, tt.status)
			if c := lastCall(t, s); c.Outcome != tt.code {
				t.Errorf("journal outcome = %s", c.Outcome)
			}
			// Buckets are per account: the member's call reaches the
			// operation (which may answer its own error: the resources are the hub's).
			_ = tt.call(config(t, s, member, "us-east-1"))
			if c := lastCall(t, s); c.Account != member || c.Outcome == tt.code {
				t.Errorf("member call = %+v, want it not throttled", c)
			}
		})
	}
}

func TestThrottleRefills(t *testing.T) {
	s := withFaults(t, Faults{Throttle: map[string]Throttle{"iam:GetRole": {Burst: 1, RatePerSecond: 20}}})
	c := iamClient(t, s, hub)
	get := func() error {
		_, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
		return err
	}
	mustOK(t, get())
	wantAPIError(t, get(), "Throttling", http.StatusBadRequest)
	time.Sleep(80 * time.Millisecond) // 20/s refills one token in 50ms
	mustOK(t, get())
}

func TestThrottledCallsSucceedWithSDKRetries(t *testing.T) {
	t.Parallel() // waits on the SDK's backoff
	s := withFaults(t, Faults{Throttle: map[string]Throttle{"iam:GetRole": {Burst: 1, RatePerSecond: 10}}})
	cfg, err := s.AWSConfig(ctx(t), hub, "us-east-1") // the SDK's default retryer
	mustOK(t, err)
	c := iam.NewFromConfig(cfg)
	for range 3 {
		_, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
		mustOK(t, err)
	}
	throttled := 0
	for _, call := range s.Journal() {
		if call.Outcome == "Throttling" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("no call was throttled: the test proves nothing")
	}
}

func TestErrorRateOne(t *testing.T) {
	s := withFaults(t, Faults{Errors: map[string]ErrorFault{
		"sns:Publish":                       {Rate: 1, Code: "InternalError"},
		"ec2:ModifyInstanceMetadataOptions": {Rate: 1, Code: "UnauthorizedOperation"},
		"iam:GetRole":                       {Rate: 1, Code: "ServiceUnavailable"},
		"sts:AssumeRole":                    {Rate: 1, Code: "AccessDenied", Account: member},
	}})
	cfg := config(t, s, hub, "us-east-1")
	_, err := sns.NewFromConfig(cfg).Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111122223333:t"), Message: aws.String("m")})
	wantAPIError(t, err, "InternalError", http.StatusInternalServerError)
	if len(s.Notifications()) != 0 {
		t.Error("a failed publish was recorded")
	}
	_, err = ec2.NewFromConfig(cfg).ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String("i-0123456789abcdef0"), HttpTokens: types.HttpTokensStateRequired})
	wantAPIError(t, err, "UnauthorizedOperation", http.StatusForbidden)
	if got := s.State().Accounts[hub].Regions["us-east-1"].Instances[0].MetadataOptions.HTTPTokens; got != "optional" {
		t.Errorf("an injected error still wrote the instance: tokens=%s", got)
	}
	_, err = iam.NewFromConfig(cfg).GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
	wantAPIError(t, err, "ServiceUnavailable", http.StatusServiceUnavailable)

	// A fault limited to one account: the hub assumes roles fine, the member does not.
	stsHub := sts.NewFromConfig(cfg)
	_, err = stsHub.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/credguard-remediation"), RoleSessionName: aws.String("s1")})
	mustOK(t, err)
	_, err = sts.NewFromConfig(config(t, s, member, "us-east-1")).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::444455556666:role/credguard-remediation"), RoleSessionName: aws.String("s1")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
}

func TestSeededErrorRateIsDeterministic(t *testing.T) {
	run := func(seed int64) (string, int) {
		s := withFaults(t, Faults{Seed: seed, Errors: map[string]ErrorFault{"sts:GetCallerIdentity": {Rate: 0.5, Code: "InternalError"}}})
		c := sts.NewFromConfig(config(t, s, hub, "us-east-1"))
		pattern, failed := "", 0
		for range 40 {
			_, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			if err != nil {
				wantAPIError(t, err, "InternalError", http.StatusInternalServerError)
				pattern += "x"
				failed++
			} else {
				pattern += "."
			}
		}
		return pattern, failed
	}
	a, failed := run(42)
	b, _ := run(42)
	c, _ := run(7)
	if a != b {
		t.Errorf("same seed, different failures:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same failures: %s", a)
	}
	if failed < 8 || failed > 32 {
		t.Errorf("rate 0.5 failed %d of 40 calls (%s)", failed, a)
	}
}

func TestFaultsResetWithState(t *testing.T) {
	s := withFaults(t, Faults{Throttle: map[string]Throttle{"iam:GetRole": {Burst: 1, RatePerSecond: 0.001}}})
	c := iamClient(t, s, hub)
	get := func() error {
		_, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("billing-api")})
		return err
	}
	mustOK(t, get())
	wantAPIError(t, get(), "Throttling", 400)
	s.Reset()
	mustOK(t, get())
	if n := len(s.Journal()); n != 1 {
		t.Errorf("journal after reset has %d calls", n)
	}
	if st := s.State(); st.Faults == nil || st.Faults.Throttle["iam:GetRole"].Burst != 1 {
		t.Errorf("State lost the faults: %+v", st.Faults)
	}

}
