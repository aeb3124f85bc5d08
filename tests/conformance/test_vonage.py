"""Conformance with Vonage's own code: every NCCO we return parses with the
`vonage-voice` NCCO models (and round-trips unchanged), and webhooks signed
as Vonage signs them pass while altered ones get 401."""
import json
import urllib.parse

import jwt
import pytest
import requests

from helpers.ncco import check_ncco
from helpers.stack import PUBLIC, SECRET
from helpers.vonage_signing import get_headers, post_headers, token

P1, P2 = "+447700900001", "+447700900002"
ALICE, BOB = "+447700900100", "+447700900200"


@pytest.fixture(scope="module")
def session(stack):
    for n in (P1, P2):
        r = requests.post(stack.url("/numbers"), json={"number": n, "provider": "vonage"})
        assert r.status_code in (201, 409), r.text
    r = requests.post(stack.url("/sessions"), json={"participants": [ALICE, BOB], "ttl_seconds": 3600})
    assert r.status_code == 201, r.text
    return r.json()


def answer_get(stack, path, to, frm, extra=()):
    params = [("to", to), ("from", frm), ("uuid", "63f61863-4a51-4f6b-86e1-46edebcf9356"),
              ("conversation_uuid", "CON-f972836a-550f-45fa-956c-12a2ab5b7d22"), *extra]
    query = urllib.parse.urlencode(params)
    return requests.get(stack.url(f"{path}?{query}"), headers=get_headers(SECRET, params))


def answer_post(stack, path, payload):
    body = json.dumps(payload).encode()
    return requests.post(stack.url(path), data=body, headers=post_headers(SECRET, body))


def test_routed_call_ncco_parses_with_official_models(stack, session):
    pa = session["participants"][0]["proxy_number"]
    pb = session["participants"][1]["proxy_number"]
    ncco = check_ncco(answer_get(stack, "/vonage/answer", pa.lstrip("+"), ALICE.lstrip("+")))
    connect = ncco[-1]
    assert connect["action"] == "connect"
    assert connect["endpoint"] == [{"type": "phone", "number": BOB.lstrip("+")}]
    assert connect["from"] == pb.lstrip("+")
    assert isinstance(connect["eventUrl"], list) and connect["eventUrl"][0].startswith(PUBLIC + "/vonage/event")


def test_post_answer_and_fallback_ncco(stack, session):
    pb = session["participants"][1]["proxy_number"]
    payload = {"to": pb.lstrip("+"), "from": BOB.lstrip("+"), "uuid": "u-2", "conversation_uuid": "CON-2"}
    ncco = check_ncco(answer_post(stack, "/vonage/answer", payload))
    assert ncco[-1]["endpoint"][0]["number"] == ALICE.lstrip("+")
    fallback = dict(payload, reason="timeout", original_request={"url": stack.url("/vonage/answer"), "type": "answer_url"})
    check_ncco(answer_post(stack, "/vonage/fallback", fallback))
    check_ncco(answer_get(stack, "/vonage/fallback", pb.lstrip("+"), BOB.lstrip("+"), [("reason", "timeout")]))


@pytest.mark.parametrize("to,frm", [
    ("447700900001", "447700900999"),   # a stranger
    ("447700900099", "447700900100"),   # not a pool number
    ("", ""),                            # nothing to route
    ("anonymous", "unknown"),            # withheld caller ID
])
def test_unroutable_calls_get_a_polite_talk(stack, session, to, frm):
    ncco = check_ncco(answer_get(stack, "/vonage/answer", to, frm))
    assert [a["action"] for a in ncco] == ["talk"]
    assert "sorry" in ncco[0]["text"].lower()


def test_client_sdk_call_without_from(stack, session):
    payload = {"to": "447700900001", "from_user": "alice", "uuid": "u-3", "conversation_uuid": "CON-3"}
    ncco = check_ncco(answer_post(stack, "/vonage/answer", payload))
    assert [a["action"] for a in ncco] == ["talk"]


def test_signed_get_passes_and_altered_query_fails(stack, session):
    params = [("to", "447700900001"), ("from", "447700900100"), ("uuid", "u-4"), ("conversation_uuid", "CON-4")]
    headers = get_headers(SECRET, params)
    ok = requests.get(stack.url("/vonage/answer?" + urllib.parse.urlencode(params)), headers=headers)
    check_ncco(ok)
    altered = [("to", "447700900001"), ("from", "447700900200"), ("uuid", "u-4"), ("conversation_uuid", "CON-4")]
    assert requests.get(stack.url("/vonage/answer?" + urllib.parse.urlencode(altered)), headers=headers).status_code == 401
    reordered = [params[1], params[0], *params[2:]]
    assert requests.get(stack.url("/vonage/answer?" + urllib.parse.urlencode(reordered)), headers=headers).status_code == 401


@pytest.mark.parametrize("path", ["/vonage/answer", "/vonage/fallback", "/vonage/event"])
def test_signed_post_passes_and_altered_ones_get_401(stack, session, path):
    body = json.dumps({"to": "447700900001", "from": "447700900100", "uuid": "u-5",
                       "conversation_uuid": "CON-5", "status": "started"}).encode()
    good = requests.post(stack.url(path), data=body, headers=post_headers(SECRET, body))
    assert good.status_code == 200, good.text
    tampered = body.replace(b"447700900100", b"447700900101")
    assert requests.post(stack.url(path), data=tampered, headers=post_headers(SECRET, body)).status_code == 401
    wrong_secret = {"Authorization": f"Bearer {token('not-the-signature-secret-but-long-enough', body)}", "Content-Type": "application/json"}
    assert requests.post(stack.url(path), data=body, headers=wrong_secret).status_code == 401
    assert requests.post(stack.url(path), data=body, headers={"Content-Type": "application/json"}).status_code == 401
    old = {"Authorization": f"Bearer {token(SECRET, body, iat=1_600_000_000)}", "Content-Type": "application/json"}
    assert requests.post(stack.url(path), data=body, headers=old).status_code == 401
    no_hash = {"Authorization": f"Bearer {token(SECRET, body, payload_hash=None)}", "Content-Type": "application/json"}
    assert requests.post(stack.url(path), data=body, headers=no_hash).status_code == 401


def test_a_replayed_signed_webhook_is_refused(stack, session):
    """A token Vonage signed is good once: the same request again (a replay
    by whoever captured it) gets 401 and never the callee's number."""
    pa = session["participants"][0]["proxy_number"]
    body = json.dumps({"to": pa.lstrip("+"), "from": ALICE.lstrip("+"), "uuid": "u-replay",
                       "conversation_uuid": "CON-replay"}).encode()
    headers = post_headers(SECRET, body)
    first = requests.post(stack.url("/vonage/answer"), data=body, headers=headers)
    ncco = check_ncco(first)
    assert any(a["action"] == "connect" for a in ncco), ncco
    again = requests.post(stack.url("/vonage/answer"), data=body, headers=headers)
    assert again.status_code == 401, again.text
    assert BOB.lstrip("+") not in again.text
    event = json.dumps({"uuid": "u-replay", "status": "answered"}).encode()
    headers = post_headers(SECRET, event)
    assert requests.post(stack.url("/vonage/event"), data=event, headers=headers).status_code == 200
    assert requests.post(stack.url("/vonage/event"), data=event, headers=headers).status_code == 401


def test_a_token_without_iat_or_jti_is_refused(stack, session):
    pa = session["participants"][0]["proxy_number"]
    body = json.dumps({"to": pa.lstrip("+"), "from": ALICE.lstrip("+")}).encode()
    for missing in ("iat", "jti"):
        claims = jwt.decode(token(SECRET, body), SECRET, algorithms=["HS256"])
        del claims[missing]
        bare = jwt.encode(claims, SECRET, algorithm="HS256")
        r = requests.post(stack.url("/vonage/answer"), data=body,
                          headers={"Authorization": f"Bearer {bare}", "Content-Type": "application/json"})
        assert r.status_code == 401, (missing, r.text)
