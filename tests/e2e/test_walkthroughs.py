"""The README's walk-throughs as a new user runs them: `make run` with the
settings the script names (its `# stack:` line), on ports of its own, and
the script started at once beside it: the script itself must wait for the
stack, capture its ids and check every answer. And `make run` itself:
after the test build it compiles nothing and serves within 30 s; a busy
port is refused naming the setting to change."""
import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from helpers.stack import ROOT, free_port

WALKTHROUGHS = sorted(p for p in (ROOT / "scripts" / "walkthrough").glob("*.sh") if p.name != "lib.sh")
# Any number the walk-throughs use (UK 447700900xxx, US 1555123xxxx), whole.
FULL_NUMBER = re.compile(r"(?<!\d)(?:447700900\d{3}|1555123\d{4})(?!\d)")


def stack_settings(script: Path) -> list[str]:
    m = re.search(r"^# stack: make run(.*)$", script.read_text(), flags=re.M)
    assert m, f"{script.name} has no `# stack: make run ...` line"
    return shlex.split(m.group(1))


class MakeRun:
    """`make run SETTINGS...` on free ports, its output in a file, stopped
    (its whole process group, as Ctrl-C does) on exit."""

    def __init__(self, *settings: str):
        self.ports = {"PORT": free_port(), "AUDIO_PORT": free_port(), "MOTO_PORT": free_port(),
                      "FAKE_PROVIDERS_PORT": free_port()}
        self.settings = [*settings, *(f"{k}={v}" for k, v in self.ports.items())]
        self.base = f"http://127.0.0.1:{self.ports['PORT']}"

    def env(self) -> dict:
        """What a user's shell has: none of the make test run's own settings."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "B", "AUDIO", "FAKE", "MOTO", "PORT", "AUDIO_PORT",
                            "MOTO_PORT", "FAKE_PROVIDERS", "FAKE_PROVIDERS_PORT", "ALLOW_UNSIGNED_WEBHOOKS")}
        return env

    def __enter__(self):
        self.log = tempfile.NamedTemporaryFile(prefix="make-run-", suffix=".log", delete=False)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["make", "--no-print-directory", "run", *self.settings], cwd=ROOT,
                                     env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, seconds: float) -> float:
        """Seconds until `GET /numbers` answers 200, or fail."""
        deadline = self.started + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"make run exited {self.proc.returncode}:\n{self.output()[-3000:]}"
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base + "/numbers", timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            time.sleep(0.1)
        pytest.fail(f"make run did not serve within {seconds} s:\n{self.output()[-3000:]}")

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def run_script(script: Path, ports: dict, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("B", "AUDIO", "FAKE", "MOTO", "TWILIO_AUTH_TOKEN")}
    env.update({k: str(v) for k, v in ports.items()}, **extra)
    return subprocess.run(["bash", str(script)], cwd="/", env=env, capture_output=True, text=True, timeout=300)


def test_make_run_after_the_test_build_compiles_nothing_and_serves_within_30s():
    with MakeRun() as stack:
        took = stack.wait_ready(30)
        out = stack.output()
    assert "Compiling" not in out, out[-3000:]
    assert "Finished `test` profile" in out, out[-3000:]
    assert took < 30


@pytest.mark.parametrize("script", WALKTHROUGHS, ids=lambda p: p.stem)
def test_walkthrough_passes_against_a_fresh_make_run(script):
    with MakeRun(*stack_settings(script)) as stack:
        r = run_script(script, stack.ports)
        log = stack.output()
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\nmake run:\n{log[-3000:]}"
    assert r.stdout.rstrip().endswith(f"walk-through passed: {script.stem}"), r.stdout
    assert "FAILED" not in r.stderr, r.stderr
    # Neither the script nor the stack (router, audio socket, fake
    # providers, emulator) prints a phone number whole.
    assert not FULL_NUMBER.search(r.stdout + r.stderr), r.stdout + r.stderr
    leaks = [line for line in log.splitlines() if FULL_NUMBER.search(line)]
    assert not leaks, "\n".join(leaks[:20])


def test_a_walkthrough_refuses_a_stack_that_is_not_fresh():
    script = ROOT / "scripts" / "walkthrough" / "sessions.sh"
    with MakeRun(*stack_settings(script)) as stack:
        first = run_script(script, stack.ports)
        again = run_script(script, stack.ports)
    assert first.returncode == 0, first.stdout + first.stderr
    assert again.returncode == 1
    assert "the pool is not empty" in again.stderr
    assert "ok  1." not in again.stdout


def test_a_walkthrough_without_a_stack_fails_naming_the_url():
    port = free_port()
    start = time.monotonic()
    r = run_script(WALKTHROUGHS[0], {"PORT": port}, READY_TIMEOUT="2")
    assert r.returncode == 1
    assert f"http://127.0.0.1:{port}/numbers did not answer 200 within 2s" in r.stderr
    assert time.monotonic() - start < 30


def test_make_run_refuses_a_busy_port_naming_the_setting():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = MakeRun()
        stack.settings = [s for s in stack.settings if not s.startswith("PORT=")] + [f"PORT={port}"]
        with stack:
            assert stack.proc.wait(timeout=60) != 0
            out = stack.output()
    assert f"port {port} is in use: the local stack cannot start there (set PORT)" in out, out[-2000:]
