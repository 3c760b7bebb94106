package stacks_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/credguard/credguard/infra/stacks"
)

// TestSweepMachine checks the scheduled sweep's state machine definition,
// its bucket, its role and its schedule.
func TestSweepMachine(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			s.get(t)
			machines := s.hubT.ofType("AWS::StepFunctions::StateMachine")
			if len(machines) != 1 {
				t.Fatalf("%d state machines, want 1", len(machines))
			}
			m := machines[0]
			if m.Props["StateMachineName"] != "credguard-sweep" || m.Props["StateMachineType"] != "STANDARD" {
				t.Errorf("state machine %v", m.Props)
			}
			var def struct {
				StartAt string
				States  map[string]map[string]any
			}
			if err := json.Unmarshal([]byte(str(m.Props["DefinitionString"])), &def); err != nil {
				t.Fatalf("definition: %v", err)
			}
			mp := def.States["SweepScopes"]
			proc, _ := mp["ItemProcessor"].(map[string]any)
			wantConcurrency := float64(stacks.DefaultSweepMaxConcurrency)
			if s.cfg.SweepMaxConcurrency != 0 {
				wantConcurrency = float64(s.cfg.SweepMaxConcurrency)
			}
			if mp["Type"] != "Map" || !jsonEqual(proc["ProcessorConfig"], map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}) ||
				mp["MaxConcurrency"] != wantConcurrency || mp["ToleratedFailurePercentage"] != 5.0 {
				t.Errorf("map state %v", mp)
			}
			if s.name == "organization" && wantConcurrency != 20 {
				t.Error("the organization scenario sets sweepMaxConcurrency 20")
			}
			// Scopes come from S3 (ItemReader), results go to S3 (ResultWriter).
			if !jsonEqual(mp["ItemReader"], map[string]any{"Resource": "arn:${Partition}:states:::s3:getObject", "ReaderConfig": map[string]any{"InputType": "JSON"},
				"Parameters": map[string]any{"Bucket.$": "$.listed.bucket", "Key.$": "$.listed.key"}}) {
				t.Errorf("ItemReader %v", mp["ItemReader"])
			}
			if !jsonEqual(mp["ResultWriter"], map[string]any{"Resource": "arn:${Partition}:states:::s3:putObject",
				"Parameters": map[string]any{"Bucket": "${BucketName}", "Prefix": "results"}}) {
				t.Errorf("ResultWriter %v", mp["ResultWriter"])
			}
			if !jsonEqual(mp["Catch"], []any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": "$.mapError", "Next": "Summarize"}}) || mp["Next"] != "Summarize" {
				t.Errorf("a failed map must still reach the summary: %v", mp)
			}
			// Throttled scopes are retried later with backoff and jitter.
			task := proc["States"].(map[string]any)["SweepScope"].(map[string]any)
			throttled := false
			for _, r := range list(task["Retry"]) {
				r := r.(map[string]any)
				if jsonEqual(r["ErrorEquals"], []any{"ThrottledError"}) {
					throttled = r["BackoffRate"].(float64) > 1 && r["IntervalSeconds"].(float64) >= 1 && r["MaxAttempts"].(float64) >= 3 && r["JitterStrategy"] == "FULL"
				}
			}
			if !throttled || task["Resource"] != "${SweeperFunctionArn}" || task["TimeoutSeconds"] != 960.0 {
				t.Errorf("scope task %v", task)
			}
			// The data flow the steps' Go types expect (sweep.ListInput,
			// sweep.Listed, sweep.SummaryInput): {execution, listed, map |
			// mapError} reaches the summary whole.
			listStep := def.States["ListScopes"]
			if def.StartAt != "Start" || !jsonEqual(def.States["Start"]["Parameters"], map[string]any{"execution.$": "$$.Execution.Name"}) ||
				!jsonEqual(listStep["Parameters"], map[string]any{"execution.$": "$.execution"}) || listStep["ResultPath"] != "$.listed" ||
				mp["ResultPath"] != "$.map" || def.States["Summarize"]["Parameters"] != nil || def.States["Summarize"]["End"] != true {
				t.Errorf("data flow: %v", def.States)
			}
			subs := m.Props["DefinitionSubstitutions"].(map[string]any)
			bucket := s.hubT.ofType("AWS::S3::Bucket")
			sweeper := s.hubT.byProp(t, "AWS::Lambda::Function", "FunctionName", "credguard-sweeper")
			// Service integrations are named in the stack's partition (aws-cn, aws-us-gov too).
			if len(bucket) != 1 || ref(subs["BucketName"]) != bucket[0].ID || ref(subs["SweeperFunctionArn"]) != sweeper.ID ||
				ref(subs["Partition"]) != "AWS::Partition" {
				t.Errorf("substitutions %v", subs)
			}
			logging := m.Props["LoggingConfiguration"].(map[string]any)
			if logging["Level"] != "ALL" || !jsonEqual(m.Props["TracingConfiguration"], map[string]any{"Enabled": true}) {
				t.Errorf("logging %v, tracing %v", logging, m.Props["TracingConfiguration"])
			}

			// The bucket: encrypted, TLS only, private, expiring.
			b := bucket[0].Props
			if !jsonEqual(b["BucketEncryption"], map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}}) ||
				!jsonEqual(b["PublicAccessBlockConfiguration"], map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}) {
				t.Errorf("bucket %v", b)
			}
			rules := list(b["LifecycleConfiguration"].(map[string]any)["Rules"])
			if len(rules) != 1 || rules[0].(map[string]any)["ExpirationInDays"] != 30.0 || rules[0].(map[string]any)["Status"] != "Enabled" {
				t.Errorf("lifecycle %v", rules)
			}
			tlsOnly := false
			for _, p := range s.hubT.ofType("AWS::S3::BucketPolicy") {
				for _, st := range statements(t, p.Props["PolicyDocument"], hubPseudo) {
					if st["Effect"] == "Deny" && jsonEqual(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
						tlsOnly = true
					}
				}
			}
			if !tlsOnly {
				t.Error("the bucket policy does not deny requests without TLS")
			}

			// The state machine's role: exactly what the three steps need.
			role := s.hubT.resources[ref(m.Props["RoleArn"])]
			trust := statements(t, role.Props["AssumeRolePolicyDocument"], hubPseudo)
			if len(trust) != 1 || !jsonEqual(trust[0]["Principal"], map[string]any{"Service": "states.amazonaws.com"}) {
				t.Errorf("state machine role trust %v", trust)
			}
			granted := allowedActions(rolePolicies(t, s.hubT, role.ID, hubPseudo))
			arn := func(id string) string { return "arn:aws:iam::" + hubAccount + ":role/" + id } // GetAtt Arn, as resolve renders it
			objects := func(prefix string) string { return arn(bucket[0].ID) + "/" + prefix + "*" }
			var fns []string
			for _, fn := range []string{"credguard-sweep-list", "credguard-sweeper", "credguard-sweep-summary"} {
				fns = append(fns, arn(s.hubT.byProp(t, "AWS::Lambda::Function", "FunctionName", fn).ID))
			}
			sort.Strings(fns)
			machineARN := "arn:aws:states:us-east-1:" + hubAccount + ":stateMachine:credguard-sweep"
			want := map[string][]string{
				"lambda:InvokeFunction":       fns,
				"s3:GetObject":                {objects("results/"), objects("scopes/")},
				"s3:PutObject":                {objects("results/")},
				"s3:ListMultipartUploadParts": {objects("results/")},
				"s3:AbortMultipartUpload":     {objects("results/")},
				"states:StartExecution":       {machineARN},
				"states:DescribeExecution":    {"arn:aws:states:us-east-1:" + hubAccount + ":execution:credguard-sweep/*"},
				"states:StopExecution":        {"arn:aws:states:us-east-1:" + hubAccount + ":execution:credguard-sweep/*"},
			}
			for a, rs := range granted {
				if strings.HasPrefix(a, "logs:") || strings.HasPrefix(a, "xray:") {
					if !reflect.DeepEqual(rs, []string{"*"}) {
						t.Errorf("%s on %v", a, rs)
					}
					continue
				}
				sort.Strings(rs)
				if !reflect.DeepEqual(rs, want[a]) {
					t.Errorf("state machine may %s on %v, want %v", a, rs, want[a])
				}
				delete(want, a)
			}
			if len(want) > 0 {
				t.Errorf("state machine role lacks %v", want)
			}

			// EventBridge Scheduler starts exactly this state machine.
			sched := s.hubT.ofType("AWS::Scheduler::Schedule")
			if len(sched) != 1 || sched[0].Props["ScheduleExpression"] != s.cfg.SweepSchedule {
				t.Fatalf("schedules %v", sched)
			}
			target := sched[0].Props["Target"].(map[string]any)
			if ref(target["Arn"]) != m.ID {
				t.Errorf("schedule target %v, want the state machine", target["Arn"])
			}
			srole := s.hubT.resources[ref(target["RoleArn"])]
			sgranted := allowedActions(rolePolicies(t, s.hubT, srole.ID, hubPseudo))
			dlq := ref(target["DeadLetterConfig"].(map[string]any)["Arn"])
			if !reflect.DeepEqual(sgranted["states:StartExecution"], []string{machineARN}) || !reflect.DeepEqual(sgranted["sqs:SendMessage"], []string{arn(dlq)}) ||
				len(sgranted) != 4 { // and sqs:GetQueueAttributes, sqs:GetQueueUrl of the dead-letter queue
				t.Errorf("scheduler role may %v", sgranted)
			}
		})
	}
}

// TestDashboard checks the operations dashboard shows what the issue asks.
func TestDashboard(t *testing.T) {
	s := organization.get(t)
	d := s.hubT.byProp(t, "AWS::CloudWatch::Dashboard", "DashboardName", "credguard-operations")
	body, err := json.Marshal(d.Props["DashboardBody"])
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(body), `\"`, `"`)
	for _, want := range []string{
		`"Credguard","remediated","Guardrail","imds"`, `"Credguard","revoked","Guardrail","trust"`,
		`"Credguard","exempt","Guardrail","sweep"`, `"Credguard","failed","Guardrail","imds"`,
		`"Credguard","ExposureSeconds","Guardrail","imds"`, `"stat":"p50"`, `"stat":"p99"`,
		`"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","credguard-sweep-schedule-dlq"`,
		`"Credguard","Findings","Guardrail","sweep"`, `"AWS/States","ExecutionsFailed"`,
		"Remediations and revocations per guardrail", "Dead-letter queues", "Exempt resources", "Sweep findings per run",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
}
