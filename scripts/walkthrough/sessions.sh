#!/usr/bin/env bash
# Walk-through: private sessions on Vonage (README.md). Waits until the
# stack is ready; start it first, in another terminal or with `&`:
# stack: make run
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/walkthrough/lib.sh
wait_ready
fresh_pool

# 1. Two proxy numbers in the pool
out=$(curl -s -XPOST $B/numbers -d '{"number": "+447700900001", "provider": "vonage"}')
# {"country":"GB","number":"+447700900001","provider":"vonage","status":"active"}
expect "$out" '{"country":"GB","number":"+447700900001","provider":"vonage","status":"active"}'
out=$(curl -s -XPOST $B/numbers -d '{"number": "+447700900002", "provider": "vonage"}')
expect "$out" '"number":"+447700900002"' '"status":"active"'
ok "1. two proxy numbers in the pool"

# 2. A session between a rider and a driver, for an hour
session=$(curl -s -XPOST $B/sessions -d '{"participants": ["+447700900100", "+447700900200"], "ttl_seconds": 3600}')
# {"created_at":"...","expires_at":"...","id":"7b3d...","participants":[
#   {"number":"+447700900100","proxy_number":"+447700900001"},
#   {"number":"+447700900200","proxy_number":"+447700900001"}],"provider":"vonage","status":"open"}
id=$(echo "$session" | json id)
expect "$session" '"participants":[{"number":"+447700900100","proxy_number":"+447700900001"},{"number":"+447700900200","proxy_number":"+447700900001"}]' '"status":"open"'
ok "2. session $id: each participant dials the same proxy number"

# 3. The rider dials their proxy number: Vonage asks our answer URL (GET,
#    numbers as digits without "+") and gets an NCCO that connects the driver,
#    showing the number the driver can call back on.
ncco=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900100&uuid=call-1&conversation_uuid=CON-1")
# [{"action":"talk","text":"Please hold while we connect your call."},
#  {"action":"connect","endpoint":[{"type":"phone","number":"447700900200"}],
#   "from":"447700900001","timeout":30,"eventUrl":["http://127.0.0.1:3000/vonage/event?session_id=7b3d..."]}]
expect "$ncco" '{"action":"talk","text":"Please hold while we connect your call."}' \
    '{"action":"connect","endpoint":[{"type":"phone","number":"447700900200"}],"from":"447700900001","timeout":30,"eventUrl":["'$B'/vonage/event?session_id='$id
ok "3. the rider's call connects the driver, shown the rider's proxy number"

# 4. Vonage reports the call's progress to that eventUrl; the session lists it
event_url=$(echo "$ncco" | json 1.eventUrl.0)
code=$(curl -s -XPOST "$event_url" -H 'Content-Type: application/json' -o /dev/null -w '%{http_code}' \
    -d '{"uuid":"call-1","conversation_uuid":"CON-1","status":"completed","direction":"outbound","duration":"42","timestamp":"2026-12-07T09:00:42.000Z"}')
expect "$code" 200
calls=$(curl -s $B/sessions/$id/calls)
# {"calls":[{"conversation_uuid":"CON-1","direction":"outbound","duration_seconds":42,"status":"completed",...,"uuid":"call-1"}]}
expect "$calls" '"duration_seconds":42,"status":"completed"' '"uuid":"call-1"'
ok "4. the session's calls: call-1 completed, 42 s"

# 5. Anyone else calling the number hears a polite message and the call ends.
out=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900999&uuid=call-2")
# [{"action":"talk","text":"Sorry, this number cannot connect your call right now. ..."}]
expect "$out" '[{"action":"talk","text":"Sorry, this number cannot connect your call right now.'
ok "5. a stranger is turned away politely"

# 6. Numbers in use, and closing the session: its numbers stop routing
out=$(curl -s $B/numbers)
# {"numbers":[{"active_sessions":1,"country":"GB","line":false,"number":"+447700900001",...},
#             {"active_sessions":0,...,"number":"+447700900002",...}]}
expect "$out" '{"active_sessions":1,"country":"GB","line":false,"number":"+447700900001"'
code=$(curl -s -XDELETE $B/sessions/$id -o /dev/null -w '%{http_code}')   # 204
expect "$code" 204
status=$(curl -s $B/sessions/$id | json status)                      # closed
expect "$status" closed
out=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900100&uuid=call-3")
expect "$out" '[{"action":"talk","text":"Sorry,'
ok "6. session closed: the rider's number no longer routes"

echo "walk-through passed: sessions"
