package sandbox

import (
	"errors"
	"fmt"
	"net/http"
)

type stackResourceDetail struct {
	StackName            string           `xml:"StackName"`
	StackID              string           `xml:"StackId"`
	LogicalResourceID    string           `xml:"LogicalResourceId"`
	PhysicalResourceID   string           `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string           `xml:"ResourceType"`
	LastUpdatedTimestamp string           `xml:"LastUpdatedTimestamp"`
	ResourceStatus       string           `xml:"ResourceStatus"`
	DriftInformation     driftInformation `xml:"DriftInformation"`
}

type driftInformation struct {
	StackResourceDriftStatus string `xml:"StackResourceDriftStatus"`
}

type describeStackResourceResult struct {
	StackResourceDetail stackResourceDetail `xml:"StackResourceDetail"`
}

// cfnDescribeStackResource answers DescribeStackResource for a stack of the
// caller's account and region, named by name or by stack id. An unknown
// stack (or a stack id of another account or region) and an unknown logical
// id are ValidationError (400), with CloudFormation's messages.
func (s *Server) cfnDescribeStackResource(r *request) (any, error) {
	name, logicalID := r.p.str("StackName"), r.p.str("LogicalResourceId")
	r.resource = name
	switch {
	case !r.p.has("StackName"):
		return nil, newError(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null")
	case !r.p.has("LogicalResourceId"):
		return nil, newError(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at 'logicalResourceId' failed to satisfy constraint: Member must not be null")
	}
	var st *stack
	if a := s.world.accounts[r.account()]; a != nil {
		if reg := a.regions[r.region]; reg != nil {
			st = reg.findStack(name)
		}
	}
	if st == nil {
		return nil, newError(http.StatusBadRequest, "ValidationError", "Stack with id %s does not exist", name)
	}
	res := st.resource(logicalID)
	if res == nil {
		return nil, newError(http.StatusBadRequest, "ValidationError", "Resource %s does not exist for stack %s", logicalID, name)
	}
	return &describeStackResourceResult{StackResourceDetail: stackResourceDetail{
		StackName: st.name, StackID: st.id, LogicalResourceID: res.LogicalID, PhysicalResourceID: res.PhysicalID,
		ResourceType: res.Type, LastUpdatedTimestamp: r.now.UTC().Format(isoTime), ResourceStatus: res.Status,
		DriftInformation: driftInformation{StackResourceDriftStatus: "NOT_CHECKED"},
	}}, nil
}

// PutStackResource adds a resource to a stack of the fixture, or replaces the
// one with the same logical id: it stands in for CloudFormation's own
// progress (a resource going from CREATE_IN_PROGRESS to CREATE_COMPLETE with
// its physical id, then DELETE_IN_PROGRESS), since the sandbox serves no
// stack operation. The stack is found by its id in account and region.
func (s *Server) PutStackResource(account, region, stackID string, res StackResource) error {
	v := &validator{}
	v.stacks("PutStackResource", account, region, []Stack{{StackID: stackID, Resources: []StackResource{res}}})
	if err := v.err(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var st *stack
	if a := s.world.accounts[account]; a != nil {
		if reg := a.regions[region]; reg != nil {
			st = reg.findStack(stackID)
		}
	}
	if st == nil || st.id != stackID {
		return errors.New("sandbox: no stack " + stackID + " in " + account + "/" + region)
	}
	if old := st.resource(res.LogicalID); old != nil {
		*old = res
		return nil
	}
	st.resources = append(st.resources, res)
	return nil
}
