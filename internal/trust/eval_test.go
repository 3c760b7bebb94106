package trust

import "testing"

func stmt(principal, action, cond string) string {
	s := `{"Effect":"Allow","Principal":` + principal + `,"Action":` + action
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return `{"Version":"2012-10-17","Statement":[` + s + `}]}`
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

var (
	alice     = Identity{Type: AWS, ID: "arn:aws:iam::444455556666:user/alice"}
	deployer  = Identity{Type: AWS, ID: "arn:aws:sts::444455556666:assumed-role/deployer/session-1"}
	outsider  = Identity{Type: AWS, ID: "arn:aws:iam::999988887777:user/mallory"}
	podsSvc   = Identity{Type: Service, ID: "pods.eks.amazonaws.com"}
	ec2Svc    = Identity{Type: Service, ID: "ec2.amazonaws.com"}
	eksOIDC   = Identity{Type: Federated, ID: testProvider}
	assume    = "sts:AssumeRole"
	webAssume = "sts:AssumeRoleWithWebIdentity"
)

func TestAllowed(t *testing.T) {
	sub := testIssuer + ":sub"
	cases := []struct {
		name string
		doc  string
		req  Request
		want bool
	}{
		// principals
		{"star any caller", stmt(`"*"`, `"sts:AssumeRole"`, ""), Request{Principal: outsider, Action: assume}, true},
		{"AWS star covers services too", stmt(`{"AWS":"*"}`, `"sts:AssumeRole"`, ""), Request{Principal: ec2Svc, Action: assume}, true},
		{"account id covers its users", stmt(`{"AWS":"444455556666"}`, `"sts:AssumeRole"`, ""), Request{Principal: alice, Action: assume}, true},
		{"account root covers its roles' sessions", stmt(`{"AWS":"arn:aws:iam::444455556666:root"}`, `"sts:AssumeRole"`, ""), Request{Principal: deployer, Action: assume}, true},
		{"account does not cover others", stmt(`{"AWS":"444455556666"}`, `"sts:AssumeRole"`, ""), Request{Principal: outsider, Action: assume}, false},
		{"role ARN covers its sessions", stmt(`{"AWS":"arn:aws:iam::444455556666:role/ci/deployer"}`, `"sts:AssumeRole"`, ""), Request{Principal: deployer, Action: assume}, true},
		{"role ARN does not cover users", stmt(`{"AWS":"arn:aws:iam::444455556666:role/deployer"}`, `"sts:AssumeRole"`, ""), Request{Principal: alice, Action: assume}, false},
		{"exact user ARN", stmt(`{"AWS":["arn:aws:iam::444455556666:user/alice"]}`, `"sts:AssumeRole"`, ""), Request{Principal: alice, Action: assume}, true},
		{"wildcard account root", stmt(`{"AWS":"arn:aws:iam::*:root"}`, `"sts:AssumeRole"`, ""), Request{Principal: outsider, Action: assume}, true},
		{"service exact", stmt(`{"Service":"ec2.amazonaws.com"}`, `"sts:AssumeRole"`, ""), Request{Principal: ec2Svc, Action: assume}, true},
		{"service other", stmt(`{"Service":"ec2.amazonaws.com"}`, `"sts:AssumeRole"`, ""), Request{Principal: podsSvc, Action: assume}, false},
		{"type must match", stmt(`{"Service":"444455556666"}`, `"sts:AssumeRole"`, ""), Request{Principal: alice, Action: assume}, false},
		{"federated exact", stmt(`{"Federated":"`+testProvider+`"}`, `"sts:AssumeRoleWithWebIdentity"`, ""), Request{Principal: eksOIDC, Action: webAssume}, true},
		{"federated star", stmt(`{"Federated":"*"}`, `"sts:AssumeRoleWithWebIdentity"`, ""), Request{Principal: eksOIDC, Action: webAssume}, true},
		{"NotPrincipal allow excludes listed", `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}}`, Request{Principal: alice, Action: assume}, false},
		{"NotPrincipal allow admits others", `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}}`, Request{Principal: outsider, Action: assume}, true},

		// actions
		{"action case-insensitive", stmt(`"*"`, `"STS:assumerole"`, ""), Request{Principal: alice, Action: assume}, true},
		{"action wildcard", stmt(`"*"`, `"sts:AssumeRoleWith*"`, ""), Request{Principal: eksOIDC, Action: webAssume}, true},
		{"action wildcard excludes", stmt(`"*"`, `"sts:AssumeRoleWith*"`, ""), Request{Principal: alice, Action: assume}, false},
		{"action question mark", stmt(`"*"`, `"sts:AssumeRol?"`, ""), Request{Principal: alice, Action: assume}, true},
		{"action list", stmt(`"*"`, `["sts:TagSession","sts:AssumeRole"]`, ""), Request{Principal: alice, Action: assume}, true},
		{"action star", stmt(`"*"`, `"*"`, ""), Request{Principal: alice, Action: "sts:TagSession"}, true},
		{"NotAction excludes", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"sts:AssumeRole"}}`, Request{Principal: alice, Action: assume}, false},
		{"NotAction admits others", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"sts:AssumeRole"}}`, Request{Principal: eksOIDC, Action: webAssume}, true},

		// string operators
		{"StringEquals match", stmt(`"*"`, `"*"`, `{"StringEquals":{"`+sub+`":"system:serviceaccount:prod:api"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:prod:api")}, true},
		{"StringEquals is case-sensitive", stmt(`"*"`, `"*"`, `{"StringEquals":{"`+sub+`":"system:serviceaccount:prod:api"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:PROD:api")}, false},
		{"StringEquals key case-insensitive", stmt(`"*"`, `"*"`, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:sourceaccount", "111122223333")}, true},
		{"StringEquals literal star", stmt(`"*"`, `"*"`, `{"StringEquals":{"`+sub+`":"*"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:prod:api")}, false},
		{"StringEquals missing key", stmt(`"*"`, `"*"`, `{"StringEquals":{"`+sub+`":"x"}}`), Request{Principal: eksOIDC, Action: webAssume}, false},
		{"StringEquals any of values", stmt(`"*"`, `"*"`, `{"StringEquals":{"`+sub+`":["a","b"]}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "b")}, true},
		{"StringEqualsIgnoreCase", stmt(`"*"`, `"*"`, `{"stringequalsignorecase":{"k":"ABC"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "abc")}, true},
		{"StringNotEquals present other", stmt(`"*"`, `"*"`, `{"StringNotEquals":{"k":["a","b"]}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "c")}, true},
		{"StringNotEquals present listed", stmt(`"*"`, `"*"`, `{"StringNotEquals":{"k":["a","b"]}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "b")}, false},
		{"StringNotEquals missing key is true", stmt(`"*"`, `"*"`, `{"StringNotEquals":{"k":"a"}}`), Request{Principal: alice, Action: assume}, true},
		{"StringNotEqualsIgnoreCase", stmt(`"*"`, `"*"`, `{"StringNotEqualsIgnoreCase":{"k":"A"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "a")}, false},
		{"StringLike star", stmt(`"*"`, `"*"`, `{"StringLike":{"`+sub+`":"system:serviceaccount:prod:*"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:prod:api")}, true},
		{"StringLike star spans colons", stmt(`"*"`, `"*"`, `{"StringLike":{"`+sub+`":"system:*"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:x:y")}, true},
		{"StringLike question", stmt(`"*"`, `"*"`, `{"StringLike":{"k":"a?c"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "abc")}, true},
		{"StringLike question needs one char", stmt(`"*"`, `"*"`, `{"StringLike":{"k":"a?c"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "ac")}, false},
		{"StringLike mismatch", stmt(`"*"`, `"*"`, `{"StringLike":{"`+sub+`":"system:serviceaccount:prod:*"}}`), Request{Principal: eksOIDC, Action: webAssume, Context: ctx(sub, "system:serviceaccount:dev:api")}, false},
		{"StringNotLike", stmt(`"*"`, `"*"`, `{"StringNotLike":{"k":"kube-*"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "kube-system")}, false},
		{"IfExists missing passes", stmt(`"*"`, `"*"`, `{"StringEqualsIfExists":{"k":"a"}}`), Request{Principal: alice, Action: assume}, true},
		{"IfExists present checks", stmt(`"*"`, `"*"`, `{"StringEqualsIfExists":{"k":"a"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "b")}, false},
		{"empty context value is absent", stmt(`"*"`, `"*"`, `{"StringEqualsIfExists":{"k":"a"}}`), Request{Principal: alice, Action: assume, Context: map[string][]string{"k": {}}}, true},

		// set operators
		{"ForAllValues missing passes", stmt(`"*"`, `"*"`, `{"ForAllValues:StringEquals":{"tags":["a","b"]}}`), Request{Principal: alice, Action: assume}, true},
		{"ForAllValues subset", stmt(`"*"`, `"*"`, `{"ForAllValues:StringEquals":{"tags":["a","b"]}}`), Request{Principal: alice, Action: assume, Context: ctx("tags", "a", "tags", "b")}, true},
		{"ForAllValues not subset", stmt(`"*"`, `"*"`, `{"ForAllValues:StringEquals":{"tags":["a","b"]}}`), Request{Principal: alice, Action: assume, Context: ctx("tags", "a", "tags", "c")}, false},
		{"ForAnyValue missing fails", stmt(`"*"`, `"*"`, `{"ForAnyValue:StringLike":{"k":"*"}}`), Request{Principal: alice, Action: assume}, false},
		{"ForAnyValue one matches", stmt(`"*"`, `"*"`, `{"foranyvalue:stringlike":{"tags":"b*"}}`), Request{Principal: alice, Action: assume, Context: ctx("tags", "a", "tags", "bee")}, true},
		{"ForAnyValue negated", stmt(`"*"`, `"*"`, `{"ForAnyValue:StringNotEquals":{"tags":"a"}}`), Request{Principal: alice, Action: assume, Context: ctx("tags", "a", "tags", "b")}, true},
		{"ForAllValues negated", stmt(`"*"`, `"*"`, `{"ForAllValues:StringNotEquals":{"tags":"a"}}`), Request{Principal: alice, Action: assume, Context: ctx("tags", "a", "tags", "b")}, false},
		{"ForAnyValue IfExists missing", stmt(`"*"`, `"*"`, `{"ForAnyValue:StringEqualsIfExists":{"k":"a"}}`), Request{Principal: alice, Action: assume}, true},

		// other operators
		{"Bool true", stmt(`"*"`, `"*"`, `{"Bool":{"aws:MultiFactorAuthPresent":true}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:MultiFactorAuthPresent", "true")}, true},
		{"Bool false", stmt(`"*"`, `"*"`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:MultiFactorAuthPresent", "false")}, false},
		{"Null true when absent", stmt(`"*"`, `"*"`, `{"Null":{"k":"true"}}`), Request{Principal: alice, Action: assume}, true},
		{"Null true when present", stmt(`"*"`, `"*"`, `{"Null":{"k":"true"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "v")}, false},
		{"Null false when present", stmt(`"*"`, `"*"`, `{"Null":{"k":false}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "v")}, true},
		{"NumericLessThan", stmt(`"*"`, `"*"`, `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:MultiFactorAuthAge", "60")}, true},
		{"NumericLessThan too old", stmt(`"*"`, `"*"`, `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:MultiFactorAuthAge", "7200")}, false},
		{"NumericGreaterThanEquals", stmt(`"*"`, `"*"`, `{"NumericGreaterThanEquals":{"n":1.5}}`), Request{Principal: alice, Action: assume, Context: ctx("n", "1.5")}, true},
		{"NumericNotEquals", stmt(`"*"`, `"*"`, `{"NumericNotEquals":{"n":"2"}}`), Request{Principal: alice, Action: assume, Context: ctx("n", "2.0")}, false},
		{"DateLessThan", stmt(`"*"`, `"*"`, `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:CurrentTime", "2026-11-28T07:40:41Z")}, true},
		{"DateGreaterThan epoch", stmt(`"*"`, `"*"`, `{"DateGreaterThan":{"aws:CurrentTime":"1893456000"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:CurrentTime", "2026-11-28T07:40:41Z")}, false},
		{"DateEquals", stmt(`"*"`, `"*"`, `{"DateEquals":{"d":"2026-01-01"}}`), Request{Principal: alice, Action: assume, Context: ctx("d", "2026-01-01T00:00:00Z")}, true},
		{"IpAddress in", stmt(`"*"`, `"*"`, `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:SourceIp", "203.0.113.7")}, true},
		{"IpAddress out", stmt(`"*"`, `"*"`, `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:SourceIp", "198.51.100.1")}, false},
		{"NotIpAddress", stmt(`"*"`, `"*"`, `{"NotIpAddress":{"aws:SourceIp":"203.0.113.7"}}`), Request{Principal: alice, Action: assume, Context: ctx("aws:SourceIp", "198.51.100.1")}, true},
		{"ArnEquals", stmt(`"*"`, `"*"`, `{"ArnEquals":{"aws:SourceArn":"arn:aws:eks:us-east-1:111122223333:cluster/prod"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:SourceArn", "arn:aws:eks:us-east-1:111122223333:cluster/prod")}, true},
		{"ArnLike region wildcard", stmt(`"*"`, `"*"`, `{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:111122223333:cluster/*"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:SourceArn", "arn:aws:eks:eu-west-1:111122223333:cluster/prod")}, true},
		{"ArnLike star does not cross parts", stmt(`"*"`, `"*"`, `{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:111122223333:*"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:SourceArn", "arn:aws:eks:us-east-1:999988887777:cluster/x:111122223333:y")}, false},
		{"ArnLike non-ARN pattern matches whole", stmt(`"*"`, `"*"`, `{"ArnLike":{"aws:SourceArn":"*"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:SourceArn", "arn:aws:eks:us-east-1:999988887777:cluster/x")}, true},
		{"ArnNotLike", stmt(`"*"`, `"*"`, `{"ArnNotLike":{"aws:SourceArn":"arn:aws:eks:*:111122223333:cluster/*"}}`), Request{Principal: podsSvc, Action: assume, Context: ctx("aws:SourceArn", "arn:aws:eks:eu-west-1:999988887777:cluster/x")}, true},
		{"BinaryEquals", stmt(`"*"`, `"*"`, `{"BinaryEquals":{"b":"QmluYXJ5"}}`), Request{Principal: alice, Action: assume, Context: ctx("b", "QmluYXJ5")}, true},

		// conservative handling of what cannot be decided
		{"unknown operator does not allow", stmt(`"*"`, `"*"`, `{"StringSortOf":{"k":"a"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "a")}, false},
		{"policy variable does not allow", stmt(`"*"`, `"*"`, `{"StringEquals":{"k":"${aws:username}"}}`), Request{Principal: alice, Action: assume, Context: ctx("k", "alice")}, false},
		{"unparsable number does not allow", stmt(`"*"`, `"*"`, `{"NumericEquals":{"n":"one"}}`), Request{Principal: alice, Action: assume, Context: ctx("n", "1")}, false},
		{"unknown operator in deny denies", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringSortOf":{"k":"a"}}}]}`, Request{Principal: alice, Action: assume}, false},
		{"unparsable date in deny denies", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}]}`, Request{Principal: alice, Action: assume, Context: ctx("aws:CurrentTime", "2026-01-01T00:00:00Z")}, false},

		// effects
		{"default deny", `{"Statement":[]}`, Request{Principal: alice, Action: assume}, false},
		{"explicit deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"sts:*"}]}`, Request{Principal: alice, Action: assume}, false},
		{"deny elsewhere does not block", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"sts:*"}]}`, Request{Principal: outsider, Action: assume}, true},
		{"deny with unmet condition", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, Request{Principal: alice, Action: assume, Context: ctx("aws:PrincipalOrgID", "o-1")}, true},
		{"deny negated missing key applies", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, Request{Principal: alice, Action: assume}, false},
		{"revoked policy denies", `{"Version":"2012-10-17","Statement":[{"Sid":"CredguardRevoked","Effect":"Deny","Principal":"*","Action":["sts:AssumeRole","sts:AssumeRoleWithSAML","sts:AssumeRoleWithWebIdentity"]}]}`, Request{Principal: alice, Action: assume}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(mustParse(t, tc.doc), tc.req); got != tc.want {
				t.Errorf("Allowed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything:at/all", false, true},
		{"a*", "a", false, true},
		{"a*b", "axxb", false, true},
		{"a*b", "axxbc", false, false},
		{"a*b*c", "abbbc", false, true},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"*?", "é", false, true},
		{"é*", "éa", false, true},
		{"a?c", "abc", false, true},
		{"ABC", "abc", true, true},
		{"ABC", "abc", false, false},
		{"**", "x", false, true},
		{"*a", "bbb", false, false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s, tc.fold); got != tc.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
		}
	}
}

func TestParseOperator(t *testing.T) {
	cases := []struct {
		name string
		want operator
	}{
		{"StringEquals", operator{family: famStringEquals}},
		{"stringnotlikeifexists", operator{family: famStringLike, negated: true, ifExists: true}},
		{"ForAnyValue:StringLike", operator{set: setAny, family: famStringLike}},
		{"FORALLVALUES:ArnNotEquals", operator{set: setAll, family: famArnLike, negated: true}},
		{"NotIpAddressIfExists", operator{family: famIPAddress, negated: true, ifExists: true}},
		{"Null", operator{family: famNull}},
		{"NullIfExists", operator{family: famUnknown, ifExists: true}},
		{"ForAnyValue:", operator{set: setAny}},
		{"IfExists", operator{ifExists: true}},
		{"Whatever", operator{}},
	}
	for _, tc := range cases {
		if got := parseOperator(tc.name); got != tc.want {
			t.Errorf("parseOperator(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
