"""The demo data (`seed_demo`) and the script behind `make demo`.

The command is run with django-q2's queue as the demo has it (ORM broker, not the in-process
``sync`` mode of the test settings), because what it leaves behind depends on the queue.
"""

import contextlib
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page, Site

from wagtail_lockedcarts.models import (
    Cart,
    CartLine,
    CartStatus,
    LockedCartSettings,
    LockReason,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_queue(monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def seeded(db, demo_queue):
    call_command("seed_demo", stdout=open(os.devnull, "w"))


def state_of_everything():
    from django.contrib.auth import get_user_model
    from django_q.models import OrmQ

    return {
        "carts": sorted(Cart.objects.values_list("pk", "status", "lock_reason", "amount", "card_last4", "locked_at")),
        "lines": sorted(CartLine.objects.values_list("cart_id", "product_key", "quantity")),
        "orders": sorted(Order.objects.values_list("pk", "cart_id", "status", "total", "exported_at")),
        "order_lines": OrderLine.objects.count(),
        "attempts": sorted(PaymentAttempt.objects.values_list("paypal_order_id", "status")),
        "users": sorted(get_user_model().objects.values_list("username", "email")),
        "pages": sorted(Page.objects.values_list("depth", "slug", "live")),
        "site_root": Site.objects.get(is_default_site=True).root_page_id,
        "history": ModelLogEntry.objects.count(),
        "queued_tasks": OrmQ.objects.count(),
    }


def test_seed_demo_creates_carts_in_every_state(seeded):
    statuses = set(Cart.objects.values_list("status", flat=True))
    assert statuses == {c.value for c in CartStatus}
    assert Cart.objects.filter(status=CartStatus.OPEN).count() >= 2


def test_seed_demo_locks_one_pending_and_one_unreturned_cart_with_paypal_reference(seeded):
    locked = Cart.objects.locked()
    reasons = set(locked.values_list("lock_reason", flat=True))
    assert {LockReason.PENDING_PAYMENT, LockReason.NO_RETURN} <= reasons
    for reason in (LockReason.PENDING_PAYMENT, LockReason.NO_RETURN):
        cart = locked.get(lock_reason=reason)
        assert len(cart.paypal_order_id) == 17 and cart.paypal_order_id.isalnum()
        assert cart.amount == cart.compute_total() > 0
        assert cart.user is not None and cart.customer_email
    # Paid by card (pending eCheck): brand and last 4 as PayPal reported them.
    pending = locked.get(lock_reason=LockReason.PENDING_PAYMENT)
    assert pending.masked_card == "Visa ••••4242"
    # Never came back and never paid: PayPal has no card to report.
    assert locked.get(lock_reason=LockReason.NO_RETURN).masked_card == ""


def paypal_order(order_id):
    from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder

    return SandboxOrder.objects.filter(pk=order_id).first()


def test_the_sandbox_knows_every_seeded_paypal_order_as_the_shop_does(seeded):
    carts = Cart.objects.exclude(paypal_order_id="")
    assert carts.count() == 8
    for cart in carts:
        order = paypal_order(cart.paypal_order_id)
        assert order is not None, cart.paypal_order_id
        assert (order.amount, order.currency) == (cart.amount, cart.currency)
        if cart.paypal_checked_at:  # the shop has asked PayPal (not yet for the checkout in progress)
            assert (order.status, order.capture_status) == (cart.paypal_status, cart.paypal_capture_status)
        assert (order.card_brand, order.card_last4) == (cart.card_brand, cart.card_last4)
        assert order.capture_id == cart.paypal_capture_id
    mismatch = Cart.objects.get(lock_reason=LockReason.AMOUNT_MISMATCH)
    assert paypal_order(mismatch.paypal_order_id).captured_amount == mismatch.amount - 5


def test_check_paypal_now_on_every_seeded_cart_gets_an_answer_and_changes_no_seeded_state(
    seeded, paypal_sandbox, superuser
):
    """The seeded story and the sandbox agree, so asking PayPal again confirms what the admin sees."""
    from wagtail_lockedcarts.paypal.reconcile import reconcile_paypal_order

    before = sorted(Cart.objects.values_list("pk", "status", "lock_reason"))
    for cart in Cart.objects.exclude(paypal_order_id="").exclude(status=CartStatus.AWAITING_PAYMENT):
        report = reconcile_paypal_order(cart.paypal_order_id, user=superuser)
        assert report.reachable and not report.error, (cart.paypal_order_id, report.summary)
        assert report.order_status in ("PAYER_ACTION_REQUIRED", "COMPLETED"), report.order_status
    assert sorted(Cart.objects.values_list("pk", "status", "lock_reason")) == before


def test_seed_demo_gives_paypal_records_to_a_demo_database_seeded_without_them(seeded):
    from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder

    SandboxOrder.objects.all().delete()
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    assert SandboxOrder.objects.count() == 9
    assert paypal_order(Order.objects.get(status=OrderStatus.EXPORTED).paypal_order_id).capture_status == "COMPLETED"


def test_seed_demo_locks_an_unanswered_checkout_after_two_minutes(seeded):
    site_settings = LockedCartSettings.for_site(Site.objects.get(is_default_site=True))
    assert site_settings.checkout_timeout_minutes == 2
    awaiting = Cart.objects.get(status=CartStatus.AWAITING_PAYMENT)
    assert timezone.now() - awaiting.checkout_started_at < timedelta(minutes=1)


def test_seed_demo_locked_carts_look_days_old_and_their_history_agrees(seeded):
    cart = Cart.objects.get(lock_reason=LockReason.PENDING_PAYMENT)
    age = timezone.now() - cart.locked_at
    assert age.days >= 1
    lock_entry = ModelLogEntry.objects.filter(object_id=str(cart.pk), action="wagtail_lockedcarts.lock").get()
    assert abs((lock_entry.timestamp - cart.locked_at).total_seconds()) < 1


def test_seed_demo_creates_orders_on_hold_submitted_exported_and_reversed_after_export(seeded):
    assert set(Order.objects.values_list("status", flat=True)) == {
        OrderStatus.ON_HOLD,
        OrderStatus.SUBMITTED,
        OrderStatus.EXPORTED,
        OrderStatus.PAYMENT_REVERSED,
    }
    reversed_order = Order.objects.get(status=OrderStatus.PAYMENT_REVERSED)
    assert reversed_order.exported_before_problem and reversed_order.exported_at
    assert reversed_order.payment_problem.startswith("REFUNDED")
    assert paypal_order(reversed_order.paypal_order_id).capture_status == "REFUNDED"
    for order in Order.objects.all():
        assert order.cart.status == CartStatus.ORDERED
        assert order.lines.count() == order.cart.lines.count() > 0
        assert order.total == order.cart.amount


def test_seed_demo_submitted_order_counts_as_not_confirmed(seeded):
    """Its export was never acknowledged, days ago: the daily e-mail has something to say."""
    grace = timedelta(
        hours=LockedCartSettings.for_site(Site.objects.get(is_default_site=True)).not_confirmed_grace_hours
    )
    submitted = Order.objects.get(status=OrderStatus.SUBMITTED)
    assert list(Order.objects.not_confirmed(older_than=timezone.now() - grace)) == [submitted]
    assert submitted.exported_at is None
    assert submitted.export_attempts == 1 and "did not answer" in submitted.last_export_error


def test_every_daily_email_section_keeps_its_seeded_example_after_the_sweeps_run(seeded):
    """The checkout sweep (which also re-queues lost exports) leaves the e-mail's examples alone."""
    from wagtail_lockedcarts.background.notifications import build_daily_notification
    from wagtail_lockedcarts.background.sweeps import sweep_checkouts

    site = Site.objects.get(is_default_site=True)
    later = timezone.now() + timedelta(hours=1)
    sweep_checkouts(later, use_paypal=False)

    notification = build_daily_notification(site, now=later)
    counts = notification.counts
    assert counts["locked"] >= 3 and counts["on_hold"] == 1 and counts["not_confirmed"] == 1
    assert Order.objects.get(status=OrderStatus.SUBMITTED).export_attempts == 1
    # Bob's checkout PayPal never answered stays listed until PayPal answers or an admin acts;
    # the seeded checkout in progress joins it once the sweep has locked it.
    assert counts["stale"] == 2
    assert counts["unmatched_payments"] == 1 and counts["reversed_after_export"] == 1
    assert set(counts) == {"unmatched_payments", "reversed_after_export", "locked", "stale", "on_hold", "not_confirmed"}
    for section in notification.sections:
        assert section.count and section.items, section.key


def test_the_sweep_asking_the_sandbox_leaves_every_section_of_the_daily_email_its_example(seeded, paypal_sandbox):
    """As the running demo's worker does it: PayPal (the sandbox) is asked about the stale
    checkout and the no-return locks, has no definitive answer, and the sweep locks."""
    from wagtail_lockedcarts.background.notifications import build_daily_notification
    from wagtail_lockedcarts.background.sweeps import sweep_checkouts

    later = timezone.now() + timedelta(hours=1)
    report = sweep_checkouts(later)

    assert report.lookups >= 2 and report.locked == 1 and report.reconciled == 0, str(report)
    counts = build_daily_notification(Site.objects.get(is_default_site=True), now=later).counts
    assert counts == {
        "unmatched_payments": 1,
        "reversed_after_export": 1,
        "locked": 4,
        "stale": 2,
        "on_hold": 1,
        "not_confirmed": 1,
    }


def test_every_daily_email_section_has_a_seeded_example_the_moment_the_demo_starts(seeded):
    from wagtail_lockedcarts.background.notifications import build_daily_notification

    notification = build_daily_notification(Site.objects.get(is_default_site=True))
    for section in notification.sections:
        assert section.count and section.items, section.key


def test_the_seeded_unmatched_payment_is_an_echeck_that_cleared_after_its_cart_was_deleted(seeded):
    (payment,) = PaymentAttempt.objects.unmatched()
    assert payment.cart is None and payment.capture_status == "COMPLETED"
    assert paypal_order(payment.paypal_order_id).capture_status == "COMPLETED"
    deletion = ModelLogEntry.objects.get(object_id=str(payment.cart_reference), action="wagtail_lockedcarts.delete")
    assert deletion.data["payment_at_paypal"]["capture_status"] == "PENDING"
    assert timezone.now() - deletion.timestamp > timedelta(days=1)


def test_the_dashboard_shows_the_seeded_money_problems(seeded, admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "/admin/lockedcarts/payments/" in html and "unmatched payment" in html
    assert "order_filter=payment_reversed" in html


def test_seed_demo_reaches_states_only_through_the_lifecycle_audit_trail(seeded):
    for cart in Cart.objects.exclude(status=CartStatus.OPEN):
        actions = set(
            ModelLogEntry.objects.filter(object_id=str(cart.pk), content_type__model="cart").values_list(
                "action", flat=True
            )
        )
        assert "wagtail_lockedcarts.checkout" in actions
        if cart.status == CartStatus.LOCKED:
            assert "wagtail_lockedcarts.lock" in actions


def test_seed_demo_turns_on_email_system_messages_for_the_default_site(seeded):
    settings = LockedCartSettings.for_site(Site.objects.get(is_default_site=True))
    assert settings.email_system_messages is True
    assert settings.recipient_list == ["admin@example.com"]
    assert settings.pending_payment_policy == "lock"


def test_seed_demo_makes_the_shop_the_home_page_with_six_products(seeded, client):
    from shop.models import ProductPage, ShopIndexPage

    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, ShopIndexPage)
    assert ProductPage.objects.live().child_of(site.root_page).count() == 6
    response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count('name="product"') == 6


def test_seed_demo_customers_can_sign_in_with_the_demo_password(seeded, client):
    for username in ("alice", "bob", "chloe"):
        assert client.login(username=username, password="demo")
        client.logout()


def test_running_seed_demo_twice_changes_nothing(seeded):
    before = state_of_everything()
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    assert state_of_everything() == before


def test_seed_demo_brings_back_a_demo_cart_the_admin_deleted(seeded, superuser):
    from wagtail_lockedcarts import lifecycle

    cart = Cart.objects.get(lock_reason=LockReason.NO_RETURN)
    lifecycle.delete_cart(cart, superuser)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    assert Cart.objects.filter(lock_reason=LockReason.NO_RETURN, paypal_order_id=cart.paypal_order_id).count() == 1
    assert Cart.objects.count() == 10


def demo_env(db_path, **extra):
    """The demo's environment; DEBUG on, as scripts/demo-env.sh sets it for the demo and
    for commands run against it (the example site's settings have it off)."""
    env = {**os.environ, "PYTHON": sys.executable, "LOCKEDCARTS_DB": str(db_path), "DJANGO_DEBUG": "1", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def prepared_demo(tmp_path_factory):
    """`DEMO_NO_SERVE=1 scripts/demo.sh` on an empty database (what CI can run)."""
    db_path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    result = subprocess.run(
        [str(REPO / "scripts" / "demo.sh")],
        env=demo_env(db_path, DEMO_NO_SERVE="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return db_path, result


@pytest.mark.slow
def test_demo_script_without_serving_migrates_creates_the_admin_and_seeds(prepared_demo):
    db_path, result = prepared_demo
    assert result.returncode == 0, result.stdout + result.stderr
    assert "created admin login admin / changeme" in result.stdout
    assert "http://127.0.0.1:8000/" in result.stdout
    assert "Demo shop running" not in result.stdout

    check = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth import get_user_model as U;"
            "from wagtail_lockedcarts.models import Cart;"
            "print(U().objects.get(username='admin').check_password('changeme'),"
            " sorted(Cart.objects.locked().values_list('lock_reason', flat=True)))",
        ],
        cwd=REPO / "example_site",
        env=demo_env(db_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert "True ['amount_mismatch', 'no_return', 'pending_payment']" in check.stdout


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_group_members(pgids):
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in pgids and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.slow
def test_demo_script_reruns_idempotently_serves_and_ctrl_c_stops_everything(prepared_demo, tmp_path):
    """The second run keeps the admin and the data, serves on PORT, and Ctrl-C leaves no process."""
    import re
    import signal
    import time
    import urllib.request

    db_path, _first = prepared_demo
    port = free_port()
    log = open(tmp_path / "demo.log", "w+")
    demo = subprocess.Popen(
        [str(REPO / "scripts" / "demo.sh")],
        env=demo_env(db_path, PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        # As in a terminal: a suite started in the background (``cmd &``) ignores SIGINT, and a
        # shell cannot trap a signal ignored when it starts.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    pids = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and demo.poll() is None:
            log.seek(0)
            found = re.search(r"web server pid (\d+), qcluster pid (\d+)", log.read())
            if found:
                pids = [int(found.group(1)), int(found.group(2))]
                break
            time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert pids, output
        assert "admin login admin already exists" in output and "Nothing was missing" in output
        assert f"http://127.0.0.1:{port}/paypal-sandbox/" in output and "admin / changeme" in output
        for path in ("/", "/cart/", "/admin/login/"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                assert response.status == 200, path
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            returncode = demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in pids or []:  # each server leads its own process group (demo.sh: set -m)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            demo.kill()
            raise
    assert returncode == 130
    assert process_group_members(set(pids)) == []
    log.seek(0)
    assert "== Stopped." in log.read()


@pytest.mark.slow
def test_make_manage_runs_a_command_against_the_demo_with_its_port_in_every_link(prepared_demo):
    db_path, _first = prepared_demo
    result = subprocess.run(
        [str(REPO / "scripts" / "manage.sh"), "lockedcarts_send_digest", "--dry-run"],
        env=demo_env(db_path, PORT="8123"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    links = re.findall(r"https?://[^\s\"'<>]+", result.stdout)
    assert any("/admin/lockedcarts/carts/inspect/" in link for link in links), result.stdout
    assert all(link.startswith("http://127.0.0.1:8123/") for link in links), links
    assert "Orders submitted but not confirmed" in result.stdout and "Orders on hold" in result.stdout


def test_when_alices_echeck_clears_in_the_sandbox_check_paypal_now_makes_her_order(seeded, paypal_sandbox, superuser):
    """The README's and the editor's guide's demo step: settle, then Check PayPal now."""
    from wagtail_lockedcarts.contrib.paypal_sandbox.seeding import settle
    from wagtail_lockedcarts.paypal.reconcile import reconcile_paypal_order

    cart = Cart.objects.get(lock_reason=LockReason.PENDING_PAYMENT)
    assert cart.paypal_order_id == "5O190127TN364715T"
    settle(cart.paypal_order_id)

    report = reconcile_paypal_order(cart.paypal_order_id, user=superuser)

    assert report.changed
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED and Order.objects.get(cart=cart).total == cart.amount
