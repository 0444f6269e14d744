"""Fixtures for the admin tests (owned by that area)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone


@pytest.fixture
def make_staff(db, django_user_model):
    """make_staff("name", ["wagtail_lockedcarts.view_cart", ...]) → an admin user with exactly
    those permissions (plus access to the Wagtail admin)."""
    from django.contrib.auth.models import Permission

    def factory(username, perms=()):
        user = django_user_model.objects.create_user(username, f"{username}@example.com", "password", is_staff=True)
        wanted = ["wagtailadmin.access_admin", *perms]
        for name in wanted:
            app_label, codename = name.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return django_user_model.objects.get(pk=user.pk)  # fresh: no permission cache

    return factory


@pytest.fixture
def unlock_editor(make_staff):
    """Sees carts and may unlock them; nothing else."""
    return make_staff("unlocker", ["wagtail_lockedcarts.view_cart", "wagtail_lockedcarts.unlock_cart"])


@pytest.fixture
def viewer(make_staff):
    return make_staff("viewer", ["wagtail_lockedcarts.view_cart", "wagtail_lockedcarts.view_order"])


@pytest.fixture
def outsider(make_staff):
    """An admin user without any cart or order permission."""
    return make_staff("outsider")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def mixed_carts(make_cart):
    """One cart in every state and every lock reason, with known customers and totals.

    Totals (products: Mug 12.50, T-shirt 25.00, Cap 9.99):
    open Alice 25.00 · awaiting Bob 9.99 · locked pending Carol 25.00 · locked no_return Dave 29.97
    · locked amount_mismatch Eve 12.50 · ordered Frank 50.00
    """
    from wagtail_lockedcarts.models import CartStatus, LockReason

    carts = {
        "open": make_cart(lines=[(0, 2)], customer_name="Alice Open", customer_email="alice@example.com"),
        "awaiting": make_cart(
            status=CartStatus.AWAITING_PAYMENT,
            lines=[(2, 1)],
            customer_name="Bob Waiting",
            customer_email="bob@example.com",
        ),
        "pending": make_cart(
            status=CartStatus.LOCKED,
            lines=[(1, 1)],
            lock_reason=LockReason.PENDING_PAYMENT,
            customer_name="Carol Pending",
            payer_email="carol.payer@example.net",
        ),
        "no_return": make_cart(
            status=CartStatus.LOCKED, lines=[(2, 3)], lock_reason=LockReason.NO_RETURN, customer_name="Dave Noreturn"
        ),
        "mismatch": make_cart(
            status=CartStatus.LOCKED,
            lines=[(0, 1)],
            lock_reason=LockReason.AMOUNT_MISMATCH,
            customer_name="Eve Mismatch",
        ),
        "ordered": make_cart(status=CartStatus.ORDERED, lines=[(1, 2)], customer_name="Frank Ordered"),
    }
    return carts


@pytest.fixture
def bulk_locked_carts(site):
    """bulk_locked_carts(n) → n locked carts with one line each, made with two bulk INSERTs
    (not through lifecycle: this is only for measuring query counts)."""
    from wagtail_lockedcarts.models import Cart, CartLine, CartStatus, LockReason

    def factory(count):
        now = timezone.now()
        reasons = list(LockReason)
        carts = Cart.objects.bulk_create(
            [
                Cart(
                    site=site,
                    status=CartStatus.LOCKED,
                    lock_reason=reasons[i % len(reasons)],
                    locked_at=now - timedelta(minutes=i),
                    checkout_started_at=now - timedelta(minutes=i + 30),
                    amount=Decimal("10.00") + i,
                    stored_total=Decimal("10.00") + i,
                    currency="EUR",
                    customer_name=f"Bulk customer {i}",
                    paypal_order_id=f"BULK-{i}",
                    card_brand="visa",
                    card_last4=f"{i % 10000:04d}",
                )
                for i in range(count)
            ]
        )
        if not carts or carts[0].pk is None:  # backends without RETURNING
            carts = list(Cart.objects.filter(paypal_order_id__startswith="BULK-"))
        CartLine.objects.bulk_create(
            [
                CartLine(
                    cart=cart, product_key=f"bulk:{cart.pk}", title="Bulk item", unit_price=cart.amount, quantity=1
                )
                for cart in carts
            ]
        )
        return carts

    return factory


@pytest.fixture
def make_order(make_cart, cart_settings):
    """make_order(status) → an order in ``on_hold``, ``submitted`` or ``exported``, each reached
    through lifecycle (on hold: a pending PayPal payment under the "hold" policy)."""
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.models import CartStatus, Order, OrderStatus, PendingPaymentPolicy

    def factory(status=OrderStatus.SUBMITTED, **cart_fields):
        if status == OrderStatus.ON_HOLD:
            cart = make_cart(status=CartStatus.AWAITING_PAYMENT, **cart_fields)
            previous = cart_settings.pending_payment_policy
            cart_settings.pending_payment_policy = PendingPaymentPolicy.HOLD
            cart_settings.save()
            result = lifecycle.PaymentResult(
                outcome=lifecycle.PaymentOutcome.PENDING,
                paypal_order_id=cart.paypal_order_id,
                amount=cart.amount,
                currency=cart.currency,
                paypal_status="COMPLETED",
                capture_status="PENDING",
            )
            order = lifecycle.apply_payment_result(cart, result).order
            cart_settings.pending_payment_policy = previous
            cart_settings.save()
        else:
            cart = make_cart(status=CartStatus.ORDERED, **cart_fields)
            order = Order.objects.get(cart=cart)
            if status == OrderStatus.EXPORTED:
                lifecycle.export_order(order.pk)
        order.refresh_from_db()
        assert order.status == status
        return order

    return factory
