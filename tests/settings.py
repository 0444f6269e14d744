"""Test settings: the example site, on SQLite by default or on the throwaway PostgreSQL that
``scripts/test.sh`` starts (``LOCKEDCARTS_PG_PORT``)."""

import os
from pathlib import Path

# The example site generates its demo secrets on first run; the tests keep theirs apart.
os.environ.setdefault("LOCKEDCARTS_DEMO_DIR", str(Path(__file__).resolve().parent.parent / ".test-artifacts" / "demo"))

from example_site.settings import *  # noqa: E402,F401,F403
from example_site.settings import INSTALLED_APPS, PAYPAL_SANDBOX, Q_CLUSTER, WAGTAIL_LOCKEDCARTS  # noqa: E402

if "wagtail_modeladmin" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "wagtail_modeladmin"]

PG_PORT = os.environ.get("LOCKEDCARTS_PG_PORT")
if PG_PORT:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "lockedcarts",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": PG_PORT,
            "TEST": {"NAME": "test_lockedcarts"},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "TEST": {"NAME": os.environ.get("LOCKEDCARTS_SQLITE_TEST_DB") or None},
        }
    }

SECRET_KEY = "tests-only"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://testserver"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run in-process unless a test starts a real qcluster (which reads its own environment).
Q_CLUSTER = {**Q_CLUSTER, "name": "lockedcarts-tests", "sync": os.environ.get("LOCKEDCARTS_Q_SYNC", "1") == "1"}

from wagtail_lockedcarts.conf import DEFAULTS as _DEFAULTS  # noqa: E402

# The sandbox's fault and settle controls are off by default; the tests drive them. Signing key
# in memory (one per test run) unless a test's subprocess server names a file.
PAYPAL_SANDBOX = {
    **PAYPAL_SANDBOX,
    "CLIENT_ID": "tests-client",
    "CLIENT_SECRET": "tests-secret",
    "WEBHOOK_ID": "8TESTSWEBHOOKID01",
    "CONTROL_ENABLED": True,
    # pytest-django runs with DEBUG off; the offline sandbox may load here all the same.
    "ENABLE_WITHOUT_DEBUG": True,
    "SIGNING_KEY_FILE": os.environ.get("LOCKEDCARTS_SANDBOX_KEY_FILE", ""),
}
WAGTAIL_LOCKEDCARTS = {
    **WAGTAIL_LOCKEDCARTS,
    # The demo sweeps every minute so a visitor can watch a lock; the tests check the default.
    "CHECKOUT_SWEEP_MINUTES": _DEFAULTS["CHECKOUT_SWEEP_MINUTES"],
    "WEBHOOK_CERT_NAMES": [*_DEFAULTS["WEBHOOK_CERT_NAMES"], *WAGTAIL_LOCKEDCARTS["WEBHOOK_CERT_NAMES"]],
    "PAYPAL": {
        **WAGTAIL_LOCKEDCARTS["PAYPAL"],
        "CLIENT_ID": "tests-client",
        "CLIENT_SECRET": "tests-secret",
        "WEBHOOK_ID": "8TESTSWEBHOOKID01",
    },
}
