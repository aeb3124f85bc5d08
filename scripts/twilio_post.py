#!/usr/bin/env python3
"""POST a Twilio webhook to the local stack, signed with the official
`twilio` helper exactly as Twilio signs it.

    .venv/bin/python scripts/twilio_post.py /twilio/voice CallSid=CA1 From=+15551230002 To=+15551230009

Environment: TWILIO_AUTH_TOKEN (required), PUBLIC_BASE_URL (the URL the
stack was started with; default http://127.0.0.1:$PORT), PORT (3000).
"""
import os
import sys

import requests
from twilio.request_validator import RequestValidator


def main(argv):
    if len(argv) < 2 or not argv[1].startswith("/"):
        print(__doc__, file=sys.stderr)
        return 2
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not token:
        print("set TWILIO_AUTH_TOKEN (the one the stack runs with)", file=sys.stderr)
        return 2
    port = os.environ.get("PORT", "3000")
    public = os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}"
    params = dict(a.split("=", 1) for a in argv[2:])
    sig = RequestValidator(token).compute_signature(public + argv[1], params)
    r = requests.post(f"http://127.0.0.1:{port}{argv[1]}", data=params, headers={"X-Twilio-Signature": sig})
    print(r.status_code, r.text)
    return 0 if r.status_code < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
