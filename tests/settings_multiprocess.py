"""Settings for the processes tests/test_scaling_out.py starts: gunicorn workers and two
``qcluster`` processes on django-q2's Redis broker, all on the test's PostgreSQL database.

Everything a production deployment would share lives outside the processes: the database, the
Redis broker, the sandbox's webhook signing key (a PEM file) and the e-mail directory. The
environment names the test's database, ports and directories.
"""

import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import DATABASES, PAYPAL_SANDBOX, WAGTAIL_LOCKEDCARTS

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
BASE = os.environ.get("LOCKEDCARTS_MP_BASE", "http://127.0.0.1:8000")
#: The sandbox plays PayPal, another service: its own gunicorn (else shop workers waiting on
#: PayPal could hold every worker the sandbox needs to answer them).
PAYPAL_BASE = os.environ.get("LOCKEDCARTS_MP_PAYPAL_BASE", BASE)
WAGTAILADMIN_BASE_URL = BASE

# Persistent connections: one per gunicorn worker / qcluster worker, reused across requests.
DATABASES = {
    "default": {
        **DATABASES["default"],
        "NAME": os.environ.get("LOCKEDCARTS_MP_DB", DATABASES["default"].get("NAME")),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}

Q_CLUSTER = {
    "name": "lockedcarts-multiprocess",
    "workers": 2,
    "timeout": 60,
    "retry": 90,
    "catch_up": False,
    "sync": False,
    "redis": {"host": "127.0.0.1", "port": int(os.environ.get("LOCKEDCARTS_MP_REDIS_PORT", 6379)), "db": 0},
}

PAYPAL_SANDBOX = {
    **PAYPAL_SANDBOX,
    "WEBHOOK_URL": BASE + "/cart/paypal/webhook/",
    "DELIVERY": "thread",
    "CONTROL_ENABLED": True,
    "SIGNING_KEY_FILE": os.environ.get("LOCKEDCARTS_MP_SIGNING_KEY", ""),
}
WAGTAIL_LOCKEDCARTS = {
    **WAGTAIL_LOCKEDCARTS,
    "PAYPAL": {**WAGTAIL_LOCKEDCARTS["PAYPAL"], "API_BASE": PAYPAL_BASE + "/paypal-sandbox", "READ_TIMEOUT": 20.0},
    "WEBHOOK_CERT_URL_PREFIXES": [PAYPAL_BASE + "/paypal-sandbox/v1/notifications/certs/"],
    # The e-mail goes out whatever the load left to report, so "sent once" is what is tested.
    "SEND_EMPTY_DIGEST": True,
}

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("LOCKEDCARTS_MAIL_DIR", "/tmp/lockedcarts-multiprocess-mail")
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
