from django.apps import AppConfig


class PayPalSandboxConfig(AppConfig):
    name = "paypal_sandbox"
    label = "paypal_sandbox"
    verbose_name = "Offline PayPal sandbox"
    default_auto_field = "django.db.models.BigAutoField"
