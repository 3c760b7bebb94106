// Package scp writes the service control policy that keeps IMDSv1 and
// multi-hop metadata access out of an organization's accounts: the
// prevention half of the IMDS guardrail (the Lambdas are the remediation
// half). Attach it to the OUs of the member accounts.
//
// Statements:
//   - ec2:RunInstances is denied unless the instance requires IMDSv2
//     (ec2:MetadataHttpTokens = required);
//   - ec2:RunInstances is denied with a PUT response hop limit above 1
//     (ec2:MetadataHttpPutResponseHopLimit);
//   - ec2:ModifyInstanceMetadataOptions is denied to every principal but
//     Credguard's remediation role and hub function roles (aws:PrincipalARN),
//     so nobody can turn IMDSv1 back on;
//   - every action is denied to credentials delivered by IMDSv1
//     (ec2:RoleDelivery below 2.0).
//
// The condition keys and operators follow the EC2 user guide's IMDS example
// policies.
package scp

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/credguard/credguard/internal/ids"
)

// MaxSize is the service control policy size quota (characters, as
// Organizations counts them; whitespace counts, so the policy is compact).
const MaxSize = 5120

// Statement ids, stable so that a diff between versions reads well.
const (
	SidRequireIMDSv2        = "CredguardRequireIMDSv2"
	SidMaxHopLimit          = "CredguardMaxHopLimitOne"
	SidProtectIMDSOptions   = "CredguardOnlyCredguardChangesIMDSOptions"
	SidDenyIMDSv1Credential = "CredguardDenyIMDSv1Credentials"
)

// Options configure the policy.
type Options struct {
	// RemediationRoleName is the member role the IMDS guardrail and the
	// sweep assume to change metadata options (ids.IMDSRoleName when
	// empty).
	RemediationRoleName string
	// HubAccount pins the hub function roles to the hub account. When empty
	// they are matched in any account ("*"), which also lets a same-named
	// role in a member account through: set it when the hub is known.
	HubAccount string
	// Partition is the ARN partition ("aws" when empty).
	Partition string
}

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement (the forms this policy uses).
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    string                    `json:"Action"`
	Resource  string                    `json:"Resource"` // this policy names one resource pattern per statement
	Condition map[string]map[string]any `json:"Condition"`
}

// Build returns the policy.
func Build(o Options) (Policy, error) {
	if o.RemediationRoleName == "" {
		o.RemediationRoleName = ids.IMDSRoleName
	}
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if !ids.ValidRoleName(o.RemediationRoleName) {
		return Policy{}, fmt.Errorf("remediation role name %q: want 1–64 letters, digits and +=,.@_-", o.RemediationRoleName)
	}
	hub := "*"
	if o.HubAccount != "" {
		if !ids.ValidAccount(o.HubAccount) {
			return Policy{}, fmt.Errorf("hub account %q: want a 12-digit account id", o.HubAccount)
		}
		hub = o.HubAccount
	}
	if !ids.ValidPartition(o.Partition) {
		return Policy{}, fmt.Errorf("partition %q: want aws, aws-cn, aws-us-gov…", o.Partition)
	}
	// The hub functions that change metadata options call
	// ec2:ModifyInstanceMetadataOptions with their own role in the hub
	// account; elsewhere they act through the remediation role.
	principals := []string{ids.RoleARN{Partition: o.Partition, Account: "*", Name: o.RemediationRoleName}.String()}
	for _, fn := range ids.IMDSFunctions() {
		principals = append(principals, ids.RoleARN{Partition: o.Partition, Account: hub, Name: ids.FunctionName(fn)}.String())
	}
	instances := fmt.Sprintf("arn:%s:ec2:*:*:instance/*", o.Partition)
	return Policy{
		Version: "2012-10-17",
		Statement: []Statement{
			{
				Sid: SidRequireIMDSv2, Effect: "Deny", Action: "ec2:RunInstances", Resource: instances,
				Condition: map[string]map[string]any{"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
			},
			{
				Sid: SidMaxHopLimit, Effect: "Deny", Action: "ec2:RunInstances", Resource: instances,
				Condition: map[string]map[string]any{"NumericGreaterThan": {"ec2:MetadataHttpPutResponseHopLimit": "1"}},
			},
			{
				Sid: SidProtectIMDSOptions, Effect: "Deny", Action: "ec2:ModifyInstanceMetadataOptions", Resource: "*",
				Condition: map[string]map[string]any{"ArnNotLike": {"aws:PrincipalARN": principals}},
			},
			{
				Sid: SidDenyIMDSv1Credential, Effect: "Deny", Action: "*", Resource: "*",
				Condition: map[string]map[string]any{"NumericLessThan": {"ec2:RoleDelivery": "2.0"}},
			},
		},
	}, nil
}

// JSON returns the policy as compact JSON, checked against MaxSize.
func JSON(o Options) ([]byte, error) {
	p, err := Build(o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	data := bytes.TrimRight(buf.Bytes(), "\n")
	if n := len([]rune(string(data))); n > MaxSize {
		return nil, fmt.Errorf("policy is %d characters, over the %d-character SCP quota", n, MaxSize)
	}
	return data, nil
}
