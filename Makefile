# callmask: make run (local stack), make test (everything CI runs), make bench.
# Settings pass straight through: make run PORT=8080 VONAGE_SIGNATURE_SECRET=...

SHELL := /bin/bash
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

.PHONY: run test bench build fmt lint lint-infra unit conformance events clean

# make build's tools, in a venv of their own (aws-sam-cli pins versions of
# shared packages that the test tools do not want).
BUILD_VENV := .venv-build
$(BUILD_VENV)/.installed: requirements-build.txt
	python3 -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BUILD_VENV)/bin/python -m pip install --quiet -r requirements-build.txt
	touch $@

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# checkov pins boto3 (and more) against requirements-dev.txt, so it gets a
# venv of its own.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

## make run: emulator + every function on http://127.0.0.1:$(PORT) and the audio socket on
## ws://127.0.0.1:$(AUDIO_PORT)/socket (Ctrl-C stops them all);
## FAKE_PROVIDERS=1 adds the fake Vonage and Twilio REST APIs
run: $(VENV)/.installed
	cargo build --workspace
	$(PY) scripts/stack.py serve $(TARGET_DIR)/debug/callmask-local

## make test: format, lint, template and Dockerfile lint, unit + handler + emulator + audio socket tests, conformance
test: $(VENV)/.installed fmt lint unit conformance

fmt:
	cargo fmt --all -- --check

lint: $(VENV)/.installed lint-infra
	cargo clippy --workspace --all-targets -- -D warnings

## make lint-infra: the templates (cfn-lint, checkov) and the workflows (actionlint)
lint-infra: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml deploy/github-oidc.yaml
	$(VENV)/bin/actionlint
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --quiet --compact --skip-download \
		-f template.yaml -f deploy/github-oidc.yaml
	$(VENV)/bin/hadolint Dockerfile

# Each emulator-backed test binary gets a fresh emulator, so no binary sees
# another's tables or secrets.
# Every log line those tests write is captured (LOG_CAPTURE_DIR) and
# scripts/log_privacy.py fails the run if one holds a full phone number, a
# secret or a request signature.
LOG_CAPTURE_DIR := $(abspath $(TARGET_DIR))/log-capture
unit: $(VENV)/.installed
	cargo test --workspace --lib --bins
	rm -rf $(LOG_CAPTURE_DIR)
	for t in emulator events voicemail metadata messaging audio; do \
		LOG_CAPTURE_DIR=$(LOG_CAPTURE_DIR) $(PY) scripts/stack.py exec -- cargo test --workspace --test $$t || exit 1; \
	done
	$(PY) scripts/log_privacy.py $(LOG_CAPTURE_DIR)

# The router as the test build made it (dev-dependencies change feature
# resolution, so a plain `cargo build` here would rebuild the AWS SDK).
conformance: $(VENV)/.installed
	cargo test --workspace --no-run
	$(VENV)/bin/pytest -q tests/conformance

## make build: sam build, a bootstrap per function in .aws-sam/build, for this
## machine's processor (LAMBDA_ARCH=arm64|x86_64 to choose; the pipeline builds arm64)
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
LAMBDA_ARCH ?= $(HOST_ARCH)
build: $(BUILD_VENV)/.installed
	PATH="$(abspath $(BUILD_VENV))/bin:$$PATH" $(BUILD_VENV)/bin/sam build \
		--parameter-overrides Architecture=$(LAMBDA_ARCH)
	@ls .aws-sam/build/*/bootstrap | wc -l | xargs echo "functions built:"

## make bench: figures for docs/benchmarks.md
# The functions and the floor are built from their own packages, as `sam build`
# builds them. Built with the rest of the workspace they would get the
# features the local tools turn on (a larger binary than the one deployed).
FUNCTIONS := $(notdir $(wildcard functions/*))
bench: $(VENV)/.installed
	cargo build --release $(addprefix -p ,$(FUNCTIONS)) -p floor-lambda
	cargo build --release -p callmask-local -p audio-socket
	$(PY) scripts/stack.py exec -- $(TARGET_DIR)/release/bench

## regenerate events/ after changing scripts/gen_events.py
events:
	python3 scripts/gen_events.py

clean:
	cargo clean
	rm -rf $(VENV) $(CHECKOV_VENV) $(BUILD_VENV)
