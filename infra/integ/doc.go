// Package integ holds the end-to-end test of the deployed guardrails, built
// only with the "integ" tag (make integ): it deploys the hub stack to the
// account of the current AWS credentials, launches a t4g.nano with IMDSv1,
// waits for the IMDS guardrail to enforce IMDSv2 with hop limit 1 and for its
// notification, then tears everything down. Without AWS credentials it skips.
package integ
