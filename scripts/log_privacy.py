#!/usr/bin/env python3
"""The log-privacy check: no line the tests logged holds a full phone number,
a secret, or a presigned URL's signature.

`make unit` runs the emulator and event tests with LOG_CAPTURE_DIR set; each
test binary writes every log line (JSON, as in Lambda) to `<binary>-<pid>.jsonl`
there, and every secret it handed to the code to `<binary>-<pid>.secrets`.
This reads them all:

- a phone number is `+` and 8 or more digits (spaces, dots, dashes or
  brackets between them included), or a bare run of 8-15 digits that could
  be an international number (Vonage writes numbers without `+`): the
  `phonenumbers` package (Google's libphonenumber) finds it a possible
  number for its calling code, which epoch timestamps are not;
- a secret is any value a test configured or stored in Secrets Manager;
- a presigned URL's signature is `X-Amz-Signature=` with its value, or
  `Signature=` of a SigV4 `Authorization` header.

Exits 1 naming each offending line (the value masked); also fails when
nothing was captured, so a broken capture cannot pass.

Usage: log_privacy.py DIR
"""

import pathlib
import re
import sys

import phonenumbers

PLUS_NUMBER = re.compile(r"\+\d(?:[\s.\-()]*\d){7,}")
# A bare number stands alone: not a piece of a uuid, a date or a hex id
# (a random uuid's first group is all digits about 1 time in 50).
BARE_DIGITS = re.compile(r"(?<![\w+.\-:])(\d{8,15})(?![\w.\-:])")
SIGNATURES = [
    re.compile(r"X-Amz-Signature=[0-9a-fA-F]{16,}"),
    re.compile(r"Signature=[0-9a-fA-F]{64}"),
]


def is_phone_number(digits: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


def mask(value: str) -> str:
    return value[:3] + "…" + value[-2:] if len(value) > 6 else "…"


def problems(line: str, secrets: list[str]) -> list[tuple[str, str]]:
    """What the line gives away: (kind, the value)."""
    found = []
    for m in PLUS_NUMBER.finditer(line):
        found.append(("a full phone number", m.group()))
    for m in BARE_DIGITS.finditer(line):
        if is_phone_number(m.group(1)):
            found.append(("a bare international number", m.group(1)))
    for s in secrets:
        if s in line:
            found.append(("a secret", s))
    for pattern in SIGNATURES:
        for m in pattern.finditer(line):
            found.append(("a request signature", m.group()))
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    logs = sorted(root.glob("*.jsonl"))
    secrets = sorted(
        {s.strip() for f in root.glob("*.secrets") for s in f.read_text().splitlines() if len(s.strip()) >= 6}
    )
    lines = 0
    bad = 0
    for path in logs:
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lines += 1
            found = problems(line, secrets)
            shown = line
            for _, value in found:
                # The report must not leak what it reports.
                shown = shown.replace(value, mask(value))
            for kind, value in found:
                bad += 1
                print(f"{path.name}:{n}: {kind} ({mask(value)}): {shown[:200]}")
    if lines == 0:
        print(f"log privacy: no log lines captured under {root}: the capture is broken", file=sys.stderr)
        return 1
    print(f"log privacy: {lines} lines from {len(logs)} test binaries, {len(secrets)} secrets checked: {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
