"""Bad input never yields a panic or a 5xx: malformed JSON, missing
parameters, non-numbers, wrong methods, oversized bodies. Webhooks answer
a valid NCCO or TwiML (or a 4xx); admin routes a 4xx with a reason."""
import json

import pytest
import requests

from helpers.ncco import check_ncco
from helpers.stack import SECRET
from helpers.vonage_signing import post_headers

ADMIN = ["/numbers", "/numbers/%2B447700900001", "/numbers/garbage", "/sessions",
         "/sessions/5e55104d5e55104d5e55104d5e55104d", "/sessions/x/calls", "/sessions/%00",
         "/lines/%2B15551230098", "/lines/garbage", "/lines/%2B15551230098/voicemails", "/lines/x/y",
         "/numbers/provision", "/numbers/import", "/numbers/%2B447700900001?release=true",
         "/sessions/5e55104d5e55104d5e55104d5e55104d/messages", "/sessions/x/messages",
         "/audio/recordings", "/audio/recordings/x", "/audio/recordings/%00", "/audio/recordings?limit=abc",
         "/audio/recordings?before=%00", "/audio/recordings/" + "u" * 300,
         "/sessions?status=bogus", "/sessions?limit=0", "/sessions?participant=%2B", "/sessions?next=%00",
         "/sessions?next=" + "A" * 300, "/calls/x", "/calls/%00", "/calls/" + "u" * 300]
BODIES = {
    "malformed": b'{"participants": [',
    "not-object": b'[1, 2, 3]',
    "empty": b"",
    "wrong-types": b'{"number": 12, "provider": 7, "participants": "x", "ttl_seconds": "soon"}',
    "non-numbers": b'{"number": "call me", "participants": ["abc", "def"]}',
    "missing": b"{}",
    "nulls": b'{"number": null, "participants": [null, null]}',
    "huge-numbers": b'{"ttl_seconds": 1e309, "participants": ["+4477009001001234567890", "+1"]}',
    "unicode": '{"number": "+44 7700 ９００１００"}'.encode(),
    "oversized": b'{"number": "' + b"9" * 200_000 + b'"}',
}


@pytest.mark.parametrize("path", ADMIN)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_admin_routes_answer_4xx_with_a_reason(stack, path, method, kind):
    r = requests.request(method, stack.url(path), data=BODIES[kind], headers={"Content-Type": "application/json"})
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400:
        err = r.json()["error"]
        assert err["code"] and err["message"]


@pytest.mark.parametrize("path", ["/vonage/answer", "/vonage/fallback", "/vonage/audio-answer"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_answer_webhooks_answer_a_polite_ncco(stack, path, kind):
    body = BODIES[kind]
    r = requests.post(stack.url(path), data=body, headers=post_headers(SECRET, body))
    ncco = check_ncco(r)
    assert [a["action"] for a in ncco] == ["talk"]


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_event_webhook_answers_4xx(stack, kind):
    body = BODIES[kind]
    r = requests.post(stack.url("/vonage/event"), data=body, headers=post_headers(SECRET, body))
    assert 400 <= r.status_code < 500, (r.status_code, r.text)


@pytest.mark.parametrize("path", ["/vonage/answer", "/vonage/fallback", "/vonage/event", "/vonage/audio-answer"])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_webhooks_refuse_wrong_methods(stack, path, method):
    body = b"{}"
    r = requests.request(method, stack.url(path), data=body, headers=post_headers(SECRET, body))
    assert r.status_code == 405


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/dial-status", "/twilio/recording",
                                  "/twilio/transcription", "/twilio/status", "/twilio/sms"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_twilio_webhooks_never_5xx(stack, path, method):
    for body in BODIES.values():
        r = requests.request(method, stack.url(path), data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
        assert r.status_code < 500, (r.status_code, r.text)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_vonage_inbound_sms_never_5xx(stack, method, kind):
    for ctype in ("application/json", "application/x-www-form-urlencoded"):
        r = requests.request(method, stack.url("/vonage/inbound-sms"), data=BODIES[kind],
                             headers={"Content-Type": ctype})
        assert r.status_code < 500, (r.status_code, r.text)


def test_very_large_body_is_refused_without_5xx(stack):
    body = b"x" * (11 * 1024 * 1024)
    r = requests.post(stack.url("/sessions"), data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_unknown_route_is_404(stack):
    assert requests.get(stack.url("/nope")).status_code == 404
