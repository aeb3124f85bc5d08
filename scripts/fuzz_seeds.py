#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, fuzz/corpus/<target>/, from the
handler events (events/*/*.json) and a few inputs the tests use. Run it
after changing events/ or a target's input layout (docs/fuzzing.md); the
seeds are committed, small, and named by their content's hash.

Inputs of several fields are joined with NUL bytes, as fuzz/checks splits
them (fuzz_checks::fields). Deterministic: the same events give the same
files."""
import base64
import hashlib
import hmac
import json
import shutil
import struct
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
# Each seed stays small: libFuzzer's default -max_len is taken from them.
MAX_SEED_BYTES = 4096


def join(*parts) -> bytes:
    return b"\0".join(p if isinstance(p, bytes) else p.encode() for p in parts)


def events():
    """(folder, method, path, query, headers, body bytes) of every event."""
    for f in sorted((ROOT / "events").glob("*/*.json")):
        e = json.loads(f.read_text())
        if "requestContext" not in e:
            continue
        body = e.get("body") or ""
        body = base64.b64decode(body) if e.get("isBase64Encoded") else body.encode()
        yield (f.parent.name, e["requestContext"]["http"]["method"], e.get("rawPath", "/"),
               e.get("rawQueryString", ""), e.get("headers", {}), body)


def jwt(secret: str, claims: dict) -> str:
    """An HS256 token, as Vonage signs its webhooks."""
    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def ws_frame(opcode: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A client's masked, final WebSocket frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def seeds() -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}

    def add(target: str, data: bytes) -> None:
        if len(data) <= MAX_SEED_BYTES:
            out.setdefault(target, []).append(data)

    numbers = {"+447700900100", "447700900001", "+1 (555) 123-0002", "0044 7700 900100", "+15551230009"}
    now = 1_800_000_000
    for folder, method, path, query, headers, body in events():
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        if folder.startswith("twilio-"):
            add("twilio_form", body)
            add("twilio_signature", join("fake-token", f"https://h.example{path}", body, "sig"))
            add("provider_events", body)
            for k in ("To", "From"):
                if k in form:
                    numbers.add(form[k])
            if "RecordingUrl" in form:
                add("twilio_recording_url", join(form.get("AccountSid", ""), form["RecordingUrl"]))
            if "Body" in form:
                add("twiml", join("Hello", "en-GB", form.get("To", ""), "https://h.example/x?a=1&b=2", form["Body"]))
        if folder.startswith("vonage-"):
            mode = b"\0" if method == "GET" else (b"\2" if body.lstrip().startswith(b"{") else b"\1")
            add("vonage_params", mode + (query.encode() if method == "GET" else body))
            add("vonage_sms_signature", join("secret-1", query.encode() if method == "GET" else body))
            token = jwt("test-secret", {"iat": now, "jti": "j-1", "payload_hash": hashlib.sha256(body).hexdigest()})
            add("vonage_jwt", b"\0" + join("test-secret", f"Bearer {token}", body, query, ""))
            if folder == "vonage-event":
                add("provider_events", body)
            try:
                j = json.loads(body or b"null")
            except ValueError:
                j = None
            if isinstance(j, dict):
                numbers.update(str(j[k]) for k in ("to", "from", "msisdn") if k in j)
        if folder in ("sessions", "numbers", "lines") and method in ("POST", "PUT", "PATCH"):
            which = {"sessions": 0, "lines": 4}.get(folder)
            if "/services" in path:
                which = 6 if path.endswith("/numbers") else 5
            elif path.startswith("/sessions/"):
                which = 7
            if which is None:
                which = 2 if path.endswith("/provision") else 3 if path.endswith("/import") else 1
            add("admin_json", bytes([which]) + body)
            try:
                j = json.loads(body)
            except ValueError:
                j = None
            if isinstance(j, dict):
                for p in j.get("participants") or []:
                    numbers.add(p if isinstance(p, str) else str(p.get("number", "")))
                if isinstance(j.get("number"), str):
                    numbers.add(j["number"])
        if folder == "sessions" and method == "GET" and query:
            add("session_list_query", query.encode())
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and folder in ("sessions", "numbers", "lines", "audio-recordings"):
            # /services/{sid}/numbers/{number}: the sid too.
            if segments[0] == "services":
                add("path_segments", segments[1].encode())
            add("path_segments", segments[-1].encode())

    for n in sorted(numbers):
        add("phone_parse", n.encode())
        add("phone_from_e164", n.encode())
    # Signed tokens: one good, one old, one with an iat at the end of i64.
    for iat in (now, now - 301, -(2**63)):
        add("vonage_jwt", b"\1" + struct.pack("<qq", iat, now) + join("test-secret", "jti-1", b"{}", "app-1"))
    add("session_list_query", b"status=open&limit=10")
    add("session_list_query", b"participant=%2B447700900100&next=" +
        base64.urlsafe_b64encode(b'{"v":1,"at":1795334400,"id":"0123456789abcdef0123456789abcdef"}').rstrip(b"="))
    add("path_segments", b"%2B447700900100")
    add("twiml", join("Tom & Jerry <3", "en-US", "+15551230001", "15", "a&b=c \"quoted\""))
    add("ncco", join("Hello, connecting you now.", "call_uuid", "63f61863-4a51-4f6b-86e1-46edebcf9356"))
    connected = {"event": "websocket:connected", "content-type": "audio/l16;rate=16000",
                 "token": "audio-token", "mode": "record",
                 "call_uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356", "conversation_uuid": "CON-1"}
    first = json.dumps(connected)
    add("audio_first_message", join("audio-token", first))
    add("audio_first_message", join("", json.dumps({"event": "websocket:connected",
                                                     "content-type": "audio/l16;rate=8000"})))
    frames = (ws_frame(1, first.encode()) + ws_frame(2, bytes(640)) + ws_frame(2, bytes(100))
              + ws_frame(1, b'{"event":"websocket:dtmf","digit":"1"}') + ws_frame(9, b"ping")
              + ws_frame(8, struct.pack("!H", 1000)))
    add("audio_frames", b"\1" + frames)
    add("audio_reframe", struct.pack("<H", 639) + struct.pack("<HHH", 640, 1, 639) + bytes(range(256)) * 5)
    add("wav_writer", bytes([1]) + struct.pack("<H", 1000) + struct.pack("<I", 0) + struct.pack("<HHH", 640, 641, 1))
    add("wav_writer", bytes([2]) + struct.pack("<H", 65535) + struct.pack("<I", 2**32 - 1) + struct.pack("<H", 65535))
    return out


def main() -> int:
    all_seeds = seeds()
    for target, datas in sorted(all_seeds.items()):
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for data in datas:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    total = sum(len(v) for v in all_seeds.values())
    print(f"{total} seeds for {len(all_seeds)} targets in {CORPUS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
