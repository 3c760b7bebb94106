package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/credguard/credguard/internal/ids"
	"github.com/credguard/credguard/internal/sweep"
)

// The scheduled sweep's state machine and its two extra functions.
const (
	// SweepMachineName is the state machine's name.
	SweepMachineName = ids.Prefix + "sweep"

	// DefaultSweepMaxConcurrency is the Distributed Map's MaxConcurrency:
	// scopes swept at once (infra/README.md gives the arithmetic). Scopes
	// are listed account by account, so the scopes in flight belong to a
	// few accounts, each on a different API bucket: IAM's (one scope per
	// account) or one region's EC2 buckets. 50 keeps the hub's STS
	// AssumeRole calls and the sweeper's Lambda concurrency far below their
	// account limits while a 5,000 × 17 organization is swept in about an
	// hour and a half.
	DefaultSweepMaxConcurrency = 50
	// sweepToleratedFailurePercentage: the map goes on when up to 5% of the
	// scopes fail (an account being closed, a region opted out); above that
	// something is broken for everyone and the map stops. Either way the
	// summary step reports every failed scope.
	sweepToleratedFailurePercentage = 5
	// sweepScopeTaskTimeoutSeconds is above the sweeper's own timeout, so
	// that Lambda's timeout (reported and retried) comes first.
	sweepScopeTaskTimeoutSeconds = sweepTimeoutSeconds + 60
	// sweepResultsExpirationDays: scopes and results are working data; the
	// per-finding log lines and the notification are the record.
	sweepResultsExpirationDays = 30
)

// SweepMachine is what addSweepMachine builds.
type SweepMachine struct {
	Bucket  awss3.Bucket
	Machine awsstepfunctions.CfnStateMachine
	Role    awsiam.Role
}

// lambdaServiceErrors are the Lambda service's transient errors.
var lambdaServiceErrors = []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
	"Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

// sweepDefinition is the state machine in Amazon States Language (JSONPath),
// with ${…} substitutions for the ARNs and the partition of the service
// integrations' ARNs (arn:aws-cn:states:::s3:getObject in China).
func sweepDefinition(maxConcurrency int) (string, error) {
	lambdaRetry := map[string]any{"ErrorEquals": lambdaServiceErrors, "IntervalSeconds": 5, "BackoffRate": 2, "MaxAttempts": 6, "JitterStrategy": "FULL"}
	def := map[string]any{
		"Comment": "Credguard: sweep every account and region; one scope per child execution",
		"StartAt": "Start",
		"States": map[string]any{
			"Start": map[string]any{
				"Type": "Pass", "Parameters": map[string]any{"execution.$": "$$.Execution.Name"}, "Next": "ListScopes",
			},
			"ListScopes": map[string]any{
				"Type": "Task", "Resource": "${ListFunctionArn}",
				"Parameters": map[string]any{"execution.$": "$.execution"},
				"ResultPath": "$.listed", "Retry": []any{lambdaRetry}, "Next": "SweepScopes",
			},
			"SweepScopes": map[string]any{
				"Type":  "Map",
				"Label": "SweepScopes",
				"ItemReader": map[string]any{
					"Resource":     "arn:${Partition}:states:::s3:getObject",
					"ReaderConfig": map[string]any{"InputType": "JSON"},
					"Parameters":   map[string]any{"Bucket.$": "$.listed.bucket", "Key.$": "$.listed.key"},
				},
				"ItemProcessor": map[string]any{
					"ProcessorConfig": map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
					"StartAt":         "SweepScope",
					"States": map[string]any{
						"SweepScope": map[string]any{
							"Type": "Task", "Resource": "${SweeperFunctionArn}", "TimeoutSeconds": sweepScopeTaskTimeoutSeconds,
							"Retry": []any{
								// The scope's API calls were throttled after the SDK's own retries: later, with backoff.
								map[string]any{"ErrorEquals": []string{"ThrottledError"}, "IntervalSeconds": 30, "BackoffRate": 2,
									"MaxAttempts": 5, "MaxDelaySeconds": 900, "JitterStrategy": "FULL"},
								lambdaRetry,
								// A scope that ran out of time (or memory) gets one more
								// invocation: Step Functions reports a function's timeout as
								// Lambda.Unknown, the task's own as States.Timeout.
								map[string]any{"ErrorEquals": []string{"Lambda.Unknown", "Sandbox.Timedout", "States.Timeout"}, "IntervalSeconds": 10, "MaxAttempts": 1},
							},
							"End": true,
						},
					},
				},
				"MaxConcurrency":             maxConcurrency,
				"ToleratedFailurePercentage": sweepToleratedFailurePercentage,
				"ResultWriter": map[string]any{
					"Resource":   "arn:${Partition}:states:::s3:putObject",
					"Parameters": map[string]any{"Bucket": "${BucketName}", "Prefix": sweep.ResultsPrefix},
				},
				"ResultPath": "$.map",
				"Catch":      []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.mapError", "Next": "Summarize"}},
				"Next":       "Summarize",
			},
			"Summarize": map[string]any{
				"Type": "Task", "Resource": "${SummaryFunctionArn}", "Retry": []any{lambdaRetry}, "End": true,
			},
		},
	}
	b, err := json.Marshal(def)
	return string(b), err
}

// addSweepMachine builds the scheduled sweep: the bucket, the list and
// summary functions, the state machine around the per-scope sweeper, and
// the EventBridge Scheduler schedule that starts it.
func (h *Hub) addSweepMachine(cfg Config, distDir string, sweeper awslambda.Function,
	withEnv func(map[string]*string) *map[string]*string, alarm awscloudwatch.IAlarmAction) *SweepMachine {
	stack := h.Stack
	partition, region, account := *stack.Partition(), *stack.Region(), *stack.Account()
	bucket := awss3.NewBucket(stack, jsii.String("SweepBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-sweep-data"),
			Enabled:                             jsii.Bool(true),
			Expiration:                          awscdk.Duration_Days(jsii.Number(sweepResultsExpirationDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Working data of the sweep (scopes and per-scope results), written and read only by the sweep's own roles and " +
			"expired after 30 days; the sweep's findings are recorded in its log groups and notification."),
	}}, jsii.Bool(true))
	objects := func(prefix string) *[]*string {
		return jsii.Strings(*bucket.BucketArn() + "/" + prefix + "*")
	}

	list := h.newFunction(cfg, distDir, ids.FnSweepList, fnOptions{
		description: "Credguard: lists the accounts × regions the scheduled sweep covers",
		timeout:     300, memory: 256,
		env: withEnv(map[string]*string{
			"CREDGUARD_ACCOUNTS": jsii.String(strings.Join(cfg.SweepAccounts, ",")),
			sweep.EnvBucket:      bucket.BucketName(),
		}),
		failed: "the scheduled sweep could not list its scopes and did not run",
	}, alarm)
	listStatements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("WriteScopes"), Effect: awsiam.Effect_ALLOW,
		Actions: jsii.Strings("s3:PutObject"), Resources: objects(sweep.ScopesPrefix),
	})}
	if cfg.Mode == Organization {
		listStatements = append(listStatements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ListOrganizationAccounts"), Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("organizations:ListAccounts"), Resources: jsii.Strings("*"),
		}))
	}
	for _, st := range listStatements {
		h.Roles[ids.FnSweepList].AddToPolicy(st)
	}
	suppressWildcards(h.Roles[ids.FnSweepList], listStatements)
	suppressSweepObjects(h.Roles[ids.FnSweepList], sweep.ScopesPrefix)

	summary := h.newFunction(cfg, distDir, ids.FnSweepSummary, fnOptions{
		description: "Credguard: reads the scheduled sweep's results and publishes its summary",
		timeout:     sweepTimeoutSeconds, memory: 1024,
		env: withEnv(map[string]*string{
			"CREDGUARD_DRY_RUN_IMDS":  jsii.String(fmt.Sprint(cfg.DryRunIMDS)),
			"CREDGUARD_DRY_RUN_TRUST": jsii.String(fmt.Sprint(cfg.DryRunTrust)),
			sweep.EnvBucket:           bucket.BucketName(),
		}),
		failed: "a sweep remediation failed or a scope could not be swept (the summary notification lists them)",
	}, alarm)
	summaryStatements := append([]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ReadResults"), Effect: awsiam.Effect_ALLOW,
		Actions: jsii.Strings("s3:GetObject"), Resources: objects(sweep.ResultsPrefix + "/"),
	})}, h.publishStatements()...)
	for _, st := range summaryStatements {
		h.Roles[ids.FnSweepSummary].AddToPolicy(st)
	}
	suppressWildcards(h.Roles[ids.FnSweepSummary], summaryStatements)
	suppressSweepObjects(h.Roles[ids.FnSweepSummary], sweep.ResultsPrefix+"/")

	// The state machine's role: invoke the three functions, read the scopes,
	// write the results, run its own child executions, log and trace.
	machineARN := fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", partition, region, account, SweepMachineName)
	role := awsiam.NewRole(stack, jsii.String("SweepMachineRole"), &awsiam.RoleProps{
		Description: jsii.String("Credguard: the scheduled sweep's state machine"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
		}),
	})
	logGroup := awslogs.NewLogGroup(stack, jsii.String("SweepMachineLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + SweepMachineName),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	machineStatements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("InvokeSweepFunctions"), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{list.FunctionArn(), sweeper.FunctionArn(), summary.FunctionArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadScopes"), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("s3:GetObject"),
			Resources: objects(sweep.ScopesPrefix),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WriteResults"), Effect: awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"),
			Resources: objects(sweep.ResultsPrefix + "/"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("RunChildExecutions"), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("states:StartExecution"),
			Resources: jsii.Strings(machineARN),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WatchChildExecutions"), Effect: awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("states:DescribeExecution", "states:StopExecution"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:states:%s:%s:execution:%s/*", partition, region, account, SweepMachineName)),
		}),
		// Step Functions' log delivery and X-Ray calls have no resource-level scoping.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DeliverLogs"), Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
				"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Trace"), Effect: awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"),
			Resources: jsii.Strings("*"),
		}),
	}
	for _, st := range machineStatements {
		role.AddToPolicy(st)
	}
	suppressWildcards(role, machineStatements)
	suppressSweepObjects(role, sweep.ScopesPrefix, sweep.ResultsPrefix+"/")
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("A Distributed Map starts child executions of its own state machine, whose names Step Functions generates: " +
			"DescribeExecution and StopExecution name them under the state machine's own execution prefix. " +
			"CloudWatch Logs delivery and X-Ray calls made by Step Functions support no resource-level permissions."),
		AppliesTo: &[]any{
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:states:[a-z0-9-]+:(<AWS::AccountId>|[0-9]{12}):execution:` + SweepMachineName + `\/\*$/`)},
			"Resource::*",
		},
	}}, jsii.Bool(true))

	maxConcurrency := cfg.SweepMaxConcurrency
	if maxConcurrency == 0 {
		maxConcurrency = DefaultSweepMaxConcurrency
	}
	def, err := sweepDefinition(maxConcurrency)
	if err != nil {
		panic(err) // a map of literals always marshals
	}
	machine := awsstepfunctions.NewCfnStateMachine(stack, jsii.String("SweepMachine"), &awsstepfunctions.CfnStateMachineProps{
		StateMachineName: jsii.String(SweepMachineName),
		StateMachineType: jsii.String("STANDARD"),
		RoleArn:          role.RoleArn(),
		DefinitionString: jsii.String(def),
		DefinitionSubstitutions: &map[string]any{
			"ListFunctionArn":    list.FunctionArn(),
			"SweeperFunctionArn": sweeper.FunctionArn(),
			"SummaryFunctionArn": summary.FunctionArn(),
			"BucketName":         bucket.BucketName(),
			"Partition":          stack.Partition(),
		},
		LoggingConfiguration: &awsstepfunctions.CfnStateMachine_LoggingConfigurationProperty{
			Level: jsii.String("ALL"), IncludeExecutionData: jsii.Bool(false),
			Destinations: &[]any{&awsstepfunctions.CfnStateMachine_LogDestinationProperty{
				CloudWatchLogsLogGroup: &awsstepfunctions.CfnStateMachine_CloudWatchLogsLogGroupProperty{LogGroupArn: logGroup.LogGroupArn()},
			}},
		},
		TracingConfiguration: &awsstepfunctions.CfnStateMachine_TracingConfigurationProperty{Enabled: jsii.Bool(true)},
	})
	machine.Node().AddDependency(role)

	newAlarm(stack, "SweepMachineFailed", ids.Prefix+"sweep-failed",
		"Credguard: a scheduled sweep execution failed; the summary notification (when sent) lists what failed",
		sweepMachineMetric(machine, "ExecutionsFailed"), 1, alarm)
	newAlarm(stack, "SweepMachineTimedOut", ids.Prefix+"sweep-timed-out",
		"Credguard: a scheduled sweep execution timed out before its summary",
		sweepMachineMetric(machine, "ExecutionsTimedOut"), 1, alarm)

	h.addSweepSchedule(cfg, machineARN, machine, alarm)
	return &SweepMachine{Bucket: bucket, Machine: machine, Role: role}
}

// suppressSweepObjects explains the object wildcards on the sweep bucket:
// each run writes objects whose names it makes (scopes/<execution>.json) or
// Step Functions makes (results/<map run id>/…), under fixed prefixes.
func suppressSweepObjects(role awsiam.Role, prefixes ...string) {
	var applies []any
	for _, p := range prefixes {
		applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<SweepBucket[0-9A-F]*\.Arn>\/` + strings.ReplaceAll(p, "/", `\/`) + `\*$/`)})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The sweep bucket's objects are named per run (scopes/EXECUTION.json by the list step, " +
			"results/MAP-RUN-ID/ by the Distributed Map's ResultWriter), so each grant names one fixed prefix of the one bucket."),
		AppliesTo: &applies,
	}}, jsii.Bool(true))
}

// sweepMachineMetric is one of the state machine's AWS/States metrics.
func sweepMachineMetric(machine awsstepfunctions.CfnStateMachine, name string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/States"), MetricName: jsii.String(name), Statistic: jsii.String("Sum"),
		Period:        awscdk.Duration_Minutes(jsii.Number(5)),
		DimensionsMap: &map[string]*string{"StateMachineArn": machine.AttrArn()},
	})
}

// addSweepSchedule starts the state machine on cfg.SweepSchedule through
// EventBridge Scheduler, with its own role (allowed to start exactly that
// state machine) and a dead-letter queue for starts that kept failing.
func (h *Hub) addSweepSchedule(cfg Config, machineARN string, machine awsstepfunctions.CfnStateMachine, alarm awscloudwatch.IAlarmAction) {
	stack := h.Stack
	dlq := h.newDLQ("sweep-schedule", alarm)
	suppressNotRedriven(dlq, "EventBridge Scheduler's dead-letter queue for the sweep schedule")
	role := awsiam.NewRole(stack, jsii.String("SweepScheduleRole"), &awsiam.RoleProps{
		Description: jsii.String("Credguard: EventBridge Scheduler starts the sweep's state machine"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": *stack.Account()},
		}),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StartSweep"),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: jsii.Strings(machineARN),
	}))
	dlq.GrantSendMessages(role)
	schedule := awsscheduler.NewCfnSchedule(stack, jsii.String("SweepSchedule"), &awsscheduler.CfnScheduleProps{
		Name:               jsii.String(ids.Prefix + "sweep"),
		Description:        jsii.String("Credguard: periodic sweep of every watched account and region"),
		ScheduleExpression: jsii.String(cfg.SweepSchedule),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:              machine.AttrArn(),
			RoleArn:          role.RoleArn(),
			Input:            jsii.String("{}"),
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(2),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
		},
	})
	schedule.Node().AddDependency(role)
}
