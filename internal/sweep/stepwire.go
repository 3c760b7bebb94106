package sweep

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/settings"
)

// EnvBucket names the sweep bucket (scopes and the map's results), set by
// the infrastructure on the list and summary functions.
const EnvBucket = "CREDGUARD_SWEEP_BUCKET"

// BucketFromEnv reads the sweep bucket's name.
func BucketFromEnv(getenv func(string) string) (string, error) {
	b := strings.TrimSpace(getenv(EnvBucket))
	if b == "" {
		return "", fmt.Errorf("%s is not set", EnvBucket)
	}
	return b, nil
}

// NewScopeStep wires the per-scope step from the hub's AWS configuration.
func NewScopeStep(base aws.Config, s settings.Settings, cfg Config, log *slog.Logger) *ScopeStep {
	return &ScopeStep{Sweeper: FromConfig(base, s, cfg, log), Log: log}
}

// NewListStep wires the list step (base.Region is the function's region).
func NewListStep(base aws.Config, s settings.Settings, bucket string, log *slog.Logger) *ListStep {
	j := &ListStep{
		Accounts: s.Accounts, OrganizationID: s.OrganizationID,
		Hub:     newProviders(base, s).imds.HubAccount,
		Regions: s.Regions, Region: base.Region,
		Bucket: bucket, S3: s3.NewFromConfig(base), Log: log,
	}
	if s.OrganizationID != "" {
		j.Org = organizations.NewFromConfig(base)
	}
	return j
}

// NewSummaryStep wires the summary step; metrics go to metricsOut.
func NewSummaryStep(base aws.Config, s settings.Settings, bucket string, dryRun bool, metricsOut io.Writer, log *slog.Logger) *SummaryStep {
	j := &SummaryStep{Bucket: bucket, S3: s3.NewFromConfig(base), Metrics: metricsOut, Log: log, DryRun: dryRun}
	if s.TopicARN != "" {
		j.Publisher = notify.NewPublisher(sns.NewFromConfig(base), s.TopicARN)
	}
	return j
}
