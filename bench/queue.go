package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/credguard/credguard/internal/deploy"
)

// Function is a Lambda handler as lambda.Start receives it (invoke.Handler).
type Function func(ctx context.Context, payload json.RawMessage) (any, error)

// The deployed event sources of the IMDS guardrail's queues, from the values
// infra/stacks deploys (internal/deploy). The infrastructure has three such
// queues for the IMDS guardrail: state-change notifications, CloudTrail
// RunInstances (delayed by DeployedRunInstancesDelay, the default of the
// runInstancesDelaySeconds context key) and CloudTrail
// ModifyInstanceMetadataOptions (drift, not delayed).
const (
	DeployedBatchSize         = deploy.BatchSize
	DeployedMaxConcurrency    = deploy.IMDSMaxConcurrency
	DeployedTimeout           = deploy.IMDSTimeoutSeconds * time.Second
	DeployedMaxReceive        = deploy.MaxReceiveCount
	DeployedRunInstancesDelay = deploy.DefaultRunInstancesDelaySeconds * time.Second
)

// EventSource models one SQS queue feeding a Lambda function: up to
// MaxConcurrency concurrent invocations, each in its own execution environment
// (its own Function, built by NewFunction, as Lambda keeps one process per
// environment), each receiving up to BatchSize messages. A message sent
// becomes visible Delay after it was sent (the queue's DeliveryDelay; SQS
// applies it to the first delivery only). Messages a response lists in
// batchItemFailures (or every message of an invocation that returns an
// error) are received again, at once rather than after the visibility
// timeout, until MaxReceive receives; then they are dead-lettered.
type EventSource struct {
	BatchSize      int
	MaxConcurrency int
	MaxReceive     int
	Timeout        time.Duration
	Delay          time.Duration
	NewFunction    func() (Function, error)

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*message
	delayed int // sent, not yet visible
	closed  bool
	flying  int
	started bool
	stats   SourceStats
	errs    []error
	wg      sync.WaitGroup
}

// SourceStats counts what an event source did.
type SourceStats struct {
	Sent         int // messages sent to the queue
	Invocations  int // function invocations
	Receives     int // messages received (a redelivered message counts again)
	Redeliveries int // receives after the first
	DeadLettered int // messages moved to the dead-letter queue
	MaxBatch     int // the largest batch an invocation received
}

type message struct {
	id       string
	body     string
	receives int
}

// NewDeployedSource returns an event source configured as the infrastructure
// configures the IMDS guardrail's queues.
func NewDeployedSource(newFunction func() (Function, error)) *EventSource {
	return &EventSource{
		BatchSize: DeployedBatchSize, MaxConcurrency: DeployedMaxConcurrency,
		MaxReceive: DeployedMaxReceive, Timeout: DeployedTimeout, NewFunction: newFunction,
	}
}

// Start starts the pollers. Each builds its Function first; an error there
// is returned by Wait.
func (s *EventSource) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("event source already started")
	}
	if s.BatchSize <= 0 || s.MaxConcurrency <= 0 || s.MaxReceive <= 0 || s.Timeout <= 0 || s.NewFunction == nil {
		return fmt.Errorf("event source: batch size %d, concurrency %d, max receive %d, timeout %v: all must be set",
			s.BatchSize, s.MaxConcurrency, s.MaxReceive, s.Timeout)
	}
	s.started = true
	s.cond = sync.NewCond(&s.mu)
	for range s.MaxConcurrency {
		fn, err := s.NewFunction()
		if err != nil {
			return fmt.Errorf("execution environment: %w", err)
		}
		s.wg.Add(1)
		go s.poll(ctx, fn)
	}
	return nil
}

// Send enqueues one message (an EventBridge event, as the rule's SQS target
// delivers it); it becomes visible after Delay.
func (s *EventSource) Send(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Sent++
	m := &message{id: fmt.Sprintf("msg-%d", s.stats.Sent), body: string(body)}
	if s.Delay <= 0 {
		s.queue = append(s.queue, m)
		s.cond.Signal()
		return
	}
	s.delayed++
	time.AfterFunc(s.Delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.delayed--
		s.queue = append(s.queue, m)
		s.cond.Broadcast()
	})
}

// Close says no more messages will be sent; the pollers stop once the queue
// is empty, nothing is in flight and no delayed message is still to come.
func (s *EventSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.cond.Broadcast()
}

// Wait waits for the pollers to stop and returns the statistics and the
// errors met (invocations that failed as a whole).
func (s *EventSource) Wait() (SourceStats, error) {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats, errors.Join(s.errs...)
}

// receive blocks until messages are visible (returns up to BatchSize of them)
// or the source is drained (returns nil).
func (s *EventSource) receive() []*message {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 {
		if s.closed && s.flying == 0 && s.delayed == 0 {
			s.cond.Broadcast()
			return nil
		}
		s.cond.Wait()
	}
	n := min(s.BatchSize, len(s.queue))
	batch := s.queue[:n:n]
	s.queue = s.queue[n:]
	s.flying += n
	s.stats.Invocations++
	s.stats.MaxBatch = max(s.stats.MaxBatch, n)
	for _, m := range batch {
		m.receives++
		s.stats.Receives++
		if m.receives > 1 {
			s.stats.Redeliveries++
		}
	}
	return batch
}

func (s *EventSource) poll(ctx context.Context, fn Function) {
	defer s.wg.Done()
	for {
		batch := s.receive()
		if batch == nil {
			return
		}
		failed, err := s.invoke(ctx, fn, batch)
		s.mu.Lock()
		if err != nil {
			s.errs = append(s.errs, err)
		}
		for _, m := range batch {
			if !failed[m.id] {
				continue
			}
			if m.receives >= s.MaxReceive {
				s.stats.DeadLettered++
				continue
			}
			s.queue = append(s.queue, m)
		}
		s.flying -= len(batch)
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// invoke runs one invocation and returns the message ids to receive again.
func (s *EventSource) invoke(ctx context.Context, fn Function, batch []*message) (map[string]bool, error) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	all := map[string]bool{}
	for i, m := range batch {
		ev.Records[i] = events.SQSMessage{MessageId: m.id, EventSource: "aws:sqs", Body: m.body}
		all[m.id] = true
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return all, fmt.Errorf("encode batch: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	out, err := fn(ictx, payload)
	if err != nil {
		return all, fmt.Errorf("invocation failed as a whole: %w", err)
	}
	resp, ok := out.(events.SQSEventResponse)
	if !ok {
		return all, fmt.Errorf("invocation answered %T, not an SQS batch response", out)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}
