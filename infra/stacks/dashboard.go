package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/metrics"
)

// DashboardName is the hub's operations dashboard.
const DashboardName = ids.Prefix + "operations"

// emfGuardrails are the Guardrail dimension values of Credguard's metrics.
var emfGuardrails = []string{"imds", "trust", "sweep"}

// addDashboard builds the operations dashboard: what the guardrails did
// over time (from their EMF metrics), failures and dead-letter queues,
// exemptions, exposure time (event to applied fix, p50 and p99), and the
// scheduled sweep's findings per run.
func (h *Hub) addDashboard(cfg Config) awscloudwatch.Dashboard {
	hour := awscdk.Duration_Hours(jsii.Number(1))
	emf := func(name, guardrail, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"Guardrail": jsii.String(guardrail)},
			Statistic:     jsii.String(stat), Period: hour, Label: jsii.String(guardrail + " " + name + " (" + stat + ")"),
		})
	}
	perGuardrail := func(names ...string) *[]awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, g := range emfGuardrails {
			for _, n := range names {
				out = append(out, emf(n, g, "Sum"))
			}
		}
		return &out
	}
	graph := func(title string, left *[]awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: left, Width: jsii.Number(12), Height: jsii.Number(6)})
	}

	failures := *perGuardrail("failed", "NotificationFailed")
	for _, fn := range HubFunctions(cfg) {
		if f, ok := h.Functions[fn]; ok {
			failures = append(failures, f.MetricErrors(&awscloudwatch.MetricOptions{Period: hour, Statistic: jsii.String("Sum"), Label: jsii.String(fn + " errors")}))
		}
	}
	var dlqs []awscloudwatch.IMetric
	dlqNames := []string{"sweep-schedule"}
	for _, r := range Rules() {
		dlqNames = append(dlqNames, r.ID)
	}
	if cfg.SlackWebhookSecretARN != "" {
		dlqNames = append(dlqNames, ids.FnSlackForwarder)
	}
	for _, n := range dlqNames {
		dlqs = append(dlqs, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/SQS"), MetricName: jsii.String("ApproximateNumberOfMessagesVisible"),
			DimensionsMap: &map[string]*string{"QueueName": jsii.String(ids.Prefix + n + "-dlq")},
			Statistic:     jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String(n + " DLQ"),
		}))
	}
	var exposure []awscloudwatch.IMetric
	for _, g := range []string{"imds", "trust"} {
		exposure = append(exposure, emf(metrics.ExposureMetric, g, "p50"), emf(metrics.ExposureMetric, g, "p99"))
	}
	sweepRuns := []awscloudwatch.IMetric{emf("Findings", "sweep", "Sum"), emf("Remaining", "sweep", "Sum"),
		emf("FailedScopes", "sweep", "Sum"), emf("Scopes", "sweep", "Sum")}
	if h.Sweep != nil {
		for _, n := range []string{"ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"} {
			sweepRuns = append(sweepRuns, sweepMachineMetric(h.Sweep.Machine, n))
		}
	}

	return awscloudwatch.NewDashboard(h.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(DashboardName),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{graph("Remediations and revocations per guardrail", perGuardrail("remediated", "revoked")),
				graph("Exposure: event to applied fix, seconds (p50, p99)", &exposure)},
			{graph("Failures", &failures), graph("Dead-letter queues (messages)", &dlqs)},
			{graph("Exempt resources per guardrail", perGuardrail("exempt")), graph("Sweep findings per run", &sweepRuns)},
		},
	})
}
