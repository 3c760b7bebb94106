# Credguard — on a fresh machine: `make demo` and `make test`.
# Every target installs what it needs (Go modules, the pinned npm CDK CLI,
# aws-lambda-rie); nothing is assumed beyond Go and Node.js.

SHELL      := /bin/bash
GO         ?= go
FUNCTIONS  := $(notdir $(wildcard functions/*))
BIN        := $(CURDIR)/.bin
RIE        := $(BIN)/aws-lambda-rie
# Debian's kubectl (package kubernetes-client), unpacked under .bin so that it
# does not clash with another kubectl package; the k8s audit test runs it.
KUBECTL    := $(BIN)/kubernetes-client/usr/bin/kubectl
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
FUZZTIME   ?= 30s
# make bench: benchmark packages, where results go, and the Python boto3
# cold-start baseline (outside the repository; skipped with a message when
# absent). The baseline needs Debian's python3-boto3, installed when missing.
BENCH_PKGS      := ./bench/ ./internal/trust/ ./internal/event/ ./internal/k8saudit/
BENCH_OUT       ?= bench/results
BENCH_RUNS      ?= 20
PYTHON_BASELINE ?= ../shared/bench/python_baseline.py
PYTHON          ?= /usr/bin/python3
SUDO            := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The smoke fuzzing in `make test` runs a count of inputs, not a duration: a
# duration races Go 1.26's fuzz coordinator at its deadline and fails with a
# bare "context deadline exceeded" on a loaded machine (go.dev/issue/75804,
# fixed in Go 1.27), with no crasher.
SMOKE_FUZZTIME ?= 10000x
# Packages outside infra/ (the CDK module is heavy; infra tests run in test-infra).
CORE_PKGS   = $$($(GO) list ./... | grep -v '/infra')

.PHONY: all deps tools awscli kubectl build build-host demo test test-core test-rie test-fuzz-smoke test-infra \
        bench fuzz lint clean synth deploy diff integ

all: build

deps:
	$(GO) mod download

tools: $(RIE) awscli kubectl

# Debian's awscli: a second, independent client of the sandbox's wire
# protocols (its test skips, saying so, where it cannot be installed).
awscli:
	@command -v aws >/dev/null 2>&1 || { echo "installing Debian's awscli"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli; } >/dev/null 2>&1 \
	  || echo "awscli could not be installed: the sandbox's awscli test will skip"; }

kubectl: $(KUBECTL)

$(KUBECTL):
	@mkdir -p $(BIN)/kubernetes-client
	@cd $(BIN)/kubernetes-client && rm -f kubernetes-client_*.deb && \
	  { apt-get download kubernetes-client >/dev/null 2>&1 || { apt-get update -qq && apt-get download kubernetes-client; }; } && \
	  dpkg-deb -x kubernetes-client_*.deb . && rm -f kubernetes-client_*.deb && $(KUBECTL) version --client \
	  || echo "Debian's kubectl could not be installed: the k8s audit kubectl test uses a kubectl on PATH or skips"

$(RIE):
	GOBIN=$(BIN) $(GO) install $(RIE_MODULE)

# The deployable bootstraps: dist/<function>/bootstrap for Lambda arm64.
build: deps
	@for f in $(FUNCTIONS); do \
	  echo "build dist/$$f/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# The same bootstraps for this machine's architecture (run under aws-lambda-rie in tests and benchmarks).
build-host: deps
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BIN)/host/$$f/bootstrap ./functions/$$f || exit 1; \
	done

demo: build
	@$(GO) run ./cmd/credguard demo

test: deps tools build-host test-core test-fuzz-smoke test-infra synth

test-core:
	CREDGUARD_RIE=$(RIE) CREDGUARD_HOST_BIN=$(BIN)/host CREDGUARD_KUBECTL=$(KUBECTL) $(GO) test -count=1 $(CORE_PKGS)

test-fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/event
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzFix$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/k8saudit

# Benchmarks (BENCHMARKS.md explains them): go test -bench over BENCH_PKGS,
# then the cold-start comparison of every host bootstrap with the Python
# baseline. Results are printed and written under BENCH_OUT.
bench: deps build build-host
	@mkdir -p $(BENCH_OUT)
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(BENCH_PKGS) | tee $(BENCH_OUT)/go-bench.txt
	@if [ ! -f "$(PYTHON_BASELINE)" ]; then \
	  echo "bench: $(PYTHON_BASELINE) not found: the Python cold-start baseline is skipped"; \
	elif ! $(PYTHON) -c 'import boto3' 2>/dev/null; then \
	  echo "bench: installing python3-boto3 for the cold-start baseline"; \
	  $(SUDO) apt-get install -y python3-boto3 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-boto3; }; \
	fi
	$(GO) run ./bench/coldstart -bin $(BIN)/host -dist dist -python $(PYTHON_BASELINE) -python-bin $(PYTHON) \
	  -runs $(BENCH_RUNS) -out $(BENCH_OUT)/coldstart.txt

# Each fuzz target for FUZZTIME; a crasher is kept under the package's
# testdata/fuzz/ and replayed by every later `go test` as a regression case.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/event
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime $(FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzFix$$' -fuzztime $(FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/k8saudit

lint:
	gofmt -l . | (! grep .)
	$(GO) vet $(CORE_PKGS)

clean:
	rm -rf dist cdk.out $(BIN)/host

include infra/infra.mk
