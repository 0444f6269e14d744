"""Checkout and the two URLs PayPal sends the shopper back to. Thin: lifecycle + reconcile.

Each view's body is an undecorated function (``_checkout``, ``_return``, ``_cancel``): mutation
testing (mutmut) cannot reach into decorated functions.

The return and cancel URLs carry PayPal's ``token`` (the order id) in the query string, which
anybody can edit. It is only a hint: it must name the order of *this* shopper's cart, or the
request is refused and nothing changes.
"""

import logging

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wagtail_lockedcarts import lifecycle, rules
from wagtail_lockedcarts.exceptions import CartNotEditable, LockedCartsError
from wagtail_lockedcarts.lifecycle import PaymentOutcome, PaymentResult
from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus
from wagtail_lockedcarts.money import AmountNotExpressible, UnsupportedCurrency
from wagtail_lockedcarts.paypal.client import (
    PayPalError,
    PayPalException,
    PayPalUnavailable,
    approval_url,
    get_client,
)
from wagtail_lockedcarts.paypal.reconcile import ReconcileReport, reconcile_paypal_order
from wagtail_lockedcarts.storefront.shopper import find_active_cart, get_or_create_active_cart, mark_outcome_shown
from wagtail_lockedcarts.storefront.views import storefront_context, wants_json

MESSAGE_PAYPAL_DOWN = _("PayPal is not available right now. Nothing was charged; please try again in a moment.")
MESSAGE_NOT_YOURS = _("This PayPal payment does not belong to your cart. Nothing was changed.")
MESSAGE_DECLINED = _(
    "PayPal declined the payment. Nothing was charged; you can try again or choose another way to pay."
)
MESSAGE_CANCELLED = _("You cancelled the payment. Your cart is open again.")
MESSAGE_CANNOT_PAY = _(
    "This cart cannot be paid with PayPal, and trying again will not change that. Nothing was charged; "
    "please contact us and we will sort it out."
)
# PayPal refused the order itself (schema or business rule, e.g. DECIMALS_NOT_SUPPORTED): permanent.
PERMANENT_CREATE_STATUSES = (400, 422)

logger = logging.getLogger("wagtail_lockedcarts.checkout")


def _fail(request, message, status=400):
    if wants_json(request):
        return JsonResponse({"error": str(message)}, status=status)
    messages.error(request, message)
    return redirect("wagtail_lockedcarts:cart")


@require_POST
def checkout(request):
    """Freeze the cart, create the PayPal order (outside any transaction) and send the shopper there."""
    return _checkout(request)


def _checkout(request):
    cart = get_or_create_active_cart(request)
    try:
        attempt = lifecycle.begin_checkout(cart)
    except CartNotEditable as error:
        return _fail(request, error.message, status=409)
    except LockedCartsError as error:
        return _fail(request, error.message)
    cart.refresh_from_db()
    try:
        order = get_client().create_order(
            request_id=attempt.request_id,
            amount=attempt.amount,
            currency=attempt.currency,
            reference=cart.pk,
            invoice_id=f"cart-{cart.pk}-{attempt.pk}",
            return_url=request.build_absolute_uri(reverse("wagtail_lockedcarts:paypal_return")),
            cancel_url=request.build_absolute_uri(reverse("wagtail_lockedcarts:paypal_cancel")),
        )
        target = approval_url(order)
        if not order.get("id") or not target.startswith(("https://", "http://")):
            raise PayPalUnavailable("no approval link")
    except (AmountNotExpressible, UnsupportedCurrency) as error:
        logger.error("Cart %s cannot be paid with PayPal: %s", cart.pk, error)
        lifecycle.abort_checkout(cart, reason="DECIMALS_NOT_SUPPORTED")
        return _fail(request, MESSAGE_CANNOT_PAY, status=422)
    except PayPalError as error:
        lifecycle.abort_checkout(cart, reason=error.issue)
        if error.status_code in PERMANENT_CREATE_STATUSES:
            logger.error(
                "PayPal refused to create an order for cart %s: %s %s (debug_id %s)",
                cart.pk,
                error.status_code,
                error.issue,
                error.debug_id,
            )
            return _fail(request, MESSAGE_CANNOT_PAY, status=422)
        logger.error("PayPal refused the checkout of cart %s: %s %s", cart.pk, error.status_code, error.issue)
        return _fail(request, MESSAGE_PAYPAL_DOWN, status=503)
    except PayPalException as error:
        lifecycle.abort_checkout(cart, reason=getattr(error, "reason", ""))
        return _fail(request, MESSAGE_PAYPAL_DOWN, status=503)
    lifecycle.attach_paypal_order(attempt, order["id"], target)
    if wants_json(request):
        return JsonResponse({"approve_url": target, "paypal_order_id": order["id"]})
    return HttpResponseRedirect(target)


def _owns(request, cart):
    if request.user.is_authenticated:
        return cart.user_id == request.user.pk
    session_key = request.session.session_key
    return bool(session_key) and cart.user_id is None and cart.session_key == session_key


def _shoppers_cart(request, token):
    """This shopper's cart for PayPal order ``token``, or None.

    Normally the active cart; a cart the webhook already turned into an order (the shopper came
    back after it) is also theirs to see, read-only.
    """
    if not token:
        return None
    cart = find_active_cart(request)
    if cart is not None and cart.paypal_order_id == token:
        return cart
    ordered = Cart.objects.filter(status=CartStatus.ORDERED, paypal_order_id=token).first()
    if ordered is not None and _owns(request, ordered):
        return ordered
    return None


def _result_page(request, cart, report=None):
    cart.refresh_from_db()
    mark_outcome_shown(request, cart)
    order = Order.objects.filter(cart_id=cart.pk).first()
    context = {"cart": cart, "order": order, "report": report}
    if cart.status == CartStatus.ORDERED and order is not None:
        template = "checkout_pending" if order.status == OrderStatus.ON_HOLD else "checkout_success"
    elif cart.status == CartStatus.OPEN:
        messages.error(request, MESSAGE_DECLINED)
        return redirect("wagtail_lockedcarts:cart")
    elif rules.needs_admin_decision(cart):
        template = "checkout_problem"
    else:
        # awaiting_payment (PayPal unreachable or no answer yet) or locked, pending payment.
        context["unreachable"] = report is not None and not report.reachable
        template = "checkout_pending"
    if wants_json(request):
        return JsonResponse(
            {
                "cart": cart.pk,
                "status": cart.status,
                "lock_reason": cart.lock_reason,
                "order": order.pk if order else None,
                "page": template,
            }
        )
    return TemplateResponse(request, f"wagtail_lockedcarts/{template}.html", storefront_context(**context))


def _refuse(request):
    if wants_json(request):
        return JsonResponse({"error": str(MESSAGE_NOT_YOURS)}, status=403)
    messages.error(request, MESSAGE_NOT_YOURS)
    return TemplateResponse(
        request, "wagtail_lockedcarts/checkout_problem.html", storefront_context(refused=True), status=403
    )


@require_GET
def paypal_return(request):
    """PayPal's redirect after approval. Reconciling here (a GET) is deliberate: PayPal chose the
    method, and the change only happens for the order of the shopper's own cart."""
    return _return(request)


def _return(request):
    cart = _shoppers_cart(request, request.GET.get("token"))
    if cart is None:
        return _refuse(request)
    if cart.status == CartStatus.ORDERED:
        return _result_page(request, cart)
    return _result_page(request, cart, reconcile_paypal_order(cart.paypal_order_id))


@require_http_methods(["GET", "POST"])
def paypal_cancel(request):
    """The shopper cancelled: on PayPal (its redirect, a GET) or with "Cancel this payment" on the
    frozen cart page (a POST with CSRF). Reopen the cart, unless PayPal says the payment went on."""
    return _cancel(request)


def _cancel(request):
    params = request.POST if request.method == "POST" else request.GET
    cart = _shoppers_cart(request, params.get("token"))
    if cart is None:
        return _refuse(request)
    if cart.status == CartStatus.ORDERED:
        return _result_page(request, cart)
    try:
        order = get_client().get_order(cart.paypal_order_id)
    except PayPalException as error:
        # No definitive answer is not a cancellation: the payment may be under way. Nothing changes.
        report = ReconcileReport(paypal_order_id=cart.paypal_order_id, cart=cart, reachable=False, error=str(error))
        return _result_page(request, cart, report)
    if order.get("status") not in rules.CANCELLABLE_PAYPAL_STATUSES:
        # Approved or paid (perhaps in another tab): the cancel link is stale; PayPal decides.
        return _result_page(request, cart, reconcile_paypal_order(cart.paypal_order_id))
    lifecycle.apply_payment_result(
        cart,
        PaymentResult(
            outcome=PaymentOutcome.CANCELLED,
            paypal_order_id=cart.paypal_order_id,
            paypal_status=order["status"],
        ),
    )
    cart.refresh_from_db()
    if cart.status == CartStatus.OPEN:
        mark_outcome_shown(request, cart)
        if wants_json(request):
            return JsonResponse({"cart": cart.pk, "status": cart.status})
        messages.info(request, MESSAGE_CANCELLED)
        return redirect("wagtail_lockedcarts:cart")
    return _result_page(request, cart)
