"""Starts the local stack (emulator + router) once for the conformance suite,
with a Vonage signature secret so every webhook must be signed."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET = "conformance-signature-secret-4f1c2a9e7d"
# The router binary, wherever cargo put it.
ROUTER = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "callmask-local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, base: str, emulator: str):
        self.base = base
        self.emulator = emulator

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def stack():
    binary = ROUTER
    assert binary.exists(), "build it first: cargo build -p callmask-local"
    port, moto = free_port(), free_port()
    env = dict(os.environ, PORT=str(port), MOTO_PORT=str(moto), VONAGE_SIGNATURE_SECRET=SECRET,
               TABLE_NAME="callmask-conformance", RUST_LOG="warn")
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "serve", str(binary)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/numbers", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.poll() is not None else ""
            proc.kill()
            raise RuntimeError(f"local stack did not start:\n{out}")
        time.sleep(0.2)
    yield Stack(base, f"http://127.0.0.1:{moto}")
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
