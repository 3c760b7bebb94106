package sandbox

import (
	"encoding/json"
	"net/http"
)

type orgAccount struct {
	ID              string  `json:"Id"`
	Arn             string  `json:"Arn"`
	Email           string  `json:"Email"`
	Name            string  `json:"Name"`
	Status          string  `json:"Status"`
	State           string  `json:"State"`
	JoinedMethod    string  `json:"JoinedMethod"`
	JoinedTimestamp float64 `json:"JoinedTimestamp"`
}

// orgListAccounts lists the fixture's accounts; the hub account acts as the
// organization's management (or delegated administrator) account.
func (s *Server) orgListAccounts(r *request) (any, error) {
	var in struct {
		MaxResults *int
		NextToken  string
	}
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, &in); err != nil {
			return nil, newError(http.StatusBadRequest, "SerializationException", "request body is not valid JSON: %v", err)
		}
	}
	if r.account() != s.world.hub {
		return nil, newError(http.StatusBadRequest, "AccessDeniedException",
			"You don't have permissions to access this resource (only the hub account %s may list the organization's accounts).", s.world.hub)
	}
	limit := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			return nil, newError(http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and 20.")
		}
		limit = *in.MaxResults
	}
	ids := s.world.accountIDs
	start, ok := pageStart(ids, in.NextToken)
	if !ok {
		return nil, newError(http.StatusBadRequest, "InvalidInputException", "The NextToken is not valid.")
	}
	end := min(start+limit, len(ids))
	out := struct {
		Accounts  []orgAccount `json:"Accounts"`
		NextToken string       `json:"NextToken,omitempty"`
	}{Accounts: []orgAccount{}}
	for _, id := range ids[start:end] {
		a := s.world.accounts[id]
		method := "INVITED"
		if id == s.world.hub {
			method = "CREATED"
		}
		out.Accounts = append(out.Accounts, orgAccount{
			ID:              id,
			Arn:             "arn:aws:organizations::" + s.world.hub + ":account/o-sandbox0001/" + id,
			Email:           orDefault(a.email, id+"@example.com"),
			Name:            orDefault(a.name, "account-"+id),
			Status:          "ACTIVE",
			State:           "ACTIVE",
			JoinedMethod:    method,
			JoinedTimestamp: float64(defaultCreateDate.Unix()),
		})
	}
	if end < len(ids) {
		out.NextToken = pageToken(ids[end])
	}
	return out, nil
}
