#!/usr/bin/env bash
# Walk-through: a service and Twilio Proxy's policies (README.md). Waits
# until the stack is ready; start it first, in another terminal or with `&`:
# stack: make run
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/walkthrough/lib.sh
wait_ready
fresh_pool

# 1. A service: sessions slide 10 minutes past their last call or text,
#    a participant gets a different number each time (avoid-sticky), and a
#    released (participant, number) pair rests 5 minutes (cool-off).
curl -s -XPOST $B/numbers -d '{"number": "+447700900001", "provider": "vonage"}' -o /dev/null
curl -s -XPOST $B/numbers -d '{"number": "+447700900002", "provider": "vonage"}' -o /dev/null
service=$(curl -s -XPOST $B/services -d '{"unique_name": "rides", "default_ttl": 600, "number_selection_behavior": "avoid-sticky", "cool_off_seconds": 300}')
# {"sid":"KS...","unique_name":"rides","default_ttl":600,"number_selection_behavior":"avoid-sticky","cool_off_seconds":300,...}
expect "$service" '"unique_name":"rides"' '"default_ttl":600' '"number_selection_behavior":"avoid-sticky"' '"cool_off_seconds":300'
curl -s -XPOST $B/services/rides/numbers -d '{"number": "+447700900001"}' -o /dev/null
curl -s -XPOST $B/services/rides/numbers -d '{"number": "+447700900002"}' -o /dev/null
out=$(curl -s $B/services/rides/numbers)
expect "$out" '"number":"+447700900001"' '"number":"+447700900002"'
ok "1. service rides: sliding TTL, avoid-sticky, cool-off; two numbers"

# 2. A session in it, named after the order it serves
session=$(curl -s -XPOST $B/sessions -d '{"participants": ["+447700900100", "+447700900200"], "service": "rides", "unique_name": "order-1042"}')
# {"id":"...","status":"open","mode":"voice-and-message","ttl":600,"unique_name":"order-1042",
#  "participants":[{"number":"+447700900100","proxy_number":"+447700900001"},...],...}
id=$(echo "$session" | json id)
expect "$session" '"status":"open"' '"mode":"voice-and-message"' '"ttl":600' '"unique_name":"order-1042"' \
    '{"number":"+447700900100","proxy_number":"+447700900001"}'
by_name=$(curl -s "$B/sessions/order-1042?service=rides" | json id)
expect "$by_name" "$id"
ok "2. session $id, fetched by its unique name too"

# 3. The rider calls: connected, and the session is in progress, its end
#    moved to 10 minutes after this call (expires_at)
ncco=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900100&uuid=call-1&conversation_uuid=CON-1")
expect "$ncco" '"action":"connect"' '"number":"447700900200"'
shown=$(curl -s $B/sessions/$id)
# {"status":"in-progress","last_interaction_at":"...","expires_at":"...",...}
expect "$shown" '"status":"in-progress"' '"last_interaction_at":"'
ok "3. a routed call: in progress, sliding from now"

# 4. Texts only from now on: a call is turned away politely
out=$(curl -s -XPATCH $B/sessions/$id -d '{"mode": "message-only"}')
expect "$out" '"mode":"message-only"'
ncco=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900100&uuid=call-2")
# [{"action":"talk","text":"Sorry, this number cannot connect your call right now. ..."}]
expect "$ncco" '[{"action":"talk","text":"Sorry,'
ok "4. message-only: calls refused"

# 5. Closed: the rider's pair with +447700900001 cools off, so the rider's
#    next session gets the other number, and the driver's late call to the
#    old one reaches no one
out=$(curl -s -XPATCH $B/sessions/$id -d '{"status": "closed"}')
expect "$out" '"status":"closed"' '"closed_reason":"closed"'
next=$(curl -s -XPOST $B/sessions -d '{"participants": ["+447700900100", "+447700900300"], "service": "rides"}')
# {"participants":[{"number":"+447700900100","proxy_number":"+447700900002"},...],...}
expect "$next" '{"number":"+447700900100","proxy_number":"+447700900002"}'
ncco=$(curl -s "$B/vonage/answer?to=447700900001&from=447700900200&uuid=call-3")
expect "$ncco" '[{"action":"talk","text":"Sorry,'
ok "5. closed: the pair cools off; the rider's next session has the other number"

echo "walk-through passed: services"
