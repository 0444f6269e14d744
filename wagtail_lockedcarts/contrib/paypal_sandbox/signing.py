"""How the sandbox signs webhooks, mirroring PayPal's scheme with a shared secret.

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(raw body)`` with RSA; the
sandbox uses HMAC-SHA256 with ``PAYPAL_SANDBOX["SIGNING_SECRET"]`` over the same string, so the
merchant-side verification (a postback to ``verify-webhook-signature``) works the same way.
"""

import base64
import hashlib
import hmac
import json
import zlib

from . import conf

AUTH_ALGO = "HMACSHA256"


def canonical_body(event):
    """The exact bytes the sandbox sends; verification re-derives them from the parsed event."""
    return json.dumps(event, separators=(",", ":")).encode()


def signed_string(transmission_id, transmission_time, webhook_id, body):
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"


def sign(transmission_id, transmission_time, webhook_id, body):
    message = signed_string(transmission_id, transmission_time, webhook_id, body).encode()
    digest = hmac.new(conf.get("SIGNING_SECRET").encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(transmission_id, transmission_time, webhook_id, body, signature):
    expected = sign(transmission_id, transmission_time, webhook_id, body)
    return hmac.compare_digest(expected.encode(), str(signature).encode())
