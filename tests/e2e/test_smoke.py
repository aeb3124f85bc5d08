"""The deploy pipeline's smoke test (scripts/smoke.py), run against the
local stack exactly as the pipeline runs it against a deployed one, so it
cannot rot unseen; shown to fail when the stack is not what it checks; and,
against a fake of the API, shown never to leave its fictional number where
allocation can hand it out."""
import http.server
import importlib.util
import io
import json
import subprocess
import sys
import threading
import urllib.parse

import jwt
import pytest
from twilio.request_validator import RequestValidator

from helpers.stack import ROOT, SECRET, TWILIO_ACCOUNT, TWILIO_TOKEN, start_stack

SMOKE = ROOT / "scripts" / "smoke.py"


@pytest.fixture(scope="module")
def local():
    # Twilio signs the URL it calls: the public URL is the one served here.
    port_stack = start_stack(PUBLIC_BASE_URL="")
    yield next(port_stack)
    next(port_stack, None)


def smoke(base: str, *extra: str, vonage_secret: str = SECRET, twilio_token: str = TWILIO_TOKEN):
    return subprocess.run(
        [sys.executable, str(SMOKE), "--base-url", base, "--vonage-secret", vonage_secret,
         "--twilio-token", twilio_token, "--twilio-account-sid", TWILIO_ACCOUNT, *extra],
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


# A stand-in for a deployed callmask, just enough of it for the smoke
# script's run: a pool, sessions, the Vonage answer and Twilio voice
# webhooks (signatures checked as the stack checks them), and the admin
# routes. Each test says how its clean-up should go wrong, and reads back
# which calls the script made.
class FakeCallmask(http.server.BaseHTTPRequestHandler):
    pool: set = set()
    sessions: dict = {}
    calls: list = []
    fail: set = set()  # "DELETE /numbers", "DELETE /sessions": answer 500

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype="application/json"):
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakeCallmask.calls.append((method, path))
        parts = [p for p in path.split("/") if p]
        key = f"{method} /{parts[0]}" if parts else method
        if key in FakeCallmask.fail and len(parts) == 2:
            return self.answer(500, {"error": "internal"})
        if (method, path) == ("POST", "/numbers"):
            number = json.loads(body)["number"]
            if number in FakeCallmask.pool:
                return self.answer(409, {"error": "number_exists"})
            FakeCallmask.pool.add(number)
            return self.answer(201, {"number": number, "status": "active"})
        if method in ("GET", "DELETE") and parts[:1] == ["numbers"] and len(parts) == 2:
            if parts[1] not in FakeCallmask.pool:
                return self.answer(404, {"error": "not_found"})
            if method == "GET":
                return self.answer(200, {"number": parts[1]})
            if any(proxy == parts[1] for _, _, proxy in FakeCallmask.sessions.values()):
                return self.answer(409, {"error": "number_in_use"})
            FakeCallmask.pool.discard(parts[1])
            return self.answer(204)
        if (method, path) == ("POST", "/sessions"):
            a, b = json.loads(body)["participants"]
            proxy = min(FakeCallmask.pool)
            FakeCallmask.sessions["s-1"] = (a, b, proxy)
            return self.answer(201, {"id": "s-1", "participants": [
                {"number": a, "proxy_number": proxy}, {"number": b, "proxy_number": proxy}]})
        if method == "DELETE" and parts[:1] == ["sessions"]:
            FakeCallmask.sessions.pop(parts[1], None)
            return self.answer(204)
        if (method, path) == ("GET", "/vonage/answer"):
            try:
                jwt.decode(self.headers.get("Authorization", "").removeprefix("Bearer "), SECRET, algorithms=["HS256"])
            except jwt.PyJWTError:
                return self.answer(401, {"error": "unsigned"})
            q = dict(urllib.parse.parse_qsl(url.query))
            for a, b, proxy in FakeCallmask.sessions.values():
                if q["from"] == a.lstrip("+") and q["to"] == proxy.lstrip("+"):
                    return self.answer(200, [{"action": "connect", "from": proxy.lstrip("+"),
                                              "endpoint": [{"type": "phone", "number": b.lstrip("+")}]}])
            return self.answer(200, [{"action": "talk", "text": "Sorry."}])
        if (method, path) == ("POST", "/twilio/voice"):
            form = dict(urllib.parse.parse_qsl(body.decode()))
            url = f"http://{self.headers['Host']}/twilio/voice"
            if not RequestValidator(TWILIO_TOKEN).validate(url, form, self.headers.get("X-Twilio-Signature", "")):
                return self.answer(401, {"error": "bad signature"})
            return self.answer(200, b"<Response><Say>Sorry.</Say><Hangup/></Response>", "text/xml")
        return self.answer(404, {"error": "no route"})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")


@pytest.fixture
def fake():
    FakeCallmask.pool, FakeCallmask.sessions, FakeCallmask.calls, FakeCallmask.fail = set(), {}, [], set()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeCallmask)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_smoke_passes_against_the_fake_and_leaves_the_pool_as_it_was(fake):
    r = smoke(fake)
    assert r.returncode == 0, r.stdout + r.stderr
    assert FakeCallmask.pool == set() and FakeCallmask.sessions == {}


@pytest.mark.parametrize("failing", ["DELETE /numbers", "DELETE /sessions"])
def test_a_clean_up_that_fails_fails_the_run_loudly(fake, failing):
    # A fictional number left in the pool is one allocation can hand to a
    # real session: the run must fail, and say which number to remove.
    # (A session that cannot be closed keeps its number: 409 in use.)
    FakeCallmask.fail = {failing}
    r = smoke(fake)
    assert r.returncode == 2, r.stdout + r.stderr
    (left,) = FakeCallmask.pool
    assert "CLEAN-UP FAILED" in r.stderr and left in r.stderr and "allocation" in r.stderr


def test_a_clean_up_that_fails_after_a_failed_check_reports_both(fake):
    FakeCallmask.fail = {"DELETE /numbers"}
    r = smoke(fake, vonage_secret="not-the-secret")  # the answer check fails first
    assert r.returncode == 2, r.stdout + r.stderr
    assert "CLEAN-UP FAILED" in r.stderr and "FAILED:" in r.stderr


def test_read_only_adds_no_number_and_opens_no_session(fake):
    # Production: real users share the pool, so the smoke test writes nothing.
    r = smoke(fake, "--read-only")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all checks passed" in r.stdout
    writes = [(m, p) for m, p in FakeCallmask.calls if m != "GET" and not p.startswith(("/vonage/", "/twilio/"))]
    assert writes == [] and FakeCallmask.pool == set()
    # It does look: the fictional number is not in the pool.
    assert any(m == "GET" and p.startswith("/numbers/+447700900") for m, p in FakeCallmask.calls)


def test_read_only_fails_when_a_fictional_number_sits_in_the_pool(fake):
    r = smoke(fake, "--read-only", "--number", "+447700900123")
    assert r.returncode == 0, r.stdout + r.stderr
    FakeCallmask.pool.add("+447700900123")
    r = smoke(fake, "--read-only", "--number", "+447700900123")
    assert r.returncode == 1
    assert "+447700900123" in r.stderr and "allocation" in r.stderr


def test_read_only_passes_against_the_local_stack(local):
    r = smoke(local.base, "--read-only")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all checks passed" in r.stdout


def smoke_module():
    spec = importlib.util.spec_from_file_location("smoke", SMOKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shape(value):
    """The keys of an event, nested, without their values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in ("headers", "body")}
    return type(value).__name__


@pytest.mark.parametrize("method, path, body, fixture", [
    ("POST", "/numbers", {"number": "+447700900003", "provider": "vonage"}, "numbers/create.json"),
    ("DELETE", "/numbers/%2B447700900099", None, "numbers/delete-unknown.json"),
    ("DELETE", "/sessions/5e55104d5e55104d5e55104d5e55104d", None, "sessions/delete.json"),
])
def test_admin_calls_sent_to_a_function_are_the_events_the_api_sends(method, path, body, fixture):
    # A preview's smoke test calls its own functions (its role may invoke no
    # API's IAM routes): the events must be what the handler tests read.
    expected = json.loads((ROOT / "events" / fixture).read_text())
    event = smoke_module().admin_event("https://abc123defg.execute-api.eu-west-2.amazonaws.com", method, path, body)
    assert shape(event) == shape(expected)
    for key in ("routeKey", "rawPath", "pathParameters"):
        assert event.get(key) == expected.get(key), key
    assert event["requestContext"]["http"]["method"] == method
    if body is not None:
        assert json.loads(event["body"]) == body and event["headers"]["content-type"] == "application/json"


def test_admin_calls_go_to_the_function_that_serves_their_route():
    smoke = smoke_module()
    sent = []

    class FakeLambda:
        def invoke(self, FunctionName, Payload):
            sent.append((FunctionName, json.loads(Payload)["routeKey"]))
            out = {"statusCode": 204, "body": ""}
            return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(out).encode())}

    api = smoke.Api("https://x.example", None)
    api.functions = {"numbers": "callmask-pr-7-NumbersFunction-A", "sessions": "callmask-pr-7-SessionsFunction-B"}
    api.lambda_client = FakeLambda()
    assert api.admin("DELETE", "/numbers/%2B447700900001").status_code == 204
    assert api.admin("DELETE", "/sessions/s-1").status_code == 204
    assert sent == [("callmask-pr-7-NumbersFunction-A", "DELETE /numbers/{number}"),
                    ("callmask-pr-7-SessionsFunction-B", "DELETE /sessions/{id}")]
