#!/usr/bin/env bash
# Walk-through: a missed call to an email, on Twilio (README.md). Waits
# until the stack is ready; start it first:
# stack: make run FAKE_PROVIDERS=1
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/walkthrough/lib.sh
wait_ready $B/numbers $FAKE/_fake/numbers
fresh_pool

# A Twilio number in the pool, made a masked line: calls go to the owner's
# phone, and what they miss goes to their email
out=$(curl -s -XPOST $B/numbers -d '{"number": "+15551230009", "provider": "twilio"}')
expect "$out" '"number":"+15551230009","provider":"twilio","status":"active"'
out=$(curl -s -XPUT $B/lines/%2B15551230009 -d '{"owner": {"phone": "+15551230001", "email": "owner@example.com"},
  "dial_timeout_seconds": 15, "caller_id": "caller",
  "voicemail": {"enabled": true, "max_length_seconds": 60, "transcribe": false, "greeting": "Please leave a message."},
  "language": "en-US", "plan": {"active": true, "calls_per_period": 100, "period": "month"}}')
expect "$out" '"usage":{"calls":0,' '"remaining":100}'
ok "0. a Twilio pool number is now a masked line"

export TWILIO_AUTH_TOKEN=fake-token
T=".venv/bin/python scripts/twilio_post.py"

# 1. A call comes in: forwarded to the owner, with a Dial action
out=$($T $B/twilio/voice CallSid=CA1 From=+15551230002 To=+15551230009)
# 200 <?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="15" action="http://127.0.0.1:3000/twilio/dial-status"
#     callerId="+15551230002"><Number>+15551230001</Number></Dial></Response>
expect "$out" '<Response><Dial timeout="15" action="'$B'/twilio/dial-status" callerId="+15551230002"><Number>+15551230001</Number></Dial></Response>'
ok "1. the call rings the owner"

# 2. The owner does not answer: greeting and <Record>
out=$($T $B/twilio/dial-status CallSid=CA1 DialCallStatus=no-answer)
# 200 <?xml ...?><Response><Say language="en-US">Please leave a message.</Say><Record ... recordingStatusCallback="http://127.0.0.1:3000/twilio/recording" .../>
#     <Say language="en-US">Thank you. Goodbye.</Say><Hangup/></Response>
expect "$out" '<Say language="en-US">Please leave a message.</Say><Record ' "recordingStatusCallback=\"$B/twilio/recording\""
ok "2. no answer: the caller hears the greeting and is recorded"
# (after an answered call, DialCallStatus=completed gives <Hangup/> and never a voicemail)

# 3. Twilio has the recording (here the fake is handed the WAV this walk-through
#    ships) and reports it: stored once, then copied to S3 and emailed
curl -s -XPUT $FAKE/_fake/recordings/RE1 --data-binary @scripts/walkthrough/hello.wav
out=$($T $B/twilio/recording CallSid=CA1 RecordingSid=RE1 RecordingStatus=completed RecordingDuration=1 \
   RecordingUrl=$FAKE/2010-04-01/Accounts/ACfa4e0000000000000000000000000000/Recordings/RE1)
expect "$out" 200
delivered() { curl -s $B/lines/%2B15551230009/voicemails | grep -q '"status":"delivered"'; }
eventually 30 delivered
voicemails=$(curl -s $B/lines/%2B15551230009/voicemails)    # status "delivered", with a presigned link
# {"voicemails":[{"attempts":0,"call_sid":"CA1","caller":"+15551230002","duration_seconds":1,...,
#   "recording_link":"http://127.0.0.1:3003/callmask-recordings/voicemails/2026/12/RE1.wav?...","status":"delivered",...}]}
expect "$voicemails" '"call_sid":"CA1","caller":"+15551230002","duration_seconds":1,' '"status":"delivered"'
link=$(echo "$voicemails" | json voicemails.0.recording_link)
ok "3. the voicemail is delivered"

# 4. The copy in S3 is the recording, byte for byte; the email is in the
#    emulator's SES
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -s -o $tmp/RE1.wav "$link"
cmp $tmp/RE1.wav scripts/walkthrough/hello.wav
mail=$(curl -s $MOTO/moto-api/data.json | json ses.Message.0)
# {"body":"<html><body><p>You have a new voicemail on your line <b>+15551230009</b>...Listen to the message...",
#  "destinations":{"ToAddresses":["owner@example.com"]},"source":"voicemail@example.com",
#  "subject":"New voicemail from +15551230002 (0:01)",...}
expect "$mail" '"ToAddresses":["owner@example.com"]' '"source":"voicemail@example.com"' \
    '"subject":"New voicemail from +15551230002 (0:01)"' 'Listen to the message'
ok "4. the recording is in S3 and the owner has the email"

echo "walk-through passed: voicemail"
