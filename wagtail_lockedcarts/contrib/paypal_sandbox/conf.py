"""``settings.PAYPAL_SANDBOX`` with defaults."""

from django.conf import settings

DEFAULTS = {
    # PEM file holding the webhook signing key and its self-signed certificate, created on first
    # use. Empty: a key in process memory (single-process servers and tests only).
    "SIGNING_KEY_FILE": "",
    "WEBHOOK_URL": "",
    "WEBHOOK_ID": "8SANDBOXDEMOWEBHOOK",
    # No default credentials: the site generates them (the example site on first run, in .demo/).
    # Empty credentials authenticate nobody.
    "CLIENT_ID": "",
    "CLIENT_SECRET": "",
    # "thread": deliver webhooks from a background thread after commit (the demo);
    # "manual": keep them queued until paypal_sandbox.webhooks.deliver_pending() (the tests).
    "DELIVERY": "thread",
    # Fault-injection and settle endpoints under /control/ (authenticated with the client
    # credentials). Off unless the site enables them (`make demo` and the tests do).
    "CONTROL_ENABLED": False,
    "TOKEN_LIFETIME": 32400,
    "DELIVERY_TIMEOUT": (2.0, 10.0),
    "DELIVERY_ATTEMPTS": 3,
}


def get(name):
    return {**DEFAULTS, **(getattr(settings, "PAYPAL_SANDBOX", None) or {})}[name]
