#!/usr/bin/env bash
# Walk-through: numbers, notices and texts with the fake providers
# (README.md). Waits until the stack is ready; start it first:
# stack: make run FAKE_PROVIDERS=1
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/walkthrough/lib.sh
wait_ready $B/numbers $FAKE/_fake/numbers
fresh_pool

# 1. Buy three UK numbers on Vonage: searched, bought, linked, pooled
out=$(curl -s -XPOST $B/numbers/provision -d '{"provider":"vonage","country":"GB","count":3,"features":["voice","sms"]}')
# {"failed":[],"numbers":[{"country":"GB","number":"+447700900101","provider":"vonage","status":"active"},...]}
expect "$out" '{"failed":[],"numbers":[{"country":"GB","number":"+447700900101","provider":"vonage","status":"active"},' \
    '"number":"+447700900102"' '"number":"+447700900103"'
ok "1. three Vonage numbers bought and pooled"

# 2. A session that texts both participants their number
session=$(curl -s -XPOST $B/sessions -d '{"provider":"vonage","notify":true,"participants":[
  {"number":"+447700900100","label":"your driver"},{"number":"+447700900200","label":"your rider"}]}')
# {"id":"cda4...","notifications":[{"participant":0,"status":"sent"},{"participant":1,"status":"sent"}],
#  "participants":[{"label":"your driver","number":"+447700900100","proxy_number":"+447700900101"},
#                  {"label":"your rider","number":"+447700900200","proxy_number":"+447700900101"}], ...}
id=$(echo "$session" | json id)
rider_proxy=$(echo "$session" | json participants.1.proxy_number)
expect "$session" '"notifications":[{"participant":0,"status":"sent"},{"participant":1,"status":"sent"}]' \
    '{"label":"your rider","number":"+447700900200","proxy_number":"+447700900101"}'
sms=$(curl -s $FAKE/_fake/sms)     # the two notices: from each one's proxy number
# [{"provider":"vonage","from":"447700900101","to":"447700900100","text":"Call or text this number to reach your rider."},
#  {"provider":"vonage","from":"447700900101","to":"447700900200","text":"Call or text this number to reach your driver."}]
expect "$sms" '{"provider":"vonage","from":"447700900101","to":"447700900100","text":"Call or text this number to reach your rider."}' \
    '{"provider":"vonage","from":"447700900101","to":"447700900200","text":"Call or text this number to reach your driver."}'
ok "2. session $id: both participants texted their number"

# 3. The rider (+447700900200) texts their proxy number (Vonage's inbound SMS
#    webhook): the driver gets it from the number that stands for the rider
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/vonage/inbound-sms?msisdn=447700900200&to=${rider_proxy#+}&messageId=0A01&text=I%27m+outside&type=text")   # 200
expect "$code" 200
sms=$(curl -s $FAKE/_fake/sms)     # ... and the relayed text
# [..., {"provider":"vonage","from":"447700900101","to":"447700900100","text":"I'm outside"}]
expect "$sms" '{"provider":"vonage","from":"447700900101","to":"447700900100","text":"I'"'"'m outside"}'
messages=$(curl -s $B/sessions/$id/messages)   # direction, time, status, length
# {"messages":[{"at":"...","direction":"1>0","length":11,"message_id":"0A01","provider":"vonage","status":"sent"}]}
expect "$messages" '"direction":"1>0","length":11,"message_id":"0A01","provider":"vonage","status":"sent"'
ok "3. the rider's text reached the driver from the rider's proxy number"

# 4. Onboard numbers the account already owns; give one back
out=$(curl -s -XPOST $B/numbers/import -d '{"provider":"twilio"}')
# {"added":["+15551230801"],"present":[],"skipped":[{"number":"+15551230802","reason":"its voice and SMS URLs are not this deployment's (...); set them, then import again"}]}
expect "$out" '{"added":["+15551230801"],"present":[],"skipped":[{"number":"+15551230802","reason":"its voice and SMS URLs are not this deployment'"'"'s'
code=$(curl -s -XDELETE "$B/numbers/%2B447700900103?release=true" -o /dev/null -w '%{http_code}')   # 204: rental cancelled
expect "$code" 204
owned=$(curl -s $FAKE/_fake/numbers)  # +447700900103 is no longer the Vonage account's
expect "$owned" '"msisdn":"447700900102"'
[[ $owned != *'"msisdn":"447700900103"'* ]] || fail "447700900103 is still the Vonage account's"
ok "4. the Twilio number pointing here imported (the other named), one Vonage number released"

echo "walk-through passed: numbers"
