#!/usr/bin/env python3
"""The local stack: the moto emulator (DynamoDB, S3 and SES over their real
wire protocols) on loopback, plus either the callmask router or any command,
with the AWS environment pointing at the emulator.

    stack.py serve BINARY      run the router until Ctrl-C / SIGTERM
    stack.py exec -- CMD ...   run CMD against a fresh emulator, exit with its code

Secrets Manager runs in a second emulator process
(`AWS_ENDPOINT_URL_SECRETS_MANAGER`), as it is a service of its own in AWS.

`serve` also runs the audio socket (`audio-socket`, beside the router
binary; AUDIO_SOCKET_BINARY to name another) on 127.0.0.1:AUDIO_PORT
(default 3001), and gives the router AUDIO_SOCKET_URL=ws://127.0.0.1:PORT/socket
unless it is set. Its settings (AUDIO_MODE, AUDIO_SOCKET_TOKEN, ...) pass
through like every other.

With FAKE_PROVIDERS=1, `serve` also runs scripts/fake_providers.py (the
Vonage and Twilio REST APIs, on 127.0.0.1:FAKE_PROVIDERS_PORT, default 3002)
for as long as the router runs; `make run FAKE_PROVIDERS=1` sets the stack's
provider URLs and credentials to the fake's.

Fault switch: each emulator (AWS_ENDPOINT_URL, and Secrets Manager's
AWS_ENDPOINT_URL_SECRETS_MANAGER) fails the next requests of a service and
operation when asked, as AWS fails them (scripts/fault_switch.py has the
rule's fields):

    curl -X POST $AWS_ENDPOINT_URL/_emulator/faults -d '{"service": "dynamodb",
        "operation": "GetItem", "count": 3, "kind": "throttle", "contains": "my-table"}'
    curl $AWS_ENDPOINT_URL/_emulator/faults            # the rules, and how often each fired
    curl -X DELETE $AWS_ENDPOINT_URL/_emulator/faults  # all disarmed

The service is read from the request's signature (dynamodb, s3, ses,
secretsmanager); the operation from X-Amz-Target (DynamoDB, Secrets
Manager), SES's Action field, or S3's method and path (PutObject,
GetObject, HeadObject, DeleteObject, CreateBucket, ListObjectsV2, ...).
Throttling answers what AWS answers, so the SDK's retries react as in AWS:
DynamoDB ProvisionedThroughputExceededException (400, JSON), Secrets
Manager ThrottlingException (400, JSON), S3 SlowDown (503, XML), SES
Throttling (400, XML); 5xx answers InternalServerError / InternalServiceError
/ InternalError / InternalFailure; a timeout holds the request and closes
the connection unanswered; slow serves it late. `exec` also hands its
command FAKE_PROVIDERS_URL when FAKE_PROVIDERS=1 starts the fake providers
(on a free port unless FAKE_PROVIDERS_PORT is set), whose own switch is
/_fake/faults (scripts/fake_providers.py).

Environment: MOTO_PORT (default: a free port), PORT (router, default 3000),
AUDIO_PORT (audio socket, default 3001),
FAKE_PROVIDERS, FAKE_PROVIDERS_PORT, and every callmask setting, passed
through untouched.
"""
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import io
import json
import threading
import time
import urllib.parse
import uuid

from fault_switch import Faults
from moto_speed import dispatch_without_rescanning, indexed_queries, undo_log_transactions

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Seconds spent serving requests, and how many, so a benchmark can tell a
# function's own time from the emulator's (`GET /_emulator/time`).
SPENT = {"seconds": 0.0, "requests": 0}
SPENT_LOCK = threading.Lock()


class TimedRequestHandler(MotoRequestHandler):
    """Counts each request from its parsed request line to its last byte
    written: HTTP parsing, the emulator's work, the answer."""

    def parse_request(self):
        self.started = time.perf_counter()
        return super().parse_request()

    def run_wsgi(self):
        try:
            super().run_wsgi()
        finally:
            if not self.path.startswith("/_emulator/"):
                with SPENT_LOCK:
                    SPENT["seconds"] += time.perf_counter() - self.started
                    SPENT["requests"] += 1


# The fault switch (scripts/fault_switch.py): `/_emulator/faults` on each
# emulator (this one, and Secrets Manager's own).
AWS_SERVICES = ("dynamodb", "s3", "ses", "secretsmanager")
FAULTS = Faults(AWS_SERVICES)
# The JSON protocol's content type per service (Secrets Manager: 1.1).
JSON_PROTOCOL = {"dynamodb": "application/x-amz-json-1.0", "secretsmanager": "application/x-amz-json-1.1"}
# A service's answers to each kind of fault, as AWS words them:
# (status, error code, message) per service; 5xx codes by status.
THROTTLED = {
    "dynamodb": (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded. "
                 "Consider increasing your provisioning level with the UpdateTable API."),
    "secretsmanager": (400, "ThrottlingException", "Rate exceeded"),
    "s3": (503, "SlowDown", "Please reduce your request rate."),
    "ses": (400, "Throttling", "Maximum sending rate exceeded."),
}
INTERNAL = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#InternalServerError",
    "secretsmanager": "InternalServiceError",
    "s3": "InternalError",
    "ses": "InternalFailure",
}


def aws_service(environ) -> str:
    """The service a request is signed for: the credential scope of its
    signature (header, or query for a presigned URL) names it."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        scope = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
    parts = scope.split("/")
    return parts[3] if len(parts) >= 5 else ""


def s3_operation(environ) -> str:
    """An S3 request's operation, from its method, path and query (the
    ones callmask and the tests make)."""
    method = environ.get("REQUEST_METHOD", "GET")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    has_key = "/" in environ.get("PATH_INFO", "").strip("/")
    if has_key:
        if method == "PUT":
            if "partNumber" in query:
                return "UploadPart"
            return "CopyObject" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "PutObject"
        if method == "POST":
            return "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, method)
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "GET":
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, method)


def fault_for(environ):
    """The armed rule this request meets, or None. Reads (and puts back)
    the body only when a rule for its service is armed."""
    service = aws_service(environ)
    if not FAULTS.armed(service):
        return None
    text = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")
    if service == "s3":
        operation = s3_operation(environ)
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        decoded = urllib.parse.unquote_plus(body.decode("utf-8", "replace"))
        text += "\n" + decoded
        if service == "ses":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            operation = form.get("Action", [""])[0]
        else:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    rule = FAULTS.take(service, operation, text)
    return None if rule is None else (service, rule)


def fault_answer(environ, start_response, service, rule):
    """What AWS answers for `rule.kind`; None for `slow` (served late)."""
    time.sleep(rule.delay_ms / 1000)
    if rule.kind == "slow":
        return None
    if rule.kind == "timeout":
        # No answer at all: the client's own timeout decides, as when AWS
        # never answers. The write below meets a closed socket, which the
        # server takes for a dropped connection.
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        start_response("504 Gateway Timeout", [("Content-Length", "0")])
        return [b""]
    if rule.kind == "throttle":
        status, code, message = THROTTLED[service]
    else:
        status, code = rule.status, INTERNAL[service]
        message = "We encountered an internal error. Please try again."
        if status == 503:
            code = "ServiceUnavailable" if service in ("s3", "ses") else code
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    if service in JSON_PROTOCOL:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers.append(("Content-Type", JSON_PROTOCOL[service]))
    elif service == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>").encode()
        headers.append(("Content-Type", "application/xml"))
    else:
        kind = "Sender" if status < 500 else "Receiver"
        body = (f'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>{kind}</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>").encode()
        headers.append(("Content-Type", "text/xml"))
    if environ.get("REQUEST_METHOD") == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    start_response(f"{status} {reason}", headers)
    return [body]


def faults_control(environ, start_response):
    """`/_emulator/faults`: arm (POST), list (GET), disarm (DELETE)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    status, answer = FAULTS.control(environ.get("REQUEST_METHOD", "GET"), body)
    data = json.dumps(answer).encode()
    reason = {200: "OK", 201: "Created", 400: "Bad Request", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Emulator:
    """moto's server, with one DynamoDB request at a time.

    DynamoDB runs each request (a TransactWriteItems above all) atomically;
    moto checks conditions and writes without a lock, and on a cancelled
    transaction rolls back, so under its threaded
    server two racing transactions can both commit or undo each other. One
    lock around each request restores DynamoDB's isolation; clients still
    send concurrently and keep their connections.
    """

    def __init__(self, port: int):
        undo_log_transactions()
        indexed_queries()
        dispatch_without_rescanning()
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def run(environ, start_response):
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()

        def dump(environ, start_response):
            # moto's state dump walks every backend's dicts; a write beside
            # it (S3 and SES run outside the lock) can change one mid-walk,
            # and that dump answers 500. It is a read: take it again, here
            # once for every reader.
            for attempt in range(1, 6):
                answer = []

                def keep(status, headers, exc_info=None):
                    answer.append((status, headers))
                    return lambda _data: None

                try:
                    body = run(environ, keep)
                except RuntimeError:
                    if attempt == 5:
                        raise
                    continue
                if not answer[-1][0].startswith("500") or attempt == 5:
                    start_response(*answer[-1])
                    return body

        def serialized(environ, start_response):
            if environ.get("PATH_INFO") == "/_emulator/time":
                with SPENT_LOCK:
                    body = json.dumps(SPENT).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            if environ.get("PATH_INFO") == "/_emulator/faults":
                return faults_control(environ, start_response)
            # An injected fault answers before the lock: a slow or held
            # request must not hold up the others.
            fault = fault_for(environ)
            if fault is not None:
                answer = fault_answer(environ, start_response, *fault)
                if answer is not None:
                    return answer
            # Only DynamoDB needs the lock: Secrets Manager, S3 and SES
            # requests run beside it, as they do in AWS.
            # moto's state dump (`/moto-api/data.json`) walks DynamoDB's
            # tables too: a write beside it changes a dict mid-iteration and
            # the dump answers 500.
            path = environ.get("PATH_INFO", "")
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_") or path.startswith("/moto-api/"):
                with lock:
                    if path == "/moto-api/data.json":
                        return dump(environ, start_response)
                    return run(environ, start_response)
            return run(environ, start_response)

        self.server = make_server("127.0.0.1", port, serialized, threaded=True, request_handler=TimedRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()


def start_emulator() -> tuple[Emulator, str]:
    # The emulator's access log would drown the router's own.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(os.environ.get("MOTO_PORT") or 0)
    if port:
        refuse_busy_port(port, "the emulator", "MOTO_PORT")
    else:
        port = free_port()
    server = Emulator(port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # Ready when it answers its own API.
    wait_answering(None, f"{url}/moto-api/data.json", f"the emulator at {url}", 200)
    return server, url


def start_secrets_emulator() -> tuple[subprocess.Popen, str]:
    """Secrets Manager in a process of its own. In AWS it is another service
    on another connection: a function reads its secret beside its first
    DynamoDB request. In one Python process the two would queue behind one
    interpreter lock, and a cold call would pay for both."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "emulator", str(port)],
        preexec_fn=die_with_parent,
    )
    url = f"http://127.0.0.1:{port}"
    wait_answering(proc, f"{url}/moto-api/data.json", f"the emulator at {url}", 200)
    return proc, url


def fake_providers_wanted() -> bool:
    return os.environ.get("FAKE_PROVIDERS", "").strip().lower() in ("1", "true", "yes")


def start_fake_providers(default_port: int) -> tuple[subprocess.Popen, str]:
    """scripts/fake_providers.py, stopped with the stack (and by the kernel
    if this process dies), and its URL. It takes its credentials from the
    environment the router gets, so the two always agree."""
    port = int(os.environ.get("FAKE_PROVIDERS_PORT") or default_port)
    url = f"http://127.0.0.1:{port}"
    # Refuse a port another server listens on rather than talk to it. With
    # SO_REUSEADDR, as the fake's own server binds, connections closed a
    # moment ago (TIME_WAIT) do not count.
    refuse_busy_port(port, "the fake providers", "FAKE_PROVIDERS_PORT")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_providers.py")
    env = dict(os.environ, FAKE_PROVIDERS_PORT=str(port))
    proc = subprocess.Popen([sys.executable, script], env=env, preexec_fn=die_with_parent)
    return wait_answering(proc, f"{url}/_fake/numbers", "the fake providers", 200), url


def refuse_busy_port(port: int, what: str, setting: str):
    """Stops with a clear reason when another server has the port."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use: {what} cannot start there (set {setting})")


def wait_answering(proc: subprocess.Popen | None, url: str, what: str, tries: int):
    """`proc` once `url` answers; stops the run if it exits or never does.
    No `proc`: a server in this process (the emulator's thread)."""
    for _ in range(tries):
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} did not start ({url})")
        try:
            urllib.request.urlopen(url, timeout=10).read()
            return proc
        except OSError:
            time.sleep(0.05)
    if proc is not None:
        proc.terminate()
        proc.wait()
    raise SystemExit(f"{what} did not answer on {url}")


def start_audio_socket(router: str, env: dict) -> subprocess.Popen | None:
    """The audio socket beside the router, on loopback, until the stack
    stops. It reads the same environment (table, bucket, token)."""
    binary = env.get("AUDIO_SOCKET_BINARY") or os.path.join(os.path.dirname(os.path.abspath(router)), "audio-socket")
    if not os.path.exists(binary):
        print(f"no audio socket at {binary} (cargo build --workspace builds it); serving without one", flush=True)
        return None
    port = int(env.get("AUDIO_PORT") or 3001)
    refuse_busy_port(port, "the audio socket", "AUDIO_PORT")
    env["AUDIO_PORT"] = str(port)
    env.setdefault("AUDIO_HOST", "127.0.0.1")
    env.setdefault("AUDIO_SOCKET_URL", f"ws://127.0.0.1:{port}/socket")
    proc = subprocess.Popen([binary], env=env, preexec_fn=die_with_parent)
    return wait_answering(proc, f"http://127.0.0.1:{port}/health", "the audio socket", 400)


def stop(proc: subprocess.Popen | None):
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def aws_env(endpoint: str, secrets_endpoint: str) -> dict:
    env = dict(os.environ)
    env["AWS_ENDPOINT_URL"] = endpoint
    # The SDKs (Rust and boto3) take a service's own endpoint before the
    # shared one.
    env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = secrets_endpoint
    # The emulator accepts any credentials; never use real ones locally.
    env["AWS_ACCESS_KEY_ID"] = "testing"
    env["AWS_SECRET_ACCESS_KEY"] = "testing"
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    env.setdefault("AWS_REGION", "us-east-1")
    env["AWS_DEFAULT_REGION"] = env["AWS_REGION"]
    env["CALLMASK_TEST_AWS_ENDPOINT"] = endpoint
    return env


def die_with_parent():
    # Linux: the child gets SIGTERM if this process dies, even by SIGKILL.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def run_child(cmd: list[str], env: dict) -> int:
    child = subprocess.Popen(cmd, env=env, preexec_fn=die_with_parent)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            forward(signal.SIGINT, None)


def serve_emulator(port: int) -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Emulator(port).server.serve_forever()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "emulator":
        return serve_emulator(int(argv[2]))
    if len(argv) < 2 or argv[1] not in ("serve", "exec"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "serve":
        # Before anything starts: the router's own error would only say
        # "Address already in use".
        refuse_busy_port(int(os.environ.get("PORT") or 3000), "the local stack", "PORT")
    secrets, secrets_endpoint = start_secrets_emulator()
    server, endpoint = start_emulator()
    fake = None
    audio = None
    try:
        env = aws_env(endpoint, secrets_endpoint)
        if argv[1] == "serve":
            if len(argv) != 3:
                print("usage: stack.py serve BINARY", file=sys.stderr)
                return 2
            if fake_providers_wanted():
                fake, _ = start_fake_providers(3002)
            print(f"emulator (DynamoDB, S3, SES) on {endpoint}  (MOTO_PORT to choose the port)", flush=True)
            audio = start_audio_socket(argv[2], env)
            return run_child([argv[2]], env)
        cmd = argv[3:] if len(argv) > 2 and argv[2] == "--" else argv[2:]
        if fake_providers_wanted():
            # Tests find it by its URL, on a port of its own.
            fake, env["FAKE_PROVIDERS_URL"] = start_fake_providers(free_port())
        return run_child(cmd, env)
    finally:
        # A second signal to the socket (Ctrl-C reached it too): it closes
        # its calls now and stores their recordings before it exits.
        stop(audio)
        if fake is not None:
            fake.terminate()
            fake.wait()
        server.stop()
        secrets.terminate()
        secrets.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
