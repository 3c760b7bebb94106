package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// smGetSecretValue answers GetSecretValue for a secret of the caller's
// account and region, named by name or by ARN
// (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX).
func (s *Server) smGetSecretValue(r *request) (any, error) {
	var in struct{ SecretId string }
	if err := json.Unmarshal(r.body, &in); err != nil {
		return nil, newError(http.StatusBadRequest, "SerializationException", "request body is not valid JSON: %v", err)
	}
	if in.SecretId == "" {
		return nil, newError(http.StatusBadRequest, "InvalidParameterException", "SecretId is required.")
	}
	name := in.SecretId
	if rest, ok := strings.CutPrefix(name, "arn:aws:secretsmanager:"); ok {
		parts := strings.SplitN(rest, ":", 4) // region, account, "secret", NAME-SUFFIX
		if len(parts) != 4 || parts[0] != r.region || parts[1] != r.account() || parts[2] != "secret" {
			return nil, newError(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
		name = parts[3]
		if i := strings.LastIndexByte(name, '-'); i > 0 && len(name)-i == 7 {
			name = name[:i]
		}
	}
	r.resource = name
	var value string
	found := false
	if a := s.world.accounts[r.account()]; a != nil {
		if reg := a.regions[r.region]; reg != nil {
			value, found = reg.secrets[name]
		}
	}
	if !found {
		return nil, newError(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	return struct {
		ARN           string   `json:"ARN"`
		Name          string   `json:"Name"`
		SecretString  string   `json:"SecretString"`
		VersionID     string   `json:"VersionId"`
		VersionStages []string `json:"VersionStages"`
		CreatedDate   float64  `json:"CreatedDate"`
	}{
		ARN:  "arn:aws:secretsmanager:" + r.region + ":" + r.account() + ":secret:" + name + "-Sndbx1",
		Name: name, SecretString: value, VersionID: stableID("", r.account()+r.region+name),
		VersionStages: []string{"AWSCURRENT"}, CreatedDate: float64(defaultCreateDate.Unix()),
	}, nil
}
