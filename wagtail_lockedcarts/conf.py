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
    "DIGEST_MAX_ITEMS": 50,
    "SEND_EMPTY_DIGEST": False,
    "WEBHOOK_MAX_BYTES": 64 * 1024,
    "DASHBOARD_PANEL_ITEMS": 5,
    # With the wagtail_lockedcarts.modeladmin sub-app: False = the site registers the ModelAdmins.
    "MODELADMIN_REGISTER": True,
    "PAYPAL": {},
    # Template the storefront pages extend (your site's "base.html"); None = a bare HTML page.
    "BASE_TEMPLATE": None,
    # Sender of the package's e-mails; None = DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Link the small storefront stylesheet (CSS custom properties) from the storefront pages.
    "STOREFRONT_CSS": True,
}

PAYPAL_DEFAULTS = {
    "CLIENT_ID": os.environ.get("PAYPAL_CLIENT_ID", ""),
    "CLIENT_SECRET": os.environ.get("PAYPAL_CLIENT_SECRET", ""),
    "WEBHOOK_ID": os.environ.get("PAYPAL_WEBHOOK_ID", ""),
    "API_BASE": os.environ.get("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com"),
    "BRAND_NAME": "",
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 20.0,
}


def get(name):
    """Return one package setting, falling back to the documented default."""
    user = getattr(django_settings, "WAGTAIL_LOCKEDCARTS", {}) or {}
    if name == "PAYPAL":
        return {**PAYPAL_DEFAULTS, **(user.get("PAYPAL") or {})}
    return user.get(name, DEFAULTS[name])
