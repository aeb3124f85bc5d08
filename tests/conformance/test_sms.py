"""Texts through the local stack, checked with the providers' official
packages: every /twilio/sms answer parses as Messaging TwiML with only
documented <Message> attributes, signed by the twilio package; Vonage
inbound-SMS signatures made by the official Vonage packages pass, altered
ones get 401; bad input never gets a 5xx and never relays."""
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from twilio.request_validator import RequestValidator

from helpers.sms_signing import sign_vonage_sms
from helpers.stack import PUBLIC, SECRET, TWILIO_ACCOUNT, TWILIO_TOKEN, start_stack
from helpers.twiml import parse_twiml

VALIDATOR = RequestValidator(TWILIO_TOKEN)

# https://www.twilio.com/docs/messaging/twiml and .../twiml/message
DOCUMENTED = {
    "Response": set(),
    "Message": {"to", "from", "action", "method", "statusCallback"},
    "Body": set(),
    "Media": set(),
    "Redirect": {"method"},
}

TWILIO_PROXIES = ["+15551230071", "+15551230072"]
TWILIO_PEOPLE = ["+15551230081", "+15551230082"]
VONAGE_PROXIES = ["+447700900071", "+447700900072"]
VONAGE_PEOPLE = ["+447700900081", "+447700900082"]
LINE, OWNER = "+15551230098", "+15551230001"


def check_twiml(resp) -> ET.Element:
    return parse_twiml(resp, DOCUMENTED)


def post(stack, path, params):
    sig = VALIDATOR.compute_signature(PUBLIC + path, params)
    return requests.post(stack.url(path), data=params, headers={"X-Twilio-Signature": sig})


def sms(sid, frm, to, body="On my way"):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_ACCOUNT, "From": frm, "To": to,
            "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}


def session(stack, provider, proxies, people):
    for n in proxies:
        r = requests.post(stack.url("/numbers"), json={"number": n, "provider": provider})
        assert r.status_code in (201, 409), r.text
    r = requests.post(stack.url("/sessions"), json={"provider": provider, "participants": people})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def twilio_session(stack):
    return session(stack, "twilio", TWILIO_PROXIES, TWILIO_PEOPLE)


@pytest.fixture(scope="module")
def vonage_session(stack):
    return session(stack, "vonage", VONAGE_PROXIES, VONAGE_PEOPLE)


@pytest.fixture(scope="module")
def line(stack):
    r = requests.post(stack.url("/numbers"), json={"number": LINE, "provider": "twilio"})
    assert r.status_code in (201, 409), r.text
    body = {"owner": {"phone": OWNER, "email": "owner@callmask.example.com"}, "plan": {"calls_per_period": 100}}
    r = requests.put(stack.url("/lines/" + urllib.parse.quote(LINE)), json=body)
    assert r.status_code in (200, 201), r.text


def test_a_session_text_is_relayed_each_way_once(stack, twilio_session):
    parts = twilio_session["participants"]
    for i, sid in [(0, "SM" + "1" * 32), (1, "SM" + "2" * 32)]:
        me, other = parts[i], parts[1 - i]
        root = check_twiml(post(stack, "/twilio/sms", sms(sid, me["number"], me["proxy_number"], "5 min <late> & sorry")))
        [message] = list(root)
        assert message.tag == "Message"
        assert message.attrib == {"to": other["number"], "from": other["proxy_number"]}
        assert message.text == "5 min <late> & sorry"
    again = check_twiml(post(stack, "/twilio/sms", sms("SM" + "1" * 32, parts[0]["number"], parts[0]["proxy_number"])))
    assert list(again) == []
    listed = requests.get(stack.url(f"/sessions/{twilio_session['id']}/messages")).json()["messages"]
    assert [m["direction"] for m in listed] == ["0>1", "1>0"]
    assert all("body" not in m for m in listed)


def test_a_text_to_a_line_reaches_the_owner(stack, line):
    root = check_twiml(post(stack, "/twilio/sms", sms("SM" + "3" * 32, "+15551230002", LINE, "Open today?")))
    [message] = list(root)
    assert message.attrib == {"to": OWNER, "from": LINE}
    assert message.text == "From +15551230002: Open today?"


def test_texts_outside_any_session_get_nothing(stack):
    root = check_twiml(post(stack, "/twilio/sms", sms("SM" + "4" * 32, "+15551230002", "+15551239999")))
    assert list(root) == []


@pytest.mark.parametrize("params", [
    {"From": "+15551230081", "To": "+15551230071", "Body": "no sid"},
    {"MessageSid": "SM" + "5" * 32, "From": "+15551230081", "Body": "no To"},
    {"MessageSid": "SM" + "6" * 32, "From": "hello", "To": "+15551230071", "Body": "not a number"},
    {"MessageSid": "SM" + "7" * 32, "From": "+15551230081", "To": "+15551230071", "Body": "x" * 1601},
])
def test_bad_twilio_texts_never_relay(stack, twilio_session, params):
    r = post(stack, "/twilio/sms", {"AccountSid": TWILIO_ACCOUNT, **params})
    assert 400 <= r.status_code < 500 or (r.status_code == 200 and "<Message" not in r.text), r.text
    assert "<Message" not in r.text


def test_twilio_texts_need_a_signature(stack, twilio_session):
    parts = twilio_session["participants"]
    params = sms("SM" + "8" * 32, parts[0]["number"], parts[0]["proxy_number"])
    assert requests.post(stack.url("/twilio/sms"), data=params).status_code == 401
    bad = VALIDATOR.compute_signature(PUBLIC + "/twilio/sms", {**params, "Body": "changed"})
    r = requests.post(stack.url("/twilio/sms"), data=params, headers={"X-Twilio-Signature": bad})
    assert r.status_code == 401
    assert requests.put(stack.url("/twilio/sms"), data=params).status_code == 405


def vonage_sms(session, i, message_id, text="I'm outside"):
    me = session["participants"][i]
    return {"msisdn": me["number"].lstrip("+"), "to": me["proxy_number"].lstrip("+"), "messageId": message_id,
            "text": text, "type": "text", "keyword": text.split()[0].upper(), "api-key": "abcd1234",
            "message-timestamp": "2026-11-24 08:00:00"}


@pytest.mark.parametrize("how", ["get", "form", "json"])
def test_official_vonage_sms_signatures_pass(stack, vonage_session, how):
    params = sign_vonage_sms(vonage_sms(vonage_session, 0, f"0A00000000{how}"), SECRET, "sha256")
    if how == "get":
        r = requests.get(stack.url("/vonage/inbound-sms"), params=params)
    elif how == "form":
        r = requests.post(stack.url("/vonage/inbound-sms"), data=params)
    else:
        r = requests.post(stack.url("/vonage/inbound-sms"), json=params)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module", params=["md5hash", "md5", "sha1", "sha512"])
def other_method(request):
    """A stack whose account signs SMS webhooks another way, with a session."""
    stacks = start_stack(VONAGE_SMS_SIGNATURE_METHOD=request.param)
    other = next(stacks)
    yield request.param, other, session(other, "vonage", VONAGE_PROXIES, VONAGE_PEOPLE)
    next(stacks, None)


def test_every_signature_method_of_the_official_packages_passes(other_method):
    method, other, s = other_method
    params = sign_vonage_sms(vonage_sms(s, 0, f"0A0000000m{method}"), SECRET, method)
    r = requests.get(other.url("/vonage/inbound-sms"), params=params)
    assert r.status_code == 200, r.text
    # Altered, signed with another secret, or with the stack's default
    # method instead of the account's: 401.
    altered = dict(params, text="I'm inside")
    assert requests.get(other.url("/vonage/inbound-sms"), params=altered).status_code == 401
    wrong = sign_vonage_sms(vonage_sms(s, 0, f"0A0000000w{method}"), "another-secret", method)
    assert requests.get(other.url("/vonage/inbound-sms"), params=wrong).status_code == 401
    default = sign_vonage_sms(vonage_sms(s, 0, f"0A0000000d{method}"), SECRET, "sha256")
    assert requests.get(other.url("/vonage/inbound-sms"), params=default).status_code == 401


@pytest.mark.parametrize("change", ["text", "msisdn", "sig", "drop-sig", "other-secret"])
def test_altered_vonage_sms_signatures_get_401(stack, vonage_session, change):
    params = sign_vonage_sms(vonage_sms(vonage_session, 1, "0A00000000bad"), SECRET, "sha256")
    if change == "text":
        params["text"] = "I'm inside"
    elif change == "msisdn":
        params["msisdn"] = "447700900099"
    elif change == "sig":
        params["sig"] = ("0" if params["sig"][0] != "0" else "1") + params["sig"][1:]
    elif change == "drop-sig":
        del params["sig"]
    else:
        params = sign_vonage_sms(vonage_sms(vonage_session, 1, "0A00000000bad"), "another-secret", "sha256")
    assert requests.get(stack.url("/vonage/inbound-sms"), params=params).status_code == 401


@pytest.mark.parametrize("params", [
    {"to": "447700900071", "messageId": "0A0000000001x", "text": "no msisdn", "type": "text"},
    {"msisdn": "447700900081", "messageId": "0A0000000002x", "text": "no to", "type": "text"},
    {"msisdn": "hello", "to": "447700900071", "messageId": "0A0000000003x", "text": "bad", "type": "text"},
    {"msisdn": "447700900081", "to": "447700900071", "text": "no id", "type": "text"},
    {"msisdn": "447700900081", "to": "447700900071", "messageId": "0A0000000004x", "text": "x" * 1601, "type": "text"},
])
def test_bad_vonage_texts_never_get_a_5xx(stack, vonage_session, params):
    r = requests.get(stack.url("/vonage/inbound-sms"), params=sign_vonage_sms(params, SECRET, "sha256"))
    assert 200 <= r.status_code < 500, r.text
    r = requests.post(stack.url("/vonage/inbound-sms"), data="{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert requests.delete(stack.url("/vonage/inbound-sms")).status_code == 405
