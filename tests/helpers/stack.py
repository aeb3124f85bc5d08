"""The local stack (emulator + router) as the Python suites start it: with
a Vonage signature secret and a Twilio token, so every webhook must be
signed, a fake Twilio serving recordings, and ports of its own."""
import base64
import http.server
import os
import socket
import threading
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET = "conformance-signature-secret-4f1c2a9e7d"
TWILIO_TOKEN = "conformance-twilio-auth-token"
TWILIO_ACCOUNT = "AC" + "0" * 31 + "9"
# Webhook URLs are signed as Twilio sees them: the public HTTPS URL.
PUBLIC = "https://callmask.example.com"
# The router binary, wherever cargo put it.
ROUTER = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "callmask-local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeTwilio(http.server.BaseHTTPRequestHandler):
    """Serves recordings as Twilio's API does, only with the right Basic auth."""
    recordings: dict = {}
    requests: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        FakeTwilio.requests.append(("GET", self.path, self.headers.get("Authorization")))
        expected = "Basic " + base64.b64encode(f"{TWILIO_ACCOUNT}:{TWILIO_TOKEN}".encode()).decode()
        body = FakeTwilio.recordings.get(self.path)
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            body = b""
        elif body is None:
            self.send_response(404)
            body = b""
        else:
            self.send_response(200)
            self.send_header("Content-Type", "audio/x-wav")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Stack:
    def __init__(self, base: str, emulator: str, twilio: str, audio: str = ""):
        self.base = base
        self.emulator = emulator
        self.twilio = twilio
        # ws://127.0.0.1:AUDIO_PORT/socket
        self.audio = audio

    def url(self, path: str) -> str:
        return self.base + path


def start_stack(**settings):
    """The local stack on an emulator of its own, with `settings` added to
    its environment; a generator: the stack, then teardown."""
    binary = ROUTER
    assert binary.exists(), "build it first: cargo build --workspace"
    port, moto = free_port(), free_port()
    # The audio socket of this stack, away from a `make run` on 3001.
    settings.setdefault("AUDIO_PORT", str(free_port()))
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    twilio = f"http://127.0.0.1:{fake.server_address[1]}"
    env = dict(os.environ, PORT=str(port), MOTO_PORT=str(moto), VONAGE_SIGNATURE_SECRET=SECRET,
               TABLE_NAME="callmask-conformance", RUST_LOG="warn", PUBLIC_BASE_URL=PUBLIC,
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT, TWILIO_API_BASE_URL=twilio,
               RECORDINGS_BUCKET="callmask-conformance-recordings", SENDER_EMAIL="voicemail@callmask.example.com",
               VOICEMAIL_SWEEP_MS="100")
    env.update(settings)
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
    yield Stack(base, f"http://127.0.0.1:{moto}", twilio, f"ws://127.0.0.1:{settings['AUDIO_PORT']}/socket")
    fake.shutdown()
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()

