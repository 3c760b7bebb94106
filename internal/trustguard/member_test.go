package trustguard

import (
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/trust"
)

func TestDeployedMemberTrust(t *testing.T) {
	const org = "o-exampleorgid"
	trustees := MemberTrustees([]string{"arn:aws:iam::111122223333:role/credguard-imds-enforcer", "arn:aws:iam::111122223333:role/credguard-trust-guard"})
	stmt := func(principal, action, cond string) string {
		s := `{"Effect":"Allow","Principal":` + principal + `,"Action":` + action
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}"
	}
	hubRoles := `{"AWS":["arn:aws:iam::111122223333:role/credguard-imds-enforcer","arn:aws:iam::111122223333:role/credguard-trust-guard","arn:aws:iam::111122223333:role/credguard-imds-defaults"]}`
	orgCond := `{"StringEquals":{"aws:PrincipalOrgID":"` + org + `"}}`
	tests := []struct {
		name  string
		stmts []string
		want  bool
	}{
		{"as deployed", []string{stmt(hubRoles, `"sts:AssumeRole"`, orgCond)}, true},
		{"a subset of the hub roles", []string{stmt(`{"AWS":"arn:aws:iam::111122223333:role/credguard-trust-guard"}`, `["sts:AssumeRole"]`, orgCond)}, true},
		{"key case differs", []string{stmt(hubRoles, `"sts:AssumeRole"`, `{"StringEquals":{"aws:principalorgid":"`+org+`"}}`)}, true},
		{"another role trusted", []string{stmt(`{"AWS":["arn:aws:iam::111122223333:role/credguard-trust-guard","arn:aws:iam::111122223333:role/admin"]}`, `"sts:AssumeRole"`, orgCond)}, false},
		{"another account's role of the same name", []string{stmt(`{"AWS":"arn:aws:iam::999988887777:role/credguard-trust-guard"}`, `"sts:AssumeRole"`, orgCond)}, false},
		{"a service trusted", []string{stmt(`{"AWS":"arn:aws:iam::111122223333:role/credguard-trust-guard","Service":"ec2.amazonaws.com"}`, `"sts:AssumeRole"`, orgCond)}, false},
		{"everyone", []string{stmt(`"*"`, `"sts:AssumeRole"`, orgCond)}, false},
		{"more actions", []string{stmt(hubRoles, `["sts:AssumeRole","sts:TagSession"]`, orgCond)}, false},
		{"no condition", []string{stmt(hubRoles, `"sts:AssumeRole"`, "")}, false},
		{"another organization", []string{stmt(hubRoles, `"sts:AssumeRole"`, strings.Replace(orgCond, org, "o-otherorgid9", 1))}, false},
		{"IfExists passes without the key", []string{stmt(hubRoles, `"sts:AssumeRole"`, `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"`+org+`"}}`)}, false},
		{"a second condition", []string{stmt(hubRoles, `"sts:AssumeRole"`, `{"StringEquals":{"aws:PrincipalOrgID":"`+org+`","sts:ExternalId":"x"}}`)}, false},
		{"an extra statement", []string{stmt(hubRoles, `"sts:AssumeRole"`, orgCond), stmt(`{"AWS":"arn:aws:iam::111122223333:role/admin"}`, `"sts:AssumeRole"`, "")}, false},
		{"a deny statement", []string{stmt(hubRoles, `"sts:AssumeRole"`, orgCond), strings.Replace(stmt(`"*"`, `"sts:AssumeRole"`, ""), "Allow", "Deny", 1)}, false},
		{"NotAction", []string{strings.Replace(stmt(hubRoles, `"sts:AssumeRoleWithSAML"`, orgCond), `"Action"`, `"NotAction"`, 1)}, false},
		{"no statement", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := trust.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + strings.Join(tt.stmts, ",") + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := deployedMemberTrust(p, trustees, org); got != tt.want {
				t.Errorf("deployedMemberTrust = %v, want %v", got, tt.want)
			}
		})
	}
	p, _ := trust.Parse([]byte(`{"Statement":[` + stmt(hubRoles, `"sts:AssumeRole"`, orgCond) + `]}`))
	if deployedMemberTrust(p, nil, org) {
		t.Error("no trustees configured, yet trusted")
	}
}
