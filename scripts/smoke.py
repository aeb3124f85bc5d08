#!/usr/bin/env python3
"""Smoke test of a running callmask: the deploy pipeline runs it against the
stack it just deployed, and `make test` runs it against `make run`'s stack
(tests/e2e/test_smoke.py), so the script cannot rot unseen.

What it does, as a user would:
 1. adds a fictional number (Ofcom's drama range, never a real line) to the
    pool through the admin API;
 2. creates a session between two fictional participants;
 3. sends a Vonage-signed answer webhook (HS256 JWT with `payload_hash`, as
    Vonage signs them) for participant A calling their proxy number and
    checks the NCCO connects to B, shown B's proxy number;
 4. sends a Twilio-signed voice webhook (`X-Twilio-Signature`) and checks the
    TwiML is a well-formed answer; and that a wrongly signed one gets 401;
 5. closes the session, checks the same call is now refused politely, and
    removes the number.

While the fictional number is in the pool, allocation can hand it to any
session, a real user's too; so the clean-up of step 5 is part of the test:
if the session cannot be closed or the number removed, the run fails
(exit 2) naming what is left, whatever the checks said.

`--read-only` (production, where real users share the pool) adds no number
and opens no session: it checks the fictional number is not in the pool,
that the signed webhooks answer a call to it with a polite refusal, and that
wrongly signed or unsigned ones get 401.

Admin calls are SigV4-signed (`execute-api`) when `--sigv4` is given (the
deployed stack's admin routes are IAM-authorised; credentials come from the
environment, as the pipeline's OIDC role provides them), and an unsigned one
must get 403. A preview stack's role may not call any API's IAM-authorised
routes (HTTP API ids are random and `execute-api:Invoke` has no tag
condition, so such a grant would reach production's admin API too); there,
`--numbers-function` and `--sessions-function` send the admin calls straight
to the stack's own functions (`lambda:InvokeFunction`, by name), as the API
would pass them. Webhook secrets are given as values (`--vonage-secret`,
`--twilio-token`) or read from Secrets Manager (`--vonage-secret-id`,
`--twilio-secret-id`), as the functions do.

Exit status 0 when every check passed; 1 naming the first that failed; 2
when the clean-up failed and something is left in the stack's pool.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import jwt
import requests
from twilio.request_validator import RequestValidator

TIMEOUT = 15


class SmokeFailure(Exception):
    pass


class LeftBehind(Exception):
    """The clean-up failed: what it could not undo, one line each."""

    def __init__(self, number: str | None, problems: list[str]):
        super().__init__("; ".join(problems))
        self.number = number
        self.problems = problems


def check(condition: bool, what: str):
    if not condition:
        raise SmokeFailure(what)


class LambdaResponse:
    """A function's API Gateway answer, read as `requests` reads an HTTP one."""

    def __init__(self, payload: dict):
        self.status_code = int(payload.get("statusCode", 0))
        body = payload.get("body") or ""
        if payload.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        self.text = body

    def json(self):
        return json.loads(self.text)


class Api:
    def __init__(self, base: str, sigv4_region: str | None, functions: dict | None = None, region: str | None = None):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.signer = None
        # Admin route's first segment -> the function that serves it.
        self.functions = functions or {}
        self.lambda_client = None
        if self.functions:
            import boto3

            self.lambda_client = boto3.client("lambda", region_name=region)
        if sigv4_region:
            import botocore.session
            from botocore.auth import SigV4Auth

            creds = botocore.session.get_session().get_credentials()
            check(creds is not None, "no AWS credentials for the SigV4-signed admin calls")
            self.signer = SigV4Auth(creds.get_frozen_credentials(), "execute-api", sigv4_region)

    def admin(self, method: str, path: str, body=None):
        if self.lambda_client is not None:
            return self.invoke(method, path, body)
        url = self.base + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.signer is not None:
            from botocore.awsrequest import AWSRequest

            req = AWSRequest(method=method, url=url, data=data, headers=headers)
            self.signer.add_auth(req)
            headers = dict(req.headers)
        return self.session.request(method, url, data=data, headers=headers, timeout=TIMEOUT)

    def invoke(self, method: str, path: str, body=None) -> LambdaResponse:
        route = path.strip("/").split("/")[0]
        check(route in self.functions, f"no function given for the admin route /{route}")
        event = admin_event(self.base, method, path, body)
        out = self.lambda_client.invoke(FunctionName=self.functions[route], Payload=json.dumps(event).encode())
        payload = json.loads(out["Payload"].read() or b"{}")
        check("FunctionError" not in out, f"{method} {path}: the function failed: {str(payload)[:200]}")
        return LambdaResponse(payload)

    def get(self, path: str, headers: dict) -> requests.Response:
        return self.session.get(self.base + path, headers=headers, timeout=TIMEOUT)

    def post_form(self, path: str, form: dict, headers: dict) -> requests.Response:
        return self.session.post(self.base + path, data=form, headers=headers, timeout=TIMEOUT)


# The admin routes' templates (template.yaml), for the event's routeKey.
ADMIN_ROUTES = {"numbers": "number", "sessions": "id"}


def admin_event(base: str, method: str, path: str, body=None) -> dict:
    """The API Gateway (HTTP API, payload 2.0) event the stack's API sends a
    function for this admin call (the shape of events/numbers/*.json)."""
    host = urllib.parse.urlsplit(base).hostname or "localhost"
    segments = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
    params, template = {}, "/" + segments[0]
    if len(segments) > 1:
        name = ADMIN_ROUTES.get(segments[0], "id")
        params[name] = segments[1]
        template += "/{" + name + "}" + "".join("/" + s for s in segments[2:])
    route_key = f"{method} {template}"
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": host, "user-agent": "callmask-smoke", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "callmask-smoke"},
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["body"] = json.dumps(body)
    return event


def vonage_get_headers(secret: str, params: list[tuple[str, str]]) -> dict:
    """Vonage signs a GET webhook's query as a compact JSON object."""
    payload = json.dumps(dict(params), separators=(",", ":")).encode()
    claims = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(payload).hexdigest(),
    }
    return {"Authorization": "Bearer " + jwt.encode(claims, secret, algorithm="HS256")}


def answer(api: Api, secret: str, to: str, caller: str) -> list:
    params = [
        ("to", to.lstrip("+")),
        ("from", caller.lstrip("+")),
        ("uuid", f"smoke-{uuid.uuid4()}"),
        ("conversation_uuid", f"CON-smoke-{uuid.uuid4()}"),
    ]
    r = api.get("/vonage/answer?" + urllib.parse.urlencode(params), vonage_get_headers(secret, params))
    check(r.status_code == 200, f"signed Vonage answer: HTTP {r.status_code} {r.text[:200]}")
    ncco = r.json()
    check(isinstance(ncco, list) and ncco, f"the answer is not an NCCO: {r.text[:200]}")
    return ncco


def read_secret(secret_id: str, region: str | None, key: str) -> str:
    """As the functions read it: a JSON object's `key`, or the whole string."""
    import boto3

    value = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, dict):
        check(isinstance(parsed.get(key), str), f"secret {secret_id} has no {key!r}")
        return parsed[key]
    return value


def twilio_voice(api: Api, token: str, account: str, to: str, caller: str, valid: bool) -> requests.Response:
    url = api.base + "/twilio/voice"
    form = {
        "CallSid": "CA" + uuid.uuid4().hex,
        "AccountSid": account,
        "From": caller,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    signature = RequestValidator(token).compute_signature(url, form)
    if not valid:
        signature = base64.b64encode(hmac.new(b"not-the-token", url.encode(), hashlib.sha1).digest()).decode()
    return api.post_form("/twilio/voice", form, {"X-Twilio-Signature": signature})


def twilio_checks(api: Api, token: str, account: str, to: str, caller: str) -> None:
    r = twilio_voice(api, token, account, to, caller, valid=True)
    check(r.status_code == 200, f"signed Twilio voice: HTTP {r.status_code} {r.text[:200]}")
    root = ET.fromstring(r.text)
    check(root.tag == "Response" and len(root) > 0, f"the TwiML is not a Response with verbs: {r.text[:200]}")
    check(all(el.tag in {"Say", "Dial", "Hangup", "Pause", "Record", "Redirect"} for el in root),
          f"unexpected TwiML verbs: {r.text[:200]}")
    print("smoke: Twilio-signed voice webhook answers TwiML")
    r = twilio_voice(api, token, account, to, caller, valid=False)
    check(r.status_code == 401, f"a wrongly signed Twilio webhook got HTTP {r.status_code}, not 401")


def refuses(ncco: list) -> bool:
    return not any(x.get("action") == "connect" for x in ncco) and any(x.get("action") == "talk" for x in ncco)


def check_admin_needs_iam(api: Api) -> None:
    """The deployed admin routes are IAM-authorised: unsigned, API Gateway
    answers 403 before any function runs."""
    r = api.session.get(api.base + "/numbers", timeout=TIMEOUT)
    check(r.status_code == 403, f"an unsigned admin call got HTTP {r.status_code}, not 403: the admin API is open")
    print("smoke: the admin API refuses an unsigned call")


def read_only(api: Api, args, vonage_secret: str, twilio_token: str, number: str, caller: str) -> None:
    """No write to the pool or the sessions: real users share them."""
    r = api.admin("GET", "/numbers/" + urllib.parse.quote(number))
    check(r.status_code != 200, f"the fictional number {number} is in the pool, where allocation can hand it to "
                                f"a real session: remove it (DELETE /numbers/{urllib.parse.quote(number)})")
    check(r.status_code == 404, f"look up a number: HTTP {r.status_code} {r.text[:200]}")
    print("smoke: the admin API answers, and the fictional number is not in the pool")
    ncco = answer(api, vonage_secret, number, caller)
    check(refuses(ncco), f"a call to a number outside the pool is not refused politely: {ncco}")
    print("smoke: Vonage-signed answer refuses a call to a number outside the pool politely")
    unsigned = api.get(f"/vonage/answer?to={number.lstrip('+')}&from={caller.lstrip('+')}&uuid=smoke", {})
    check(unsigned.status_code == 401, f"an unsigned Vonage answer got HTTP {unsigned.status_code}, not 401")
    twilio_checks(api, twilio_token, args.twilio_account_sid, number, caller)


def exercise(api: Api, args, vonage_secret: str, twilio_token: str, number: str, a: str, b: str, made: dict) -> None:
    """Steps 2-5; `made` records the session while it is open."""
    r = api.admin("POST", "/sessions", {"participants": [a, b], "ttl_seconds": 300, "provider": "vonage"})
    check(r.status_code == 201, f"create a session: HTTP {r.status_code} {r.text[:200]}")
    session = r.json()
    made["session"] = session["id"]
    proxy_a = session["participants"][0]["proxy_number"]
    proxy_b = session["participants"][1]["proxy_number"]
    print(f"smoke: session {made['session']} created")

    ncco = answer(api, vonage_secret, proxy_a, a)
    connect = next((x for x in ncco if x.get("action") == "connect"), None)
    check(connect is not None, f"the signed answer does not connect: {ncco}")
    endpoint = connect["endpoint"][0]
    check(endpoint.get("type") == "phone" and endpoint.get("number") == b.lstrip("+"),
          f"the call is not connected to the other participant: {connect}")
    check(connect.get("from") == proxy_b.lstrip("+"), f"the callee would not see the proxy number: {connect}")
    print("smoke: Vonage-signed answer connects A to B behind B's proxy number")

    unsigned = api.get(f"/vonage/answer?to={proxy_a.lstrip('+')}&from={a.lstrip('+')}&uuid=smoke", {})
    check(unsigned.status_code == 401, f"an unsigned Vonage answer got HTTP {unsigned.status_code}, not 401")

    twilio_checks(api, twilio_token, args.twilio_account_sid, number, a)

    r = api.admin("DELETE", f"/sessions/{made['session']}")
    check(r.status_code == 204, f"close the session: HTTP {r.status_code} {r.text[:200]}")
    made["session"] = None
    ncco = answer(api, vonage_secret, proxy_a, a)
    check(refuses(ncco), f"a closed session still routes: {ncco}")
    print("smoke: closed session refuses the call politely")


def clean_up(api: Api, session_id: str | None, number: str | None) -> list[str]:
    """Closes the session and removes the number; what it could not do."""
    problems = []
    steps = []
    if session_id is not None:
        steps.append((f"close session {session_id}", f"/sessions/{session_id}"))
    if number is not None:
        steps.append((f"remove {number} from the pool", "/numbers/" + urllib.parse.quote(number)))
    for what, path in steps:
        try:
            r = api.admin("DELETE", path)
        except (requests.RequestException, SmokeFailure) as e:
            problems.append(f"{what}: {e}")
            continue
        # 404: already gone, which is what the clean-up wants.
        if r.status_code not in (204, 404):
            problems.append(f"{what}: HTTP {r.status_code} {r.text[:200]}")
    return problems


def run(args) -> None:
    functions = {"numbers": args.numbers_function, "sessions": args.sessions_function}
    functions = {k: v for k, v in functions.items() if v}
    api = Api(args.base_url, args.aws_region if args.sigv4 else None, functions, args.aws_region)
    vonage_secret = args.vonage_secret or read_secret(args.vonage_secret_id, args.aws_region, "signature_secret")
    twilio_token = args.twilio_token or read_secret(args.twilio_secret_id, args.aws_region, "auth_token")
    # 07700 900000-900999: reserved by Ofcom for drama, never a real line.
    number = args.number or f"+447700900{uuid.uuid4().int % 1000:03d}"
    tag = int(number[-3:])
    a = f"+447700900{(tag + 1) % 1000:03d}"
    b = f"+447700900{(tag + 2) % 1000:03d}"

    if args.sigv4 or functions:
        check_admin_needs_iam(api)
    if args.read_only:
        read_only(api, args, vonage_secret, twilio_token, number, a)
        return

    r = api.admin("POST", "/numbers", {"number": number, "provider": "vonage"})
    check(r.status_code in (201, 409), f"add a pool number: HTTP {r.status_code} {r.text[:200]}")
    # 409: someone else's (or an earlier run's) number: not ours to remove.
    added = r.status_code == 201
    made = {"session": None}
    try:
        exercise(api, args, vonage_secret, twilio_token, number, a, b, made)
    finally:
        problems = clean_up(api, made["session"], number if added else None)
        if problems:
            # Raised over a failed check (kept as its __context__): what is
            # left in the pool matters more, and both are reported.
            raise LeftBehind(number if added else None, problems)


def report_left_behind(e: LeftBehind, base: str) -> None:
    lines = ["smoke: CLEAN-UP FAILED: the smoke test could not undo what it did:"]
    lines += [f"smoke:   {p}" for p in e.problems]
    if e.number:
        path = "/numbers/" + urllib.parse.quote(e.number)
        lines.append(f"smoke: the fictional number {e.number} is still in the pool at {base}, where allocation can "
                     f"hand it to a real session. Remove it now: DELETE {path} (close its session first, "
                     f"DELETE /sessions/<id>, if that is what failed).")
    print("\n".join(lines), file=sys.stderr)
    if e.__context__ is not None and not isinstance(e.__context__, LeftBehind):
        print(f"smoke: FAILED: {e.__context__}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # An annotation, so the run's summary shows it too.
        print(f"::error title=smoke test left something behind::{'; '.join(e.problems)}", file=sys.stderr)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="the API's base URL (the stack's ApiUrl output)")
    p.add_argument("--sigv4", action="store_true", help="sign admin calls with SigV4 (a deployed stack)")
    p.add_argument("--numbers-function", help="send /numbers admin calls to this function (a preview stack)")
    p.add_argument("--sessions-function", help="send /sessions admin calls to this function (a preview stack)")
    p.add_argument("--read-only", action="store_true",
                   help="add no number and open no session (production: real users share the pool)")
    p.add_argument("--number", help="the fictional number to use, +447700900000 to +447700900999 (default: one at random)")
    p.add_argument("--aws-region", help="region of the stack and its secrets")
    p.add_argument("--vonage-secret", help="the Vonage signature secret")
    p.add_argument("--vonage-secret-id", help="its Secrets Manager id, when not given as a value")
    p.add_argument("--twilio-token", help="the Twilio auth token")
    p.add_argument("--twilio-secret-id", help="its Secrets Manager id, when not given as a value")
    p.add_argument("--twilio-account-sid", required=True, help="the Twilio account the stack serves")
    args = p.parse_args(argv)
    if not (args.vonage_secret or args.vonage_secret_id) or not (args.twilio_token or args.twilio_secret_id):
        p.error("give each webhook secret as a value or a Secrets Manager id")
    if args.number and not (len(args.number) == 13 and args.number.startswith("+447700900") and args.number[1:].isdigit()):
        p.error("--number must be in Ofcom's drama range, +447700900000 to +447700900999")
    if bool(args.numbers_function) != bool(args.sessions_function):
        p.error("give both --numbers-function and --sessions-function, or neither")
    if args.sigv4 and args.numbers_function:
        p.error("admin calls go either through the API (--sigv4) or to the functions, not both")
    try:
        run(args)
    except LeftBehind as e:
        report_left_behind(e, args.base_url)
        return 2
    except SmokeFailure as e:
        print(f"smoke: FAILED: {e}", file=sys.stderr)
        return 1
    except requests.RequestException as e:
        print(f"smoke: FAILED: {args.base_url} did not answer: {e}", file=sys.stderr)
        return 1
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
