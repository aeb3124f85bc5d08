"""The fake Twilio REST API (numbers, messages, recordings), as a mixin of
scripts/fake_providers.py's request handler."""
import re
import urllib.parse

from fake_common import (
    TWILIO_DOCS, Reply, bounded, friendly, hex32, now_rfc2822, sms_parts, twilio_error,
)


class TwilioApi:
    """Twilio's routes; `self` is the request handler."""

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
