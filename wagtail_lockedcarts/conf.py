"""Package settings, read from ``settings.WAGTAIL_LOCKEDCARTS`` with documented defaults.

Read lazily on every access so ``override_settings`` in tests and per-environment settings work.
Secrets (PayPal client secret, webhook id) are only ever read from here, never from the database.
"""

import os

from django.conf import settings as django_settings

DEFAULTS = {
    # Dotted path to a callable(order) that hands an order to the site's fulfilment/ERP.
    "ORDER_EXPORTER": "wagtail_lockedcarts.export.log_order",
    # Dotted path to a callable(product_key) -> wagtail_lockedcarts.products.ProductInfo.
    "PRODUCT_RESOLVER": "wagtail_lockedcarts.products.resolve_model_product",
    "DEFAULT_CURRENCY": "EUR",
    # True: post_migrate keeps django-q2 schedules; False: drive the commands from cron.
    "USE_SCHEDULES": True,
    "CHECKOUT_SWEEP_MINUTES": 5,
    "SWEEP_BATCH_SIZE": 200,
    # Seconds one sweep run may spend asking PayPal (capped below django-q2's task timeout), and
    # the most carts it asks about; stale carts it does not reach are locked, not skipped.
    "SWEEP_TIME_BUDGET": 60,
    "SWEEP_MAX_LOOKUPS": 50,
    # A locked cart whose payment PayPal may still decide is asked about again this often.
    "LOCKED_RECHECK_MINUTES": 60,
    "DAILY_NOTIFICATION_MAX_ITEMS": 50,
    "SEND_EMPTY_DAILY_NOTIFICATION": False,
    "WEBHOOK_MAX_BYTES": 64 * 1024,
    # "local": verify PayPal's RSA signature here with the certificate from PAYPAL-CERT-URL
    # (fetched once, cached until it expires); "postback": ask PayPal's verify-webhook-signature.
    "WEBHOOK_VERIFICATION": "local",
    "WEBHOOK_AUTH_ALGOS": ["SHA256withRSA"],
    # PAYPAL-CERT-URL must start with one of these (scheme, host and port exactly; path prefix).
    "WEBHOOK_CERT_URL_PREFIXES": [
        "https://api.paypal.com/v1/notifications/certs/",
        "https://api-m.paypal.com/v1/notifications/certs/",
        "https://api.sandbox.paypal.com/v1/notifications/certs/",
        "https://api-m.sandbox.paypal.com/v1/notifications/certs/",
    ],
    # The signing certificate's subject common name must be one of these.
    "WEBHOOK_CERT_NAMES": ["messageverificationcerts.paypal.com", "messageverificationcerts.sandbox.paypal.com"],
    # Optional PEM file of trusted roots; when set, the certificate chain must end at one of them.
    "WEBHOOK_CERT_TRUST_ROOTS": "",
    # At most this many certificate downloads per process and minute (a flood of forged
    # certificate URLs must not turn into a flood of outbound calls); more answer 503.
    "WEBHOOK_CERT_FETCHES_PER_MINUTE": 6,
    # PAYPAL-TRANSMISSION-TIME may differ from our clock by at most this many seconds.
    "WEBHOOK_MAX_AGE_SECONDS": 600,
    "DASHBOARD_PANEL_ITEMS": 5,
    # Admin listings count rows up to this many, then say "more than …" (and page that far).
    "LISTING_COUNT_LIMIT": 10_000,
    # With the wagtail_lockedcarts.modeladmin sub-app: False = the site registers the ModelAdmins.
    "MODELADMIN_REGISTER": True,
    # The admin viewsets to register: a subclass may swap a view (``confirm_cart_view_class`` …).
    "CART_VIEWSET": "wagtail_lockedcarts.admin.viewsets.CartViewSet",
    "ORDER_VIEWSET": "wagtail_lockedcarts.admin.viewsets.OrderViewSet",
    "PAYPAL": {},
    # Template the storefront pages extend (your site's "base.html"); None = a bare HTML page.
    "BASE_TEMPLATE": None,
    # Sender of the package's e-mails; None = DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Link the small storefront stylesheet (CSS custom properties) from the storefront pages.
    "STOREFRONT_CSS": True,
}

#: Setting names from before the daily notification had one name. Still read (the new name wins);
#: ``manage.py check`` warns about them (wagtail_lockedcarts.W004).
RENAMED = {
    "DIGEST_MAX_ITEMS": "DAILY_NOTIFICATION_MAX_ITEMS",
    "SEND_EMPTY_DIGEST": "SEND_EMPTY_DAILY_NOTIFICATION",
}

PAYPAL_DEFAULTS = {
    "CLIENT_ID": os.environ.get("PAYPAL_CLIENT_ID", ""),
    "CLIENT_SECRET": os.environ.get("PAYPAL_CLIENT_SECRET", ""),
    "WEBHOOK_ID": os.environ.get("PAYPAL_WEBHOOK_ID", ""),
    "API_BASE": os.environ.get("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com"),
    "BRAND_NAME": "",
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 20.0,
    # Seconds one web request may spend waiting on PayPal in total: a call that could push it
    # past this is not started (PayPalUnavailable, i.e. "unknown"), later calls get shorter
    # timeouts. Below gunicorn's default 30 s worker timeout. None: no budget.
    "REQUEST_BUDGET": 25.0,
}


def get(name):
    """Return one package setting, falling back to the documented default."""
    user = getattr(django_settings, "WAGTAIL_LOCKEDCARTS", {}) or {}
    if name == "PAYPAL":
        return {**PAYPAL_DEFAULTS, **(user.get("PAYPAL") or {})}
    if name not in user:
        for old, new in RENAMED.items():
            if new == name and old in user:
                return user[old]
    return user.get(name, DEFAULTS[name])
