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

.PHONY: run test bench fmt lint unit conformance events clean

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
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

lint: $(VENV)/.installed
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/hadolint Dockerfile

# Each emulator-backed test binary gets a fresh emulator, so no binary sees
# another's tables or secrets.
unit: $(VENV)/.installed
	cargo test --workspace --lib --bins
	for t in emulator events voicemail metadata messaging audio; do \
		$(PY) scripts/stack.py exec -- cargo test --workspace --test $$t || exit 1; \
	done

# The router as the test build made it (dev-dependencies change feature
# resolution, so a plain `cargo build` here would rebuild the AWS SDK).
conformance: $(VENV)/.installed
	cargo test --workspace --no-run
	$(VENV)/bin/pytest -q tests/conformance

## make bench: figures for docs/benchmarks.md
bench: $(VENV)/.installed
	cargo build --release --workspace --bins
	$(PY) scripts/stack.py exec -- $(TARGET_DIR)/release/bench

## regenerate events/ after changing scripts/gen_events.py
events:
	python3 scripts/gen_events.py

clean:
	cargo clean
	rm -rf $(VENV)
