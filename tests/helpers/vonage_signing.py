"""Signs webhooks exactly as Vonage's signed callbacks are signed: an HS256
JWT with the account signature secret in `Authorization: Bearer`, whose
`payload_hash` is the hex SHA-256 of the raw body, or for GET of the query
parameters as a compact JSON object in their original order."""
import hashlib
import json
import time
import uuid

import jwt
from vonage_jwt.verify_jwt import verify_signature


def token(secret: str, payload: bytes, **overrides) -> str:
    claims = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "api_key": "abcd1234",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "payload_hash": hashlib.sha256(payload).hexdigest(),
    }
    claims.update(overrides)
    t = jwt.encode(claims, secret, algorithm="HS256")
    # Vonage's own SDK accepts it as one of its signed webhooks.
    assert verify_signature(t, secret)
    return t


def query_payload(params: list[tuple[str, str]]) -> bytes:
    return json.dumps(dict(params), separators=(",", ":")).encode()


def post_headers(secret: str, body: bytes) -> dict:
    return {"Authorization": f"Bearer {token(secret, body)}", "Content-Type": "application/json"}


def get_headers(secret: str, params: list[tuple[str, str]]) -> dict:
    return {"Authorization": f"Bearer {token(secret, query_payload(params))}"}
