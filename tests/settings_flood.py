"""Settings for the multi-worker gunicorn started by tests/test_webhook_flood.py.

The same as tests/settings.py, on the test's own database (``LOCKEDCARTS_FLOOD_DB``), with the
shop's PayPal client and the webhook certificate allowlist pointing at the PayPal server
(``LOCKEDCARTS_FLOOD_PAYPAL``, the same site in its own gunicorn), the sandbox's webhook URL at
the shop (``LOCKEDCARTS_FLOOD_BASE``), and the sandbox's signing key in a file
every worker (and the test) shares (``LOCKEDCARTS_SANDBOX_KEY_FILE``, read by tests/settings.py).
"""

import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import DATABASES, PAYPAL_SANDBOX, WAGTAIL_LOCKEDCARTS

BASE = os.environ["LOCKEDCARTS_FLOOD_BASE"]
PAYPAL = os.environ["LOCKEDCARTS_FLOOD_PAYPAL"]
DATABASES = {"default": {**DATABASES["default"], "NAME": os.environ["LOCKEDCARTS_FLOOD_DB"]}}
DEBUG = False
PAYPAL_SANDBOX = {**PAYPAL_SANDBOX, "WEBHOOK_URL": f"{BASE}/cart/paypal/webhook/", "DELIVERY": "manual"}
WAGTAIL_LOCKEDCARTS = {
    **WAGTAIL_LOCKEDCARTS,
    "PAYPAL": {**WAGTAIL_LOCKEDCARTS["PAYPAL"], "API_BASE": f"{PAYPAL}/paypal-sandbox"},
    "WEBHOOK_CERT_URL_PREFIXES": [f"{PAYPAL}/paypal-sandbox/v1/notifications/certs/"],
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
