"""The deploy pipeline's smoke test (scripts/smoke.py), run against the
local stack exactly as the pipeline runs it against a deployed one, so it
cannot rot unseen; and shown to fail when the stack is not what it checks."""
import subprocess
import sys

import pytest

from helpers.stack import ROOT, SECRET, TWILIO_ACCOUNT, TWILIO_TOKEN, start_stack

SMOKE = ROOT / "scripts" / "smoke.py"


@pytest.fixture(scope="module")
def local():
    # Twilio signs the URL it calls: the public URL is the one served here.
    port_stack = start_stack(PUBLIC_BASE_URL="")
    yield next(port_stack)
    next(port_stack, None)


def smoke(base: str, vonage_secret: str = SECRET, twilio_token: str = TWILIO_TOKEN):
    return subprocess.run(
        [sys.executable, str(SMOKE), "--base-url", base, "--vonage-secret", vonage_secret,
         "--twilio-token", twilio_token, "--twilio-account-sid", TWILIO_ACCOUNT],
        capture_output=True, text=True, timeout=120)


def test_smoke_passes_against_the_local_stack(local):
    r = smoke(local.base)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all checks passed" in r.stdout


def test_smoke_fails_when_the_stack_refuses_its_signatures(local):
    r = smoke(local.base, vonage_secret="not-the-secret")
    assert r.returncode == 1
    assert "FAILED" in r.stderr and "401" in r.stderr


def test_smoke_fails_when_nothing_answers():
    r = smoke("http://127.0.0.1:9")
    assert r.returncode == 1
    assert "did not answer" in r.stderr
