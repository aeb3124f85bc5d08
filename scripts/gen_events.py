#!/usr/bin/env python3
"""Writes events/<function>/<case>.json (API Gateway HTTP API, payload 2.0,
as `sam local invoke -e` and `cargo lambda invoke --data-file` take them)
and events/expectations.json, which the handler test checks every file
against. The test seeds a table first: Vonage numbers +447700900001/2, the
open session SESSION between +447700900100 and +447700900200, a second one
between +447700900100 and +447700900500, Twilio numbers +15551230008/9, a
masked line on +15551230009 and one admitted call on it (CALL), and an
audio recording of 10 s for the call VONAGE_ANSWER['uuid'].

Run from the repository root: python3 scripts/gen_events.py
"""
import base64
import json
import os
import urllib.parse

SESSION = "5e55104d5e55104d5e55104d5e55104d"
DEFAULT_SERVICE = "KS00000000000000000000000000000000"
HOST = "abc123defg.execute-api.eu-west-2.amazonaws.com"
VONAGE_ANSWER = {"to": "447700900001", "from": "447700900100",
                 "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356",
                 "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}


def form(params):
    """A Twilio webhook body as API Gateway (HTTP API) delivers it: base64."""
    return base64.b64encode(urllib.parse.urlencode(params).encode()).decode()


def event(method, path, route, body=None, query=None, path_params=None, content_type="application/json", b64=False):
    raw_query = urllib.parse.urlencode(query or {})
    headers = {"host": HOST, "user-agent": "callmask-events", "x-forwarded-proto": "https",
               "x-forwarded-for": "203.0.113.10", "x-forwarded-port": "443"}
    if body is not None:
        headers["content-type"] = content_type
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": HOST,
            "domainPrefix": "abc123defg",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "callmask-events"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "22/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795334400000,
        },
        "isBase64Encoded": False,
    }
    if query:
        e["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    if path_params:
        e["pathParameters"] = path_params
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
        e["isBase64Encoded"] = b64
    return e


def twilio(path, params, query=None):
    return event("POST", path, path, form(params), query=query, content_type="application/x-www-form-urlencoded", b64=True)


ACCOUNT = "AC00000000000000000000000000000001"
CALL = "CA00000000000000000000000000000001"
LINE = "+15551230009"
LINE_ENC = "%2B15551230009"
LINE_BODY = {"owner": {"phone": "+15551230001", "email": "owner@example.com"}, "dial_timeout_seconds": 15,
             "caller_id": "caller", "voicemail": {"enabled": True, "max_length_seconds": 60, "transcribe": False,
                                                  "greeting": "Please leave a message after the beep."},
             "language": "en-US", "plan": {"active": True, "calls_per_period": 100, "period": "month"}}
VOICE = {"CallSid": CALL, "AccountSid": ACCOUNT, "From": "+15551230002", "To": LINE, "CallStatus": "ringing",
         "Direction": "inbound", "ApiVersion": "2010-04-01"}
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE00000000000000000000000000000001"
RECORDING = {"AccountSid": ACCOUNT, "CallSid": CALL, "RecordingSid": "RE00000000000000000000000000000001",
             "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed", "RecordingDuration": "12",
             "RecordingChannels": "1", "RecordingSource": "RecordVerb"}

SMS = {"MessageSid": "SM00000000000000000000000000000001", "SmsSid": "SM00000000000000000000000000000001",
       "AccountSid": ACCOUNT, "MessagingServiceSid": "", "From": "+15551230002", "To": LINE,
       "Body": "Are you open today?", "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
VONAGE_SMS = {"msisdn": "447700900100", "to": "447700900001", "messageId": "0A0000000123ABCD1",
              "text": "I'm outside", "type": "text", "keyword": "I'M", "api-key": "abcd1234",
              "message-timestamp": "2026-11-22 08:00:00"}


CASES = {
    # function/case: (event, expected status, strings the body must contain, strings it must not)
    "numbers/list": (event("GET", "/numbers", "/numbers"), 200, ["+447700900001", "active_sessions"], []),
    "numbers/create": (event("POST", "/numbers", "/numbers", {"number": "+447700900003", "provider": "vonage"}),
                       201, ['"country":"GB"', '"number":"+447700900003"'], []),
    "numbers/create-duplicate": (event("POST", "/numbers", "/numbers", {"number": "+447700900001", "provider": "vonage"}),
                                 409, ["number_exists"], []),
    "numbers/create-invalid-number": (event("POST", "/numbers", "/numbers", {"number": "not-a-number", "provider": "vonage"}),
                                      400, ["invalid_number"], []),
    "numbers/create-bad-provider": (event("POST", "/numbers", "/numbers", {"number": "+447700900004", "provider": "acme"}),
                                    400, ["invalid_provider"], []),
    "numbers/create-malformed-json": (event("POST", "/numbers", "/numbers", '{"number": '), 400, ["invalid_json"], []),
    "numbers/show": (event("GET", "/numbers/%2B447700900001", "/numbers/{number}", path_params={"number": "+447700900001"}),
                     200, ['"active_sessions":2'], []),
    "numbers/delete-in-use": (event("DELETE", "/numbers/%2B447700900001", "/numbers/{number}", path_params={"number": "+447700900001"}),
                              409, ["number_in_use"], []),
    "numbers/delete-unknown": (event("DELETE", "/numbers/%2B447700900099", "/numbers/{number}", path_params={"number": "+447700900099"}),
                               404, ["not_found"], []),
    "numbers/wrong-method": (event("PUT", "/numbers", "/numbers", {}), 405, ["method_not_allowed"], []),
    # Provisioning, import and release need the provider's credentials
    # (VONAGE_API_KEY/VONAGE_API_SECRET_ID, TWILIO_ACCOUNT_SID/auth token); the
    # events' seeded table has none, so those answer 501 and change nothing.
    "numbers/provision": (event("POST", "/numbers/provision", "/numbers/provision",
                                {"provider": "twilio", "country": "US", "count": 3, "features": ["voice", "sms"]}),
                          501, ["provider_not_configured", "TWILIO_ACCOUNT_SID"], []),
    "numbers/provision-bad-count": (event("POST", "/numbers/provision", "/numbers/provision",
                                          {"provider": "vonage", "country": "GB", "count": 51}), 400, ["invalid_count"], []),
    "numbers/provision-bad-country": (event("POST", "/numbers/provision", "/numbers/provision",
                                            {"provider": "vonage", "country": "XX", "count": 1}), 400, ["invalid_country"], []),
    "numbers/provision-bad-features": (event("POST", "/numbers/provision", "/numbers/provision",
                                             {"provider": "vonage", "country": "GB", "features": ["fax"]}), 400, ["invalid_features"], []),
    "numbers/import": (event("POST", "/numbers/import", "/numbers/import", {"provider": "vonage"}),
                       501, ["provider_not_configured", "VONAGE_API_KEY"], []),
    "numbers/import-missing-provider": (event("POST", "/numbers/import", "/numbers/import", {}), 400, ["missing_provider"], []),
    "numbers/release": (event("DELETE", "/numbers/%2B15551230008", "/numbers/{number}", query={"release": "true"},
                              path_params={"number": "+15551230008"}), 501, ["provider_not_configured"], []),
    "numbers/release-in-use": (event("DELETE", "/numbers/%2B447700900001", "/numbers/{number}", query={"release": "true"},
                                     path_params={"number": "+447700900001"}), 409, ["number_in_use"], []),
    "sessions/create": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "+447700900400"], "ttl_seconds": 3600}),
                        201, ['"status":"open"', "proxy_number"], []),
    "sessions/create-identical": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "00447700900300"]}),
                                  400, ["identical_participants"], []),
    "sessions/create-invalid-number": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "hello"]}),
                                       400, ["invalid_number", "participant 2"], []),
    "sessions/create-one-participant": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300"]}),
                                        400, ["invalid_participants"], []),
    "sessions/create-bad-ttl": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "+447700900400"], "ttl_seconds": -5}),
                                400, ["invalid_ttl"], []),
    # Twilio Proxy's settings: a sliding ttl, a mode, a unique name.
    "sessions/create-sliding": (event("POST", "/sessions", "/sessions",
                                      {"participants": ["+447700900300", "+447700900400"], "ttl": 900,
                                       "mode": "message-only", "unique_name": "order-1042"}),
                                201, ['"ttl":900', '"mode":"message-only"', '"unique_name":"order-1042"'], []),
    # The seed has +447700900100 in two sessions already, one per Vonage number.
    "sessions/create-pool-exhausted": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900100", "+447700900400"]}),
                                       409, ["pool_exhausted", "GB"], []),
    "sessions/create-malformed-json": (event("POST", "/sessions", "/sessions", "{participants"), 400, ["invalid_json"], []),
    "sessions/get": (event("GET", f"/sessions/{SESSION}", "/sessions/{id}", path_params={"id": SESSION}),
                     200, ['"status":"open"', "+447700900002"], []),
    "sessions/get-unknown": (event("GET", "/sessions/0000aaaa", "/sessions/{id}", path_params={"id": "0000aaaa"}), 404, ["not_found"], []),
    "sessions/calls": (event("GET", f"/sessions/{SESSION}/calls", "/sessions/{id}/calls", path_params={"id": SESSION}),
                       200, ['"calls"'], []),
    "sessions/delete": (event("DELETE", f"/sessions/{SESSION}", "/sessions/{id}", path_params={"id": SESSION}), 204, [], []),
    "sessions/create-labels": (event("POST", "/sessions", "/sessions",
                                     {"participants": [{"number": "+447700900300", "label": "your driver"},
                                                       {"number": "+447700900400", "label": "your rider"}]}),
                               201, ['"label":"your driver"', '"proxy_number"'], []),
    "sessions/create-notify": (event("POST", "/sessions", "/sessions",
                                     {"participants": ["+447700900300", "+447700900400"], "notify": True}),
                               201, ['"notifications"', '"status":"failed"'], ["Call or text"]),
    "sessions/create-bad-label": (event("POST", "/sessions", "/sessions",
                                        {"participants": [{"number": "+447700900300", "label": 7}, "+447700900400"]}),
                                  400, ["invalid_label"], []),
    "sessions/messages": (event("GET", f"/sessions/{SESSION}/messages", "/sessions/{id}/messages", path_params={"id": SESSION}),
                          200, ['"messages"'], []),
    # GET /sessions: every session newest first, a page at a time, by status and participant.
    "sessions/list": (event("GET", "/sessions", "/sessions"), 200, ['"sessions"', f'"id":"{SESSION}"', '"next":null'], []),
    "sessions/list-filtered": (event("GET", "/sessions", "/sessions",
                                     query={"status": "open", "participant": "+447700900100", "limit": "1"}),
                               200, ['"sessions"', '"status":"open"', "+447700900100", '"next":"'], ['"closed_reason"']),
    "sessions/list-bad-status": (event("GET", "/sessions", "/sessions", query={"status": "expired"}), 400, ["invalid_status"], []),
    # A `next` forged from a table key, not one a page handed out.
    "sessions/list-bad-next": (event("GET", "/sessions", "/sessions",
                                     query={"next": base64.urlsafe_b64encode(b'{"pk":"NUM#+447700900001","sk":"META"}').decode().rstrip("=")}),
                               400, ["invalid_next"], []),
    # GET /calls/{id} (the sessions function): the seeded line call, by its CallSid.
    "sessions/call": (event("GET", f"/calls/{CALL}", "/calls/{id}", path_params={"id": CALL}),
                      200, [f'"call_id":"{CALL}"', '"provider":"twilio"', '"number":"+15551230009"', '"caller":"+15551230002"'], []),
    "sessions/call-unknown": (event("GET", "/calls/CA000000000000000000000000000000ff", "/calls/{id}",
                                    path_params={"id": "CA000000000000000000000000000000ff"}), 404, ["not_found"], []),
    "sessions/call-invalid": (event("GET", "/calls/a%20b", "/calls/{id}", path_params={"id": "a b"}), 404, ["not_found"], []),
    "sessions/wrong-method": (event("PUT", f"/sessions/{SESSION}", "/sessions/{id}", {}, path_params={"id": SESSION}),
                              405, ["method_not_allowed"], []),
    # PATCH (or POST) /sessions/{id}: a sliding TTL, a fixed end, a mode, or closed.
    "sessions/update": (event("PATCH", f"/sessions/{SESSION}", "/sessions/{id}", {"ttl": 600, "mode": "voice-only"},
                              path_params={"id": SESSION}), 200, ['"ttl":600', '"mode":"voice-only"'], []),
    "sessions/update-close": (event("POST", f"/sessions/{SESSION}", "/sessions/{id}", {"status": "closed"},
                                    path_params={"id": SESSION}), 200, ['"status":"closed"', '"closed_reason":"closed"'], []),
    "sessions/update-invalid": (event("PATCH", f"/sessions/{SESSION}", "/sessions/{id}", {"status": "open"},
                                      path_params={"id": SESSION}), 400, ["invalid_status"], []),
    # /services (the sessions function): the seed has only the default service, not yet stored.
    "sessions/service-create": (event("POST", "/services", "/services", {"unique_name": "rides", "default_ttl": 1800}),
                                201, ['"unique_name":"rides"', '"sid":"KS', '"default_ttl":1800', '"numbers":0'], []),
    "sessions/service-create-invalid": (event("POST", "/services", "/services", {"unique_name": "a/b"}),
                                        400, ["invalid_unique_name", '"field":"unique_name"'], []),
    "sessions/service-list": (event("GET", "/services", "/services"),
                              200, ['"services"', f'"sid":"{DEFAULT_SERVICE}"', '"next":null'], []),
    "sessions/service-get": (event("GET", "/services/default", "/services/{id}", path_params={"id": "default"}),
                             200, ['"unique_name":"default"', '"default_ttl":3600'], []),
    "sessions/service-get-unknown": (event("GET", "/services/nope", "/services/{id}", path_params={"id": "nope"}),
                                     404, ["not_found"], []),
    "sessions/service-update": (event("POST", f"/services/{DEFAULT_SERVICE}", "/services/{id}", {"cool_off_seconds": 30},
                                      path_params={"id": DEFAULT_SERVICE}), 200, ['"cool_off_seconds":30'], []),
    "sessions/service-delete-default": (event("DELETE", f"/services/{DEFAULT_SERVICE}", "/services/{id}",
                                              path_params={"id": DEFAULT_SERVICE}), 409, ["default_service"], []),
    "sessions/service-numbers": (event("GET", "/services/default/numbers", "/services/{id}/numbers",
                                       path_params={"id": "default"}), 200, ["+447700900001", '"is_reserved":false'], []),
    "sessions/service-number-add": (event("POST", "/services/default/numbers", "/services/{id}/numbers",
                                          {"number": "+447700900001", "is_reserved": True}, path_params={"id": "default"}),
                                    200, ['"is_reserved":true'], []),
    "sessions/service-number-add-unknown": (event("POST", "/services/default/numbers", "/services/{id}/numbers",
                                                  {"number": "+447700900099"}, path_params={"id": "default"}),
                                            404, ["not_found"], []),
    "sessions/service-number-remove": (event("DELETE", "/services/default/numbers/%2B447700900001",
                                             "/services/{id}/numbers/{number}",
                                             path_params={"id": "default", "number": "+447700900001"}), 204, [], []),
    "vonage-answer/get-routed": (event("GET", "/vonage/answer", "/vonage/answer", query=VONAGE_ANSWER),
                                 200, ['"action":"connect"', '"number":"447700900200"', '"from":"447700900002"',
                                       f"https://{HOST}/vonage/event?session_id={SESSION}"], []),
    "vonage-answer/post-routed": (event("POST", "/vonage/answer", "/vonage/answer", VONAGE_ANSWER),
                                  200, ['"action":"connect"', '"number":"447700900200"'], []),
    "vonage-answer/unknown-caller": (event("GET", "/vonage/answer", "/vonage/answer", query={**VONAGE_ANSWER, "from": "447700900999"}),
                                     200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/missing-params": (event("GET", "/vonage/answer", "/vonage/answer"), 200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/malformed-json": (event("POST", "/vonage/answer", "/vonage/answer", "{{not json"), 200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/wrong-method": (event("DELETE", "/vonage/answer", "/vonage/answer"), 405, ["method_not_allowed"], []),
    "vonage-event/started": (event("POST", "/vonage/event", "/vonage/event",
                                   {"from": "447700900100", "to": "447700900001", "uuid": VONAGE_ANSWER["uuid"],
                                    "conversation_uuid": VONAGE_ANSWER["conversation_uuid"], "status": "started",
                                    "direction": "inbound", "timestamp": "2026-11-22T08:00:00.000Z"}), 200, [], []),
    "vonage-event/completed-session": (event("POST", "/vonage/event", "/vonage/event",
                                             {"from": "447700900002", "to": "447700900200", "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                                              "conversation_uuid": VONAGE_ANSWER["conversation_uuid"], "status": "completed",
                                              "direction": "outbound", "timestamp": "2026-11-22T08:03:00.000Z",
                                              "start_time": "2026-11-22T08:00:05.000Z", "end_time": "2026-11-22T08:03:00.000Z",
                                              "duration": "175", "rate": "0.01", "price": "0.03", "network": "23410"},
                                             query={"session_id": SESSION}), 200, [], []),
    "vonage-event/missing-uuid": (event("POST", "/vonage/event", "/vonage/event", {"status": "answered"}), 400, ["invalid_event"], []),
    "vonage-event/malformed": (event("POST", "/vonage/event", "/vonage/event", "[1,2"), 400, ["invalid_event"], []),
    "vonage-fallback/get-routed": (event("GET", "/vonage/fallback", "/vonage/fallback", query={**VONAGE_ANSWER, "reason": "timeout"}),
                                   200, ['"action":"connect"'], []),
    "vonage-fallback/post-routed": (event("POST", "/vonage/fallback", "/vonage/fallback",
                                          {**VONAGE_ANSWER, "reason": "Connection reset",
                                           "original_request": {"url": "https://example.com/vonage/answer", "type": "answer_url"}}),
                                    200, ['"action":"connect"'], []),
    "vonage-fallback/unknown-caller": (event("POST", "/vonage/fallback", "/vonage/fallback", {**VONAGE_ANSWER, "from": "447700900999"}),
                                       200, ['"action":"talk"'], ['"action":"connect"']),
    "lines/put-create": (event("PUT", "/lines/%2B15551230008", "/lines/{number}", LINE_BODY, path_params={"number": "+15551230008"}),
                         201, ['"number":"+15551230008"', '"usage"'], []),
    "lines/put-update": (event("PUT", f"/lines/{LINE_ENC}", "/lines/{number}", LINE_BODY, path_params={"number": LINE}), 200, ['"owner"'], []),
    "lines/put-invalid": (event("PUT", f"/lines/{LINE_ENC}", "/lines/{number}", {**LINE_BODY, "caller_id": "boss"}, path_params={"number": LINE}),
                          400, ["invalid_line", "caller_id"], []),
    "lines/put-not-in-pool": (event("PUT", "/lines/%2B15551230077", "/lines/{number}", LINE_BODY, path_params={"number": "+15551230077"}),
                              404, ["not_found"], []),
    "lines/put-in-use": (event("PUT", "/lines/%2B447700900001", "/lines/{number}", LINE_BODY, path_params={"number": "+447700900001"}),
                         409, ["number_in_use"], []),
    "lines/get": (event("GET", f"/lines/{LINE_ENC}", "/lines/{number}", path_params={"number": LINE}), 200, ['"plan"', '"calls":1'], []),
    "lines/get-unknown": (event("GET", "/lines/%2B15551230008", "/lines/{number}", path_params={"number": "+15551230008"}), 404, ["not_found"], []),
    "lines/delete": (event("DELETE", f"/lines/{LINE_ENC}", "/lines/{number}", path_params={"number": LINE}), 204, [], []),
    "lines/voicemails": (event("GET", f"/lines/{LINE_ENC}/voicemails", "/lines/{number}/voicemails", path_params={"number": LINE}),
                         200, ['"voicemails"'], []),
    "lines/wrong-method": (event("POST", f"/lines/{LINE_ENC}", "/lines/{number}", {}, path_params={"number": LINE}), 405, ["method_not_allowed"], []),
    "twilio-voice/line-call": (twilio("/twilio/voice", {**VOICE, "CallSid": "CA00000000000000000000000000000002"}), 200,
                               ["<Dial", 'action="https://abc123defg.execute-api.eu-west-2.amazonaws.com/twilio/dial-status"', "<Number>+15551230001</Number>"], []),
    "twilio-voice/unknown-number": (twilio("/twilio/voice", {**VOICE, "To": "+15551239999"}), 200, ["<Say", "<Hangup/>"], ["<Dial"]),
    "twilio-voice/missing-callsid": (twilio("/twilio/voice", {k: v for k, v in VOICE.items() if k != "CallSid"}), 200, ["<Say", "<Hangup/>"], ["<Dial"]),
    "twilio-voice/malformed": (event("POST", "/twilio/voice", "/twilio/voice", "%%%", content_type="application/x-www-form-urlencoded"),
                               200, ["<Say", "<Hangup/>"], ["<Dial"]),
    "twilio-dial-status/no-answer": (twilio("/twilio/dial-status", {**VOICE, "DialCallStatus": "no-answer", "DialCallSid": "CA0000000000000000000000000000000d", "DialCallDuration": "0"}),
                                     200, ["<Record", 'finishOnKey="*"', "recordingStatusCallback=", "Please leave a message"], []),
    "twilio-dial-status/completed": (twilio("/twilio/dial-status", {**VOICE, "DialCallStatus": "completed", "DialCallDuration": "63"}),
                                     200, ["<Hangup/>"], ["<Record"]),
    "twilio-dial-status/unknown-call": (twilio("/twilio/dial-status", {**VOICE, "CallSid": "CA000000000000000000000000000000ff", "DialCallStatus": "busy"}),
                                        200, ["<Say", "<Hangup/>"], ["<Record"]),
    "twilio-dial-status/voicemail-done": (twilio("/twilio/dial-status", {**VOICE, "RecordingUrl": RECORDING_URL, "RecordingDuration": "12", "Digits": "*"},
                                                 query={"voicemail": "done"}), 200, ["Goodbye", "<Hangup/>"], ["<Record"]),
    "twilio-recording/completed": (twilio("/twilio/recording", RECORDING), 200, [], []),
    "twilio-recording/foreign-url": (twilio("/twilio/recording", {**RECORDING, "RecordingUrl": "https://evil.example.com/r.wav"}), 400, ["foreign_recording_url"], []),
    "twilio-recording/missing-fields": (twilio("/twilio/recording", {"CallSid": CALL}), 400, ["invalid_callback"], []),
    "twilio-recording/unknown-call": (twilio("/twilio/recording", {**RECORDING, "CallSid": "CA000000000000000000000000000000ff"}), 404, ["not_found"], []),
    "twilio-transcription/completed": (twilio("/twilio/transcription", {**VOICE, "RecordingSid": RECORDING["RecordingSid"], "RecordingUrl": RECORDING_URL,
                                                                        "TranscriptionSid": "TR00000000000000000000000000000001", "TranscriptionStatus": "completed",
                                                                        "TranscriptionText": "Hi, please call me back.", "TranscriptionUrl": RECORDING_URL + "/Transcriptions"}), 200, [], []),
    "twilio-transcription/missing-recording": (twilio("/twilio/transcription", {**VOICE, "TranscriptionStatus": "completed"}), 400, ["invalid_callback"], []),
    "twilio-status/completed": (twilio("/twilio/status", {**VOICE, "CallStatus": "completed", "CallDuration": "75"}), 200, [], []),
    "twilio-status/missing": (twilio("/twilio/status", {"From": "+15551230002"}), 400, ["invalid_callback"], []),
    "twilio-sms/line-text": (twilio("/twilio/sms", SMS), 200,
                             ['<Message to="+15551230001" from="+15551230009">From +15551230002: Are you open today?</Message>'], []),
    "twilio-sms/unknown-number": (twilio("/twilio/sms", {**SMS, "To": "+15551239999"}), 200, ["<Response></Response>"], ["<Message"]),
    "twilio-sms/missing-sid": (twilio("/twilio/sms", {k: v for k, v in SMS.items() if k != "MessageSid"}), 400, ["invalid_message"], ["<Message"]),
    "twilio-sms/not-a-number": (twilio("/twilio/sms", {**SMS, "From": "hello"}), 400, ["invalid_message"], ["<Message"]),
    "twilio-sms/too-long": (twilio("/twilio/sms", {**SMS, "Body": "x" * 1601}), 413, ["text_too_long"], ["<Message"]),
    "twilio-sms/wrong-method": (event("PUT", "/twilio/sms", "/twilio/sms"), 405, ["method_not_allowed"], []),
    "vonage-inbound-sms/get": (event("GET", "/vonage/inbound-sms", "/vonage/inbound-sms", query=VONAGE_SMS), 200, [], []),
    "vonage-inbound-sms/post-json": (event("POST", "/vonage/inbound-sms", "/vonage/inbound-sms", VONAGE_SMS), 200, [], []),
    "vonage-inbound-sms/post-form": (event("POST", "/vonage/inbound-sms", "/vonage/inbound-sms", urllib.parse.urlencode(VONAGE_SMS),
                                           content_type="application/x-www-form-urlencoded"), 200, [], []),
    "vonage-inbound-sms/unknown-sender": (event("GET", "/vonage/inbound-sms", "/vonage/inbound-sms",
                                                query={**VONAGE_SMS, "msisdn": "447700900999"}), 200, [], []),
    "vonage-inbound-sms/missing-msisdn": (event("GET", "/vonage/inbound-sms", "/vonage/inbound-sms",
                                                query={k: v for k, v in VONAGE_SMS.items() if k != "msisdn"}), 400, ["invalid_message"], []),
    "vonage-inbound-sms/malformed-json": (event("POST", "/vonage/inbound-sms", "/vonage/inbound-sms", "{msisdn"), 400, ["invalid_json"], []),
    "vonage-inbound-sms/wrong-method": (event("DELETE", "/vonage/inbound-sms", "/vonage/inbound-sms"), 405, ["method_not_allowed"], []),
    "vonage-audio-answer/get": (event("GET", "/vonage/audio-answer", "/vonage/audio-answer", query=VONAGE_ANSWER),
                                200, ['"action":"talk"', '"type":"websocket"', '"uri":"ws://127.0.0.1:3001/socket"',
                                      '"content-type":"audio/l16;rate=16000"', f'"call_uuid":"{VONAGE_ANSWER["uuid"]}"',
                                      f'"conversation_uuid":"{VONAGE_ANSWER["conversation_uuid"]}"', '"mode":"echo"',
                                      '"from":"447700900001"', f'"eventUrl":["https://{HOST}/vonage/event"]'],
                                ["447700900100", '"token"']),
    "vonage-audio-answer/post": (event("POST", "/vonage/audio-answer", "/vonage/audio-answer", VONAGE_ANSWER),
                                 200, ['"type":"websocket"', f'"call_uuid":"{VONAGE_ANSWER["uuid"]}"'], ["447700900100"]),
    "vonage-audio-answer/missing-uuid": (event("GET", "/vonage/audio-answer", "/vonage/audio-answer",
                                               query={k: v for k, v in VONAGE_ANSWER.items() if k != "uuid"}),
                                         200, ['"action":"talk"'], ['"websocket"']),
    "vonage-audio-answer/wrong-method": (event("PUT", "/vonage/audio-answer", "/vonage/audio-answer"), 405, ["method_not_allowed"], []),
    "audio-recordings/list": (event("GET", "/audio/recordings", "/audio/recordings"),
                              200, ['"recordings"', f'"call_uuid":"{VONAGE_ANSWER["uuid"]}"', '"recording_link":"http'], []),
    "audio-recordings/list-bad-limit": (event("GET", "/audio/recordings", "/audio/recordings", query={"limit": "1000"}),
                                        400, ["invalid_limit"], []),
    "audio-recordings/get": (event("GET", f"/audio/recordings/{VONAGE_ANSWER['uuid']}", "/audio/recordings/{call_uuid}",
                                   path_params={"call_uuid": VONAGE_ANSWER["uuid"]}),
                             200, [f'"call_uuid":"{VONAGE_ANSWER["uuid"]}"', '"duration_seconds":10.0',
                                   '"recorded_at":"2026-11-22T08:00:10Z"', '"recording_link":"http'], []),
    "audio-recordings/get-unknown": (event("GET", "/audio/recordings/no-such-call", "/audio/recordings/{call_uuid}",
                                           path_params={"call_uuid": "no-such-call"}), 404, ["not_found"], []),
    "audio-recordings/get-invalid": (event("GET", "/audio/recordings/a%20b", "/audio/recordings/{call_uuid}",
                                           path_params={"call_uuid": "a b"}), 400, ["invalid_call_uuid"], []),
    "audio-recordings/wrong-method": (event("DELETE", "/audio/recordings", "/audio/recordings"), 405, ["method_not_allowed"], []),
}

# The voicemail worker's own events (not HTTP): what the template's stream
# and schedule deliver.
def stream_insert(event_id, sequence, pk, status_attribute):
    """A DynamoDB stream INSERT record of a pending item, as the stream
    filter (items with `kick`) hands it to the worker."""
    keys = {"pk": {"S": pk}, "sk": {"S": "META"}}
    return {"Records": [{"eventID": event_id, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                         "awsRegion": "eu-west-2",
                         "dynamodb": {"Keys": keys, "SequenceNumber": sequence, "SizeBytes": 26, "StreamViewType": "NEW_IMAGE",
                                      "NewImage": {**keys, status_attribute: {"S": "pending"}, "kick": {"S": "k"}}},
                         "eventSourceARN": "arn:aws:dynamodb:eu-west-2:123456789012:table/callmask/stream/2026-11-22T00:00:00.000"}]}


WORKER = {
    "voicemail-worker/schedule": ({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
                                   "source": "aws.events", "account": "123456789012", "time": "2026-11-22T08:00:00Z", "region": "eu-west-2",
                                   "resources": ["arn:aws:events:eu-west-2:123456789012:rule/callmask-voicemail-sweep"], "detail": {}},
                                  ['"swept"']),
    "voicemail-worker/stream": (stream_insert("1", "111", "VM#RE000000000000000000000000000000aa", "status"),
                                ['"batchItemFailures":[]']),
    # A text to a line whose owner wants it emailed (queued by twilio-sms).
    "voicemail-worker/stream-line-text": (stream_insert("2", "112", "MSG#SM000000000000000000000000000000bb", "email_status"),
                                          ['"batchItemFailures":[]']),
}


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def main():
    expectations = {}
    # The HTTP cases, then the worker's (every worker event answers 200).
    cases = [(name, *case) for name, case in sorted(CASES.items())]
    cases += [(name, e, 200, contains, []) for name, (e, contains) in sorted(WORKER.items())]
    for name, e, status, contains, absent in cases:
        write_json(os.path.join("events", name + ".json"), e)
        expectations[name + ".json"] = {"status": status, "contains": contains, "absent": absent}
    write_json(os.path.join("events", "expectations.json"), expectations)


if __name__ == "__main__":
    main()
