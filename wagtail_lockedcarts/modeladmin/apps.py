from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class WagtailLockedCartsModelAdminConfig(AppConfig):
    name = "wagtail_lockedcarts.modeladmin"
    label = "wagtail_lockedcarts_modeladmin"
    verbose_name = _("Locked carts (modeladmin)")

    def ready(self):
        try:
            import wagtail_modeladmin  # noqa: F401
        except ImportError as error:
            raise ImproperlyConfigured(
                "wagtail_lockedcarts.modeladmin needs wagtail-modeladmin: pip install 'wagtail-lockedcarts[modeladmin]'"
            ) from error
        if not apps.is_installed("wagtail_modeladmin"):
            raise ImproperlyConfigured("wagtail_lockedcarts.modeladmin needs 'wagtail_modeladmin' in INSTALLED_APPS.")
        if not apps.is_installed("wagtail_lockedcarts"):
            raise ImproperlyConfigured("wagtail_lockedcarts.modeladmin needs 'wagtail_lockedcarts' in INSTALLED_APPS.")
