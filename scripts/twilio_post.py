#!/usr/bin/env python3
"""POST a Twilio webhook to a callmask stack, signed with the official
`twilio` helper exactly as Twilio signs it; prints the status and the answer.

    .venv/bin/python scripts/twilio_post.py $B/twilio/voice CallSid=CA1 From=+15551230002 To=+15551230009

The first argument is the webhook's URL (`$B/twilio/voice`, B being the
stack's base URL, e.g. http://127.0.0.1:3000), or only its path
(`/twilio/voice`) to post to http://127.0.0.1:$PORT (PORT: 3000).

Environment: TWILIO_AUTH_TOKEN (required: the token the stack runs with;
`make run FAKE_PROVIDERS=1` runs with `fake-token`), PUBLIC_BASE_URL (when
the stack was started with one, the URL is signed as Twilio would see it
there: PUBLIC_BASE_URL + path; otherwise the URL posted to is the one
signed). Exit status 1 when the stack answers 4xx or 5xx.
"""
import os
import sys
import urllib.parse

import requests
from twilio.request_validator import RequestValidator


def main(argv):
    if len(argv) < 2 or not argv[1].startswith(("/", "http://", "https://")):
        print(__doc__, file=sys.stderr)
        return 2
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not token:
        print("set TWILIO_AUTH_TOKEN (the one the stack runs with)", file=sys.stderr)
        return 2
    target = argv[1]
    if target.startswith("/"):
        target = f"http://127.0.0.1:{os.environ.get('PORT', '3000')}{target}"
    url = urllib.parse.urlsplit(target)
    path = urllib.parse.urlunsplit(("", "", url.path, url.query, ""))
    public = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/")
    signed = public + path if public else target
    params = dict(a.split("=", 1) for a in argv[2:])
    sig = RequestValidator(token).compute_signature(signed, params)
    r = requests.post(target, data=params, headers={"X-Twilio-Signature": sig}, timeout=30)
    print(r.status_code, r.text)
    return 0 if r.status_code < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
