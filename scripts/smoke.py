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

Admin calls are SigV4-signed (`execute-api`) when `--sigv4` is given (the
deployed stack's admin routes are IAM-authorised; credentials come from the
environment, as the pipeline's OIDC role provides them). Webhook secrets are
given as values (`--vonage-secret`, `--twilio-token`) or read from Secrets
Manager (`--vonage-secret-id`, `--twilio-secret-id`), as the functions do.

Exit status 0 when every check passed; 1 naming the first that failed.
"""

import argparse
import base64
import hashlib
import hmac
import json
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


def check(condition: bool, what: str):
    if not condition:
        raise SmokeFailure(what)


class Api:
    def __init__(self, base: str, sigv4_region: str | None):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.signer = None
        if sigv4_region:
            import botocore.session
            from botocore.auth import SigV4Auth

            creds = botocore.session.get_session().get_credentials()
            check(creds is not None, "no AWS credentials for the SigV4-signed admin calls")
            self.signer = SigV4Auth(creds.get_frozen_credentials(), "execute-api", sigv4_region)

    def admin(self, method: str, path: str, body=None) -> requests.Response:
        url = self.base + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.signer is not None:
            from botocore.awsrequest import AWSRequest

            req = AWSRequest(method=method, url=url, data=data, headers=headers)
            self.signer.add_auth(req)
            headers = dict(req.headers)
        return self.session.request(method, url, data=data, headers=headers, timeout=TIMEOUT)

    def get(self, path: str, headers: dict) -> requests.Response:
        return self.session.get(self.base + path, headers=headers, timeout=TIMEOUT)

    def post_form(self, path: str, form: dict, headers: dict) -> requests.Response:
        return self.session.post(self.base + path, data=form, headers=headers, timeout=TIMEOUT)


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


def run(args) -> None:
    api = Api(args.base_url, args.aws_region if args.sigv4 else None)
    vonage_secret = args.vonage_secret or read_secret(args.vonage_secret_id, args.aws_region, "signature_secret")
    twilio_token = args.twilio_token or read_secret(args.twilio_secret_id, args.aws_region, "auth_token")
    tag = uuid.uuid4().int % 1000
    # 07700 900000-900999: reserved by Ofcom for drama, never a real line.
    number = f"+447700900{tag:03d}"
    a = f"+447700900{(tag + 1) % 1000:03d}"
    b = f"+447700900{(tag + 2) % 1000:03d}"

    r = api.admin("POST", "/numbers", {"number": number, "provider": "vonage"})
    check(r.status_code in (201, 409), f"add a pool number: HTTP {r.status_code} {r.text[:200]}")
    added = r.status_code == 201
    session_id = None
    try:
        r = api.admin("POST", "/sessions", {"participants": [a, b], "ttl_seconds": 300, "provider": "vonage"})
        check(r.status_code == 201, f"create a session: HTTP {r.status_code} {r.text[:200]}")
        session = r.json()
        session_id = session["id"]
        proxy_a = session["participants"][0]["proxy_number"]
        proxy_b = session["participants"][1]["proxy_number"]
        print(f"smoke: session {session_id} created")

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

        r = twilio_voice(api, twilio_token, args.twilio_account_sid, number, a, valid=True)
        check(r.status_code == 200, f"signed Twilio voice: HTTP {r.status_code} {r.text[:200]}")
        root = ET.fromstring(r.text)
        check(root.tag == "Response" and len(root) > 0, f"the TwiML is not a Response with verbs: {r.text[:200]}")
        check(all(el.tag in {"Say", "Dial", "Hangup", "Pause", "Record", "Redirect"} for el in root),
              f"unexpected TwiML verbs: {r.text[:200]}")
        print("smoke: Twilio-signed voice webhook answers TwiML")
        r = twilio_voice(api, twilio_token, args.twilio_account_sid, number, a, valid=False)
        check(r.status_code == 401, f"a wrongly signed Twilio webhook got HTTP {r.status_code}, not 401")

        r = api.admin("DELETE", f"/sessions/{session_id}")
        check(r.status_code == 204, f"close the session: HTTP {r.status_code} {r.text[:200]}")
        session_id = None
        ncco = answer(api, vonage_secret, proxy_a, a)
        check(not any(x.get("action") == "connect" for x in ncco) and any(x.get("action") == "talk" for x in ncco),
              f"a closed session still routes: {ncco}")
        print("smoke: closed session refuses the call politely")
    finally:
        if session_id is not None:
            api.admin("DELETE", f"/sessions/{session_id}")
        if added:
            r = api.admin("DELETE", "/numbers/" + urllib.parse.quote(number))
            if r.status_code not in (204, 404):
                print(f"smoke: could not remove the test number: HTTP {r.status_code}", file=sys.stderr)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="the API's base URL (the stack's ApiUrl output)")
    p.add_argument("--sigv4", action="store_true", help="sign admin calls with SigV4 (a deployed stack)")
    p.add_argument("--aws-region", help="region of the stack and its secrets")
    p.add_argument("--vonage-secret", help="the Vonage signature secret")
    p.add_argument("--vonage-secret-id", help="its Secrets Manager id, when not given as a value")
    p.add_argument("--twilio-token", help="the Twilio auth token")
    p.add_argument("--twilio-secret-id", help="its Secrets Manager id, when not given as a value")
    p.add_argument("--twilio-account-sid", required=True, help="the Twilio account the stack serves")
    args = p.parse_args(argv)
    if not (args.vonage_secret or args.vonage_secret_id) or not (args.twilio_token or args.twilio_secret_id):
        p.error("give each webhook secret as a value or a Secrets Manager id")
    try:
        run(args)
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
