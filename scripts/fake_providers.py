#!/usr/bin/env python3
"""A local fake of the Vonage and Twilio REST APIs that callmask uses, on one
port: numbers (search, buy, link, cancel, list), SMS, Number Insight Basic,
Twilio recordings.
`make run FAKE_PROVIDERS=1` starts it beside the stack and points the stack
at it; it also runs on its own:

    python3 scripts/fake_providers.py

Requests are checked as the providers check them (credentials, required
parameters, numbers the account owns) and answered in their formats. State
lives in memory and is lost at exit.

Vonage (`VONAGE_REST_BASE_URL` and `VONAGE_API_BASE_URL`): `api_key` and
`api_secret` in the query string or form (or HTTP Basic);
    GET  /number/search      country, features, size, index, pattern, search_pattern
    POST /number/buy         country, msisdn
    POST /number/cancel      country, msisdn
    POST /number/update      country, msisdn, app_id, ...
    GET  /account/numbers    size, index, pattern, country, application_id
    POST /sms/json           from, to, text
    GET  /ni/basic/json      number

Twilio (`TWILIO_API_BASE_URL`): HTTP Basic AccountSid:AuthToken, under
/2010-04-01/Accounts/{Sid}/:
    GET    AvailablePhoneNumbers/{CC}/Local.json | Mobile.json
    GET    IncomingPhoneNumbers.json        PageSize, Page, PhoneNumber
    POST   IncomingPhoneNumbers.json        PhoneNumber, VoiceUrl, SmsUrl, StatusCallback, ...
    GET    IncomingPhoneNumbers/{PN}.json, POST (update), DELETE (release)
    POST   Messages.json                    To, From, Body
    GET    Recordings/{RE...}[.wav]         the recording's audio (as the voicemail worker fetches it)
    DELETE Recordings/{RE...}.json          (DELETE_PROVIDER_RECORDINGS)

Fault switch (no auth; scripts/fault_switch.py has the rule's fields):
    POST   /_fake/faults   {"service": "vonage"|"twilio", "operation": "METHOD /path",
                            "count": N, "kind": "throttle"|"5xx"|"timeout"|"slow", ...}
    GET    /_fake/faults   the rules, and how many requests each failed
    DELETE /_fake/faults   all disarmed
The next N matching requests fail as the provider fails them: throttled,
Vonage's SMS API answers 200 with status 1 (Throttled) and Number Insight
status 1, its numbers API 429; Twilio 429 (code 20429). 5xx answers the
status asked (default 500) in the provider's error format; a timeout holds
the request `delay_ms` and closes the connection unanswered (nothing is
done: no text sent, no number bought); slow serves it `delay_ms` late. The
path may end in `*` ("POST /2010-04-01/Accounts/*"); `contains` narrows a
rule to requests whose query or body holds a text (a phone number).

For looking at what happened (no auth):
    GET /_fake/sms        every text sent, both providers: [{"provider", "from", "to", "text"}]
    GET /_fake/numbers    the numbers each account owns
    GET /_fake/recordings the Twilio account's recordings: {"RE...": {"bytes", "deleted"}}
and for playing Twilio's part in a call (no auth):
    PUT /_fake/recordings/{RE...}   body: the audio Twilio recorded (a WAV)

On sale: Vonage GB 447700900101-120 and US 15551230101-120; Twilio US
+15551230201-220 (Local) and GB +447700900201-220 (Mobile). Owned at start
(to import): Vonage 447700900190 (linked to VONAGE_APPLICATION_ID), Twilio
+15551230801 (its URLs this deployment's) and +15551230802 (an old app's).

Environment: FAKE_PROVIDERS_PORT (3002); the credentials it accepts, which
default to the fixed fake ones printed at start: VONAGE_API_KEY,
VONAGE_API_SECRET, VONAGE_APPLICATION_ID, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN (the Makefile passes the same values to the stack).
"""
import base64
import json
import os
import re
import signal
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fake_common import DEFAULTS, SECRETS, Reply, State, mask_numbers, setting, twilio_error
from fault_switch import Faults
from fake_twilio import TwilioApi
from fake_vonage import VonageApi


class Handler(VonageApi, TwilioApi, BaseHTTPRequestHandler):
    server_version = "fake-providers/1"
    protocol_version = "HTTP/1.1"
    state: State = None  # set in main
    faults = Faults(("vonage", "twilio"))

    # One line per request, written by `respond` (without secrets).
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    # -- plumbing ----------------------------------------------------------

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.body = self.read_body()
        self.provider = "-"
        try:
            if self.injected_fault(method, url):
                return
            self.route(method, url.path)
            reply = Reply(404, {"error": "not found"})
        except Reply as r:
            reply = r
        except Exception as e:  # a bug here must not look like a provider answer
            reply = Reply(500, {"error": f"fake_providers.py: {type(e).__name__}: {e}"})
        self.respond(method, url, reply)

    def injected_fault(self, method, url) -> bool:
        """Meets an armed rule of the fault switch: raises its answer, or
        returns True when the request is to go unanswered (a timeout)."""
        if url.path.startswith("/_fake/"):
            return False
        service = "twilio" if url.path.startswith("/2010-04-01/") else "vonage"
        if not self.faults.armed(service):
            return False
        text = url.query + "\n" + urllib.parse.unquote_plus(self.body.decode("utf-8", "replace"))
        rule = self.faults.take(service, f"{method} {url.path}", text)
        if rule is None:
            return False
        self.provider = service
        time.sleep(rule.delay_ms / 1000)
        if rule.kind == "slow":
            return False
        if rule.kind == "timeout":
            self.close_connection = True
            print(mask_numbers(f"fake-providers: {service:<6} {method:<6} {url.path} -> (no answer: fault)"),
                  file=sys.stderr, flush=True)
            return True
        if rule.kind == "throttle":
            if url.path == "/sms/json":
                raise Reply(200, {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]})
            if url.path.startswith("/ni/"):
                raise Reply(200, {"status": 1, "status_message": "Throttled"})
            if service == "vonage":
                raise Reply(429, {"error-code": "429", "error-code-label": "too many requests"})
            raise twilio_error(429, 20429, "Too Many Requests")
        if service == "vonage":
            raise Reply(rule.status, {"error-code": str(rule.status), "error-code-label": "internal error"})
        raise twilio_error(rule.status, 20500, "Internal Server Error")

    def read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def form(self) -> dict:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                obj = json.loads(self.body or b"{}")
            except ValueError:
                raise Reply(400, {"error": "invalid JSON"})
            return {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()} if isinstance(obj, dict) else {}
        out = {}
        for k, v in urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True):
            out.setdefault(k, v)
        return out

    def params(self) -> dict:
        """Query string and form body together (the form wins)."""
        out = {k: v[0] for k, v in self.query.items()}
        out.update(self.form())
        return out

    def basic_auth(self):
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(h[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    def respond(self, method, url, reply: Reply):
        raw = isinstance(reply.body, bytes)
        data = b"" if reply.body is None else reply.body if raw else json.dumps(reply.body, separators=(",", ":")).encode()
        self.send_response(reply.status)
        if reply.body is not None and not raw:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        if reply.status != 204:
            self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)
        # The query without credentials, and no phone number whole.
        shown = [(k, v) for k, vs in self.query.items() if k not in ("api_key", "api_secret") for v in vs]
        q = ("?" + urllib.parse.urlencode(shown)) if shown else ""
        print(mask_numbers(f"fake-providers: {self.provider:<6} {method:<6} {url.path}{q} -> {reply.status}"),
              file=sys.stderr, flush=True)

    def route(self, method, path):
        s = self.state
        if path.startswith("/_fake/"):
            self.provider = "fake"
            if path == "/_fake/faults":
                status, answer = self.faults.control(method, self.body)
                raise Reply(status, answer)
            if rec := re.fullmatch(r"/_fake/recordings/(RE[A-Za-z0-9]{1,64})", path):
                if method != "PUT":
                    raise Reply(405, {"error": "PUT only"}, {"Allow": "PUT"})
                with s.lock:
                    s.recordings[rec.group(1)] = {"audio": self.body, "deleted": False}
                raise Reply(204)
            if method != "GET":
                raise Reply(405, {"error": "GET only"}, {"Allow": "GET"})
            with s.lock:
                if path == "/_fake/recordings":
                    raise Reply(200, {sid: {"bytes": len(r["audio"]), "deleted": r["deleted"]}
                                      for sid, r in sorted(s.recordings.items())})
                if path == "/_fake/sms":
                    raise Reply(200, list(s.sms))
                if path == "/_fake/numbers":
                    raise Reply(200, {
                        "vonage": sorted(s.vonage_owned.values(), key=lambda n: n["msisdn"]),
                        "twilio": sorted(({"sid": n["sid"], "phone_number": n["phone_number"],
                                           "iso_country": n["iso_country"], "voice_url": n["voice_url"],
                                           "sms_url": n["sms_url"], "status_callback": n["status_callback"]}
                                          for n in s.twilio_owned.values()), key=lambda n: n["phone_number"]),
                    })
            return
        if path.startswith("/2010-04-01/"):
            self.provider = "twilio"
            self.twilio(method, path)
            return
        vonage = {
            "/number/search": ("GET", self.vonage_search),
            "/number/buy": ("POST", lambda: self.vonage_numbers_call("buy")),
            "/number/cancel": ("POST", lambda: self.vonage_numbers_call("cancel")),
            "/number/update": ("POST", lambda: self.vonage_numbers_call("update")),
            "/account/numbers": ("GET", self.vonage_owned),
            "/sms/json": ("POST", self.vonage_sms),
            "/ni/basic/json": ("GET", self.vonage_insight),
        }
        if path in vonage:
            self.provider = "vonage"
            want, fn = vonage[path]
            # The SMS API and Number Insight take GET and POST alike.
            allowed = {want} | ({"GET", "POST"} if path in ("/sms/json", "/ni/basic/json") else set())
            if method not in allowed:
                raise Reply(405, {"error-code": "405", "error-code-label": "method not allowed"},
                            {"Allow": ", ".join(sorted(allowed))})
            fn()


def main() -> int:
    port = int(os.environ.get("FAKE_PROVIDERS_PORT") or 3002)
    state = State()
    Handler.state = state
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as e:
        print(f"fake-providers: cannot listen on 127.0.0.1:{port}: {e} (FAKE_PROVIDERS_PORT to choose)",
              file=sys.stderr)
        return 1
    server.daemon_threads = True

    def stop(signum, _frame):
        # Ctrl-C reaches the whole process group and the stack then sends
        # SIGTERM too: the first signal stops the server, the rest are moot.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = f"http://127.0.0.1:{port}"
    print(f"fake providers (Vonage + Twilio REST) on {url}; texts sent: {url}/_fake/sms, numbers: {url}/_fake/numbers")
    for name in DEFAULTS:
        value = setting(name)
        shown = value if value == DEFAULTS[name] or name not in SECRETS else "(from the environment)"
        print(f"  {name}={shown}")
    for name in ("VONAGE_REST_BASE_URL", "VONAGE_API_BASE_URL", "TWILIO_API_BASE_URL"):
        print(f"  {name}={url}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    print("fake-providers: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
