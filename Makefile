# callmask. `make` (or `make help`) lists the targets: each user-facing
# target has one `## name: what it does` line above it, and `help` prints
# those lines. Settings pass straight through:
# make run PORT=8080 VONAGE_SIGNATURE_SECRET=...

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
export PORT
AUDIO_PORT ?= 3001
export AUDIO_PORT
# The local stack serves webhooks unsigned unless a secret is given; in AWS
# nothing sets this, and a webhook without a secret answers 503.
ALLOW_UNSIGNED_WEBHOOKS ?= true
export ALLOW_UNSIGNED_WEBHOOKS

# Where cargo puts its builds (CARGO_TARGET_DIR when set, as cargo reads it).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# make run: the emulator on a known port (3003), so the walk-throughs and you
# can read what it holds (sent emails: $MOTO/moto-api/data.json). Tests give
# every emulator a free port of its own instead.
run: export MOTO_PORT ?= 3003

# make run FAKE_PROVIDERS=1: stack.py also starts scripts/fake_providers.py,
# a local fake of the Vonage and Twilio REST APIs on 127.0.0.1:$(FAKE_PROVIDERS_PORT),
# and the stack talks to it with the fake's credentials (the defaults the
# fake prints). Any of these set by hand are kept: the fake accepts the
# credentials it finds in the environment, so the two always agree.
ifneq ($(filter 1 true yes,$(FAKE_PROVIDERS)),)
FAKE_PROVIDERS_PORT ?= 3002
FAKE_PROVIDERS_URL := http://127.0.0.1:$(FAKE_PROVIDERS_PORT)
run: export FAKE_PROVIDERS := 1
run: export FAKE_PROVIDERS_PORT := $(FAKE_PROVIDERS_PORT)
run: export VONAGE_API_KEY ?= fake-key
run: export VONAGE_API_SECRET ?= fake-secret
run: export VONAGE_APPLICATION_ID ?= aaaaaaaa-bbbb-4ccc-8ddd-fa4e00000001
run: export VONAGE_REST_BASE_URL ?= $(FAKE_PROVIDERS_URL)
run: export VONAGE_API_BASE_URL ?= $(FAKE_PROVIDERS_URL)
run: export TWILIO_ACCOUNT_SID ?= ACfa4e0000000000000000000000000000
run: export TWILIO_AUTH_TOKEN ?= fake-token
run: export TWILIO_API_BASE_URL ?= $(FAKE_PROVIDERS_URL)
endif

.PHONY: help run test bench build fmt lint lint-infra unit debug-build conformance infra e2e events fuzz clean

## help: this list (what a bare `make` prints)
help:
	@echo "callmask: make TARGET [SETTING=value ...]   (README.md: quick start, walk-throughs)"
	@awk '/^## [a-z0-9-]+: / { sub(/^## /, ""); name = $$0; sub(/: .*/, "", name); \
		text = $$0; sub(/^[a-z0-9-]+: /, "", text); printf "  make %-12s %s\n", name, text }' $(MAKEFILE_LIST)

# Each venv from its requirements file (the one rule below installs all three).
# make build's tools live apart (aws-sam-cli pins versions of shared packages
# that the test tools do not want), and so does checkov (it pins boto3 and
# more against requirements-dev.txt).
BUILD_VENV := .venv-build
CHECKOV_VENV := .venv-checkov
$(VENV)/.installed: requirements-dev.txt
$(BUILD_VENV)/.installed: requirements-build.txt
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
$(VENV)/.installed $(BUILD_VENV)/.installed $(CHECKOV_VENV)/.installed:
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "callmask needs Python 3.11 or newer as python3 (found $$(python3 --version 2>&1))" >&2; exit 1; }
	python3 -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --upgrade pip
	$(@D)/bin/python -m pip install --quiet -r $(filter requirements-%.txt,$^)
	touch $@

# The debug build `make test` makes, and the one `make run` serves: `cargo
# test` resolves features with the dev-dependencies, so a plain `cargo build`
# would compile ~60 crates again with other features. Builds the router
# (target/debug/callmask-local), the audio socket and every test binary.
debug-build:
	cargo test --workspace --no-run

## run: the local stack: every function on http://127.0.0.1:PORT (3000), the audio socket on AUDIO_PORT (3001); FAKE_PROVIDERS=1 adds fake Vonage and Twilio APIs
run: $(VENV)/.installed debug-build
	$(PY) scripts/stack.py serve $(TARGET_DIR)/debug/callmask-local

## test: everything CI runs (.ci/run): fmt, lint, unit + emulator tests, conformance, infra, e2e
test: $(VENV)/.installed fmt lint unit conformance infra e2e

## fmt: cargo fmt --check
fmt:
	cargo fmt --all -- --check

## lint: clippy (warnings are errors) and lint-infra
lint: $(VENV)/.installed lint-infra
	cargo clippy --workspace --all-targets -- -D warnings

## lint-infra: the templates (cfn-lint, checkov), the workflows (actionlint), the Dockerfile (hadolint)
lint-infra: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml deploy/github-oidc.yaml
	$(VENV)/bin/actionlint
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --quiet --compact --skip-download \
		-f template.yaml -f deploy/github-oidc.yaml
	$(VENV)/bin/hadolint Dockerfile

# Each emulator-backed test binary gets a fresh emulator and fake providers
# (FAKE_PROVIDERS=1: scripts/fake_providers.py on a free port), so no binary
# sees another's tables, secrets or texts. `faults` fails their requests on
# purpose (the fault switches: scripts/fault_switch.py).
# Every log line those tests write is captured (LOG_CAPTURE_DIR) and
# scripts/log_privacy.py fails the run if one holds a full phone number, a
# secret or a request signature.
LOG_CAPTURE_DIR := $(abspath $(TARGET_DIR))/log-capture
## unit: the Rust tests: unit, handler (events/), emulator, audio socket; and the log-privacy check
unit: $(VENV)/.installed
	cargo test --workspace --lib --bins
	rm -rf $(LOG_CAPTURE_DIR)
	for t in emulator events voicemail metadata messaging lookups audio faults services session_policies; do \
		LOG_CAPTURE_DIR=$(LOG_CAPTURE_DIR) FAKE_PROVIDERS=1 $(PY) scripts/stack.py exec -- cargo test --workspace --test $$t || exit 1; \
	done
	$(PY) scripts/log_privacy.py $(LOG_CAPTURE_DIR)

## conformance: tests/conformance: the official Vonage and Twilio packages sign our webhooks and parse our answers
conformance: $(VENV)/.installed debug-build
	$(VENV)/bin/pytest -q tests/conformance

## infra: tests/infra: template.yaml, workflows, IAM and CI policy, layout, docs and Makefile checks
infra: $(VENV)/.installed debug-build
	$(VENV)/bin/pytest -q tests/infra

## e2e: tests/e2e: the local stack end to end: the smoke test, bad input, the README's walk-throughs
e2e: $(VENV)/.installed debug-build
	$(VENV)/bin/pytest -q tests/e2e

## build: sam build, a bootstrap per function in .aws-sam/build (LAMBDA_ARCH=arm64|x86_64; default: this machine's)
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
LAMBDA_ARCH ?= $(HOST_ARCH)
build: $(BUILD_VENV)/.installed
	PATH="$(abspath $(BUILD_VENV))/bin:$$PATH" $(BUILD_VENV)/bin/sam build \
		--parameter-overrides Architecture=$(LAMBDA_ARCH)
	@ls .aws-sam/build/*/bootstrap | wc -l | xargs echo "functions built:"

## bench: release builds, then the figures of docs/benchmarks.md
# The functions and the floor are built from their own packages, as `sam build`
# builds them. Built with the rest of the workspace they would get the
# features the local tools turn on (a larger binary than the one deployed).
FUNCTIONS := $(notdir $(wildcard functions/*))
bench: $(VENV)/.installed
	cargo build --release $(addprefix -p ,$(FUNCTIONS)) -p floor-lambda
	cargo build --release -p callmask-local -p audio-socket
	$(PY) scripts/stack.py exec -- $(TARGET_DIR)/release/bench

## fuzz: cargo fuzz (nightly) every parser of outside input FUZZ_RUNS times (1000000) each, then a table; FUZZ_TARGETS=a,b picks some
# docs/fuzzing.md: the targets, seeds (scripts/fuzz_seeds.py), what to do with a crash.
FUZZ_RUNS ?= 1000000
fuzz:
	python3 scripts/fuzz.py --runs $(FUZZ_RUNS) --targets "$(FUZZ_TARGETS)"

## events: regenerate events/ after changing scripts/gen_events.py
events:
	python3 scripts/gen_events.py

## clean: cargo clean and remove the three venvs
clean:
	cargo clean
	rm -rf $(VENV) $(CHECKOV_VENV) $(BUILD_VENV)
