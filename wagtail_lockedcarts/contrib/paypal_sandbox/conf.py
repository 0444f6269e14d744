"""``settings.PAYPAL_SANDBOX`` with defaults."""

from django.conf import settings

DEFAULTS = {
    "SIGNING_SECRET": "sandbox-signing-key",
    "WEBHOOK_URL": "",
    "WEBHOOK_ID": "8SANDBOXDEMOWEBHOOK",
    "CLIENT_ID": "sandbox-client",
    "CLIENT_SECRET": "sandbox-secret",
    # "thread": deliver webhooks from a background thread after commit (the demo);
    # "manual": keep them queued until paypal_sandbox.webhooks.deliver_pending() (the tests).
    "DELIVERY": "thread",
    # Fault-injection endpoints under /control/ (authenticated with the client credentials).
    "CONTROL_ENABLED": True,
    "TOKEN_LIFETIME": 32400,
    "DELIVERY_TIMEOUT": (2.0, 10.0),
    "DELIVERY_ATTEMPTS": 3,
}


def get(name):
    return {**DEFAULTS, **(getattr(settings, "PAYPAL_SANDBOX", None) or {})}[name]
