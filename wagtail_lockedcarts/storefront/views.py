"""Shopper-facing cart views. Thin: every change goes through :mod:`wagtail_lockedcarts.lifecycle`.

Each view answers JSON to clients that ask for it (``Accept: application/json``) and otherwise
redirects back with a message, so the same URLs serve a plain HTML shop and a script-driven one.
"""

from django import forms
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from wagtail_lockedcarts import conf, lifecycle, rules
from wagtail_lockedcarts.exceptions import CartNotEditable, LockedCartsError
from wagtail_lockedcarts.models import CartStatus
from wagtail_lockedcarts.money import plain_amount
from wagtail_lockedcarts.storefront.shopper import ShopperCart, get_or_create_active_cart


class AddLineForm(forms.Form):
    product = forms.CharField(max_length=255)
    quantity = forms.IntegerField(min_value=1, max_value=rules.MAX_LINE_QUANTITY, initial=1)


class UpdateLineForm(forms.Form):
    line = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=0, max_value=rules.MAX_LINE_QUANTITY)


class RemoveLineForm(forms.Form):
    line = forms.IntegerField(min_value=1)


def storefront_context(**context):
    """Context every storefront page gets: the site template it extends (``BASE_TEMPLATE``)."""
    return {"lockedcarts_base_template": conf.get("BASE_TEMPLATE"), **context}


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def cart_payload(cart):
    cart = cart if isinstance(cart, ShopperCart) else ShopperCart(cart)
    lines = cart.lines
    return {
        "id": cart.pk,
        "status": cart.status,
        "editable": cart.is_editable,
        "currency": cart.currency,
        "total": plain_amount(cart.total, cart.currency),
        "item_count": cart.item_count,
        "lines": [
            {
                "id": line.pk,
                "product": line.product_key,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": plain_amount(line.unit_price, cart.currency),
                "line_total": plain_amount(line.line_total, cart.currency),
            }
            for line in lines
        ],
    }


def _back(request):
    target = request.POST.get("next") or request.headers.get("Referer") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("wagtail_lockedcarts:cart")


def _respond(request, cart, message=None, error=None, status=200):
    if wants_json(request):
        payload = {"cart": cart_payload(cart)}
        if error:
            payload["error"] = str(error)
        elif message:
            payload["message"] = str(message)
        return JsonResponse(payload, status=status)
    back = _back(request)
    came_from = request.POST.get("next") or request.headers.get("Referer") or ""
    if error and not (status == 409 and _is_cart_page(came_from)):
        # A refused edit on the cart page itself: the page's own notice says the cart is
        # frozen, so the same words are not shown a second time above it.
        messages.error(request, error)
    elif message:
        messages.success(request, message)
    return back


def _is_cart_page(url):
    from urllib.parse import urlsplit

    from django.urls import reverse

    return urlsplit(url).path == reverse("wagtail_lockedcarts:cart")


def _invalid(request, form):
    error = _("Please check the quantity and try again.")
    if wants_json(request):
        return JsonResponse({"error": str(error), "fields": form.errors.get_json_data()}, status=400)
    messages.error(request, error)
    return _back(request)


def _edit(request, form_class, change, success_message):
    form = form_class(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    cart = get_or_create_active_cart(request)
    try:
        change(cart, form.cleaned_data)
    except CartNotEditable as error:
        return _respond(request, error.cart, error=error.message, status=409)
    except LockedCartsError as error:
        cart.refresh_from_db()
        return _respond(request, cart, error=error.message, status=400)
    cart.refresh_from_db()
    return _respond(request, cart, message=success_message)


class CartView(TemplateView):
    template_name = "wagtail_lockedcarts/cart.html"

    def get(self, request, *args, **kwargs):
        if wants_json(request):
            return JsonResponse({"cart": cart_payload(request.cart)})
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        cart = self.request.cart
        return super().get_context_data(
            **storefront_context(
                cart=cart,
                lines=cart.lines,
                total=cart.total,
                return_to_paypal_url=self.return_to_paypal_url(cart),
                **kwargs,
            )
        )

    @staticmethod
    def return_to_paypal_url(cart):
        """PayPal's approval page for the checkout in progress, so a shopper who left PayPal with
        the back button can finish paying instead of waiting for the cart to lock."""
        if cart.status != CartStatus.AWAITING_PAYMENT or not cart.paypal_order_id:
            return ""
        attempt = cart.payment_attempts.filter(paypal_order_id=cart.paypal_order_id).only("approve_url").first()
        return attempt.approve_url if attempt else ""


@require_POST
def add_line(request):
    return _edit(
        request,
        AddLineForm,
        lambda cart, data: lifecycle.add_line(cart, data["product"], data["quantity"]),
        _("Added to your cart."),
    )


@require_POST
def update_line(request):
    return _edit(
        request,
        UpdateLineForm,
        lambda cart, data: lifecycle.update_line(cart, data["line"], data["quantity"]),
        _("Your cart was updated."),
    )


@require_POST
def remove_line(request):
    return _edit(
        request,
        RemoveLineForm,
        lambda cart, data: lifecycle.remove_line(cart, data["line"]),
        _("The item was removed from your cart."),
    )
