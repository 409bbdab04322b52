# Everything a fresh machine needs beyond Rust and Python comes from here.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
# cargo-lambda finds zig through `python3 -m ziglang`: the venv's python must come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Where cargo puts binaries (honours CARGO_TARGET_DIR).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
# Tests start moto_server from the venv.
export MOTO_SERVER_BIN := $(CURDIR)/$(VENV)/bin/moto_server
# The functions, as the benchmark and chaos suite run them.
FUNCTION_PACKAGES := -p list-and-publish -p expire-sweeper -p auto-cancel -p native-relay -p auto-respond
# The functions `make invoke` runs: the crates under functions/.
FUNCTIONS := $(sort $(notdir $(patsubst %/Cargo.toml,%,$(wildcard functions/*/Cargo.toml))))
# A step that takes a while: say what, then how long it took.
timed = echo "==> $(1)…"; t0=$$(date +%s); $(2); echo "==> $(1): done in $$(( $$(date +%s) - t0 ))s"

.PHONY: help venv venv-checkov test lint fmt build schemas demo invoke template-check bench chaos fuzz clean \
	sam-local sam-local-api sam-local-test emulator-bin preflight deploy smoke

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	@$(call timed,pip install -r requirements-dev.txt into $(VENV)/ (a minute or two the first time),$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt)
	touch $@

venv: $(VENV)/.installed ## Create the Python venv (cargo-lambda, zig, moto, SAM CLI, cfn-lint)

.venv-checkov/.installed: requirements-checkov.txt
	python3 -m venv .venv-checkov
	@$(call timed,pip install -r requirements-checkov.txt into .venv-checkov/ (a minute or two the first time),.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt)
	touch $@

venv-checkov: .venv-checkov/.installed ## Create the checkov venv (its own: its boto3 pin clashes with SAM's)

lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

test: venv lint ## Lint, then every test tier (unit, adapter, emulator, end-to-end, short chaos), the template checks, sam local
	# nextest builds each package's own binaries only; the e2e and chaos tests run their siblings'.
	cargo build --workspace --bins --locked
	cargo nextest run --workspace --locked --no-fail-fast
	# nextest runs no doc tests: the contract crate's examples are what a consumer copies.
	cargo test --doc --locked -p invitation-events
	EMULATOR_BIN=$(TARGET_DIR)/debug/partnercentral-local python -m unittest discover -s tests/boto3
	# Every published event pattern against every sample (match table), cross-account via moto.
	python -m unittest discover -s tests/events
	# make preflight: every check refuses its broken prerequisite (moto, the emulator).
	EMULATOR_BIN=$(TARGET_DIR)/debug/partnercentral-local python -m unittest discover -s tests/deploy
	$(MAKE) --no-print-directory template-check
	$(MAKE) --no-print-directory sam-local-test

# Offline: dummy credentials, no AWS call is made.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline

template-check: venv venv-checkov ## cfn-lint, sam validate --lint, checkov (our stack and the example consumer stack), template tests, sam build
	cfn-lint template.yaml examples/consumer/template.yaml
	$(SAM_ENV) sam validate --lint
	$(SAM_ENV) sam validate --lint -t examples/consumer/template.yaml
	.venv-checkov/bin/checkov -f template.yaml -f examples/consumer/template.yaml --framework cloudformation --compact --quiet --skip-download
	python -m unittest discover -s tests/template
	rustup target add aarch64-unknown-linux-gnu >/dev/null
	@$(call timed,sam build (cargo lambda build --release --arm64 per function; minutes the first time),$(SAM_ENV) sam build)

# `sam local` in Docker (tests/sam_local/): uses the Docker daemon that answers; only where none
# does and we are root on Linux, starts a private one under .aws-sam/sam-local/ (installing the Debian
# packages it needs), offline, and stops it again. `sam build` runs only when a source changed.
SAM_BUILD_INPUTS := template.yaml Cargo.toml Cargo.lock $(shell find functions shared -type f \( -name '*.rs' -o -name Cargo.toml \) 2>/dev/null)

.aws-sam/build/template.yaml: $(SAM_BUILD_INPUTS) | venv
	rustup target add aarch64-unknown-linux-gnu >/dev/null
	$(SAM_ENV) sam build

emulator-bin: venv
	cargo build --quiet --locked -p partnercentral-local --bin partnercentral-local

sam-local: venv .aws-sam/build/template.yaml emulator-bin ## sam local invoke in Docker: make sam-local FN=list-and-publish EVENT=events/list-and-publish-scheduled.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make sam-local FN=<function> EVENT=events/<file>.json [ENV='K=V ...']"; exit 2; }
	python tests/sam_local/cli.py invoke $(FN) $(EVENT) $(ENV)

sam-local-api: venv .aws-sam/build/template.yaml emulator-bin ## sam local start-lambda on 127.0.0.1:3001 (PORT=...) against the local stand-ins
	python tests/sam_local/cli.py api --port $(or $(PORT),3001)

sam-local-test: venv .aws-sam/build/template.yaml emulator-bin ## The sam local tier of make test: every function with every sample event, in its container
	python -m unittest discover -v -s tests/sam_local

# Deploying into a partner account. CONFIG_ENV: the samconfig.toml environment (default
# `default`); STACK: a stack name other than samconfig's.
CONFIG_ENV ?= default

preflight: venv ## Check a deploy's prerequisites, create nothing: make preflight [CONFIG_ENV=<samconfig env>] [STACK=<name>]
	python deploy/preflight.py --config-env $(CONFIG_ENV) $(if $(STACK),--stack $(STACK))

deploy: preflight ## Preflight, sam build, sam deploy: make deploy [CONFIG_ENV=<samconfig env>] [STACK=<name>]
	rustup target add aarch64-unknown-linux-gnu >/dev/null
	sam build
	sam deploy --config-env $(CONFIG_ENV) $(if $(STACK),--stack-name $(STACK))

smoke: venv ## Prove a deployed stack: every function's health check, as a table: make smoke [STACK=<stack name>] [CONFIG_ENV=…] [LOCAL=http://127.0.0.1:3001]
	python deploy/smoke.py --config-env $(CONFIG_ENV) $(if $(STACK),--stack $(STACK)) $(if $(LOCAL),--local $(LOCAL))

demo: venv ## See it work: local Partner Central, moto and every function, end to end
	cargo build --workspace --bins
	$(TARGET_DIR)/debug/demo

invoke: ## Run one function once locally: make invoke FN=<function> EVENT=events/<file>.json [ENV=K=V,…] [ENV_FILE=f] [STATE=<session>]
	@test -n "$(filter $(FN),$(FUNCTIONS))" -a -n "$(EVENT)" || { \
	  echo "usage: make invoke FN=<$(subst $(eval) ,|,$(FUNCTIONS))> EVENT=events/<file>.json [ENV=KEY=VALUE,…] [ENV_FILE=file] [STATE=<session>]" >&2; \
	  test -z "$(FN)" -o -n "$(filter $(FN),$(FUNCTIONS))" || echo "unknown FN=$(FN)" >&2; exit 2; }
	@$(MAKE) --no-print-directory venv
	cargo build --workspace --bins
	$(TARGET_DIR)/debug/invoke $(FN) $(EVENT) $(if $(ENV),--env-vars '$(ENV)') $(if $(ENV_FILE),--env-file '$(ENV_FILE)') $(if $(STATE),--session '$(STATE)')

bench: venv ## Benchmark on a 22,000-invitation account (API calls vs. lower bound and naive, RSS, init, sizes) and the fast path (latency, burst, the whole account's rate, daily calls) -> bench/results.md
	rustup target add aarch64-unknown-linux-gnu >/dev/null
	cargo lambda build --release --arm64 --locked
	cargo build --release --locked --bins $(FUNCTION_PACKAGES) -p bench
	$(TARGET_DIR)/release/bench

chaos: venv ## Chaos: 50 runs under faults and SIGKILLs, then 0 lost is checked (replay: make chaos SEED=n)
	cargo build --release --locked --bins $(FUNCTION_PACKAGES) -p bench
	$(TARGET_DIR)/release/chaos $(if $(SEED),--seed $(SEED))

# Every property test (`prop_*`: parsers of payloads, policies, environment, Partner Central
# responses, native events) with FUZZ_CASES cases each instead of make test's 2,000.
FUZZ_CASES ?= 100000
fuzz: ## Property tests with many more cases: make fuzz [FUZZ_CASES=100000]
	PROPTEST_CASES=$(FUZZ_CASES) cargo nextest run --workspace --locked --no-fail-fast -E 'test(/::prop_/)'

fmt: ## Format the code
	cargo fmt --all

schemas: ## Regenerate the event contract's files: JSON Schemas (schemas/, schemas/registry/), samples (schemas/samples/), the template's registry block
	UPDATE_SCHEMAS=1 cargo test -p shared --lib samples:: -- --quiet
	UPDATE_SCHEMAS=1 cargo test -p invitation-events --test checked_in checked_in_files_are_current -- --quiet

build: venv ## Release build of every function for Lambda (arm64, provided.al2023)
	rustup target add aarch64-unknown-linux-gnu >/dev/null
	cargo lambda build --release --arm64

clean: ## Remove build output and the venv
	cargo clean
	rm -rf $(VENV) .aws-sam/sam-local
