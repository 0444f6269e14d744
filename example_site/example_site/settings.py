"""Settings of the demo shop. Secrets come from the environment or, failing that, from
``.demo/secrets.json``, generated on first run (see demo_secrets.py): none is in the repository.
``DEBUG`` and the sandbox's fault/settle controls are off unless ``make demo`` turns them on
(``DJANGO_DEBUG=1``, ``PAYPAL_SANDBOX_CONTROL=1``)."""

import os
from pathlib import Path

from example_site import demo_secrets

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(os.environ.get("LOCKEDCARTS_DEMO_DIR") or BASE_DIR.parent / ".demo")
_stored_secrets = demo_secrets.load(DEMO_DIR)
_secrets = {name: os.environ.get(name) or value for name, value in _stored_secrets.items()}

SECRET_KEY = _secrets["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "shop",
    "wagtail_lockedcarts.contrib.paypal_sandbox",
    "wagtail_lockedcarts",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
if os.environ.get("LOCKEDCARTS_MODELADMIN") == "1":
    INSTALLED_APPS[3:3] = ["wagtail_lockedcarts.modeladmin", "wagtail_modeladmin"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail_lockedcarts.middleware.CartMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ]
        },
    }
]

WSGI_APPLICATION = "example_site.wsgi.application"

if os.environ.get("DATABASE_URL_PG_PORT"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "lockedcarts"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": "127.0.0.1",
            "PORT": os.environ["DATABASE_URL_PG_PORT"],
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("LOCKEDCARTS_DB", BASE_DIR / "db.sqlite3"),
            # Serialises writers (runserver + qcluster) instead of failing with "database is locked".
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

WAGTAIL_SITE_NAME = "Locked carts demo shop"
# The demo runs offline: Wagtail's built-in avatar instead of images from gravatar.com.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DIR / "sent_mail"
DEFAULT_FROM_EMAIL = "shop@example.com"

Q_CLUSTER = {
    "name": "lockedcarts-demo",
    "orm": "default",
    "workers": 2,
    "timeout": 120,
    "retry": 300,
    "max_attempts": 5,
    "catch_up": False,
    "save_limit": 250,
    "poll": 1,
}

PAYPAL_API_BASE = os.environ.get("PAYPAL_API_BASE", "http://127.0.0.1:8000/paypal-sandbox")

PAYPAL_SANDBOX = {
    # The offline sandbox signs webhooks with this key (generated on first run) and POSTs them
    # to WEBHOOK_URL; its certificate is served under PAYPAL_API_BASE.
    "SIGNING_KEY_FILE": str(DEMO_DIR / "paypal-sandbox-signing.pem"),
    "WEBHOOK_URL": os.environ.get("PAYPAL_SANDBOX_WEBHOOK_URL", "http://127.0.0.1:8000/cart/paypal/webhook/"),
    "WEBHOOK_ID": _secrets["PAYPAL_WEBHOOK_ID"],
    "CLIENT_ID": _secrets["PAYPAL_CLIENT_ID"],
    "CLIENT_SECRET": _secrets["PAYPAL_CLIENT_SECRET"],
    "CONTROL_ENABLED": os.environ.get("PAYPAL_SANDBOX_CONTROL", "0") == "1",
}

WAGTAIL_LOCKEDCARTS = {
    "DEFAULT_CURRENCY": "EUR",
    # The demo locks an unanswered checkout after 2 minutes (seed_demo's site setting); sweeping
    # every minute lets a visitor watch that happen. A real shop keeps the default 5.
    "CHECKOUT_SWEEP_MINUTES": 1,
    "BASE_TEMPLATE": "base.html",  # the cart and checkout pages inside the shop's layout
    "STOREFRONT_CSS": False,  # shop.css styles them
    "PAYPAL": {
        "CLIENT_ID": _secrets["PAYPAL_CLIENT_ID"],
        "CLIENT_SECRET": _secrets["PAYPAL_CLIENT_SECRET"],
        "WEBHOOK_ID": _secrets["PAYPAL_WEBHOOK_ID"],
        "API_BASE": PAYPAL_API_BASE,
        "BRAND_NAME": "Locked carts demo shop",
    },
    # Webhooks from the offline sandbox are verified locally against the certificate it serves.
    "WEBHOOK_CERT_URL_PREFIXES": [f"{PAYPAL_API_BASE}/v1/notifications/certs/"],
    "WEBHOOK_CERT_NAMES": ["paypal-sandbox.wagtail-lockedcarts.invalid"],
}

LOGIN_URL = "/admin/login/"
WAGTAIL_ENABLE_UPDATE_CHECK = False  # the demo runs offline
