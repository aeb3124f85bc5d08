"""Conformance with Twilio's own code: signatures made with the official
`twilio` package's RequestValidator pass (with and without :443) and altered
ones get 401; every TwiML we return is well-formed and uses only documented
verbs and attributes. Then a missed call, end to end through the running
local stack: voicemail copied from a fake Twilio to S3 and emailed via SES."""
import time
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from twilio.request_validator import RequestValidator

from helpers.stack import PUBLIC, TWILIO_ACCOUNT, TWILIO_TOKEN, FakeTwilio
from helpers.twiml import parse_twiml

LINE, OWNER, CALLER = "+15551230099", "+15551230001", "+15551230002"
VALIDATOR = RequestValidator(TWILIO_TOKEN)

# Verbs and attributes from https://www.twilio.com/docs/voice/twiml.
DOCUMENTED = {
    "Response": set(),
    "Say": {"voice", "language", "loop"},
    "Dial": {"action", "method", "timeout", "callerId", "hangupOnStar", "timeLimit", "record", "trim",
             "recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
             "answerOnBridge", "ringTone", "referUrl", "referMethod", "sequential"},
    "Number": {"sendDigits", "url", "method", "statusCallback", "statusCallbackEvent", "statusCallbackMethod", "byoc"},
    "Record": {"action", "method", "timeout", "finishOnKey", "maxLength", "playBeep", "trim",
               "recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
               "transcribe", "transcribeCallback"},
    "Hangup": set(),
}


def check_twiml(resp) -> ET.Element:
    root = parse_twiml(resp, DOCUMENTED)
    for el in root.iter():
        if el.tag in ("Dial", "Record") and "action" in el.attrib:
            assert el.attrib["action"].startswith(PUBLIC + "/twilio/")
    assert root[-1].tag in ("Hangup", "Dial"), [e.tag for e in root]
    return root


def post(stack, path, params, query="", port=False):
    """POST as Twilio does: form body, signed over the public URL."""
    suffix = "?" + query if query else ""
    public = (PUBLIC.replace("example.com", "example.com:443") if port else PUBLIC) + path + suffix
    sig = VALIDATOR.compute_signature(public, params)
    return requests.post(stack.url(path + suffix), data=params, headers={"X-Twilio-Signature": sig})


@pytest.fixture(scope="module")
def line(stack):
    r = requests.post(stack.url("/numbers"), json={"number": LINE, "provider": "twilio"})
    assert r.status_code in (201, 409), r.text
    body = {"owner": {"phone": OWNER, "email": "owner@callmask.example.com"}, "dial_timeout_seconds": 15,
            "caller_id": "caller", "voicemail": {"enabled": True, "max_length_seconds": 60, "transcribe": True,
                                                 "greeting": "Please leave a message & we will call back."},
            "language": "en-GB", "plan": {"active": True, "calls_per_period": 1000, "period": "month"}}
    r = requests.put(stack.url("/lines/" + urllib.parse.quote(LINE)), json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def voice(sid):
    return {"CallSid": sid, "AccountSid": TWILIO_ACCOUNT, "From": CALLER, "To": LINE, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}


@pytest.mark.parametrize("port", [False, True])
def test_official_signatures_pass_with_and_without_default_port(stack, line, port):
    root = check_twiml(post(stack, "/twilio/voice", voice(f"CA{'1' if port else '2'}{'0' * 31}"), port=port))
    dial = root.find("Dial")
    assert dial is not None and dial.find("Number").text == OWNER
    assert dial.attrib["callerId"] == CALLER
    assert dial.attrib["action"] == PUBLIC + "/twilio/dial-status"


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/dial-status", "/twilio/recording",
                                  "/twilio/transcription", "/twilio/status"])
def test_altered_or_missing_signatures_get_401(stack, path):
    params = voice("CA3" + "0" * 31)
    sig = VALIDATOR.compute_signature(PUBLIC + path, params)
    assert requests.post(stack.url(path), data={**params, "From": "+15551230003"},
                         headers={"X-Twilio-Signature": sig}).status_code == 401
    assert requests.post(stack.url(path), data=params).status_code == 401
    other = RequestValidator("another-token").compute_signature(PUBLIC + path, params)
    assert requests.post(stack.url(path), data=params, headers={"X-Twilio-Signature": other}).status_code == 401


def test_answered_call_hangs_up_and_missed_call_records(stack, line):
    sid = "CA4" + "0" * 31
    check_twiml(post(stack, "/twilio/voice", voice(sid)))
    for status in ("completed", "answered"):
        root = check_twiml(post(stack, "/twilio/dial-status", {**voice(sid), "DialCallStatus": status}))
        assert [e.tag for e in root] == ["Hangup"]
    for status in ("no-answer", "busy", "failed", "canceled"):
        root = check_twiml(post(stack, "/twilio/dial-status", {**voice(sid), "DialCallStatus": status}))
        assert [e.tag for e in root] == ["Say", "Record", "Say", "Hangup"]
        rec = root.find("Record").attrib
        assert rec["finishOnKey"] == "*" and rec["maxLength"] == "60" and rec["playBeep"] == "true"
        assert rec["recordingStatusCallback"] == PUBLIC + "/twilio/recording"
        assert rec["transcribe"] == "true" and rec["transcribeCallback"] == PUBLIC + "/twilio/transcription"
        assert root.find("Say").attrib["language"] == "en-GB"
    done = check_twiml(post(stack, "/twilio/dial-status", {**voice(sid), "RecordingUrl": "x"}, query="voicemail=done"))
    assert [e.tag for e in done] == ["Say", "Hangup"]


@pytest.mark.parametrize("params", [
    {},
    {"CallSid": "CA5" + "0" * 31},
    {"CallSid": "CA../../etc", "From": CALLER, "To": LINE},
    {"CallSid": "CA6" + "0" * 31, "From": CALLER, "To": "not a number"},
    {"CallSid": "CA7" + "0" * 31, "From": "anonymous", "To": "+15551239999"},
])
def test_bad_voice_requests_get_polite_twiml(stack, line, params):
    root = check_twiml(post(stack, "/twilio/voice", params))
    assert [e.tag for e in root] == ["Say", "Hangup"]


@pytest.mark.parametrize("path", ["/twilio/recording", "/twilio/transcription", "/twilio/status"])
@pytest.mark.parametrize("params", [{}, {"CallSid": "CA8" + "0" * 31}, {"RecordingSid": "RE/../x", "CallSid": "x"}])
def test_bad_callbacks_get_4xx(stack, path, params):
    r = post(stack, path, params)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)


def emails_to(stack, address):
    data = requests.get(stack.emulator + "/moto-api/data.json").json()
    return [m for m in data.get("ses", {}).get("Message", []) if address in str(m.get("destinations"))]


def test_missed_call_to_voicemail_email_through_the_local_stack(stack, line):
    sid, rec = "CA9" + "0" * 31, "RE9" + "0" * 31
    path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{rec}"
    FakeTwilio.recordings[path] = b"RIFF....WAVEfmt conformance audio"
    check_twiml(post(stack, "/twilio/voice", voice(sid)))
    check_twiml(post(stack, "/twilio/dial-status", {**voice(sid), "DialCallStatus": "no-answer"}))
    callback = {"AccountSid": TWILIO_ACCOUNT, "CallSid": sid, "RecordingSid": rec, "RecordingUrl": stack.twilio + path,
                "RecordingStatus": "completed", "RecordingDuration": "9", "RecordingChannels": "1",
                "RecordingSource": "RecordVerb"}
    for _ in range(2):  # Twilio retries: the duplicate changes nothing
        assert post(stack, "/twilio/recording", callback).status_code == 200
    transcription = {**voice(sid), "RecordingSid": rec, "TranscriptionSid": "TR9" + "0" * 31,
                     "TranscriptionStatus": "completed", "TranscriptionText": "Hello from the conformance suite."}
    assert post(stack, "/twilio/transcription", transcription).status_code == 200
    # The local stack's worker loop delivers it; wait for that, bounded.
    deadline = time.monotonic() + 30
    while not emails_to(stack, "owner@callmask.example.com") and time.monotonic() < deadline:
        time.sleep(0.2)
    mails = emails_to(stack, "owner@callmask.example.com")
    state = requests.get(stack.url("/lines/" + urllib.parse.quote(LINE) + "/voicemails")).text
    assert len(mails) == 1, (mails, state, FakeTwilio.requests)
    assert "Hello from the conformance suite." in mails[0]["body"]
    assert mails[0]["source"] == "voicemail@callmask.example.com"
    gets = [r for r in FakeTwilio.requests if r[1] == path]
    assert len(gets) == 1
    s3 = boto3.client("s3", endpoint_url=stack.emulator, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    objs = s3.list_objects_v2(Bucket="callmask-conformance-recordings").get("Contents", [])
    assert len(objs) == 1 and "555" not in objs[0]["Key"]
    body = s3.get_object(Bucket="callmask-conformance-recordings", Key=objs[0]["Key"])["Body"].read()
    assert body == FakeTwilio.recordings[path]
    listed = requests.get(stack.url("/lines/" + urllib.parse.quote(LINE) + "/voicemails")).json()["voicemails"]
    assert listed[0]["status"] == "delivered" and listed[0]["transcription"] == "Hello from the conformance suite."
