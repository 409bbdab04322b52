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
# Every binary and test target in one invocation: the tests, `make demo` and `make invoke` share
# its artifacts (a `--bins` build alone resolves features without the dev-dependencies and
# compiles tokio and the SDK crates again).
BUILD_FOR_TESTS := cargo build --workspace --bins --tests --locked
# A step that takes a while: say what, then how long it took.
timed = echo "==> $(1)…"; t0=$$(date +%s); $(2); echo "==> $(1): done in $$(( $$(date +%s) - t0 ))s"

.PHONY: help venv venv-checkov lock deny test test-fast lint fmt build schemas demo invoke template-check bench chaos fuzz clean \
	sam-build sam-local sam-local-api sam-local-test emulator-bin preflight deploy smoke

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# The Python tools come from lock files: every package (cargo-lambda and zig, which build what
# we ship, included) at one version with its hashes, installed with --require-hashes (pip
# refuses anything else). The pins we choose are in requirements-*.in; `make lock` re-locks.
PIP_INSTALL = bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	@$(call timed,pip install -r requirements-dev.txt into $(VENV)/ (a minute or two the first time),$(VENV)/$(PIP_INSTALL) -r requirements-dev.txt)
	touch $@

venv: $(VENV)/.installed ## Create the Python venv (cargo-lambda, zig, moto, SAM CLI, cfn-lint)

.venv-checkov/.installed: requirements-checkov.txt
	python3 -m venv .venv-checkov
	@$(call timed,pip install -r requirements-checkov.txt into .venv-checkov/ (a minute or two the first time),.venv-checkov/$(PIP_INSTALL) -r requirements-checkov.txt)
	touch $@

venv-checkov: .venv-checkov/.installed ## Create the checkov venv (its own: its boto3 pin clashes with SAM's)

# uv resolves for every platform and Python >= 3.11 at once (--universal) and writes every
# file's hash; it runs from a throwaway venv, only when a pin in requirements-*.in changes.
UV_VERSION := 0.9.30
lock: ## Re-lock the Python tools: requirements-*.txt (all packages, hashed) from the pins in requirements-*.in
	python3 -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	for f in dev checkov; do \
	  .venv-lock/bin/uv pip compile requirements-$$f.in --universal --generate-hashes --python-version 3.11 \
	    --custom-compile-command "make lock" -o requirements-$$f.txt; \
	done

lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

# The tiers of `make test`, in order. Each is `make tier-<name>`; tests/tiers.sh times them and
# prints a table of wall times at the end (pass or fail), so a slow tier shows in every CI log.
# Two run in the background (bg:) until joined (join:): the venvs' pip installs next to lint
# (which needs no venv), and sam-build's release build from then on, next to the debug build and
# the tests. Cargo's critical path leaves a core idle for stretches (one large SDK crate at a
# time, links), and the tests mostly wait on the processes they start (nextest: ~100 CPU-seconds
# in ~110 s on two cores); the two builds use separate target subfolders and do not block each
# other. Everything still runs, and sam-local runs what sam-build built.
TIERS := setup lint deny build nextest doc boto3 deploy events template sam-build sam-local
TEST_TIERS := bg:setup lint join:setup deny bg:sam-build build nextest doc boto3 deploy events template join:sam-build sam-local
.PHONY: $(addprefix tier-,$(TIERS))

test: ## The venvs, lint, then every test tier (unit, adapter, emulator, end-to-end, short chaos), the template checks, sam build, sam local; a table of tier times at the end
	tests/tiers.sh $(TEST_TIERS)

test-fast: venv ## Quick loop: fmt, clippy, build, then only the tests of the crates and tiers your change touches (BASE=<rev>, default: uncommitted changes)
	NEXTEST_PACKAGES="$$(python tests/affected.py --base '$(or $(BASE),HEAD)' --packages)" \
	  tests/tiers.sh lint build $$(python tests/affected.py --base '$(or $(BASE),HEAD)' --tiers)

# The Python venvs (first run: pip installs) and the arm64 standard library for sam build.
tier-setup: venv venv-checkov
	rustup target add aarch64-unknown-linux-gnu >/dev/null

tier-lint: lint

# cargo deny over the dependency graph (deny.toml): seconds, from the venv's prebuilt binary.
tier-deny: deny

# One build of everything the tests run: the bins and the test targets in one invocation, so every
# dependency is compiled once, with the features the tests unify (a separate `--bins` build compiled
# tokio and every SDK crate a second time, without their test-util features). nextest then only
# runs; the e2e and chaos tests also start their siblings' binaries, which this builds too.
tier-build:
	$(BUILD_FOR_TESTS)

# NEXTEST_PACKAGES (`-p a -p b`): only those crates' tests (make test-fast sets it).
tier-nextest:
	cargo nextest run --locked --no-fail-fast $(or $(NEXTEST_PACKAGES),--workspace)

# nextest runs no doc tests: the contract crate's examples are what a consumer copies. The whole
# workspace, so that features resolve as in the build above and nothing is compiled again
# (`-p invitation-events` alone rebuilt its dependencies with other features).
tier-doc:
	cargo test --doc --workspace --locked

tier-boto3:
	EMULATOR_BIN=$(TARGET_DIR)/debug/partnercentral-local python -m unittest discover -s tests/boto3

# make preflight: every check refuses its broken prerequisite (moto, the emulator).
tier-deploy:
	EMULATOR_BIN=$(TARGET_DIR)/debug/partnercentral-local python -m unittest discover -s tests/deploy

# Every published event pattern against every sample (match table), cross-account via moto.
tier-events:
	python -m unittest discover -s tests/events

# The RustSec advisory database, as shipped in supply-chain/ (the database is a git repository
# our machines cannot reach): unpacked under target/ as the git repository cargo-deny expects
# (one commit dated as the snapshot, so its staleness is the snapshot's), then checked offline.
ADVISORY_DB_COMMIT := bf5c0d245a92671908518d7e765914d437954ed6
ADVISORY_DB_DATE := 2026-08-21T08:28:40+02:00
# cargo-deny's directory name for the default database (pinned with the cargo-deny version).
ADVISORY_DB := target/advisory-dbs/advisory-db-3157b0e258782691
deny: venv ## cargo deny: advisories (shipped RustSec snapshot, offline), licenses, sources, bans (deny.toml)
	@rm -rf target/advisory-dbs && mkdir -p $(ADVISORY_DB)
	@tar -xzf supply-chain/rustsec-advisory-db.tar.gz -C $(ADVISORY_DB)
	@cd $(ADVISORY_DB) && git init -q && git add -A && GIT_AUTHOR_DATE=$(ADVISORY_DB_DATE) GIT_COMMITTER_DATE=$(ADVISORY_DB_DATE) \
	  git -c user.name=advisory-db -c user.email=advisory-db@localhost -c commit.gpgsign=false commit -q -m "RustSec advisory-db $(ADVISORY_DB_COMMIT)"
	@$(call timed,cargo deny (advisories as of $(ADVISORY_DB_DATE); licenses; sources; bans),cargo deny --offline check --hide-inclusion-graph)

tier-template: venv-checkov
	cfn-lint template.yaml examples/consumer/template.yaml
	$(SAM_ENV) sam validate --lint
	$(SAM_ENV) sam validate --lint -t examples/consumer/template.yaml
	.venv-checkov/bin/checkov -f template.yaml -f examples/consumer/template.yaml --framework cloudformation --compact --quiet --skip-download
	python -m unittest discover -s tests/template

tier-sam-build: sam-build

tier-sam-local: emulator-bin
	python -m unittest discover -v -s tests/sam_local

# Offline: dummy credentials, no AWS call is made.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline

template-check: venv tier-template sam-build ## cfn-lint, sam validate --lint, checkov (our stack and the example consumer stack), template tests, sam build

# lambda/Makefile (BuildMethod: makefile) runs one `cargo lambda build --release --arm64` for the
# whole workspace and copies each function's bootstrap: no cache to hash, cargo knows what is stale.
sam-build: venv ## sam build: the arm64 release build of every function (cargo lambda), as sam deploy uploads it
	@$(call timed,sam build (one cargo lambda build --release --arm64 for the workspace; minutes the first time),$(SAM_ENV) sam build)

# `sam local` in Docker (tests/sam_local/): uses the Docker daemon that answers; only where none
# does and we are root on Linux, starts a private one under .aws-sam/sam-local/ (installing the Debian
# packages it needs), offline, and stops it again. `sam build` first: seconds when nothing changed.

# The emulator the sam local tier starts; built with everything else (a `-p` build alone resolves
# other features, rebuilds dependencies and overwrites the tests' binary).
emulator-bin: venv
	$(BUILD_FOR_TESTS) --quiet

sam-local: venv sam-build emulator-bin ## sam local invoke in Docker: make sam-local FN=list-and-publish EVENT=events/list-and-publish-scheduled.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make sam-local FN=<function> EVENT=events/<file>.json [ENV='K=V ...']"; exit 2; }
	python tests/sam_local/cli.py invoke $(FN) $(EVENT) $(ENV)

sam-local-api: venv sam-build emulator-bin ## sam local start-lambda on 127.0.0.1:3001 (PORT=...) against the local stand-ins
	python tests/sam_local/cli.py api --port $(or $(PORT),3001)

sam-local-test: venv sam-build tier-sam-local ## The sam local tier of make test: every function with every sample event, in its container

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
	$(BUILD_FOR_TESTS)
	$(TARGET_DIR)/debug/demo

invoke: ## Run one function once locally: make invoke FN=<function> EVENT=events/<file>.json [ENV=K=V,…] [ENV_FILE=f] [STATE=<session>]
	@test -n "$(filter $(FN),$(FUNCTIONS))" -a -n "$(EVENT)" || { \
	  echo "usage: make invoke FN=<$(subst $(eval) ,|,$(FUNCTIONS))> EVENT=events/<file>.json [ENV=KEY=VALUE,…] [ENV_FILE=file] [STATE=<session>]" >&2; \
	  test -z "$(FN)" -o -n "$(filter $(FN),$(FUNCTIONS))" || echo "unknown FN=$(FN)" >&2; exit 2; }
	@$(MAKE) --no-print-directory venv
	$(BUILD_FOR_TESTS)
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
