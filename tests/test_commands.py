"""lockedcarts_send_digest and lockedcarts_reconcile: what the tasks do, by hand or from cron."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from wagtail_lockedcarts.models import Cart, CartStatus, DailyNotificationRun, LockReason


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_send_daily_notification_sends_each_due_site_once(notify_settings, other_site, make_cart):
    make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=make_cart(status=CartStatus.LOCKED).pk).update(site=other_site)

    out, _err = run("lockedcarts_send_digest")
    again, _err = run("lockedcarts_send_digest")

    assert len(mail.outbox) == 2
    assert out.count(": sent to ") == 2
    assert again.count(": already_claimed") == 2


def test_dry_run_prints_the_text_email_and_claims_nothing(notify_settings, make_cart):
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)

    out, _err = run("lockedcarts_send_digest", "--dry-run")

    assert "To: shop-admin@example.com, ops@example.com" in out
    assert "Subject: [localhost] Carts and orders need attention: 1 locked cart" in out
    assert f"http://testserver/admin/lockedcarts/carts/inspect/{cart.pk}/" in out
    assert "No return from PayPal" in out
    assert mail.outbox == []
    assert not DailyNotificationRun.objects.exists()


def test_dry_run_previews_even_when_the_site_has_the_email_off(cart_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)

    out, _err = run("lockedcarts_send_digest", "--dry-run")

    assert "1 locked cart" in out
    assert mail.outbox == []


def test_site_is_chosen_by_id_or_hostname(notify_settings, other_site, make_cart):
    Cart.objects.filter(pk=make_cart(status=CartStatus.LOCKED).pk).update(site=other_site)

    run("lockedcarts_send_digest", "--site", "second.example.com")
    assert [m.to for m in mail.outbox] == [["second-admin@example.com"]]
    assert list(DailyNotificationRun.objects.values_list("site_id", flat=True)) == [other_site.pk]

    out, _err = run("lockedcarts_send_digest", "--site", str(other_site.pk), "--force")
    assert len(mail.outbox) == 2 and "sent to second-admin@example.com" in out


def test_unknown_site_and_bad_date_are_errors(db):
    with pytest.raises(CommandError, match="No site"):
        run("lockedcarts_send_digest", "--site", "nowhere.example.com")
    with pytest.raises(CommandError, match="--date"):
        run("lockedcarts_send_digest", "--date", "26/11/2026")


def test_date_sends_a_missed_day_by_hand_and_force_sends_it_again(notify_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)

    run("lockedcarts_send_digest", "--date", "2026-01-15")
    run("lockedcarts_send_digest", "--date", "2026-01-15")
    assert len(mail.outbox) == 1
    assert str(DailyNotificationRun.objects.get().date) == "2026-01-15"

    run("lockedcarts_send_digest", "--date", "2026-01-15", "--force")
    assert len(mail.outbox) == 2
    assert DailyNotificationRun.objects.count() == 1


def test_a_failed_send_is_a_command_error_and_claims_nothing(notify_settings, make_cart, settings):
    from tests.fixtures_background import free_port

    make_cart(status=CartStatus.LOCKED)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    with pytest.raises(CommandError, match="run the command again"):
        run("lockedcarts_send_digest")
    assert not DailyNotificationRun.objects.exists()


def test_reconcile_locks_stale_checkouts(cart_settings, stale_checkout):
    stale, fresh = stale_checkout(minutes_ago=120), stale_checkout(minutes_ago=1)

    out, _err = run("lockedcarts_reconcile", "--no-paypal", "--batch-size", "1")

    assert "examined 1" in out and "locked 1" in out
    assert Cart.objects.get(pk=stale.pk).status == CartStatus.LOCKED
    assert Cart.objects.get(pk=fresh.pk).status == CartStatus.AWAITING_PAYMENT


def test_reconcile_rejects_a_zero_batch(db):
    with pytest.raises(CommandError, match="at least 1"):
        run("lockedcarts_reconcile", "--batch-size", "0")
