"""Test settings: the example site, on SQLite by default or on the throwaway PostgreSQL that
``scripts/test.sh`` starts (``LOCKEDCARTS_PG_PORT``)."""

import os

from example_site.settings import *  # noqa: F401,F403
from example_site.settings import INSTALLED_APPS, PAYPAL_SANDBOX, Q_CLUSTER

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

# pytest-django runs with DEBUG off; the offline sandbox may load here all the same.
PAYPAL_SANDBOX = {**PAYPAL_SANDBOX, "ENABLE_WITHOUT_DEBUG": True}
