"""The example site's URLs plus one admin action with a form, mounted the way the viewsets do it."""

from django import forms
from django.urls import path

from example_site.urls import urlpatterns as site_urlpatterns
from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.admin.display import AdminAction, viewset_for
from wagtail_lockedcarts.admin.views.carts import CartActionView
from wagtail_lockedcarts.models import Cart

performed = []


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200)

    def __init__(self, cart, **kwargs):
        super().__init__(**kwargs)
        self.cart = cart


def unlock_with_reason(cart, user, reason):
    performed.append(reason)
    return lifecycle.unlock_cart(cart, user=user)


UNLOCK_WITH_REASON = AdminAction(
    name="unlock",
    url_name="unlock_with_reason",
    url_path="unlock-with-reason",
    label="Unlock with a reason",
    icon="lock-open",
    priority=50,
    confirmation_message="Say why.",
    submit_label="Unlock",
    perform=unlock_with_reason,
    success_message="Cart %(cart)s unlocked.",
    form_class=ReasonForm,
)

urlpatterns = [
    path(
        "admin-extra/unlock-with-reason/<int:pk>/",
        viewset_for(Cart).construct_view(CartActionView, action=UNLOCK_WITH_REASON),
        name="unlock_with_reason",
    ),
    *site_urlpatterns,
]
