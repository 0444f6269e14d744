"""Bulk actions on the Cart Management listing: each cart through lifecycle (with its own audit
entry), checked per instance, and carts that could not be actioned reported."""

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from wagtail.models import ModelLogEntry

from wagtail_lockedcarts.models import Cart, CartStatus

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/lockedcarts/carts/"


def bulk_url(action, *carts):
    ids = "&".join(f"id={cart.pk}" for cart in carts)
    return f"/admin/bulk/wagtail_lockedcarts/cart/{action}/?{ids}&next={LIST_URL}"


def message_texts(response):
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


def test_listing_footer_offers_the_cart_bulk_actions(admin_client, mixed_carts):
    html = admin_client.get(LIST_URL).content.decode()
    for action in ("unlock_carts", "check_paypal", "delete"):
        assert f"/admin/bulk/wagtail_lockedcarts/cart/{action}/" in html, action


def test_bulk_unlock_lists_what_cannot_be_unlocked_and_changes_nothing_on_get(admin_client, mixed_carts):
    url = bulk_url("unlock_carts", mixed_carts["pending"], mixed_carts["no_return"], mixed_carts["open"])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert {item["item"].pk for item in response.context["items"]} == {
        mixed_carts["pending"].pk,
        mixed_carts["no_return"].pk,
    }
    assert [cart.pk for cart in response.context["items_with_no_access"]] == [mixed_carts["open"].pk]
    html = response.content.decode()
    assert "cannot be changed this way" in html and "csrfmiddlewaretoken" in html
    assert Cart.objects.filter(status=CartStatus.LOCKED).count() == 3


def test_bulk_unlock_unlocks_each_cart_with_an_audit_entry(admin_client, superuser, mixed_carts):
    carts = [mixed_carts["pending"], mixed_carts["no_return"]]
    response = admin_client.post(bulk_url("unlock_carts", *carts))
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    for cart in carts:
        cart.refresh_from_db()
        assert cart.status == CartStatus.OPEN
        assert (
            ModelLogEntry.objects.filter(
                object_id=str(cart.pk), action="wagtail_lockedcarts.unlock", user=superuser
            ).count()
            == 1
        )
    assert "2 carts unlocked." in message_texts(response)
    assert mixed_carts["mismatch"].__class__.objects.get(pk=mixed_carts["mismatch"].pk).status == CartStatus.LOCKED


def test_bulk_unlock_reports_carts_changed_meanwhile(admin_client, superuser, mixed_carts):
    from wagtail_lockedcarts import lifecycle

    url = bulk_url("unlock_carts", mixed_carts["pending"], mixed_carts["no_return"])
    admin_client.get(url)
    lifecycle.confirm_order(mixed_carts["no_return"], user=superuser)  # someone else, meanwhile
    response = admin_client.post(url)
    texts = " ".join(message_texts(response))
    # the confirmed cart no longer passes the per-instance check: it is skipped, never reopened
    assert Cart.objects.get(pk=mixed_carts["no_return"].pk).status == CartStatus.ORDERED
    assert Cart.objects.get(pk=mixed_carts["pending"].pk).status == CartStatus.OPEN
    assert "1 cart unlocked." in texts
    assert (
        f"1 cart was left unchanged (its state or your permissions do not allow it): {mixed_carts['no_return'].pk}"
        in texts
    )


def test_bulk_unlock_refused_for_a_viewer(client, viewer, mixed_carts):
    client.force_login(viewer)
    response = client.post(bulk_url("unlock_carts", mixed_carts["pending"]))
    assert Cart.objects.get(pk=mixed_carts["pending"].pk).status == CartStatus.LOCKED
    assert response.status_code == 302 and response["Location"] == "/admin/"  # Wagtail's "permission denied"
    assert not ModelLogEntry.objects.filter(action="wagtail_lockedcarts.unlock").exists()


def test_bulk_delete_replaces_the_builtin_and_logs_snapshots(admin_client, superuser, mixed_carts):
    carts = [mixed_carts["open"], mixed_carts["pending"], mixed_carts["ordered"]]
    response = admin_client.get(bulk_url("delete", *carts))
    assert {item["item"].pk for item in response.context["items"]} == {
        mixed_carts["open"].pk,
        mixed_carts["pending"].pk,
    }
    assert [cart.pk for cart in response.context["items_with_no_access"]] == [mixed_carts["ordered"].pk]
    response = admin_client.post(bulk_url("delete", *carts))
    assert response.status_code == 302
    assert not Cart.objects.filter(pk__in=[mixed_carts["open"].pk, mixed_carts["pending"].pk]).exists()
    assert Cart.objects.filter(pk=mixed_carts["ordered"].pk).exists()
    for cart in carts[:2]:
        entry = ModelLogEntry.objects.get(object_id=str(cart.pk), action="wagtail_lockedcarts.delete")
        assert entry.deleted and entry.user == superuser
        assert entry.data["customer"] == cart.customer_name
    assert "2 carts deleted." in message_texts(response)


def test_bulk_post_without_csrf_is_rejected(superuser, mixed_carts):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    response = client.post(bulk_url("delete", mixed_carts["open"]))
    assert response.status_code == 403
    assert Cart.objects.filter(pk=mixed_carts["open"].pk).exists()


def test_bulk_check_with_paypal_confirmation_lists_checkable_carts(admin_client, mixed_carts):
    response = admin_client.get(
        bulk_url("check_paypal", mixed_carts["pending"], mixed_carts["awaiting"], mixed_carts["open"])
    )
    assert response.status_code == 200
    assert {item["item"].pk for item in response.context["items"]} == {
        mixed_carts["pending"].pk,
        mixed_carts["awaiting"].pk,
    }
    assert [cart.pk for cart in response.context["items_with_no_access"]] == [mixed_carts["open"].pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_check_with_paypal_orders_the_paid_cart(paypal_sandbox, shop, superuser, client):
    """The check runs as a django-q2 task (synchronous in the test settings) after the commit."""
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.models import LockReason

    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay and close the window (never return)", follow=False)
    paypal_sandbox.wait_idle()
    cart = shopper.cart()
    lifecycle.lock_cart(cart, LockReason.NO_RETURN)
    client.force_login(superuser)
    response = client.post(bulk_url("check_paypal", cart))
    assert response.status_code == 302
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED
    assert "PayPal is being asked about 1 cart in the background" in message_texts(response)[0]
    assert ModelLogEntry.objects.filter(
        object_id=str(cart.pk), action="wagtail_lockedcarts.reconcile", user=superuser
    ).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_check_reports_a_cart_paypal_does_not_know_as_a_failure(
    paypal_sandbox, shop, superuser, client, make_cart
):
    """A PayPal order id the sandbox never issued (INVALID_RESOURCE_ID) is not "checked": the
    background check records PayPal's refusal in the cart's history and changes nothing."""
    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.models import LockReason

    shopper = paypal_sandbox.shopper_at_paypal(shop)
    known = shopper.cart()
    lifecycle.lock_cart(known, LockReason.NO_RETURN)
    unknown = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)  # id "PAYPAL-…"
    client.force_login(superuser)

    from wagtail.models import ModelLogEntry

    response = client.post(bulk_url("check_paypal", known, unknown))

    assert any("in the background" in text for text in message_texts(response))
    answers = {
        entry.object_id: (entry.data or {}).get("summary", "")
        for entry in ModelLogEntry.objects.filter(action=lifecycle.LOG_RECONCILE)
    }
    assert "INVALID_RESOURCE_ID" in answers[str(unknown.pk)]
    assert "nothing was changed" in answers[str(unknown.pk)]
    assert Cart.objects.get(pk=unknown.pk).status == CartStatus.LOCKED


@pytest.mark.parametrize("action_type", ["unlock_carts", "delete", "check_paypal"])
def test_bulk_actions_run_wagtails_before_and_after_hooks(admin_client, mixed_carts, action_type):
    from wagtail import hooks

    calls = []

    def before(request, action, objects, view):
        calls.append(("before", action, sorted(cart.pk for cart in objects)))

    def after(request, action, objects, view):
        calls.append(("after", action, sorted(cart.pk for cart in objects)))

    cart = mixed_carts["pending"]
    with (
        hooks.register_temporarily("before_bulk_action", before),
        hooks.register_temporarily("after_bulk_action", after),
        hooks.register_temporarily("before_bulk_action", lambda *args: HttpResponse("stopped")),
    ):
        response = admin_client.post(bulk_url(action_type, cart))

    assert response.content == b"stopped"
    assert calls == [("before", action_type, [cart.pk])]
    assert Cart.objects.get(pk=cart.pk).status == CartStatus.LOCKED


def test_bulk_unlock_runs_the_after_hook_once_the_carts_are_unlocked(admin_client, mixed_carts):
    from wagtail import hooks

    seen = []

    def after(request, action, objects, view):
        seen.append([Cart.objects.get(pk=cart.pk).status for cart in objects])

    with hooks.register_temporarily("after_bulk_action", after):
        admin_client.post(bulk_url("unlock_carts", mixed_carts["pending"], mixed_carts["no_return"]))

    assert seen == [[CartStatus.OPEN, CartStatus.OPEN]]


def test_one_bulk_action_logs_its_entries_with_one_shared_uuid(admin_client, superuser, mixed_carts):
    admin_client.post(bulk_url("unlock_carts", mixed_carts["pending"], mixed_carts["no_return"]))

    entries = ModelLogEntry.objects.filter(action="wagtail_lockedcarts.unlock", user=superuser)
    assert entries.count() == 2
    assert len({entry.uuid for entry in entries}) == 1 and entries[0].uuid is not None


@pytest.mark.parametrize(
    ("action_type", "user_fixture"),
    [
        ("delete", "outsider"),
        ("delete", "unlock_editor"),
        ("unlock_carts", "outsider"),
        ("unlock_carts", "viewer"),
        ("check_paypal", "outsider"),
        ("check_paypal", "viewer"),
    ],
)
def test_a_confirmation_page_is_refused_without_the_actions_permission_and_shows_no_customer(
    client, mixed_carts, request, action_type, user_fixture
):
    client.force_login(request.getfixturevalue(user_fixture))
    carts = [mixed_carts["pending"], mixed_carts["no_return"], mixed_carts["open"]]

    response = client.get(bulk_url(action_type, *carts))

    assert response.status_code == 302 and response["Location"] == "/admin/"  # Wagtail's "permission denied"
    text = response.content.decode()
    for cart in carts:
        assert cart.customer_name not in text
        assert not cart.customer_email or cart.customer_email not in text


def test_carts_whose_state_refuses_the_action_are_named_by_number_only(client, unlock_editor, mixed_carts):
    client.force_login(unlock_editor)
    open_cart = mixed_carts["open"]

    response = client.get(bulk_url("unlock_carts", mixed_carts["pending"], open_cart))

    text = response.content.decode()
    assert response.status_code == 200
    assert f"Cart {open_cart.pk}" in text and open_cart.customer_name not in text
    assert mixed_carts["pending"].customer_name in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_check_returns_at_once_while_paypal_is_slow_and_reports_each_cart(
    paypal_sandbox, shop, superuser, client, monkeypatch
):
    """With a real queue the request only enqueues: it returns in well under PayPal's delay, and
    the task's result names each cart's answer."""
    import time

    from django_q.conf import Conf
    from django_q.models import OrmQ

    from wagtail_lockedcarts import lifecycle
    from wagtail_lockedcarts.background.tasks import check_carts_with_paypal
    from wagtail_lockedcarts.models import LockReason

    carts = []
    for _ in range(3):
        shopper = paypal_sandbox.shopper_at_paypal(shop)
        cart = shopper.cart()
        lifecycle.lock_cart(cart, LockReason.NO_RETURN)
        carts.append(cart)
    monkeypatch.setattr(Conf, "SYNC", False)
    paypal_sandbox.set_faults(delay_next=100, delay_seconds=3)
    client.force_login(superuser)

    started = time.monotonic()
    response = client.post(bulk_url("check_paypal", *carts))
    took = time.monotonic() - started

    assert response.status_code == 302 and took < 3
    assert OrmQ.objects.count() == 1  # one queued task for all the carts
    paypal_sandbox.set_faults()
    results = check_carts_with_paypal([cart.pk for cart in carts], superuser.pk)
    assert set(results) == {cart.pk for cart in carts}
    assert all("PayPal order" in text or "PayPal could not be reached" in text for text in results.values())
    paypal_sandbox.wait_idle(30)
