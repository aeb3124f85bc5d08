"""Signs Vonage SMS API webhooks as Vonage does, with the official packages:
`vonage-http-client`'s `Auth.sign_params` for the HMAC methods (md5, sha1,
sha256, sha512) and the `vonage` 3.x client's `signature` for md5hash (MD5
of the sorted parameters followed by the secret), the one method the newer
package no longer offers."""
import time

import vonage
from vonage_http_client.auth import Auth

API_KEY = "abcd1234"


def sign_vonage_sms(params: dict, secret: str, method: str) -> dict:
    """The parameters with `timestamp` (when missing) and `sig` added."""
    params = dict(params)
    params.setdefault("timestamp", str(int(time.time())))
    if method == "md5hash":
        sig = vonage.Client(key=API_KEY, signature_secret=secret).signature(dict(params))
    else:
        auth = Auth(api_key=API_KEY, signature_secret=secret, signature_method=method)
        sig = auth.sign_params(dict(params))
    params["sig"] = sig
    return params
