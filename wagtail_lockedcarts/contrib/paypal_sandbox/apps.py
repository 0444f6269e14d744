from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: The one setting that lets the sandbox load with DEBUG off (test runners, CI, a staging demo).
FORCE_SETTING = "ENABLE_WITHOUT_DEBUG"


class PayPalSandboxConfig(AppConfig):
    """The offline PayPal stand-in: for development and tests only.

    It answers PayPal's API with made-up payments and exposes controls that fake any outcome, so
    on a public site it would let anyone "pay" without money. It therefore refuses to load unless
    ``DEBUG`` is on or ``PAYPAL_SANDBOX["ENABLE_WITHOUT_DEBUG"]`` is ``True``.
    """

    name = "wagtail_lockedcarts.contrib.paypal_sandbox"
    label = "paypal_sandbox"
    verbose_name = "Offline PayPal sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        check_may_load()


def check_may_load():
    forced = (getattr(settings, "PAYPAL_SANDBOX", None) or {}).get(FORCE_SETTING) is True
    if not settings.DEBUG and not forced:
        raise ImproperlyConfigured(
            "wagtail_lockedcarts.contrib.paypal_sandbox is in INSTALLED_APPS with DEBUG off. The offline "
            "PayPal sandbox fakes payments and must never run on a public site: remove it from "
            f'INSTALLED_APPS, or set PAYPAL_SANDBOX = {{"{FORCE_SETTING}": True}} for tests and CI.'
        )
