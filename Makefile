# Credguard — on a fresh machine: `make demo` and `make test`.
# Every target installs what it needs (Go modules, the pinned npm CDK CLI,
# aws-lambda-rie); nothing is assumed beyond Go and Node.js.

SHELL      := /bin/bash
GO         ?= go
FUNCTIONS  := $(notdir $(wildcard functions/*))
BIN        := $(CURDIR)/.bin
RIE        := $(BIN)/aws-lambda-rie
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
FUZZTIME   ?= 30s
SMOKE_FUZZTIME ?= 3s
# Packages outside infra/ (the CDK module is heavy; infra tests run in test-infra).
CORE_PKGS   = $$($(GO) list ./... | grep -v '/infra')

.PHONY: all deps tools build build-host demo test test-core test-rie test-fuzz-smoke test-infra \
        bench fuzz lint clean synth deploy diff integ

all: build

deps:
	$(GO) mod download

tools: $(RIE)

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

test: deps tools build-host test-core test-fuzz-smoke test-infra

test-core:
	CREDGUARD_RIE=$(RIE) CREDGUARD_HOST_BIN=$(BIN)/host $(GO) test -count=1 $(CORE_PKGS)

test-fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/event
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzFix$$' -fuzztime $(SMOKE_FUZZTIME) ./internal/trust

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/event
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime $(FUZZTIME) ./internal/trust
	$(GO) test -run '^$$' -fuzz '^FuzzFix$$' -fuzztime $(FUZZTIME) ./internal/trust

lint:
	gofmt -l . | (! grep .)
	$(GO) vet $(CORE_PKGS)

clean:
	rm -rf dist cdk.out $(BIN)/host

include infra/infra.mk
