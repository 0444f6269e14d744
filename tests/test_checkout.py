"""Checkout through the offline PayPal sandbox, over HTTP, for every choice on PayPal's page.

A shopper fills a cart, checks out, clicks one button on the hosted approval page and comes
back (or not). The real client, views, sandbox and webhooks are used; nothing is mocked.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import CartStatus, LockReason, Order, OrderStatus, PaymentAttempt
from wagtail_lockedcarts.paypal.client import PayPalClient
from wagtail_lockedcarts.paypal.reconcile import reconcile_cart

SHIPPED = (OrderStatus.SUBMITTED, OrderStatus.EXPORTED)


def use_policy(cart_settings, policy):
    cart_settings.pending_payment_policy = policy
    cart_settings.save()


@pytest.mark.parametrize("policy", ["lock", "hold"])
def test_pay_orders_the_cart_and_shows_the_order_number(paypal_sandbox, shop, cart_settings, policy):
    use_policy(cart_settings, policy)
    shopper = paypal_sandbox.shopper_at_paypal(shop, [(0, 2), (2, 1)])
    cart = shopper.cart()
    assert cart.status == CartStatus.AWAITING_PAYMENT
    assert cart.amount == Decimal("34.99")

    page = paypal_sandbox.pay(shopper, "Pay")

    cart.refresh_from_db()
    order = Order.objects.get(cart=cart)
    assert cart.status == CartStatus.ORDERED
    assert order.status in SHIPPED and order.total == Decimal("34.99")
    assert page.status_code == 200 and f'data-order="{order.pk}"' in page.text
    assert "Added to your cart." in page.text, "the return page shows the session's waiting messages"
    assert cart.payer_email == "buyer@example.com" and cart.card_last4 == ""
    assert paypal_sandbox.order(cart.paypal_order_id).capture_status == "COMPLETED"


@pytest.mark.parametrize("policy", ["lock", "hold"])
def test_pay_with_card_records_brand_and_last_four_only(paypal_sandbox, shop, cart_settings, policy):
    use_policy(cart_settings, policy)
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay with card", card_brand="MASTERCARD", card_last4="4444")

    cart = shopper.cart()
    order = Order.objects.get(cart=cart)
    assert page.status_code == 200
    assert (cart.status, cart.card_brand, cart.card_last4) == (CartStatus.ORDERED, "MASTERCARD", "4444")
    assert (order.card_brand, order.card_last4) == ("MASTERCARD", "4444")
    assert "2031-12" not in str(cart.__dict__) and "411111" not in str(cart.__dict__)


def test_pending_echeck_locks_the_cart_under_the_lock_policy(paypal_sandbox, shop, cart_settings):
    use_policy(cart_settings, "lock")
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")

    cart = shopper.cart()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)
    assert (cart.paypal_capture_status, cart.paypal_status_reason) == ("PENDING", "ECHECK")
    assert not Order.objects.exists()
    assert page.status_code == 200 and "lockedcarts-checkout--pending" in page.text


def test_returning_to_a_pending_payment_while_paypal_is_unreachable_says_we_are_waiting_for_paypal(
    paypal_sandbox, shop, cart_settings
):
    """A locked, pending cart: "pending" is what PayPal said; when PayPal cannot be asked, we say we wait."""
    use_policy(cart_settings, "lock")
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    back = paypal_sandbox.pay(shopper, "Pay – pending (eCheck)", follow=False).headers["Location"]
    assert "PayPal reports your payment as pending" in shopper.get(back).text

    paypal_sandbox.make_unreachable()
    page = shopper.get(back)

    assert page.status_code == 200 and "We are waiting for PayPal" in page.text
    assert "PayPal reports your payment as pending" not in page.text
    cart = shopper.cart()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.PENDING_PAYMENT)


def test_pending_echeck_makes_an_order_on_hold_under_the_hold_policy(paypal_sandbox, shop, cart_settings):
    use_policy(cart_settings, "hold")
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")

    cart = shopper.cart()
    order = Order.objects.get(cart=cart)
    assert cart.status == CartStatus.ORDERED and order.status == OrderStatus.ON_HOLD
    assert page.status_code == 200 and f'data-order="{order.pk}"' in page.text
    assert "Order received – payment pending" in page.text and "we will ship once it has" in page.text


def test_an_order_on_hold_is_released_when_the_echeck_clears(paypal_sandbox, shop, cart_settings):
    use_policy(cart_settings, "hold")
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay – pending (eCheck)")
    order_id = shopper.cart().paypal_order_id

    paypal_sandbox.settle(order_id)
    deliveries = paypal_sandbox.deliver_webhooks()

    assert ("PAYMENT.CAPTURE.COMPLETED", 200) in deliveries
    assert Order.objects.get(paypal_order_id=order_id).status in SHIPPED


@pytest.mark.parametrize("policy", ["lock", "hold"])
def test_decline_reopens_the_cart_with_a_message(paypal_sandbox, shop, cart_settings, policy):
    use_policy(cart_settings, policy)
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Decline")

    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN and cart.amount is None and cart.paypal_order_id == ""
    assert not Order.objects.exists()
    assert page.status_code == 302 and page.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    assert any("declined" in message for message in shopper.messages_on(page.headers["Location"]))
    assert PaymentAttempt.objects.get(cart=cart).status == "declined"


def test_a_capture_declined_by_paypal_reopens_the_cart(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    paypal_sandbox.pay(shopper, "Decline", decline_mode="capture")

    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN and not Order.objects.exists()
    assert ("PAYMENT.CAPTURE.DENIED", 200) in paypal_sandbox.deliver_webhooks()
    assert shopper.cart().status == CartStatus.OPEN


@pytest.mark.parametrize("policy", ["lock", "hold"])
def test_cancel_and_return_reopens_the_cart(paypal_sandbox, shop, cart_settings, policy):
    use_policy(cart_settings, policy)
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Cancel and return")

    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN
    assert page.status_code == 302 and page.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    assert paypal_sandbox.order(PaymentAttempt.objects.get(cart=cart).paypal_order_id).capture_id == ""
    shopper.add(shop[1].cart_key)
    assert shopper.cart().lines.count() == 2


@pytest.mark.parametrize("locked", [False, True], ids=["waiting", "locked-by-the-sweep"])
def test_cancelling_says_so_once_on_the_reopened_cart(paypal_sandbox, shop, cart_settings, locked):
    """The cart page tells the shopper they cancelled. Reopening a cart the sweep had locked
    also pushes a "reopened" notice about the same event: it must not repeat it in other words."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    if locked:
        lifecycle.lock_cart(shopper.cart(), LockReason.NO_RETURN)

    paypal_sandbox.pay(shopper, "Cancel and return")

    assert shopper.messages_on(reverse("wagtail_lockedcarts:cart")) == [
        "Added to your cart.",
        "You cancelled the payment. Your cart is open again.",
    ]


def test_a_cancel_that_cannot_reopen_the_cart_leaves_it_frozen_for_the_shop(paypal_sandbox, shop, cart_settings):
    """The shop locked the cart for a reason only an admin may settle (here a wrong amount) while
    the shopper was at PayPal: cancelling there records PayPal's answer but reopens nothing."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    lifecycle.lock_cart(cart, LockReason.AMOUNT_MISMATCH)

    page = shopper.get(reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={cart.paypal_order_id}")

    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED and cart.lock_reason == LockReason.AMOUNT_MISMATCH
    assert page.status_code == 200 and 'data-cart-status="locked"' in page.text
    assert "lockedcarts-checkout--problem" in page.text
    assert not Order.objects.exists()


@pytest.mark.parametrize("policy", ["lock", "hold"])
def test_pay_and_close_the_window_the_webhook_alone_makes_the_order(paypal_sandbox, shop, cart_settings, policy):
    use_policy(cart_settings, policy)
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay and close the window (never return)")
    assert page.status_code == 200 and "You may close this window." in page.text
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT

    deliveries = paypal_sandbox.deliver_webhooks()

    cart = shopper.cart()
    assert deliveries[0] == ("CHECKOUT.ORDER.APPROVED", 200)
    assert cart.status == CartStatus.ORDERED
    assert Order.objects.get(cart=cart).status in SHIPPED
    # The capture's own webhook arrives afterwards and changes nothing.
    assert ("PAYMENT.CAPTURE.COMPLETED", 200) in paypal_sandbox.deliver_webhooks() + deliveries
    assert Order.objects.count() == 1


def test_a_shopper_who_never_pays_is_locked_after_the_timeout_and_reconcile_leaves_it_locked(
    paypal_sandbox, shop, cart_settings
):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()

    assert lifecycle.lock_stale_checkouts() == 0
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT

    later = timezone.now() + timedelta(minutes=cart_settings.checkout_timeout_minutes + 1)
    assert lifecycle.lock_stale_checkouts(now=later) == 1
    cart.refresh_from_db()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.NO_RETURN)

    report = reconcile_cart(cart)

    cart.refresh_from_db()
    assert report.reachable and report.order_status == "PAYER_ACTION_REQUIRED" and not report.changed
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.NO_RETURN)
    assert not Order.objects.exists()


def test_a_payment_after_the_lock_still_becomes_the_order(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    lifecycle.lock_stale_checkouts(now=timezone.now() + timedelta(days=1))

    paypal_sandbox.pay(shopper, "Pay and close the window (never return)")
    paypal_sandbox.deliver_webhooks()

    assert shopper.cart().status == CartStatus.ORDERED


def test_the_return_url_with_another_carts_token_is_refused(paypal_sandbox, shop, cart_settings):
    victim = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(victim, "Pay", follow=False)  # approved at PayPal, not yet back
    victim_cart = victim.cart()
    intruder = paypal_sandbox.shopper_at_paypal(shop, [(1, 1)])

    for visitor in (intruder, paypal_sandbox.shopper()):
        page = visitor.get(
            reverse("wagtail_lockedcarts:paypal_return") + f"?token={victim_cart.paypal_order_id}&PayerID=X"
        )
        assert page.status_code == 403
        page = visitor.get(reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={victim_cart.paypal_order_id}")
        assert page.status_code == 403

    victim_cart.refresh_from_db()
    assert victim_cart.status == CartStatus.AWAITING_PAYMENT
    assert paypal_sandbox.order(victim_cart.paypal_order_id).capture_id == ""
    assert intruder.cart().status == CartStatus.AWAITING_PAYMENT
    assert not Order.objects.exists()


def test_a_captured_amount_that_differs_locks_the_cart_and_never_orders(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    page = paypal_sandbox.pay(shopper, "Pay", captured_amount="1.00")
    paypal_sandbox.deliver_webhooks()
    reconcile_cart(shopper.cart())

    cart = shopper.cart()
    assert (cart.status, cart.lock_reason) == (CartStatus.LOCKED, LockReason.AMOUNT_MISMATCH)
    assert page.status_code == 200 and "lockedcarts-checkout--problem" in page.text
    assert not Order.objects.exists()


def test_returning_after_the_webhook_made_the_order_shows_it(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    approval = paypal_sandbox.pay(shopper, "Pay", follow=False)
    paypal_sandbox.deliver_webhooks()

    page = shopper.get(approval.headers["Location"])

    order = Order.objects.get()
    assert page.status_code == 200 and f'data-order="{order.pk}"' in page.text


def test_checkout_when_paypal_is_down_reopens_the_cart(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    paypal_sandbox.set_faults(fail_next=5)

    response = shopper.checkout()

    assert response.status_code == 302 and response.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN
    assert PaymentAttempt.objects.get(cart=cart).status == "failed"
    assert any("not available" in message for message in shopper.messages_on(reverse("wagtail_lockedcarts:cart")))


def test_checkout_refuses_get_and_a_missing_csrf_token(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    url = reverse("wagtail_lockedcarts:checkout")

    assert shopper.get(url).status_code == 405
    assert shopper.session.post(shopper.url(url), allow_redirects=False).status_code == 403
    assert shopper.cart().status == CartStatus.OPEN


def test_the_approval_page_offers_exactly_the_six_choices(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)

    buttons, _page = paypal_sandbox.buttons(shopper.approve_url)

    assert list(buttons) == [
        "Pay",
        "Pay – pending (eCheck)",
        "Pay with card",
        "Decline",
        "Cancel and return",
        "Pay and close the window (never return)",
    ]


def test_the_return_url_of_an_ordered_cart_is_refused_to_anyone_else(paypal_sandbox, shop, cart_settings):
    """A PayPal token is no secret (it is in URLs, logs, referrers): holding the token of another
    shopper's *ordered* cart shows nothing of their order."""
    victim = paypal_sandbox.shopper_at_paypal(shop)
    assert paypal_sandbox.pay(victim, "Pay").status_code == 200
    victim_cart = victim.cart()
    order = Order.objects.get(cart=victim_cart)
    assert victim_cart.status == CartStatus.ORDERED
    intruder = paypal_sandbox.shopper_at_paypal(shop, [(1, 1)])
    token = victim_cart.paypal_order_id

    for visitor in (intruder, paypal_sandbox.shopper()):
        for view in ("paypal_return", "paypal_cancel"):
            page = visitor.get(reverse(f"wagtail_lockedcarts:{view}") + f"?token={token}&PayerID=X")
            assert page.status_code == 403, view
            assert f'data-order="{order.pk}"' not in page.text
            assert "buyer@example.com" not in page.text

    for view in ("paypal_return", "paypal_cancel"):
        mine = victim.get(reverse(f"wagtail_lockedcarts:{view}") + f"?token={token}&PayerID=X")
        assert mine.status_code == 200 and f'data-order="{order.pk}"' in mine.text, view
    victim_cart.refresh_from_db()
    assert victim_cart.status == CartStatus.ORDERED and Order.objects.get().pk == order.pk

    assert paypal_sandbox.pay(intruder, "Pay").status_code == 200
    own = Order.objects.get(cart=intruder.cart())
    again = intruder.get(reverse("wagtail_lockedcarts:paypal_return") + f"?token={own.paypal_order_id}&PayerID=X")
    assert again.status_code == 200 and f'data-order="{own.pk}"' in again.text
    mine = victim.get(reverse("wagtail_lockedcarts:paypal_return") + f"?token={token}&PayerID=X")
    assert mine.status_code == 200 and f'data-order="{order.pk}"' in mine.text, "found by its token, not the newest"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cancelling_after_approving_in_another_tab_completes_the_payment(paypal_sandbox, shop, cart_settings, method):
    """The shopper approved on PayPal in one tab and then cancelled in another: PayPal has their
    approval, so the payment goes on rather than the cart reopening under an approved order."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay", follow=False)
    token = shopper.cart().paypal_order_id

    if method == "GET":
        page = shopper.get(reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={token}")
    else:
        page = shopper.post(reverse("wagtail_lockedcarts:paypal_cancel"), {"token": token})

    cart = shopper.cart()
    assert cart.status == CartStatus.ORDERED
    assert paypal_sandbox.order(token).capture_status == "COMPLETED"
    assert page.status_code == 200 and f'data-order="{Order.objects.get(cart=cart).pk}"' in page.text


# --------------------------------------------------------------------------------------------
# JSON clients (a shop's own script) get the same answers as data


JSON = {"Accept": "application/json"}


def test_a_json_checkout_gets_paypals_approval_link_and_order_id(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)

    cart = shopper.cart()
    assert response.status_code == 200
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert response.json() == {"approve_url": attempt.approve_url, "paypal_order_id": cart.paypal_order_id}
    assert attempt.paypal_order_id == cart.paypal_order_id != ""
    assert response.json()["approve_url"].startswith(paypal_sandbox.api_base)


def test_checking_out_again_while_paypal_has_the_cart_is_refused_with_409_and_changes_nothing(
    paypal_sandbox, shop, cart_settings
):
    """A second tab's checkout must not start another PayPal order for a cart already there."""
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    reason = "Your cart is waiting for PayPal to confirm your payment and cannot be changed."

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)
    page = shopper.checkout()

    assert response.status_code == 409 and response.json() == {"error": reason}
    assert page.status_code == 302 and page.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    assert reason in shopper.messages_on(reverse("wagtail_lockedcarts:cart"))
    assert list(PaymentAttempt.objects.values_list("paypal_order_id", flat=True)) == [cart.paypal_order_id]
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT


def test_a_json_checkout_of_an_empty_cart_gets_400_and_the_reason(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    shopper.cart().lines.all().delete()

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)

    assert response.status_code == 400
    assert response.json() == {"error": "Your cart is empty."}
    assert shopper.cart().status == CartStatus.OPEN and not PaymentAttempt.objects.exists()


def test_a_json_checkout_while_paypal_is_down_gets_503_and_the_reason(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    paypal_sandbox.set_faults(fail_next=5)

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)

    assert response.status_code == 503
    assert response.json() == {
        "error": "PayPal is not available right now. Nothing was charged; please try again in a moment."
    }
    assert shopper.cart().status == CartStatus.OPEN


def test_a_json_client_with_another_carts_token_gets_403_and_the_reason(paypal_sandbox, shop, cart_settings):
    victim = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(victim, "Pay", follow=False)
    token = victim.cart().paypal_order_id
    stranger = paypal_sandbox.shopper()

    for name in ("paypal_return", "paypal_cancel"):
        response = stranger.get(reverse(f"wagtail_lockedcarts:{name}") + f"?token={token}", headers=JSON)

        assert response.status_code == 403
        assert response.json() == {"error": "This PayPal payment does not belong to your cart. Nothing was changed."}
    page = stranger.get(reverse("wagtail_lockedcarts:paypal_return") + f"?token={token}")
    assert "does not belong to your cart" in page.text
    assert "This payment link is not for your cart" in page.text
    assert victim.cart().status == CartStatus.AWAITING_PAYMENT


def test_a_json_return_after_paying_describes_the_order(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    back = paypal_sandbox.pay(shopper, "Pay", follow=False).headers["Location"]

    response = shopper.get(back, headers=JSON)

    cart = shopper.cart()
    order = Order.objects.get(cart=cart)
    assert response.status_code == 200
    assert response.json() == {
        "cart": cart.pk,
        "status": "ordered",
        "lock_reason": "",
        "order": order.pk,
        "page": "checkout_success",
    }


def test_a_json_return_while_paypal_is_unreachable_says_the_cart_waits_with_no_order(
    paypal_sandbox, shop, cart_settings
):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    paypal_sandbox.make_unreachable()

    response = shopper.get(
        reverse("wagtail_lockedcarts:paypal_return") + f"?token={cart.paypal_order_id}", headers=JSON
    )

    assert response.status_code == 200
    assert response.json() == {
        "cart": cart.pk,
        "status": "awaiting_payment",
        "lock_reason": "",
        "order": None,
        "page": "checkout_pending",
    }


def test_a_json_cancel_reopens_the_cart_and_says_so(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()

    response = shopper.get(
        reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={cart.paypal_order_id}", headers=JSON
    )

    assert response.status_code == 200
    assert response.json() == {"cart": cart.pk, "status": "open"}
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert attempt.status == "cancelled"
    assert list(attempt.events.values_list("order_status", flat=True)) == ["PAYER_ACTION_REQUIRED"]


def test_cancelling_while_paypal_cannot_answer_changes_nothing_and_says_we_are_waiting(
    paypal_sandbox, shop, cart_settings
):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    paypal_sandbox.make_unreachable()

    page = shopper.get(reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={cart.paypal_order_id}")

    assert page.status_code == 200 and "We are waiting for PayPal" in page.text
    cart.refresh_from_db()
    assert cart.status == CartStatus.AWAITING_PAYMENT and cart.paypal_order_id


def test_the_result_page_gives_site_templates_what_paypal_answered(paypal_sandbox, shop, cart_settings):
    """Storefront templates are the site's to override: they get PayPal's answer as ``report``."""
    from django.test.signals import template_rendered

    shopper = paypal_sandbox.shopper_at_paypal(shop)
    cart = shopper.cart()
    paypal_sandbox.make_unreachable()
    contexts = []

    def rendered(sender, template, context, **kwargs):
        contexts.append(context)

    template_rendered.connect(rendered)
    try:
        shopper.get(reverse("wagtail_lockedcarts:paypal_cancel") + f"?token={cart.paypal_order_id}")
    finally:
        template_rendered.disconnect(rendered)

    pages = [context for context in contexts if "report" in context]
    assert pages and pages[0]["cart"] == cart
    report = pages[0]["report"]
    assert report.reachable is False and report.paypal_order_id == cart.paypal_order_id and report.cart == cart
    assert report.error and report.error == reconcile_cart(cart).error


def test_the_paypal_order_names_the_cart_its_amount_and_the_shops_own_return_urls(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop, [(0, 2)])
    cart = shopper.cart()
    attempt = PaymentAttempt.objects.get(cart=cart)

    order = paypal_sandbox.order(cart.paypal_order_id)

    assert (order.amount, order.currency) == (Decimal("25.00"), "EUR")
    assert order.reference_id == order.custom_id == str(cart.pk)
    assert order.invoice_id == f"cart-{cart.pk}-{attempt.pk}"
    assert order.request_id == str(attempt.request_id)
    assert order.return_url == paypal_sandbox.base_url + reverse("wagtail_lockedcarts:paypal_return")
    assert order.cancel_url == paypal_sandbox.base_url + reverse("wagtail_lockedcarts:paypal_cancel")
    assert shopper.approve_url == attempt.approve_url


@pytest.mark.parametrize("status", [400, 422])
def test_paypal_refusing_the_order_itself_says_the_cart_cannot_be_paid_this_way(
    paypal_sandbox, shop, cart_settings, status
):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    paypal_sandbox.set_faults(fail_next=1, fail_status=status, path_contains="/v2/checkout/orders")

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)

    assert response.status_code == 422
    assert response.json()["error"].startswith("This cart cannot be paid with PayPal")
    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert (attempt.status, attempt.status_reason) == ("failed", "INTERNAL_SERVER_ERROR"), "PayPal's issue is kept"


def test_paypal_refusing_the_checkout_for_another_reason_says_paypal_is_not_available(
    paypal_sandbox, shop, cart_settings
):
    """A 4xx that is not about the order itself (here 403, the shop's credentials) may pass:
    the shopper is told to try again, not that the cart can never be paid."""
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    paypal_sandbox.set_faults(fail_next=1, fail_status=403, path_contains="/v2/checkout/orders")

    response = shopper.post(reverse("wagtail_lockedcarts:checkout"), headers=JSON)

    assert response.status_code == 503
    assert response.json() == {
        "error": "PayPal is not available right now. Nothing was charged; please try again in a moment."
    }
    cart = shopper.cart()
    assert cart.status == CartStatus.OPEN
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert (attempt.status, attempt.status_reason) == ("failed", "INTERNAL_SERVER_ERROR")


def _with_https_link(order):
    return {**order, "links": [{"rel": "payer-action", "href": "https://www.sandbox.paypal.com/checkoutnow?token=X"}]}


def test_an_https_approval_link_is_where_the_shopper_is_sent(paypal_sandbox, shop, cart_settings, monkeypatch):
    create_order = PayPalClient.create_order
    monkeypatch.setattr(
        PayPalClient, "create_order", lambda client, **kwargs: _with_https_link(create_order(client, **kwargs))
    )
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)

    response = shopper.checkout()

    assert response.status_code == 302
    assert response.headers["Location"] == "https://www.sandbox.paypal.com/checkoutnow?token=X"
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT


def _without_id(order):
    return {key: value for key, value in order.items() if key != "id"}


def _with_script_link(order):
    return {**order, "links": [{"rel": "payer-action", "href": "javascript:alert(document.cookie)"}]}


@pytest.mark.parametrize("answer", [_without_id, _with_script_link], ids=["no-order-id", "javascript-link"])
def test_a_created_order_without_an_id_or_a_web_approval_link_is_refused(
    paypal_sandbox, shop, cart_settings, monkeypatch, answer
):
    """The shopper is never sent to a link that is not http(s), nor left waiting on an order we cannot name."""
    create_order = PayPalClient.create_order
    monkeypatch.setattr(PayPalClient, "create_order", lambda client, **kwargs: answer(create_order(client, **kwargs)))
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)

    response = shopper.checkout()

    assert response.status_code == 302 and response.headers["Location"] == reverse("wagtail_lockedcarts:cart")
    cart = shopper.cart()
    assert (cart.status, cart.paypal_order_id) == (CartStatus.OPEN, "")
    attempt = PaymentAttempt.objects.get(cart=cart)
    assert (attempt.status, attempt.status_reason, attempt.approve_url) == ("failed", "no approval link", "")
    assert any("not available" in message for message in shopper.messages_on(reverse("wagtail_lockedcarts:cart")))


def test_a_signed_in_shopper_sees_their_ordered_cart_and_no_other_account_does(
    paypal_sandbox, shop, cart_settings, django_user_model
):
    for name in ("ada", "eve"):
        django_user_model.objects.create_user(name, f"{name}@example.com", f"{name}-password-1")

    def signed_in(name):
        shopper = paypal_sandbox.shopper()
        response = shopper.post(reverse("login"), {"username": name, "password": f"{name}-password-1"})
        assert response.status_code == 302, response.status_code
        return shopper

    ada, eve = signed_in("ada"), signed_in("eve")
    ada.add(shop[0].cart_key)
    ada.approve_url = ada.checkout().headers["Location"]
    paypal_sandbox.pay(ada, "Pay")
    order = Order.objects.get()
    assert order.user_id == django_user_model.objects.get(username="ada").pk
    url = reverse("wagtail_lockedcarts:paypal_return") + f"?token={order.paypal_order_id}&PayerID=X"

    assert eve.get(url).status_code == 403
    mine = ada.get(url)
    assert mine.status_code == 200 and f'data-order="{order.pk}"' in mine.text


def test_checkout_while_paypal_is_unreachable_records_why_on_the_payment(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper()
    shopper.add(shop[0].cart_key)
    paypal_sandbox.make_unreachable()

    response = shopper.checkout()

    cart = shopper.cart()
    assert response.status_code == 302 and cart.status == CartStatus.OPEN
    assert PaymentAttempt.objects.values_list("status", "status_reason").get(cart=cart) == ("failed", "connection")
