"""scripts/fake_providers.py on its own (make run FAKE_PROVIDERS=1 runs it):
Twilio recordings as the voicemail worker fetches and deletes them, only
with the account's credentials; and its log names no phone number whole."""
import os
import subprocess
import sys
import time

import pytest
import requests

from helpers.stack import ROOT, free_port

ACCOUNT, TOKEN = "ACfa4e0000000000000000000000000000", "fake-token"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("fake") / "fake.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "TWILIO_"))}
    env["FAKE_PROVIDERS_PORT"] = str(port)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "fake_providers.py")], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url + "/_fake/numbers", timeout=2)
            break
        except requests.ConnectionError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    yield url, log
    proc.terminate()
    proc.wait(timeout=10)


def test_recordings_are_served_to_the_account_and_deleted(fake):
    url, _ = fake
    audio = (ROOT / "scripts" / "walkthrough" / "hello.wav").read_bytes()
    assert requests.put(url + "/_fake/recordings/RE1", data=audio).status_code == 204
    rec = f"{url}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1"
    for suffix in ("", ".wav"):
        r = requests.get(rec + suffix, auth=(ACCOUNT, TOKEN))
        assert r.status_code == 200 and r.content == audio
        assert r.headers["Content-Type"] == "audio/x-wav"
    assert requests.get(rec).status_code == 401
    assert requests.get(rec, auth=(ACCOUNT, "not-the-token")).status_code == 401
    assert requests.get(rec.replace("RE1", "RE2"), auth=(ACCOUNT, TOKEN)).status_code == 404
    assert requests.get(url + "/_fake/recordings").json() == {"RE1": {"bytes": len(audio), "deleted": False}}
    assert requests.delete(rec + ".json", auth=(ACCOUNT, TOKEN)).status_code == 204
    assert requests.get(rec, auth=(ACCOUNT, TOKEN)).status_code == 404
    assert requests.get(url + "/_fake/recordings").json()["RE1"]["deleted"] is True


def test_the_log_names_no_number_whole(fake):
    url, log = fake
    r = requests.get(url + "/ni/basic/json", params={"number": "447700900123", "api_key": "fake-key",
                                                      "api_secret": "fake-secret"})
    assert r.status_code == 200 and r.json()["international_format_number"] == "447700900123"
    r = requests.get(f"{url}/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json",
                     params={"PhoneNumber": "+15551230801"}, auth=(ACCOUNT, TOKEN))
    assert r.status_code == 200
    deadline = time.monotonic() + 5
    while "IncomingPhoneNumbers.json" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert "/ni/basic/json?number=***0123 -> 200" in text, text
    assert "PhoneNumber=%2B***0801 -> 200" in text, text
    assert "447700900123" not in text and "15551230801" not in text and "api_secret" not in text


def test_the_fault_switch_fails_the_next_requests_as_the_provider_does(fake):
    """Each kind of fault, then the request served again; nothing a failed
    request asked for was done."""
    url, _ = fake
    creds = {"api_key": "fake-key", "api_secret": "fake-secret"}
    sms = {"from": "447700900190", "to": "447700900555", "text": "hi", **creds}
    faults = url + "/_fake/faults"

    def arm(**rule):
        r = requests.post(faults, json=rule)
        assert r.status_code == 201, r.text

    def texts_to(to):
        return [m for m in requests.get(url + "/_fake/sms").json() if m["to"] == to]

    arm(service="vonage", operation="POST /sms/json", kind="throttle", count=2, contains="447700900555")
    for _ in range(2):
        r = requests.post(url + "/sms/json", data=sms)
        assert r.status_code == 200 and r.json()["messages"][0]["status"] == "1"
    arm(service="vonage", operation="POST /sms/json", kind="5xx", status=503)
    assert requests.post(url + "/sms/json", data=sms).status_code == 503
    arm(service="vonage", operation="POST /sms/json", kind="timeout", delay_ms=50)
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "/sms/json", data=sms, timeout=5)
    assert texts_to("447700900555") == []
    arm(service="vonage", operation="POST /sms/json", kind="slow", delay_ms=200)
    started = time.monotonic()
    r = requests.post(url + "/sms/json", data=sms)
    assert r.json()["messages"][0]["status"] == "0" and time.monotonic() - started >= 0.2
    assert len(texts_to("447700900555")) == 1

    arm(service="vonage", operation="POST /number/buy", kind="throttle")
    buy = {"country": "GB", "msisdn": "447700900101", **creds}
    r = requests.post(url + "/number/buy", data=buy)
    assert r.status_code == 429 and r.json()["error-code"] == "429"
    arm(service="twilio", operation="POST /2010-04-01/Accounts/*", kind="throttle")
    r = requests.post(f"{url}/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json",
                      data={"PhoneNumber": "+15551230201"}, auth=(ACCOUNT, TOKEN))
    assert r.status_code == 429 and r.json()["code"] == 20429
    owned = requests.get(url + "/_fake/numbers").json()
    assert "447700900101" not in [n["msisdn"] for n in owned["vonage"]]
    assert "+15551230201" not in [n["phone_number"] for n in owned["twilio"]]

    listed = requests.get(faults).json()
    assert [(f["kind"], f["fired"], f["remaining"]) for f in listed] == [
        ("throttle", 2, 0), ("5xx", 1, 0), ("timeout", 1, 0), ("slow", 1, 0), ("throttle", 1, 0), ("throttle", 1, 0)]
    assert requests.post(faults, json={"service": "vonage", "kind": "flaky"}).status_code == 400
    assert requests.delete(faults).json() == [] and requests.get(faults).json() == []
