"""System checks for the background-work configuration a site must provide.

The package cannot set ``Q_CLUSTER`` itself (it belongs to the project), but every queued job —
order exports always, the daily notification and the sweep when ``USE_SCHEDULES`` is on — depends on it.
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from wagtail.admin.utils import get_admin_base_url

BROKER_KEYS = ("orm", "redis", "django_redis", "sqs", "iron_mq", "mongo", "broker_class", "disque_nodes")
RECOMMENDED = 'Q_CLUSTER = {"orm": "default", "timeout": 300, "retry": 600, "max_attempts": 3, "catch_up": False}'


@register(Tags.compatibility)
def check_q_cluster(app_configs=None, **kwargs):
    """W001 Q_CLUSTER missing or without a broker, W002 retry <= timeout, W003 endless redelivery.

    Runs whether or not ``USE_SCHEDULES`` is on: order exports are queued either way.
    """
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not q_cluster:
        return [
            Warning(
                "Q_CLUSTER is not set, so django-q2 falls back to a Redis broker and queued work "
                "(order export, daily notification, checkout sweep) fails unless Redis is configured.",
                hint=f"Add {RECOMMENDED} to your settings and run `manage.py qcluster`.",
                id="wagtail_lockedcarts.W001",
            )
        ]
    errors = []
    if not any(key in q_cluster for key in BROKER_KEYS):
        errors.append(
            Warning(
                "Q_CLUSTER names no broker, so django-q2 falls back to Redis and queued work "
                "(order export, daily notification, checkout sweep) fails.",
                hint=f'Add "orm": "default" (the database as the queue), e.g. {RECOMMENDED}.',
                id="wagtail_lockedcarts.W001",
            )
        )
    timeout, retry = q_cluster.get("timeout"), q_cluster.get("retry", 60)
    if timeout and retry <= timeout:
        errors.append(
            Warning(
                f"Q_CLUSTER['retry'] ({retry}) must be greater than Q_CLUSTER['timeout'] ({timeout}), "
                "or a task still running is delivered again and runs twice.",
                hint="For example timeout 300, retry 600.",
                id="wagtail_lockedcarts.W002",
            )
        )
    if not q_cluster.get("max_attempts") and "redis" not in q_cluster and "django_redis" not in q_cluster:
        errors.append(
            Warning(
                "Q_CLUSTER['max_attempts'] is 0 (the default): a task that always fails, such as an "
                "export to an unreachable system, is re-delivered every `retry` seconds forever.",
                hint='Set "max_attempts": 3 (failed exports stay listed in the daily notification and can be retried from the admin).',
                id="wagtail_lockedcarts.W003",
            )
        )
    return errors


SQLITE_FIX = 'DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}'


@register(Tags.compatibility)
def check_sqlite_transaction_mode(app_configs=None, **kwargs):
    """W010: on SQLite, concurrent PayPal returns, webhooks and the cluster fail with
    "database is locked" unless writers queue (``transaction_mode: IMMEDIATE``)."""
    errors = []
    for alias, config in settings.DATABASES.items():
        if "sqlite3" not in config.get("ENGINE", ""):
            continue
        mode = (config.get("OPTIONS") or {}).get("transaction_mode")
        if (mode or "").upper() not in ("IMMEDIATE", "EXCLUSIVE"):
            errors.append(
                Warning(
                    f'SQLite database "{alias}" runs without transaction_mode "IMMEDIATE": the PayPal '
                    'return page, webhooks and the qcluster can fail with "database is locked" when '
                    "they write at the same moment.",
                    hint=f"Set {SQLITE_FIX} (Django 5.1+), or use PostgreSQL.".replace('"default"', f'"{alias}"'),
                    id="wagtail_lockedcarts.W010",
                )
            )
    return errors


@register(Tags.compatibility)
def check_dotted_paths(app_configs=None, **kwargs):
    """E011: a dotted-path setting (ORDER_EXPORTER, PRODUCT_RESOLVER, CART_VIEWSET, ORDER_VIEWSET)
    that cannot be imported fails only later, inside a qcluster task, on add-to-cart or when the
    admin starts; say so at start-up instead."""
    from django.utils.module_loading import import_string

    from wagtail_lockedcarts import conf

    errors = []
    for name in ("ORDER_EXPORTER", "PRODUCT_RESOLVER", "CART_VIEWSET", "ORDER_VIEWSET"):
        path = conf.get(name)
        try:
            target = import_string(path)
        except Exception as error:  # noqa: BLE001 - any import failure is the site's to fix
            problem = f"cannot be imported ({type(error).__name__}: {error})"
        else:
            if callable(target):
                continue
            problem = "is not callable"
        errors.append(
            Error(
                f'WAGTAIL_LOCKEDCARTS["{name}"] = "{path}" {problem}.',
                hint=f'Point it at a function of your project, or remove it to use the default "{conf.DEFAULTS[name]}".',
                id="wagtail_lockedcarts.E011",
            )
        )
    return errors


@register(Tags.compatibility)
def check_default_currency(app_configs=None, **kwargs):
    """E016: a DEFAULT_CURRENCY PayPal does not accept would fail every checkout; say so at start-up."""
    from wagtail_lockedcarts import conf
    from wagtail_lockedcarts.money import PAYPAL_CURRENCIES

    currency = conf.get("DEFAULT_CURRENCY")
    if currency in PAYPAL_CURRENCIES:
        return []
    return [
        Error(
            f'WAGTAIL_LOCKEDCARTS["DEFAULT_CURRENCY"] = {currency!r} is not a currency PayPal accepts.',
            hint=f"Use one of {', '.join(sorted(PAYPAL_CURRENCIES))} (upper case).",
            id="wagtail_lockedcarts.E016",
        )
    ]


@register(Tags.compatibility)
def check_paypal_credentials(app_configs=None, **kwargs):
    """W012: without credentials every checkout fails; in DEBUG that is a developer's choice."""
    from wagtail_lockedcarts import conf

    if settings.DEBUG:
        return []
    paypal = conf.get("PAYPAL")
    missing = [key for key in ("CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_ID") if not paypal.get(key)]
    if not missing:
        return []
    return [
        Warning(
            f"PayPal {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty, so checkout and "
            "webhook verification fail.",
            hint="Set the environment variables PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID "
            '(read by default), or WAGTAIL_LOCKEDCARTS["PAYPAL"].',
            id="wagtail_lockedcarts.W012",
        )
    ]


@register(Tags.compatibility)
def check_email_settings(app_configs=None, **kwargs):
    """W013 no WAGTAILADMIN_BASE_URL (the daily notification's links), W014 the sender is Django's
    placeholder ``webmaster@localhost``."""
    from wagtail_lockedcarts import conf

    errors = []
    if not get_admin_base_url():
        errors.append(
            Warning(
                "WAGTAILADMIN_BASE_URL is not set, so the links in the daily notification e-mail "
                "do not point at your admin.",
                hint='Set WAGTAILADMIN_BASE_URL = "https://shop.example.com" (scheme and host of your admin).',
                id="wagtail_lockedcarts.W013",
            )
        )
    if not conf.get("FROM_EMAIL") and settings.DEFAULT_FROM_EMAIL == "webmaster@localhost":
        errors.append(
            Warning(
                "The daily notification e-mail would be sent from Django's placeholder address "
                "webmaster@localhost, which mail servers often reject.",
                hint='Set DEFAULT_FROM_EMAIL, or WAGTAIL_LOCKEDCARTS["FROM_EMAIL"] for this package only.',
                id="wagtail_lockedcarts.W014",
            )
        )
    return errors


@register(Tags.templates)
def check_base_template(app_configs=None, **kwargs):
    """E015: ``BASE_TEMPLATE`` names a template that does not exist (every cart page would 500)."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    from wagtail_lockedcarts import conf

    name = conf.get("BASE_TEMPLATE")
    if not name:
        return []
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return [
            Error(
                f'WAGTAIL_LOCKEDCARTS["BASE_TEMPLATE"] = "{name}" is not a template of this project.',
                hint='Name your site\'s base template (for example "base.html"), or remove the setting.',
                id="wagtail_lockedcarts.E015",
            )
        ]
    return []


@register(Tags.compatibility)
def check_renamed_settings(app_configs=None, **kwargs):
    """W004 a ``WAGTAIL_LOCKEDCARTS`` key under its old name (still read, but say the new one)."""
    from wagtail_lockedcarts.conf import RENAMED

    user = getattr(settings, "WAGTAIL_LOCKEDCARTS", {}) or {}
    return [
        Warning(
            f"WAGTAIL_LOCKEDCARTS['{old}'] is now called '{new}'.",
            hint=f"Rename the key to '{new}'; the old name is still read for now.",
            id="wagtail_lockedcarts.W004",
        )
        for old, new in RENAMED.items()
        if old in user
    ]


@register(Tags.security)
def check_webhook_verification(app_configs=None, **kwargs):
    """E020 an unknown ``WEBHOOK_VERIFICATION`` (every webhook would be refused), W021 a
    certificate URL prefix that is not https on a remote host (its certificate, and so every
    signature, could be forged in transit)."""
    from urllib.parse import urlsplit

    from wagtail_lockedcarts import conf

    problems = []
    if conf.get("WEBHOOK_VERIFICATION") not in ("local", "postback"):
        problems.append(
            Error(
                f'WAGTAIL_LOCKEDCARTS["WEBHOOK_VERIFICATION"] is {conf.get("WEBHOOK_VERIFICATION")!r}.',
                hint='Use "local" (verify the signature here) or "postback" (ask PayPal).',
                id="wagtail_lockedcarts.E020",
            )
        )
    for prefix in conf.get("WEBHOOK_CERT_URL_PREFIXES"):
        parts = urlsplit(prefix)
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            problems.append(
                Warning(
                    f"The webhook certificate URL prefix {prefix!r} is not https.",
                    hint="Only PayPal's https API hosts should be allowed (loopback is fine for the offline sandbox).",
                    id="wagtail_lockedcarts.W021",
                )
            )
    return problems
