package sandbox

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// largeFixture has the given number of roles and instances in the hub.
func largeFixture(roles, instances int) *Fixture {
	trust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	reg := &Region{}
	for i := range instances {
		reg.Instances = append(reg.Instances, Instance{
			ID: fmt.Sprintf("i-%017x", i), State: "running",
			MetadataOptions: MetadataOptions{HTTPTokens: "optional", HTTPPutResponseHopLimit: 2},
		})
	}
	a := &Account{Regions: map[string]*Region{"us-east-1": reg}}
	for i := range roles {
		a.Roles = append(a.Roles, Role{Name: fmt.Sprintf("role-%05d", i), TrustPolicy: trust})
	}
	return &Fixture{HubAccount: hub, Accounts: map[string]*Account{hub: a}}
}

func TestPagingAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 roles and 5,000 instances")
	}
	t.Parallel()
	s := start(t, largeFixture(10000, 5000))
	cfg := config(t, s, hub, "us-east-1")
	// This test is about paging, not faults: allow the SDK's retries for a
	// connection reset while a large page is read (seen rarely under heavy
	// machine load: the SDK retries exactly this, see its retryable_error.go).
	cfg.RetryMaxAttempts = 3

	seen := map[string]bool{}
	pages := 0
	rp := iam.NewListRolesPaginator(iam.NewFromConfig(cfg), &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	for rp.HasMorePages() {
		out, err := rp.NextPage(ctx(t))
		mustOK(t, err)
		pages++
		for _, r := range out.Roles {
			if seen[aws.ToString(r.RoleName)] {
				t.Fatalf("role %s listed twice", aws.ToString(r.RoleName))
			}
			seen[aws.ToString(r.RoleName)] = true
		}
	}
	if len(seen) != 10000 || pages != 10 {
		t.Fatalf("listed %d roles in %d pages, want 10000 in 10", len(seen), pages)
	}

	ids := map[string]bool{}
	pages = 0
	ip := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
	for ip.HasMorePages() {
		out, err := ip.NextPage(ctx(t))
		mustOK(t, err)
		pages++
		for id := range instancesOf(out) {
			if ids[id] {
				t.Fatalf("instance %s listed twice", id)
			}
			ids[id] = true
		}
	}
	if len(ids) != 5000 || pages != 5 {
		t.Fatalf("listed %d instances in %d pages, want 5000 in 5", len(ids), pages)
	}
}

func TestConcurrentModifications(t *testing.T) {
	const n = 200
	s := start(t, largeFixture(0, n))
	c := ec2.NewFromConfig(config(t, s, hub, "us-east-1"))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{
				InstanceId: aws.String(fmt.Sprintf("i-%017x", i)), HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustOK(t, err)
	}
	for _, in := range s.State().Accounts[hub].Regions["us-east-1"].Instances {
		if in.MetadataOptions.HTTPTokens != "required" || in.MetadataOptions.HTTPPutResponseHopLimit != 1 {
			t.Fatalf("%s not modified: %+v", in.ID, in.MetadataOptions)
		}
	}
	if got := len(s.Journal()); got != n {
		t.Fatalf("journal has %d calls, want %d", got, n)
	}
}

// BenchmarkConcurrentModify sends 1,000 concurrent ModifyInstanceMetadataOptions
// per iteration through the real SDK client.
func BenchmarkConcurrentModify(b *testing.B) {
	const n = 1000
	s := start(b, largeFixture(0, n))
	c := ec2.NewFromConfig(config(b, s, hub, "us-east-1"))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-%017x", i)
	}
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		var failed sync.Map
		for _, id := range ids {
			wg.Go(func() {
				_, err := c.ModifyInstanceMetadataOptions(ctx(b), &ec2.ModifyInstanceMetadataOptionsInput{
					InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)})
				if err != nil {
					failed.Store(id, err)
				}
			})
		}
		wg.Wait()
		failed.Range(func(k, v any) bool {
			b.Fatalf("%v: %v", k, v)
			return false
		})
	}
	b.ReportMetric(float64(n), "calls/op")
}

// BenchmarkListRolesPage measures one 1,000-role page out of 10,000.
func BenchmarkListRolesPage(b *testing.B) {
	s := start(b, largeFixture(10000, 0))
	c := iam.NewFromConfig(config(b, s, hub, "us-east-1"))
	first, err := c.ListRoles(ctx(b), &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	mustOK(b, err)
	b.ResetTimer()
	for b.Loop() {
		_, err := c.ListRoles(ctx(b), &iam.ListRolesInput{MaxItems: aws.Int32(1000), Marker: first.Marker})
		mustOK(b, err)
	}
}
