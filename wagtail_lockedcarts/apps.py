from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy as _


class WagtailLockedCartsConfig(AppConfig):
    name = "wagtail_lockedcarts"
    label = "wagtail_lockedcarts"
    verbose_name = _("Locked carts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):

        from wagtail_lockedcarts import checks  # noqa: F401  (registers system checks)
        from wagtail_lockedcarts.admin.permissions import register_policies
        from wagtail_lockedcarts.background.schedules import connect_post_migrate
        from wagtail_lockedcarts.background.tasks import connect_signals
        from wagtail_lockedcarts.models import Cart
        from wagtail_lockedcarts.paypal.budget import connect_request_signals
        from wagtail_lockedcarts.signals import cart_unlocked, order_created
        from wagtail_lockedcarts.storefront import notices
        from wagtail_lockedcarts.storefront.shopper import merge_guest_cart_on_login

        # Registered here, before wagtail_hooks registers the snippet (Wagtail 8 ordering rule).
        register_policies()
        connect_post_migrate(self)
        connect_signals()
        connect_request_signals()
        user_logged_in.connect(merge_guest_cart_on_login, dispatch_uid="wagtail_lockedcarts.merge_cart")
        order_created.connect(notices.on_order_created, dispatch_uid="wagtail_lockedcarts.notice_order")
        cart_unlocked.connect(notices.on_cart_unlocked, dispatch_uid="wagtail_lockedcarts.notice_unlock")
        pre_delete.connect(notices.on_cart_pre_delete, sender=Cart, dispatch_uid="wagtail_lockedcarts.notice_delete")
