"""The fake Vonage REST API (numbers, SMS, Number Insight Basic), as a
mixin of scripts/fake_providers.py's request handler."""
import re
import uuid

from fake_common import (
    Reply, as_gsm, bounded, country_of, matches, national_format, sms_parts, vonage_numbers_error,
)


class VonageApi:
    """Vonage's routes; `self` is the request handler."""

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
        # `type`: `text` (GSM-7, the default) or `unicode`; sent as `text`,
        # a character outside GSM 03.38 reaches the handset as `?`, and
        # that is what is recorded.
        kind = p.get("type") or "text"
        if kind not in ("text", "unicode"):
            raise Reply(200, {"message-count": "1", "messages": [
                {"status": "3", "error-text": "Invalid type param"}]})
        unicode_text = kind == "unicode"
        delivered = p["text"] if unicode_text else as_gsm(p["text"])
        parts = sms_parts(p["text"], unicode_text)
        with self.state.lock:
            self.state.sms.append({"provider": "vonage", "from": p["from"], "to": to, "text": delivered})
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
