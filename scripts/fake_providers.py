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

For looking at what happened (no auth):
    GET /_fake/sms        every text sent, both providers: [{"provider", "from", "to", "text"}]
    GET /_fake/numbers    the numbers each account owns
    GET /_fake/recordings the Twilio account's recordings: {"RE...": {"bytes", "deleted"}}
and for playing Twilio's part in a call (no auth):
    PUT /_fake/recordings/{RE...}   body: the audio Twilio recorded (a WAV)

On sale: Vonage GB 447700900101-120 and US 15551230101-120; Twilio US
+15551230201-220 (Local) and GB +447700900201-220 (Mobile). Owned at start
(to import): Vonage 447700900190, Twilio +15551230801 and +15551230802.

Environment: FAKE_PROVIDERS_PORT (3002); the credentials it accepts, which
default to the fixed fake ones printed at start: VONAGE_API_KEY,
VONAGE_API_SECRET, VONAGE_APPLICATION_ID, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN (the Makefile passes the same values to the stack).
"""
import base64
import json
import math
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The fake's own credentials; the Makefile (`make run FAKE_PROVIDERS=1`)
# gives the stack the same ones.
DEFAULTS = {
    "VONAGE_API_KEY": "fake-key",
    "VONAGE_API_SECRET": "fake-secret",
    "VONAGE_APPLICATION_ID": "aaaaaaaa-bbbb-4ccc-8ddd-fa4e00000001",
    "TWILIO_ACCOUNT_SID": "AC" + "fa4e" + "0" * 28,
    "TWILIO_AUTH_TOKEN": "fake-token",
}
SECRETS = ("VONAGE_API_SECRET", "TWILIO_AUTH_TOKEN")

# Country calling codes Number Insight knows (longest prefix wins):
# code -> (ISO 3166 alpha-2, alpha-3, name).
COUNTRIES = {code: (iso2, iso3, name) for code, iso2, iso3, name in (line.split(None, 3) for line in """
1   US USA United States of America
44  GB GBR United Kingdom
33  FR FRA France
49  DE DEU Germany
34  ES ESP Spain
39  IT ITA Italy
31  NL NLD Netherlands
353 IE IRL Ireland
61  AU AUS Australia
64  NZ NZL New Zealand
81  JP JPN Japan
91  IN IND India
""".strip().splitlines())}

TWILIO_DOCS = "https://www.twilio.com/docs/errors/"


def setting(name: str) -> str:
    return (os.environ.get(name) or "").strip() or DEFAULTS[name]


def now_rfc2822() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


def hex32() -> str:
    return uuid.uuid4().hex


class State:
    """Both accounts, what is on sale, and every text sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.vonage_key = setting("VONAGE_API_KEY")
        self.vonage_secret = setting("VONAGE_API_SECRET")
        self.vonage_app = setting("VONAGE_APPLICATION_ID")
        self.twilio_sid = setting("TWILIO_ACCOUNT_SID")
        self.twilio_token = setting("TWILIO_AUTH_TOKEN")
        # Vonage: msisdn (digits) -> country, on sale and owned.
        self.vonage_stock = {}
        for country, prefix in (("GB", "4477009001"), ("US", "155512301")):
            for n in range(1, 21):
                self.vonage_stock[f"{prefix}{n:02d}"] = country
        self.vonage_owned = {}
        self._vonage_own("447700900190", "GB", self.vonage_app)
        # Twilio: +E.164 -> (country, kind) on sale; owned by sid.
        self.twilio_stock = {}
        for country, kind, prefix in (("US", "Local", "+155512302"), ("GB", "Mobile", "+4477009002")):
            for n in range(1, 21):
                self.twilio_stock[f"{prefix}{n:02d}"] = (country, kind)
        self.twilio_owned = {}
        for number in ("+15551230801", "+15551230802"):
            self._twilio_own(number, "US", {})
        self.sms = []
        # Twilio: RecordingSid -> {"audio": bytes, "deleted": bool}.
        self.recordings = {}

    def _vonage_own(self, msisdn, country, app_id):
        rec = {"country": country, "msisdn": msisdn, "type": "mobile-lvn", "features": ["VOICE", "SMS"]}
        if app_id:
            rec.update(app_id=app_id, voiceCallbackType="app", voiceCallbackValue=app_id,
                       messagesCallbackType="app", messagesCallbackValue=app_id)
        self.vonage_owned[msisdn] = rec
        return rec

    def _twilio_own(self, number, country, form):
        sid = "PN" + hex32()
        now = now_rfc2822()
        rec = {
            "sid": sid,
            "account_sid": self.twilio_sid,
            "friendly_name": form.get("FriendlyName") or friendly(number),
            "phone_number": number,
            "iso_country": country,
            "voice_url": form.get("VoiceUrl"),
            "voice_method": form.get("VoiceMethod") or "POST",
            "voice_fallback_url": form.get("VoiceFallbackUrl"),
            "status_callback": form.get("StatusCallback"),
            "status_callback_method": form.get("StatusCallbackMethod") or "POST",
            "sms_url": form.get("SmsUrl"),
            "sms_method": form.get("SmsMethod") or "POST",
            "sms_fallback_url": form.get("SmsFallbackUrl"),
            "capabilities": {"voice": True, "sms": True, "mms": country == "US", "fax": False},
            "status": "in-use",
            "origin": "twilio",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.twilio_sid}/IncomingPhoneNumbers/{sid}.json",
        }
        self.twilio_owned[sid] = rec
        return rec


def friendly(number: str) -> str:
    d = number.lstrip("+")
    if d.startswith("1") and len(d) == 11:
        return f"({d[1:4]}) {d[4:7]}-{d[7:]}"
    return number


def country_of(digits: str):
    for n in (3, 2, 1):
        if digits[:n] in COUNTRIES:
            return digits[:n], COUNTRIES[digits[:n]]
    return None, None


def national_format(prefix: str, digits: str) -> str:
    rest = digits[len(prefix):]
    if prefix == "1" and len(rest) == 10:
        return f"({rest[:3]}) {rest[3:6]}-{rest[6:]}"
    if prefix == "44" and len(rest) == 10:
        return f"0{rest[:4]} {rest[4:]}"
    return "0" + rest


def sms_parts(text: str) -> int:
    """Parts of a text as the SMS API splits it: 160 GSM characters (153
    when concatenated), 70 (67) for Unicode."""
    unicode_text = any(ord(c) > 0x7F for c in text)
    single, multi = (70, 67) if unicode_text else (160, 153)
    return 1 if len(text) <= single else math.ceil(len(text) / multi)


class Reply(Exception):
    """An answer: status, body (JSON-able, or bytes sent as they are with
    the Content-Type in `headers`; None: no body), extra headers."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def vonage_numbers_error(status, code, label):
    return Reply(status, {"error-code": code, "error-code-label": label})


def twilio_error(status, code, message):
    return Reply(status, {"code": code, "message": message, "more_info": f"{TWILIO_DOCS}{code}", "status": status})


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-providers/1"
    protocol_version = "HTTP/1.1"
    state: State = None  # set in main

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
            self.route(method, url.path)
            reply = Reply(404, {"error": "not found"})
        except Reply as r:
            reply = r
        except Exception as e:  # a bug here must not look like a provider answer
            reply = Reply(500, {"error": f"fake_providers.py: {type(e).__name__}: {e}"})
        self.respond(method, url, reply)

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

    # -- Vonage ------------------------------------------------------------

    def vonage_authed(self, p: dict) -> bool:
        s = self.state
        if p.get("api_key") == s.vonage_key and p.get("api_secret") == s.vonage_secret:
            return True
        return self.basic_auth() == (s.vonage_key, s.vonage_secret)

    def vonage_numbers_auth(self) -> dict:
        p = self.params()
        if not self.vonage_authed(p):
            raise vonage_numbers_error(401, "401", "authentication failed")
        return p

    def vonage_search(self):
        p = self.vonage_numbers_auth()
        country = (p.get("country") or "").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise vonage_numbers_error(420, "420", "method failed: country is required (ISO 3166-1 alpha-2)")
        wanted = {f.strip().upper() for f in (p.get("features") or "").split(",") if f.strip()}
        size = bounded(p.get("size"), 10, 1, 100)
        index = bounded(p.get("index"), 1, 1, 10_000)
        pattern = p.get("pattern") or ""
        how = p.get("search_pattern") or "0"
        s = self.state
        with s.lock:
            found = []
            for msisdn, c in sorted(s.vonage_stock.items()):
                if c != country or msisdn in s.vonage_owned:
                    continue
                if wanted - {"VOICE", "SMS"}:
                    continue
                if pattern and not matches(msisdn, pattern, how):
                    continue
                found.append(msisdn)
        page = found[(index - 1) * size:index * size]
        if not found:
            raise Reply(200, {"count": 0})
        raise Reply(200, {"count": len(found), "numbers": [
            {"country": country, "msisdn": m, "type": "mobile-lvn", "cost": "1.25", "features": ["VOICE", "SMS"]}
            for m in page]})

    def vonage_numbers_call(self, action):
        p = self.vonage_numbers_auth()
        country = (p.get("country") or "").upper()
        msisdn = p.get("msisdn") or ""
        if not country or not msisdn:
            raise vonage_numbers_error(420, "420", "method failed: country and msisdn are required")
        s = self.state
        with s.lock:
            if action == "buy":
                if s.vonage_stock.get(msisdn) != country or msisdn in s.vonage_owned:
                    raise vonage_numbers_error(420, "420", "method failed")
                s._vonage_own(msisdn, country, None)
            else:
                rec = s.vonage_owned.get(msisdn)
                if rec is None or rec["country"] != country:
                    raise vonage_numbers_error(420, "420", "method failed")
                if action == "cancel":
                    del s.vonage_owned[msisdn]
                else:
                    app = p.get("app_id")
                    if app:
                        rec.update(app_id=app, voiceCallbackType="app", voiceCallbackValue=app,
                                   messagesCallbackType="app", messagesCallbackValue=app)
                    for k in ("moHttpUrl", "moSmppSysType", "voiceCallbackType", "voiceCallbackValue",
                              "voiceStatusCallback"):
                        if p.get(k):
                            rec[k] = p[k]
        raise Reply(200, {"error-code": "200", "error-code-label": "success"})

    def vonage_owned(self):
        p = self.vonage_numbers_auth()
        size = bounded(p.get("size"), 10, 1, 100)
        index = bounded(p.get("index"), 1, 1, 10_000)
        country = (p.get("country") or "").upper()
        pattern, how = p.get("pattern") or "", p.get("search_pattern") or "0"
        app = p.get("application_id")
        s = self.state
        with s.lock:
            owned = [dict(n) for _, n in sorted(s.vonage_owned.items())
                     if (not country or n["country"] == country)
                     and (not pattern or matches(n["msisdn"], pattern, how))
                     and (not app or n.get("app_id") == app)]
        if not owned:
            raise Reply(200, {"count": 0})
        raise Reply(200, {"count": len(owned), "numbers": owned[(index - 1) * size:index * size]})

    def vonage_sms(self):
        p = self.params()
        if not self.vonage_authed(p):
            # The SMS API answers HTTP 200 and says so in the part's status.
            raise Reply(200, {"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]})
        for field in ("from", "to", "text"):
            if not p.get(field):
                raise Reply(200, {"message-count": "1",
                                  "messages": [{"status": "2", "error-text": f"Missing {field} param"}]})
        to = p["to"].lstrip("+")
        if not to.isdigit() or not 7 <= len(to) <= 15:
            raise Reply(200, {"message-count": "1", "messages": [{"status": "3", "error-text": "Invalid to param"}]})
        parts = sms_parts(p["text"])
        with self.state.lock:
            self.state.sms.append({"provider": "vonage", "from": p["from"], "to": to, "text": p["text"]})
        raise Reply(200, {"message-count": str(parts), "messages": [
            {"to": to, "message-id": uuid.uuid4().hex[:16].upper(), "status": "0",
             "remaining-balance": "10.00", "message-price": "0.04", "network": "23410"}
            for _ in range(parts)]})

    def vonage_insight(self):
        p = self.params()
        if not self.vonage_authed(p):
            raise Reply(401, {"type": "https://developer.nexmo.com/api-errors#unauthorized",
                              "title": "Unauthorized",
                              "detail": "You did not provide correct credentials.",
                              "instance": str(uuid.uuid4())})
        number = (p.get("number") or "").strip()
        request_id = str(uuid.uuid4())
        digits = number[1:] if number.startswith("+") else number
        prefix, country = country_of(digits) if digits.isdigit() else (None, None)
        if not digits.isdigit() or not 7 <= len(digits) <= 15 or country is None:
            raise Reply(200, {"status": 3, "status_message": "Invalid request :: Invalid number", "request_id": request_id})
        iso2, iso3, name = country
        raise Reply(200, {
            "status": 0,
            "status_message": "Success",
            "request_id": request_id,
            "international_format_number": digits,
            "national_format_number": national_format(prefix, digits),
            "country_code": iso2,
            "country_code_iso3": iso3,
            "country_name": name,
            "country_prefix": prefix,
        })

    # -- Twilio ------------------------------------------------------------

    def twilio(self, method, path):
        s = self.state
        m = re.fullmatch(r"/2010-04-01/Accounts/([A-Za-z0-9]+)(/.*)?", path)
        if not m:
            raise twilio_error(404, 20404, f"The requested resource {path} was not found")
        if self.basic_auth() != (s.twilio_sid, s.twilio_token) or m.group(1) != s.twilio_sid:
            raise Reply(401, {"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.",
                              "message": "Authenticate", "more_info": f"{TWILIO_DOCS}20003", "status": 401},
                        {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        rest = m.group(2) or ""
        not_found = twilio_error(404, 20404, f"The requested resource {path} was not found")
        if rest in ("", ".json") and method == "GET":
            raise Reply(200, {"sid": s.twilio_sid, "friendly_name": "callmask fake", "status": "active",
                              "type": "Full", "uri": f"/2010-04-01/Accounts/{s.twilio_sid}.json"})
        if a := re.fullmatch(r"/AvailablePhoneNumbers/([A-Za-z]{2})/(Local|Mobile|TollFree)\.json", rest):
            if method != "GET":
                raise twilio_error(405, 20004, "Method not allowed")
            self.twilio_available(path, a.group(1).upper(), a.group(2))
        if rest == "/IncomingPhoneNumbers.json":
            if method == "GET":
                self.twilio_owned_page()
            if method == "POST":
                self.twilio_buy()
            raise twilio_error(405, 20004, "Method not allowed")
        if n := re.fullmatch(r"/IncomingPhoneNumbers/(PN[0-9a-f]{32})\.json", rest):
            self.twilio_number(method, n.group(1), not_found)
        if r := re.fullmatch(r"/Recordings/(RE[A-Za-z0-9]{1,64})(\.wav|\.json)?", rest):
            self.twilio_recording(method, r.group(1), r.group(2) or "", not_found)
        if rest == "/Messages.json":
            if method == "POST":
                self.twilio_message()
            if method == "GET":
                with s.lock:
                    sent = [m for m in s.sms if m["provider"] == "twilio"]
                raise Reply(200, {"messages": [{"from": m["from"], "to": m["to"], "body": m["text"]} for m in sent]})
            raise twilio_error(405, 20004, "Method not allowed")
        raise not_found

    def twilio_available(self, path, country, kind):
        s = self.state
        with s.lock:
            sells = {k for (c, k) in s.twilio_stock.values() if c == country}
            if kind not in sells:
                raise twilio_error(404, 20404, f"The requested resource {path} was not found")
            owned = {n["phone_number"] for n in s.twilio_owned.values()}
            found = [num for num, (c, k) in sorted(s.twilio_stock.items())
                     if c == country and k == kind and num not in owned]
        q = {k: v[0] for k, v in self.query.items()}
        if q.get("MmsEnabled", "").lower() == "true" and country != "US":
            found = []
        contains = q.get("Contains") or ""
        if contains:
            found = [n for n in found if contains.replace("*", "") in n]
        area = q.get("AreaCode") or ""
        if area:
            found = [n for n in found if n.startswith("+1" + area)]
        size = bounded(q.get("PageSize"), 50, 1, 1000)
        raise Reply(200, {
            "available_phone_numbers": [{
                "friendly_name": friendly(n), "phone_number": n, "lata": None, "locality": None,
                "rate_center": None, "latitude": None, "longitude": None, "region": None,
                "postal_code": None, "iso_country": country, "address_requirements": "none", "beta": False,
                "capabilities": {"voice": True, "SMS": True, "MMS": country == "US"},
            } for n in found[:size]],
            "uri": path + ("?" + urllib.parse.urlencode(q) if q else ""),
        })

    def twilio_owned_page(self):
        s = self.state
        q = {k: v[0] for k, v in self.query.items()}
        size = bounded(q.get("PageSize"), 50, 1, 1000)
        page = bounded(q.get("Page"), 0, 0, 1_000_000)
        with s.lock:
            owned = list(s.twilio_owned.values())  # oldest first, as Twilio lists them
            if q.get("PhoneNumber"):
                owned = [n for n in owned if n["phone_number"] == q["PhoneNumber"]]
            chunk = [dict(n) for n in owned[page * size:(page + 1) * size]]
        base = f"/2010-04-01/Accounts/{s.twilio_sid}/IncomingPhoneNumbers.json"
        more = (page + 1) * size < len(owned)
        raise Reply(200, {
            "incoming_phone_numbers": chunk,
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0),
            "uri": f"{base}?PageSize={size}&Page={page}",
            "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}&PageToken=PB{page}" if page else None,
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}&PageToken=PA{page + 1}" if more else None,
        })

    def twilio_buy(self):
        s = self.state
        form = self.form()
        number = form.get("PhoneNumber") or ""
        if not number and not form.get("AreaCode"):
            raise twilio_error(400, 21450, "Phone number or area code is required.")
        with s.lock:
            owned = {n["phone_number"] for n in s.twilio_owned.values()}
            if not number:
                area = "+1" + form["AreaCode"]
                number = next((n for n, (c, _) in sorted(s.twilio_stock.items())
                               if n.startswith(area) and n not in owned), "")
            stock = s.twilio_stock.get(number)
            if stock is None or number in owned:
                raise twilio_error(400, 21422, "PhoneNumber requested is not available")
            rec = s._twilio_own(number, stock[0], form)
        raise Reply(201, dict(rec))

    def twilio_number(self, method, sid, not_found):
        s = self.state
        with s.lock:
            rec = s.twilio_owned.get(sid)
            if rec is None:
                raise not_found
            if method == "GET":
                raise Reply(200, dict(rec))
            if method == "DELETE":
                del s.twilio_owned[sid]
                raise Reply(204)
            if method == "POST":
                fields = {"FriendlyName": "friendly_name", "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
                          "VoiceFallbackUrl": "voice_fallback_url", "StatusCallback": "status_callback",
                          "StatusCallbackMethod": "status_callback_method", "SmsUrl": "sms_url",
                          "SmsMethod": "sms_method", "SmsFallbackUrl": "sms_fallback_url"}
                for k, v in self.form().items():
                    if k in fields:
                        rec[fields[k]] = v
                rec["date_updated"] = now_rfc2822()
                raise Reply(200, dict(rec))
        raise twilio_error(405, 20004, "Method not allowed")

    def twilio_recording(self, method, sid, ext, not_found):
        """The audio (no extension or .wav) as the worker downloads it;
        DELETE on .json removes it, as the worker does with
        DELETE_PROVIDER_RECORDINGS."""
        s = self.state
        with s.lock:
            rec = s.recordings.get(sid)
            if rec is None or rec["deleted"]:
                raise not_found
            if method == "GET" and ext != ".json":
                raise Reply(200, rec["audio"], {"Content-Type": "audio/x-wav"})
            if method == "DELETE":
                rec["deleted"] = True
                raise Reply(204)
        raise twilio_error(405, 20004, "Method not allowed")

    def twilio_message(self):
        s = self.state
        form = self.form()
        to, sender, body = form.get("To") or "", form.get("From") or "", form.get("Body")
        if not to:
            raise twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not form.get("MessagingServiceSid"):
            raise twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl"):
            raise twilio_error(400, 21602, "Message body is required.")
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", to):
            raise twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if len(body or "") > 1600:
            raise twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        with s.lock:
            if sender not in {n["phone_number"] for n in s.twilio_owned.values()}:
                raise twilio_error(400, 21606, f"The From phone number {sender} is not a valid, SMS-capable "
                                               "inbound phone number or short code for your account.")
            s.sms.append({"provider": "twilio", "from": sender, "to": to, "text": body or ""})
        sid = "SM" + hex32()
        now = now_rfc2822()
        raise Reply(201, {
            "sid": sid, "account_sid": s.twilio_sid, "to": to, "from": sender, "body": body,
            "status": "queued", "direction": "outbound-api", "num_segments": str(sms_parts(body or "")),
            "num_media": "0", "price": None, "price_unit": "USD", "error_code": None, "error_message": None,
            "api_version": "2010-04-01", "date_created": now, "date_updated": now, "date_sent": None,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "uri": f"/2010-04-01/Accounts/{s.twilio_sid}/Messages/{sid}.json",
        })


def mask_numbers(line: str) -> str:
    """Runs of seven or more digits (after `+` or `%2B`, or bare) keep their
    last four: a log line never holds a phone number whole."""
    return re.sub(r"(?<![A-Za-z0-9])(\+|%2B)?\d{3,}(\d{4})(?!\d)", r"\1***\2", line)


def bounded(raw, default, lo, hi) -> int:
    try:
        return min(max(int(raw), lo), hi)
    except (TypeError, ValueError):
        return default


def matches(msisdn: str, pattern: str, how: str) -> bool:
    """Vonage's search_pattern: 0 starts with, 1 anywhere, 2 ends with."""
    return {"0": msisdn.startswith, "2": msisdn.endswith}.get(how, msisdn.__contains__)(pattern)


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
