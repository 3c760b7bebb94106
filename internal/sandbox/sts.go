package sandbox

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/credguard/credguard/internal/partition"
)

var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     stsCredentials  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

func (s *Server) stsGetCallerIdentity(r *request) (any, error) {
	return &callerIdentityResult{UserID: r.id.userID, Account: r.account(), Arn: r.id.arn}, nil
}

// stsAssumeRole succeeds for a role that exists in the target account of the
// fixture (the trust policy is not evaluated). The returned access key acts
// in that account as the assumed role.
func (s *Server) stsAssumeRole(r *request) (any, error) {
	roleARN := r.p.str("RoleArn")
	r.resource = roleARN
	m := roleARNRe.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, validationError("roleArn", roleARN, "Member must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
	}
	session := r.p.str("RoleSessionName")
	if !sessionNameRe.MatchString(session) {
		return nil, validationError("roleSessionName", session, "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64")
	}
	duration, set, perr := r.p.int("DurationSeconds")
	if perr != nil {
		return nil, newError(http.StatusBadRequest, "ValidationError", "%s", perr.Message)
	}
	if !set {
		duration = 3600
	}
	if duration < 900 || duration > 43200 {
		return nil, validationError("durationSeconds", itoa(duration), "Member must have value between 900 and 43200")
	}
	accountID, path, name := m[1], m[2]+"/", m[3]
	denied := newError(http.StatusForbidden, "AccessDenied",
		"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", r.id.arn, roleARN)
	// Credentials never cross partitions: STS in a region of one partition
	// answers AccessDenied for a role ARN of another (arn:aws:… asked of
	// us-gov-west-1, for example).
	if got, _, _ := strings.Cut(strings.TrimPrefix(roleARN, "arn:"), ":"); got != partition.Of(r.region) {
		return nil, denied
	}
	a := s.world.accounts[accountID]
	if a == nil {
		return nil, denied
	}
	ro := a.roles[strings.ToLower(name)]
	if ro == nil || ro.name != name || ro.path != path {
		return nil, denied
	}
	if duration > ro.maxSession {
		return nil, validationError("durationSeconds", itoa(duration),
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	id := identity{
		account: accountID,
		arn:     "arn:" + partition.Of(r.region) + ":sts::" + accountID + ":assumed-role/" + ro.name + "/" + session,
		userID:  ro.id + ":" + session,
	}
	key := "ASIA" + randomString(16)
	s.sessions[key] = id
	return &assumeRoleResult{
		Credentials: stsCredentials{
			AccessKeyID:     key,
			SecretAccessKey: randomString(40),
			SessionToken:    "SANDBOX" + randomString(120),
			Expiration:      r.now.Add(time.Duration(duration) * time.Second).UTC().Format(isoTime),
		},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: id.userID, Arn: id.arn},
	}, nil
}
