"""What the fake providers share: their credentials, their state (both
accounts, what is on sale, every text sent), the numbering helpers and the
answer type. scripts/fake_providers.py serves them."""
import math
import os
import re
import threading
import time
import uuid


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
        # One points at this deployment (as callmask names its URLs:
        # PUBLIC_BASE_URL, else the router on PORT), so an import adds it;
        # the other at an old application, so an import leaves it out.
        base = (os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}").rstrip("/")
        self._twilio_own("+15551230801", "US", {"VoiceUrl": f"{base}/twilio/voice", "SmsUrl": f"{base}/twilio/sms",
                                                "StatusCallback": f"{base}/twilio/status"})
        self._twilio_own("+15551230802", "US", {"VoiceUrl": "https://old-proxy.example.com/voice",
                                                "SmsUrl": "https://old-proxy.example.com/sms"})
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
