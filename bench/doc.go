// Package bench measures Credguard against the local sandbox: round trips
// before the IMDS write, a 1,000-instance RunInstances event under
// throttling, and a launch storm fed through a model of the deployed SQS
// event sources. The benchmarks live in bench_test.go and run with
// `make bench`; this package holds what they share: fleets of instances and
// their events, the queue model, a wire recorder and journal arithmetic.
// Method and results: BENCHMARKS.md at the repository root.
package bench
