#!/usr/bin/env python3
"""Writes events/<function>/<case>.json (API Gateway HTTP API, payload 2.0,
as `sam local invoke -e` and `cargo lambda invoke --data-file` take them)
and events/expectations.json, which the handler test checks every file
against. The test seeds a table with numbers +447700900001/2 and the open
session SESSION between +447700900100 and +447700900200 first.

Run from the repository root: python3 scripts/gen_events.py
"""
import json
import os
import urllib.parse

SESSION = "5e55104d5e55104d5e55104d5e55104d"
HOST = "abc123defg.execute-api.eu-west-2.amazonaws.com"
VONAGE_ANSWER = {"to": "447700900001", "from": "447700900100",
                 "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356",
                 "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}


def event(method, path, route, body=None, query=None, path_params=None, content_type="application/json"):
    raw_query = urllib.parse.urlencode(query or {})
    headers = {"host": HOST, "user-agent": "callmask-events", "x-forwarded-proto": "https",
               "x-forwarded-for": "203.0.113.10", "x-forwarded-port": "443"}
    if body is not None:
        headers["content-type"] = content_type
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": HOST,
            "domainPrefix": "abc123defg",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "callmask-events"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "22/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795334400000,
        },
        "isBase64Encoded": False,
    }
    if query:
        e["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    if path_params:
        e["pathParameters"] = path_params
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    return e


CASES = {
    # function/case: (event, expected status, strings the body must contain, strings it must not)
    "numbers/list": (event("GET", "/numbers", "/numbers"), 200, ["+447700900001", "active_sessions"], []),
    "numbers/create": (event("POST", "/numbers", "/numbers", {"number": "+447700900003", "provider": "vonage"}),
                       201, ['"country":"GB"', '"number":"+447700900003"'], []),
    "numbers/create-duplicate": (event("POST", "/numbers", "/numbers", {"number": "+447700900001", "provider": "vonage"}),
                                 409, ["number_exists"], []),
    "numbers/create-invalid-number": (event("POST", "/numbers", "/numbers", {"number": "not-a-number", "provider": "vonage"}),
                                      400, ["invalid_number"], []),
    "numbers/create-bad-provider": (event("POST", "/numbers", "/numbers", {"number": "+447700900004", "provider": "acme"}),
                                    400, ["invalid_provider"], []),
    "numbers/create-malformed-json": (event("POST", "/numbers", "/numbers", '{"number": '), 400, ["invalid_json"], []),
    "numbers/show": (event("GET", "/numbers/%2B447700900001", "/numbers/{number}", path_params={"number": "+447700900001"}),
                     200, ['"active_sessions":1'], []),
    "numbers/delete-in-use": (event("DELETE", "/numbers/%2B447700900001", "/numbers/{number}", path_params={"number": "+447700900001"}),
                              409, ["number_in_use"], []),
    "numbers/delete-unknown": (event("DELETE", "/numbers/%2B447700900099", "/numbers/{number}", path_params={"number": "+447700900099"}),
                               404, ["not_found"], []),
    "numbers/wrong-method": (event("PUT", "/numbers", "/numbers", {}), 405, ["method_not_allowed"], []),
    "sessions/create": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "+447700900400"], "ttl_seconds": 3600}),
                        201, ['"status":"open"', "proxy_number"], []),
    "sessions/create-identical": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "00447700900300"]}),
                                  400, ["identical_participants"], []),
    "sessions/create-invalid-number": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "hello"]}),
                                       400, ["invalid_number", "participant 2"], []),
    "sessions/create-one-participant": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300"]}),
                                        400, ["invalid_participants"], []),
    "sessions/create-bad-ttl": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "+447700900400"], "ttl_seconds": -5}),
                                400, ["invalid_ttl"], []),
    "sessions/create-pool-exhausted": (event("POST", "/sessions", "/sessions", {"participants": ["+447700900300", "+447700900400"], "provider": "twilio"}),
                                       409, ["pool_exhausted", "GB"], []),
    "sessions/create-malformed-json": (event("POST", "/sessions", "/sessions", "{participants"), 400, ["invalid_json"], []),
    "sessions/get": (event("GET", f"/sessions/{SESSION}", "/sessions/{id}", path_params={"id": SESSION}),
                     200, ['"status":"open"', "+447700900002"], []),
    "sessions/get-unknown": (event("GET", "/sessions/0000aaaa", "/sessions/{id}", path_params={"id": "0000aaaa"}), 404, ["not_found"], []),
    "sessions/calls": (event("GET", f"/sessions/{SESSION}/calls", "/sessions/{id}/calls", path_params={"id": SESSION}),
                       200, ['"calls"'], []),
    "sessions/delete": (event("DELETE", f"/sessions/{SESSION}", "/sessions/{id}", path_params={"id": SESSION}), 204, [], []),
    "sessions/wrong-method": (event("PATCH", f"/sessions/{SESSION}", "/sessions/{id}", {}, path_params={"id": SESSION}),
                              405, ["method_not_allowed"], []),
    "vonage-answer/get-routed": (event("GET", "/vonage/answer", "/vonage/answer", query=VONAGE_ANSWER),
                                 200, ['"action":"connect"', '"number":"447700900200"', '"from":"447700900002"',
                                       f"https://{HOST}/vonage/event?session_id={SESSION}"], []),
    "vonage-answer/post-routed": (event("POST", "/vonage/answer", "/vonage/answer", VONAGE_ANSWER),
                                  200, ['"action":"connect"', '"number":"447700900200"'], []),
    "vonage-answer/unknown-caller": (event("GET", "/vonage/answer", "/vonage/answer", query={**VONAGE_ANSWER, "from": "447700900999"}),
                                     200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/missing-params": (event("GET", "/vonage/answer", "/vonage/answer"), 200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/malformed-json": (event("POST", "/vonage/answer", "/vonage/answer", "{{not json"), 200, ['"action":"talk"'], ['"action":"connect"']),
    "vonage-answer/wrong-method": (event("DELETE", "/vonage/answer", "/vonage/answer"), 405, ["method_not_allowed"], []),
    "vonage-event/started": (event("POST", "/vonage/event", "/vonage/event",
                                   {"from": "447700900100", "to": "447700900001", "uuid": VONAGE_ANSWER["uuid"],
                                    "conversation_uuid": VONAGE_ANSWER["conversation_uuid"], "status": "started",
                                    "direction": "inbound", "timestamp": "2026-11-22T08:00:00.000Z"}), 200, [], []),
    "vonage-event/completed-session": (event("POST", "/vonage/event", "/vonage/event",
                                             {"from": "447700900002", "to": "447700900200", "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                                              "conversation_uuid": VONAGE_ANSWER["conversation_uuid"], "status": "completed",
                                              "direction": "outbound", "timestamp": "2026-11-22T08:03:00.000Z",
                                              "start_time": "2026-11-22T08:00:05.000Z", "end_time": "2026-11-22T08:03:00.000Z",
                                              "duration": "175", "rate": "0.01", "price": "0.03", "network": "23410"},
                                             query={"session_id": SESSION}), 200, [], []),
    "vonage-event/missing-uuid": (event("POST", "/vonage/event", "/vonage/event", {"status": "answered"}), 400, ["invalid_event"], []),
    "vonage-event/malformed": (event("POST", "/vonage/event", "/vonage/event", "[1,2"), 400, ["invalid_event"], []),
    "vonage-fallback/get-routed": (event("GET", "/vonage/fallback", "/vonage/fallback", query={**VONAGE_ANSWER, "reason": "timeout"}),
                                   200, ['"action":"connect"'], []),
    "vonage-fallback/post-routed": (event("POST", "/vonage/fallback", "/vonage/fallback",
                                          {**VONAGE_ANSWER, "reason": "Connection reset",
                                           "original_request": {"url": "https://example.com/vonage/answer", "type": "answer_url"}}),
                                    200, ['"action":"connect"'], []),
    "vonage-fallback/unknown-caller": (event("POST", "/vonage/fallback", "/vonage/fallback", {**VONAGE_ANSWER, "from": "447700900999"}),
                                       200, ['"action":"talk"'], ['"action":"connect"']),
}


def main():
    expectations = {}
    for name, (e, status, contains, absent) in sorted(CASES.items()):
        path = os.path.join("events", name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(e, f, indent=2)
            f.write("\n")
        expectations[name + ".json"] = {"status": status, "contains": contains, "absent": absent}
    with open(os.path.join("events", "expectations.json"), "w") as f:
        json.dump(expectations, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
