#!/usr/bin/env bash
# Walk-through: call audio over WebSocket (README.md). Waits until the
# stack and its audio socket are ready; start it first:
# stack: make run
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/walkthrough/lib.sh
wait_ready $B/numbers $AUDIO/health

# 1. Vonage asks the answer URL: the NCCO names the socket and its headers
ncco=$(curl -s "$B/vonage/audio-answer?to=447700900001&from=447700900100&uuid=call-1&conversation_uuid=CON-1")
# [{"action":"talk","text":"Please wait while we connect you to the echo server"},
#  {"action":"connect","endpoint":[{"type":"websocket","uri":"ws://127.0.0.1:3001/socket",
#    "content-type":"audio/l16;rate=16000","headers":{"call_uuid":"call-1","conversation_uuid":"CON-1","mode":"echo"}}],
#   "from":"447700900001","eventUrl":["http://127.0.0.1:3000/vonage/event"]}]
expect "$ncco" '{"action":"talk","text":"Please wait while we connect you to the echo server"}' \
    '"content-type":"audio/l16;rate=16000","headers":{"call_uuid":"call-1","conversation_uuid":"CON-1","mode":"echo"}'
ok "1. the answer streams call-1 to $(echo "$ncco" | json 1.endpoint.0.uri)"

# 2. Be Vonage: ask the answer URL, connect to the socket it names, send the
#    connected message with its headers, then 20 ms frames (hello.wav, shipped
#    here: 0.4 s of a 440 Hz tone, 16 kHz) and read them back
out=$(.venv/bin/python scripts/walkthrough/audio_call.py "$B/vonage/audio-answer?to=447700900001&from=447700900100&uuid=call-1&conversation_uuid=CON-1")
# echo: 20 frames sent, 20 back, byte-identical
expect "$out" "echo: 20 frames sent, 20 back, byte-identical"
ok "2. $out"

# 3. Record mode: nothing comes back; when the call ends the socket stores
#    a WAV in S3 and lists it (404 until then)
out=$(.venv/bin/python scripts/walkthrough/audio_call.py --mode record "$B/vonage/audio-answer?to=447700900001&from=447700900100&uuid=call-2&conversation_uuid=CON-2")
# record: 20 frames sent, call call-2 ended
expect "$out" "record: 20 frames sent, call call-2 ended"
stored() { [[ $(curl -s -o /dev/null -w '%{http_code}' $B/audio/recordings/call-2) == 200 ]]; }
eventually 20 stored
recording=$(curl -s $B/audio/recordings/call-2)
# {"call_uuid":"call-2","conversation_uuid":"CON-2","duration_seconds":0.4,"recorded_at":"...",
#  "recording_link":"http://127.0.0.1:3003/callmask-recordings/audio/...wav?X-Amz-...","sample_rate":16000,"truncated":false}
expect "$recording" '"call_uuid":"call-2","conversation_uuid":"CON-2","duration_seconds":0.4,' '"sample_rate":16000,"truncated":false'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -s -o $tmp/call-2.wav "$(echo "$recording" | json recording_link)"
cmp $tmp/call-2.wav scripts/walkthrough/hello.wav     # the same WAV, header and all
ok "3. call-2 recorded: the WAV in S3 is the audio sent"

listed=$(curl -s $B/audio/recordings)          # newest first
expect "$listed" '{"next":null,"recordings":[{"call_uuid":"call-2",'
health=$(curl -s $AUDIO/health)
# {"live_calls":0,"max_calls":1000,"max_pending":4096,"pending":1,"pending_closed_for_newer":0,"status":"ok"}
expect "$health" '{"live_calls":0,"max_calls":1000,"max_pending":4096,' '"pending_closed_for_newer":0,"status":"ok"}'
ok "4. recordings listed; the socket is idle"

echo "walk-through passed: audio"
