from django.apps import AppConfig


class PayPalSandboxConfig(AppConfig):
    name = "wagtail_lockedcarts.contrib.paypal_sandbox"
    label = "paypal_sandbox"
    verbose_name = "Offline PayPal sandbox"
    default_auto_field = "django.db.models.BigAutoField"
