"""The fault switch of the local emulator (scripts/stack.py) and the fake
providers (scripts/fake_providers.py): fail the next N requests that match
a rule, the way the real service fails them, so the code under test (and
the SDK's own retries) meets the failure as it would in AWS or at the
provider.

A rule, as posted (JSON) to the switch's control path:

    {"service": ..., "operation": ..., "count": 1, "kind": "throttle",
     "delay_ms": 0, "contains": "..."}

    service    who answers: the emulator's dynamodb, s3, ses, secretsmanager;
               the fake's vonage or twilio. Required.
    operation  which request: an AWS operation (GetItem, PutObject,
               SendEmail, GetSecretValue, ...) or, at the fake, "METHOD
               /path" (the path may end in `*`: any path that starts so).
               "*" or absent: every request of the service.
    count      how many of the matching requests fail (default 1); then the
               rule is spent and requests are served again.
    kind       throttle: the service's own "slow down" answer;
               5xx: its internal-error answer;
               timeout: no answer; the connection is held `delay_ms`
               (default 30000) and then closed;
               slow: the right answer, `delay_ms` (default 1000) late.
    status     5xx only: the status to answer (500 to 599; default 500).
    delay_ms   see kind.
    contains   only requests whose path, query or body holds this text (a
               table, bucket, secret, address or phone number): tests that
               share one emulator arm faults for their own requests only.

Rules are tried in the order they were armed; the first that matches takes
the request. `GET` on the control path lists the rules with `fired` (how
many requests each failed) and `remaining`; `DELETE` disarms them all.
"""
import json
import threading

KINDS = ("throttle", "5xx", "timeout", "slow")
DEFAULT_DELAY_MS = {"timeout": 30_000, "slow": 1_000}


class BadRule(ValueError):
    """A rule the switch cannot arm (answered 400, with this text)."""


class Rule:
    def __init__(self, spec: dict, services: tuple):
        if not isinstance(spec, dict):
            raise BadRule("a rule is a JSON object")
        self.service = spec.get("service")
        if self.service not in services:
            raise BadRule(f"service must be one of {', '.join(services)}")
        self.operation = spec.get("operation") or "*"
        if not isinstance(self.operation, str):
            raise BadRule("operation must be a string")
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise BadRule(f"kind must be one of {', '.join(KINDS)}")
        self.count = _int(spec, "count", 1, 1, 1_000_000)
        self.delay_ms = _int(spec, "delay_ms", DEFAULT_DELAY_MS.get(self.kind, 0), 0, 600_000)
        self.status = _int(spec, "status", 500, 500, 599)
        self.contains = spec.get("contains") or ""
        if not isinstance(self.contains, str):
            raise BadRule("contains must be a string")
        self.fired = 0

    def matches(self, service: str, operation: str, text: str) -> bool:
        if self.fired >= self.count or service != self.service:
            return False
        op = self.operation
        if op != "*" and op != operation and not (op.endswith("*") and operation.startswith(op[:-1])):
            return False
        return self.contains in text

    def shown(self) -> dict:
        return {"service": self.service, "operation": self.operation, "kind": self.kind,
                "count": self.count, "fired": self.fired, "remaining": self.count - self.fired,
                "delay_ms": self.delay_ms, "contains": self.contains}


def _int(spec: dict, name: str, default: int, lo: int, hi: int) -> int:
    value = spec.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise BadRule(f"{name} must be an integer from {lo} to {hi}")
    return value


class Faults:
    """The armed rules of one server (thread-safe)."""

    def __init__(self, services: tuple):
        self.services = services
        self.rules = []
        self.lock = threading.Lock()

    def armed(self, service: str) -> bool:
        """Whether any rule may still fire for `service` (so a request's body
        is only read when a rule might need it)."""
        with self.lock:
            return any(r.service == service and r.fired < r.count for r in self.rules)

    def take(self, service: str, operation: str, text: str):
        """The rule that fails this request, counted as fired; or None."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(service, operation, text):
                    rule.fired += 1
                    return rule
        return None

    def control(self, method: str, body: bytes) -> tuple[int, object]:
        """The control path: POST arms a rule (or a list of rules), GET lists
        them, DELETE disarms all. The status and the JSON answer."""
        if method == "GET":
            with self.lock:
                return 200, [r.shown() for r in self.rules]
        if method == "DELETE":
            with self.lock:
                self.rules.clear()
            return 200, []
        if method != "POST":
            return 405, {"error": "GET, POST or DELETE"}
        try:
            spec = json.loads(body or b"null")
            specs = spec if isinstance(spec, list) else [spec]
            rules = [Rule(s, self.services) for s in specs]
        except (ValueError, BadRule) as e:
            return 400, {"error": str(e)}
        with self.lock:
            self.rules.extend(rules)
            return 201, [r.shown() for r in self.rules]
