# Infrastructure targets, included by the top-level Makefile.
# Configuration comes from the CDK context: cdk.json, cdk.context.json, or
# CDK_FLAGS='-c key=value ...' (see infra/README.md).

# The pinned CDK CLI (package.json / package-lock.json), installed by npm ci.
CDK_CLI    := node_modules/.bin/cdk
CDK        := CDK_DISABLE_CLI_TELEMETRY=true $(CDK_CLI)
CDK_FLAGS  ?=
# Stacks to deploy or diff. Single-account mode: --all (the hub and its
# per-region forwarders, one account). Organization mode: CredguardHub with the
# security account's credentials, then CredguardOrg with the management (or
# delegated administrator) account's.
STACKS     ?= --all
INTEG_TIMEOUT ?= 60m

$(CDK_CLI): package.json package-lock.json
	@echo "npm ci: the pinned CDK CLI (package-lock.json)"
	@# Quiet: npm's summary goes to stdout; its errors still reach stderr.
	@npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@# node_modules ships Go templates: a go.mod makes it a module of its own, so ./... skips it.
	@printf 'module ignore\n' > node_modules/go.mod
	@touch $@

# No AWS account needed: builds the bootstraps and synthesizes every stack into
# cdk.out with the pinned CLI; an invalid context key or an unsuppressed
# cdk-nag finding fails it. `make test` runs it with cdk.json's context.
synth: build $(CDK_CLI)
	$(CDK) synth --no-notices --quiet $(CDK_FLAGS)
	@echo "synth: templates in cdk.out/"

deploy: build $(CDK_CLI)
	$(CDK) deploy --no-notices $(STACKS) $(CDK_FLAGS)

diff: build $(CDK_CLI)
	$(CDK) diff --no-notices $(STACKS) $(CDK_FLAGS)

# The CDK assertions, cdk-nag, event-pattern and trust dogfooding tests. They
# need Node.js (the CDK runs in it) but no AWS account and no built functions.
test-infra:
	$(GO) test -count=1 ./infra/...

# Deploys to the account of the current AWS credentials, launches a t4g.nano
# with IMDSv1, waits for the remediation and the notification, tears down.
# Skips, with a message, when no AWS credentials are configured.
integ: build $(CDK_CLI)
	$(GO) test -tags integ -count=1 -v -timeout $(INTEG_TIMEOUT) ./infra/integ/
