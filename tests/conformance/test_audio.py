"""Call audio over WebSocket, end to end as Vonage runs it: the signed answer
(`/vonage/audio-answer`) parsed with the official `vonage-voice` models, then
the socket its NCCO names, spoken to with the `websockets` client as Vonage
speaks (the `websocket:connected` message with the NCCO's headers, then
20 ms frames). Record mode: the WAV in S3 read with Python's own `wave`
module through the presigned link of `GET /audio/recordings/{call_uuid}`."""
import io
import json
import time
import urllib.parse
import uuid
import wave

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpers.ncco import check_ncco
from helpers.stack import PUBLIC, SECRET, start_stack
from helpers.vonage_signing import get_headers, post_headers

TOKEN = "conformance-audio-socket-token-7b1e"
NUMBER = "447700900001"


def answer(stack, call_uuid, method="GET"):
    params = [("to", NUMBER), ("from", "447700900100"), ("uuid", call_uuid),
              ("conversation_uuid", "CON-" + call_uuid)]
    if method == "GET":
        return requests.get(stack.url("/vonage/audio-answer?" + urllib.parse.urlencode(params)),
                            headers=get_headers(SECRET, params))
    body = json.dumps(dict(params)).encode()
    return requests.post(stack.url("/vonage/audio-answer"), data=body, headers=post_headers(SECRET, body))


def socket_endpoint(resp, stack, call_uuid, mode, rate, token=None):
    """The NCCO: a talk, then a connect to the socket, as the models read it."""
    ncco = check_ncco(resp)
    assert [a["action"] for a in ncco] == ["talk", "connect"]
    assert ncco[0]["text"] == "Please wait while we connect you to the echo server"
    connect_action = ncco[1]
    assert connect_action["eventUrl"] == [PUBLIC + "/vonage/event"]
    assert connect_action["from"] == NUMBER
    [endpoint] = connect_action["endpoint"]
    assert endpoint["type"] == "websocket"
    assert endpoint["uri"] == stack.audio
    assert endpoint["content-type"] == f"audio/l16;rate={rate}"
    want = {"call_uuid": call_uuid, "conversation_uuid": "CON-" + call_uuid, "mode": mode}
    if token:
        want["token"] = token
    assert endpoint["headers"] == want
    # No phone number goes to the socket.
    assert "447700900100" not in json.dumps(endpoint)
    return endpoint


def connected(endpoint):
    return json.dumps({"event": "websocket:connected", "content-type": endpoint["content-type"],
                       **endpoint["headers"]})


def frame(i, size):
    return bytes((i * 7 + j) % 256 for j in range(size))


def test_the_answer_streams_the_call_to_the_socket_and_it_echoes(stack):
    call = str(uuid.uuid4())
    endpoint = socket_endpoint(answer(stack, call), stack, call, "echo", 16000)
    socket_endpoint(answer(stack, call + "-post", "POST"), stack, call + "-post", "echo", 16000)
    with connect(endpoint["uri"]) as ws:
        ws.send(connected(endpoint))
        for i in range(50):
            ws.send(frame(i, 640))
        for i in range(50):
            assert ws.recv(timeout=5) == frame(i, 640), i
    health = requests.get(stack.audio.replace("ws://", "http://").replace("/socket", "/health")).json()
    assert health["status"] == "ok" and "live_calls" in health


def test_a_replayed_or_unsigned_audio_answer_is_refused(stack):
    params = [("to", NUMBER), ("from", "447700900100"), ("uuid", "u-audio-replay")]
    headers = get_headers(SECRET, params)
    url = stack.url("/vonage/audio-answer?" + urllib.parse.urlencode(params))
    assert requests.get(url, headers=headers).status_code == 200
    assert requests.get(url, headers=headers).status_code == 401
    assert requests.get(url).status_code == 401


@pytest.fixture(scope="module")
def record_stack():
    yield from start_stack(AUDIO_MODE="record", AUDIO_SAMPLE_RATE="8000", AUDIO_SOCKET_TOKEN=TOKEN)


def recording(stack, call_uuid, deadline=20):
    """GET /audio/recordings/{call_uuid}: 404 until the socket has stored it
    (after the call ends), then the recording."""
    end = time.monotonic() + deadline
    while True:
        r = requests.get(stack.url(f"/audio/recordings/{call_uuid}"))
        if r.status_code == 200:
            return r.json()
        assert r.status_code == 404, r.text
        assert time.monotonic() < end, "the recording never appeared"
        time.sleep(0.1)


def test_record_mode_stores_a_wav_listed_with_a_working_link(record_stack):
    call = str(uuid.uuid4())
    before = requests.get(record_stack.url(f"/audio/recordings/{call}"))
    assert before.status_code == 404
    endpoint = socket_endpoint(answer(record_stack, call), record_stack, call, "record", 8000, TOKEN)
    sent = b""
    with connect(endpoint["uri"]) as ws:
        ws.send(connected(endpoint))
        for i in range(250):  # 5 s of 8 kHz
            f = frame(i, 320)
            sent += f
            ws.send(f)
    rec = recording(record_stack, call)
    assert rec["call_uuid"] == call
    assert rec["duration_seconds"] == 5.0
    assert rec["recorded_at"].endswith("Z")
    wav = requests.get(rec["recording_link"])
    assert wav.status_code == 200, wav.text
    with wave.open(io.BytesIO(wav.content)) as w:
        assert w.getframerate() == 8000
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getnframes() == 250 * 160
        assert w.readframes(w.getnframes()) == sent
    listed = requests.get(record_stack.url("/audio/recordings")).json()["recordings"]
    assert listed[0]["call_uuid"] == call
    assert requests.get(listed[0]["recording_link"]).content == wav.content


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_call_without_the_token_is_closed_1008(record_stack, token):
    call = str(uuid.uuid4())
    endpoint = socket_endpoint(answer(record_stack, call), record_stack, call, "record", 8000, TOKEN)
    headers = {k: v for k, v in endpoint["headers"].items() if k != "token"}
    if token:
        headers["token"] = token
    with connect(endpoint["uri"]) as ws:
        ws.send(json.dumps({"event": "websocket:connected", "content-type": endpoint["content-type"], **headers}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(frame(0, 320))
            ws.recv(timeout=5)
        assert closed.value.rcvd.code == 1008
    assert requests.get(record_stack.url(f"/audio/recordings/{call}")).status_code == 404
