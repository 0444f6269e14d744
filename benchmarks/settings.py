"""The example site's settings, pointed at the benchmark's PostgreSQL and stripped of noise.

``DEBUG`` is off (the numbers are for production code paths); query capture does not need it.
Passwords hash with MD5 only because the benchmark creates users, never logs them in by password.
"""

from example_site.settings import *  # noqa: F401,F403
from example_site.settings import PAYPAL_SANDBOX

DEBUG = False
PAYPAL_SANDBOX = {**PAYPAL_SANDBOX, "ENABLE_WITHOUT_DEBUG": True}  # installed by the example site
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}

# The floor: Wagtail's stock snippet listing of a trivial model (benchmarks/models.py).
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
