#!/usr/bin/env python3
"""Plays Vonage's part in a call streamed to the audio socket.

    .venv/bin/python scripts/walkthrough/audio_call.py [--mode echo|record] [--wav FILE] ANSWER_URL

1. asks ANSWER_URL (`$B/vonage/audio-answer?to=...&uuid=...`) for the NCCO,
   as Vonage does when the call comes in (unsigned: the local stack without
   a signature secret);
2. connects to the `websocket` endpoint the NCCO names and sends the
   `websocket:connected` message with the NCCO's content type and headers
   (`--mode` replaces the `mode` header: the socket acts on what it is sent);
3. sends the WAV's audio (default: scripts/walkthrough/hello.wav, 16 kHz
   16-bit mono, 20 frames) in 20 ms frames;
4. echo: reads every frame back and checks it is the one sent, in order;
   record: sends, then hangs up (the socket stores the WAV after the call).

Prints one line (`echo: 20 frames sent, 20 back, byte-identical` or
`record: 20 frames sent, call call-2 ended`); exit status 1 when the stack
answers otherwise.
"""
import argparse
import json
import sys
import wave
from pathlib import Path

import requests
from websockets.sync.client import connect

HELLO = Path(__file__).resolve().parent / "hello.wav"


def websocket_endpoint(answer_url: str) -> dict:
    r = requests.get(answer_url, timeout=15)
    if r.status_code != 200:
        raise SystemExit(f"the answer URL said {r.status_code}: {r.text[:200]}")
    for action in r.json():
        for endpoint in action.get("endpoint", []):
            if action.get("action") == "connect" and endpoint.get("type") == "websocket":
                return endpoint
    raise SystemExit(f"the NCCO connects to no websocket: {r.text[:200]}")


def frames_of(path: Path, rate: int) -> list[bytes]:
    with wave.open(str(path)) as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, rate):
            raise SystemExit(f"{path} must be 16-bit mono at {rate} Hz, the call's rate")
        pcm = w.readframes(w.getnframes())
    size = rate // 50 * 2  # 20 ms of 16-bit samples
    return [pcm[i:i + size] for i in range(0, len(pcm) - size + 1, size)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("answer_url")
    p.add_argument("--mode", choices=["echo", "record"], help="the mode header (default: the NCCO's)")
    p.add_argument("--wav", type=Path, default=HELLO, help="the audio to send")
    args = p.parse_args(argv)

    endpoint = websocket_endpoint(args.answer_url)
    content_type = endpoint["content-type"]  # audio/l16;rate=16000
    rate = int(content_type.rsplit("=", 1)[1])
    headers = dict(endpoint.get("headers", {}))
    if args.mode:
        headers["mode"] = args.mode
    frames = frames_of(args.wav, rate)
    with connect(endpoint["uri"]) as ws:
        ws.send(json.dumps({"event": "websocket:connected", "content-type": content_type, **headers}))
        for f in frames:
            ws.send(f)
        if headers.get("mode") == "record":
            print(f"record: {len(frames)} frames sent, call {headers.get('call_uuid')} ended")
            return 0
        back = [ws.recv(timeout=5) for _ in frames]
    if back != frames:
        same = sum(a == b for a, b in zip(back, frames))
        print(f"echo: {len(frames)} frames sent, only {same} came back unchanged", file=sys.stderr)
        return 1
    print(f"echo: {len(frames)} frames sent, {len(back)} back, byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
