"""The daily notification e-mail: sent once per site and local day, only when the site asks for it."""

import io
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.fixtures_background import free_port, run_concurrently
from wagtail_lockedcarts.background import notifications, tasks
from wagtail_lockedcarts.background.notifications import (
    DeliveryError,
    DeliveryStatus,
    send_daily_notification,
    send_due_daily_notifications,
)
from wagtail_lockedcarts.models import CartStatus, DailyNotificationRun, LockReason

BERLIN = ZoneInfo("Europe/Berlin")


def html_of(message):
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


# --------------------------------------------------------------------------------------------
# the setting gate and the content


def test_the_sender_is_the_sites_default_from_email_or_the_packages_own(notify_settings, make_cart, settings):
    make_cart(status=CartStatus.LOCKED)
    settings.DEFAULT_FROM_EMAIL = "shop@example.com"
    send_due_daily_notifications()
    assert mail.outbox[-1].from_email == "shop@example.com"

    DailyNotificationRun.objects.all().delete()
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "FROM_EMAIL": "Shop alerts <alerts@example.com>"}
    send_due_daily_notifications()
    assert mail.outbox[-1].from_email == "Shop alerts <alerts@example.com>"


def test_no_email_when_email_system_messages_is_off(cart_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)
    assert cart_settings.email_system_messages is False

    results = send_due_daily_notifications()

    assert [result.status for result in results] == [DeliveryStatus.DISABLED]
    assert mail.outbox == []
    assert not DailyNotificationRun.objects.exists()


def test_email_lists_locked_carts_with_age_total_reason_and_admin_link(notify_settings, make_cart):
    cart = make_cart(
        status=CartStatus.LOCKED, lines=[(0, 2)], lock_reason=LockReason.NO_RETURN, customer_name="Ada Lovelace"
    )

    (result,) = send_due_daily_notifications()

    assert result.status == DeliveryStatus.SENT
    (message,) = mail.outbox
    assert message.to == ["shop-admin@example.com", "ops@example.com"]
    assert message.subject == "[localhost] Carts and orders need attention: 1 locked cart"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    link = f"http://testserver/admin/lockedcarts/carts/inspect/{cart.pk}/"
    for body in (message.body, html_of(message)):
        assert "Ada Lovelace" in body
        assert "25.00 EUR" in body
        assert "No return from PayPal" in body
        assert link in body
        assert "http://testserver/admin/lockedcarts/carts/?cart_filter=locked" in body
    assert "0\xa0minutes ago" in message.body


def test_email_lists_stale_checkouts_orders_on_hold_and_orders_not_confirmed(
    notify_settings, make_cart, stale_checkout, aged_order
):
    stale = stale_checkout(minutes_ago=90)
    stale_checkout(minutes_ago=5)  # not past the 60-minute timeout: not listed
    on_hold = aged_order("on_hold", hours_ago=3)
    late = aged_order("submitted", hours_ago=30)
    aged_order("submitted", hours_ago=2)  # inside the 24-hour grace period: not listed

    (result,) = send_due_daily_notifications()

    assert result.notification.counts == {"locked": 0, "stale": 1, "on_hold": 1, "not_confirmed": 1}
    (message,) = mail.outbox
    assert message.subject == (
        "[localhost] Carts and orders need attention: 1 checkout without an answer, "
        "1 order on hold, 1 order not confirmed"
    )
    body = message.body
    assert f"http://testserver/admin/lockedcarts/carts/inspect/{stale.pk}/" in body
    assert "1\xa0hour, 30\xa0minutes ago" in body
    assert f"http://testserver/admin/lockedcarts/orders/inspect/{on_hold.pk}/" in body
    assert f"http://testserver/admin/lockedcarts/orders/inspect/{late.pk}/" in body
    assert "http://testserver/admin/lockedcarts/orders/?order_filter=on_hold" in body
    assert "http://testserver/admin/lockedcarts/orders/?order_filter=not_confirmed" in body
    assert "1\xa0day, 6\xa0hours ago" in body
    assert body.count("/admin/lockedcarts/orders/inspect/") == 2
    assert body.count("/admin/lockedcarts/carts/inspect/") == 1


def test_checkouts_without_an_answer_include_carts_locked_for_no_return_counted_once_in_the_subject(
    notify_settings, make_cart, stale_checkout
):
    """A no-return lock is PayPal's silence, not its answer: the cart stays listed as unanswered
    until PayPal answers or an admin acts, and the subject counts it once, as a locked cart."""
    no_return = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    pending = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.PENDING_PAYMENT)
    waiting = stale_checkout(minutes_ago=90)

    (result,) = send_due_daily_notifications()

    assert result.notification.counts == {"locked": 2, "stale": 2, "on_hold": 0, "not_confirmed": 0}
    (section,) = [section for section in result.notification.sections if section.key == "stale"]
    assert {item.url.rsplit("/", 2)[-2] for item in section.items} == {str(no_return.pk), str(waiting.pk)}
    assert {item.reason for item in section.items} == {"No return from PayPal", "Not locked yet"}
    assert all("PayPal not asked yet" in item.detail for item in section.items)
    assert f"/carts/inspect/{pending.pk}/" not in str([item.url for item in section.items])
    (message,) = mail.outbox
    assert message.subject == (
        "[localhost] Carts and orders need attention: 2 locked carts, 1 checkout without an answer"
    )
    for body in (message.body, html_of(message)):
        assert "the background worker has not run" in body


def test_only_the_lock_reason_no_return_counts_as_without_an_answer(notify_settings, make_cart):
    make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.AMOUNT_MISMATCH)

    (result,) = send_due_daily_notifications()

    assert result.notification.counts["stale"] == 0
    assert mail.outbox[0].subject == "[localhost] Carts and orders need attention: 1 locked cart"


def test_all_of_them_links_the_no_return_locks_while_every_unanswered_checkout_is_locked(
    notify_settings, make_cart, admin_client
):
    make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN, customer_name="Ada Lovelace")
    make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.PENDING_PAYMENT, customer_name="Grace Hopper")

    (result,) = send_due_daily_notifications()

    (section,) = [section for section in result.notification.sections if section.key == "stale"]
    assert section.list_url == "http://testserver/admin/lockedcarts/carts/?cart_filter=locked&lock_reason=no_return"
    listing = admin_client.get(section.list_url.removeprefix("http://testserver")).content.decode()
    assert "Ada Lovelace" in listing and "Grace Hopper" not in listing


def test_rows_show_clock_times_in_the_sites_time_zone_with_its_abbreviation(
    notify_settings, make_cart, aged_order, settings
):
    """New York in winter (EST, UTC-5) and in summer (EDT, UTC-4): the zone of each moment."""
    from wagtail_lockedcarts.models import Cart, Order

    settings.TIME_ZONE = "America/New_York"
    winter = make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=winter.pk).update(locked_at=datetime(2026, 1, 15, 17, 30, tzinfo=ZoneInfo("UTC")))
    on_hold = aged_order("on_hold")
    Order.objects.filter(pk=on_hold.pk).update(created_at=datetime(2026, 7, 1, 3, 5, tzinfo=ZoneInfo("UTC")))
    now = datetime(2026, 7, 2, 12, 0, tzinfo=ZoneInfo("UTC"))

    notification = notifications.render_daily_notification(
        notifications.build_daily_notification(notify_settings.site, now=now)
    )

    for body in (notification.text, notification.html):
        assert "Jan. 15, 2026, 12:30 p.m. EST" in body  # 17:30 UTC
        assert "June 30, 2026, 11:05 p.m. EDT" in body  # 03:05 UTC the next day
        assert "July 2, 2026, 8 a.m. EDT" in body  # when the e-mail was made
        assert "1\xa0day, 8\xa0hours ago" in body  # the age is kept beside the time
    assert "17:30" not in notification.text and "UTC" not in notification.text


def test_unanswered_checkouts_say_when_paypal_was_last_asked(notify_settings, make_cart, settings):
    from wagtail_lockedcarts.models import Cart

    settings.TIME_ZONE = "Europe/Berlin"
    cart = make_cart(status=CartStatus.LOCKED, lock_reason=LockReason.NO_RETURN)
    Cart.objects.filter(pk=cart.pk).update(paypal_checked_at=datetime(2026, 11, 29, 11, 5, tzinfo=ZoneInfo("UTC")))

    notification = notifications.render_daily_notification(notifications.build_daily_notification(notify_settings.site))

    for body in (notification.text, notification.html):
        assert "PayPal last asked Nov. 29, 2026, 12:05 p.m. CET" in body


def test_each_site_gets_one_email_with_its_own_carts(notify_settings, other_site, make_cart):
    from wagtail_lockedcarts.models import Cart

    here = make_cart(status=CartStatus.LOCKED)
    there = make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=there.pk).update(site=other_site)

    results = send_due_daily_notifications()

    assert [result.status for result in results] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert set(by_recipient) == {("shop-admin@example.com", "ops@example.com"), ("second-admin@example.com",)}
    first, second = (
        by_recipient[("shop-admin@example.com", "ops@example.com")],
        by_recipient[("second-admin@example.com",)],
    )
    assert f"/carts/inspect/{here.pk}/" in first.body and f"/carts/inspect/{there.pk}/" not in first.body
    assert f"/carts/inspect/{there.pk}/" in second.body and f"/carts/inspect/{here.pk}/" not in second.body
    assert second.subject.startswith("[Second shop] ")
    assert DailyNotificationRun.objects.filter(sent_at__isnull=False).count() == 2
    assert dict(DailyNotificationRun.objects.values_list("site", "recipients")) == {
        notify_settings.site.pk: 2,
        other_site.pk: 1,
    }


def test_superusers_receive_it_when_no_recipients_are_set(notify_settings, make_cart, superuser, django_user_model):
    django_user_model.objects.create_superuser("retired", "retired@example.com", "x", is_active=False)
    django_user_model.objects.create_user("editor", "editor@example.com", "x")
    notify_settings.email_recipients = ""
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)

    send_due_daily_notifications()

    (message,) = mail.outbox
    assert message.to == ["admin@example.com"]


def test_nothing_to_report_sends_nothing_but_counts_as_done_for_the_day(notify_settings):
    (result,) = send_due_daily_notifications()

    assert (result.status, result.site, result.date) == (
        DeliveryStatus.EMPTY,
        notify_settings.site,
        timezone.localdate(),
    )
    assert result.notification.is_empty
    assert mail.outbox == []
    run = DailyNotificationRun.objects.get()
    assert run.recipients == 0
    assert [r.status for r in send_due_daily_notifications()] == [DeliveryStatus.ALREADY_CLAIMED]


def test_a_day_with_nothing_to_report_is_recorded_as_handled_for_no_recipients(notify_settings):
    before = timezone.now()

    (result,) = send_due_daily_notifications()

    run = DailyNotificationRun.objects.get()
    assert (result.status, run.site, run.date, run.recipients) == (
        DeliveryStatus.EMPTY,
        notify_settings.site,
        result.date,
        0,
    )
    assert run.sent_at is not None and before <= run.sent_at <= timezone.now()


def test_send_empty_daily_notification_setting_sends_the_all_clear(notify_settings, settings):
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "SEND_EMPTY_DAILY_NOTIFICATION": True}

    send_due_daily_notifications()

    (message,) = mail.outbox
    assert message.subject == "[localhost] Nothing needs your attention"
    assert "Nothing needs your attention today." in message.body


def test_long_lists_are_capped_with_and_n_more(notify_settings, make_cart, settings):
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "DAILY_NOTIFICATION_MAX_ITEMS": 2}
    for _ in range(5):
        make_cart(status=CartStatus.LOCKED)

    send_due_daily_notifications()

    (message,) = mail.outbox
    assert message.body.count("/admin/lockedcarts/carts/inspect/") == 2
    assert "… and 3 more: http://testserver/admin/lockedcarts/carts/?cart_filter=locked" in message.body
    assert "5 locked carts" in message.subject
    assert "… and 3 more" in html_of(message)


def test_queries_per_site_do_not_grow_with_the_lists(notify_settings, make_cart, aged_order, django_user_model):
    def queries_for_one_email():
        DailyNotificationRun.objects.all().delete()
        mail.outbox.clear()
        with CaptureQueriesContext(connection) as queries:
            (result,) = send_due_daily_notifications()
        assert result.status == DeliveryStatus.SENT
        return len(queries)

    shopper = django_user_model.objects.create_user("shopper", "s@example.com", "x")
    make_cart(status=CartStatus.LOCKED, user=shopper)
    aged_order("on_hold")
    aged_order("submitted", hours_ago=48)
    small = queries_for_one_email()
    for _ in range(8):
        make_cart(status=CartStatus.LOCKED, user=shopper)
        aged_order("on_hold")
        aged_order("submitted", hours_ago=48)
    large = queries_for_one_email()

    assert small == large
    print(f"queries for one site's e-mail: {large}")


# --------------------------------------------------------------------------------------------
# once per site and local day


def test_not_sent_before_the_sites_hour_then_sent_at_it(notify_settings, make_cart):
    notify_settings.notification_hour = 8
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)
    seven = datetime(2026, 11, 26, 7, 59, tzinfo=BERLIN)

    (not_due,) = send_due_daily_notifications(now=seven)
    assert (not_due.status, not_due.site, not_due.date.isoformat()) == (
        DeliveryStatus.NOT_DUE,
        notify_settings.site,
        "2026-11-26",
    )
    assert [r.status for r in send_due_daily_notifications(now=seven + timedelta(minutes=1))] == [DeliveryStatus.SENT]
    (claimed,) = send_due_daily_notifications(now=seven + timedelta(hours=5))
    assert (claimed.status, claimed.site, claimed.date.isoformat()) == (
        DeliveryStatus.ALREADY_CLAIMED,
        notify_settings.site,
        "2026-11-26",
    )
    assert len(mail.outbox) == 1
    assert DailyNotificationRun.objects.get().date.isoformat() == "2026-11-26"


def test_the_local_day_decides_not_utc(notify_settings, make_cart, settings):
    """23:30 UTC on the 25th is 00:30 on the 26th in Berlin: that is the 26th's e-mail."""
    make_cart(status=CartStatus.LOCKED)
    settings.TIME_ZONE = "Europe/Berlin"

    send_due_daily_notifications(now=datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("UTC")))

    assert DailyNotificationRun.objects.get().date.isoformat() == "2026-11-26"


def test_running_the_task_twice_sends_one_email(notify_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)

    tasks.daily_notification()
    tasks.daily_notification()

    assert len(mail.outbox) == 1
    assert DailyNotificationRun.objects.count() == 1


def test_a_site_that_sent_yesterday_is_sent_again_today(notify_settings, make_cart, settings):
    """The claim is per day: yesterday's e-mail must not count as today's."""
    settings.TIME_ZONE = "Europe/Berlin"
    make_cart(status=CartStatus.LOCKED)
    yesterday = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
    today = yesterday + timedelta(days=1)

    first = send_daily_notification(notify_settings.site, now=yesterday)
    second = send_daily_notification(notify_settings.site, now=today)

    assert [(first.status, first.date.isoformat()), (second.status, second.date.isoformat())] == [
        (DeliveryStatus.SENT, "2026-11-25"),
        (DeliveryStatus.SENT, "2026-11-26"),
    ]
    assert len(mail.outbox) == 2
    assert sorted(DailyNotificationRun.objects.values_list("date", flat=True)) == [yesterday.date(), today.date()]


def test_sending_today_leaves_yesterdays_record_as_it_was(notify_settings, make_cart, settings):
    """Yesterday had nothing to report (no e-mail, no recipients); today's two-recipient e-mail
    must be recorded on today's row only."""
    settings.TIME_ZONE = "Europe/Berlin"
    yesterday = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
    assert send_daily_notification(notify_settings.site, now=yesterday).status == DeliveryStatus.EMPTY
    before = DailyNotificationRun.objects.get()
    make_cart(status=CartStatus.LOCKED)

    result = send_daily_notification(notify_settings.site, now=yesterday + timedelta(days=1))

    assert result.status == DeliveryStatus.SENT
    runs = {run.date.isoformat(): run for run in DailyNotificationRun.objects.all()}
    assert (runs["2026-11-25"].sent_at, runs["2026-11-25"].recipients) == (before.sent_at, 0)
    assert runs["2026-11-26"].recipients == 2 and runs["2026-11-26"].sent_at > before.sent_at


def test_an_already_claimed_day_answers_already_claimed_even_if_its_recipients_are_gone_since(
    notify_settings, make_cart, caplog
):
    """The day is done: a later run must say so, not warn that nobody could receive it."""
    make_cart(status=CartStatus.LOCKED)
    assert send_daily_notification(notify_settings.site).status == DeliveryStatus.SENT
    notify_settings.email_recipients = ""  # and no superuser to fall back on
    notify_settings.save()

    with caplog.at_level(logging.WARNING, logger="wagtail_lockedcarts"):
        result = send_daily_notification(notify_settings.site)

    assert (result.status, result.date) == (DeliveryStatus.ALREADY_CLAIMED, timezone.localdate())
    assert "no recipients" not in caplog.text
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("catch_up", [False, True], ids=["catch_up_off", "catch_up_on"])
def test_three_days_of_downtime_send_only_todays_email(notify_settings, other_site, make_cart, monkeypatch, catch_up):
    """After an outage the missed days are not sent: today's e-mail already lists everything."""
    from django_q.conf import Conf
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    from wagtail_lockedcarts.background.schedules import DAILY_NOTIFICATION
    from wagtail_lockedcarts.models import Cart

    monkeypatch.setattr(Conf, "CATCH_UP", catch_up)
    make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=make_cart(status=CartStatus.LOCKED).pk).update(site=other_site)
    Schedule.objects.filter(name=DAILY_NOTIFICATION).update(next_run=timezone.now() - timedelta(days=3, minutes=1))

    ticks = 0
    while Schedule.objects.get(name=DAILY_NOTIFICATION).next_run <= timezone.now():
        scheduler()
        ticks += 1
        assert ticks < 100

    assert ticks == (73 if catch_up else 1)  # django-q2 replays each missed hour only with catch_up
    assert len(mail.outbox) == 2  # one per site
    today = notifications.local_now().date()
    assert sorted(DailyNotificationRun.objects.values_list("date", flat=True)) == [today, today]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_threads_racing_send_one_email_per_site(postgres, notify_settings, other_site, make_cart):
    from wagtail_lockedcarts.models import Cart

    make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=make_cart(status=CartStatus.LOCKED).pk).update(site=other_site)
    now = timezone.now()

    for _ in range(3):  # several rounds: a lucky interleaving must not be what makes it pass
        DailyNotificationRun.objects.all().delete()
        mail.outbox.clear()
        results, errors = run_concurrently(lambda: [r.status for r in send_due_daily_notifications(now=now)], count=4)

        assert errors == []
        assert len(mail.outbox) == 2
        assert sorted(tuple(m.to) for m in mail.outbox) == [
            ("second-admin@example.com",),
            ("shop-admin@example.com", "ops@example.com"),
        ]
        statuses = [status for per_thread in results for status in per_thread]
        assert statuses.count(DeliveryStatus.SENT) == 2
        assert DailyNotificationRun.objects.filter(sent_at__isnull=False).count() == 2


# --------------------------------------------------------------------------------------------
# failures are retried, once


@pytest.mark.slow
def test_smtp_refusal_releases_the_claim_and_a_later_run_sends_once(notify_settings, make_cart, smtp_server, settings):
    make_cart(status=CartStatus.LOCKED)
    refusing = smtp_server(refuse=True)
    for name, value in refusing.email_settings().items():
        setattr(settings, name, value)

    with pytest.raises(DeliveryError, match="SMTPRecipientsRefused"):
        tasks.daily_notification()
    assert not DailyNotificationRun.objects.exists()
    assert refusing.messages == []

    accepting = smtp_server()
    settings.EMAIL_PORT = accepting.port
    tasks.daily_notification()
    tasks.daily_notification()

    assert len(accepting.messages) == 1
    recipients, message = accepting.messages[0]
    assert recipients == ["shop-admin@example.com", "ops@example.com"]
    assert message["Subject"] == "[localhost] Carts and orders need attention: 1 locked cart"
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    run = DailyNotificationRun.objects.get()
    assert run.sent_at is not None and run.recipients == 2


@pytest.fixture
def refusing_smtp_server(settings):
    """Django's SMTP backend pointed at a loopback port nothing listens on."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2


def test_unreachable_smtp_server_releases_the_claim_and_names_whom_it_was_for(
    notify_settings, make_cart, refusing_smtp_server
):
    make_cart(status=CartStatus.LOCKED)

    (result,) = send_due_daily_notifications()

    assert result.status == DeliveryStatus.FAILED
    assert "ConnectionRefusedError" in result.error
    assert result.recipients == ["shop-admin@example.com", "ops@example.com"]
    assert not DailyNotificationRun.objects.exists()


def test_a_failed_delivery_names_the_day_it_was_for(notify_settings, make_cart, refusing_smtp_server):
    make_cart(status=CartStatus.LOCKED)
    day = datetime(2026, 11, 20, tzinfo=BERLIN).date()

    result = send_daily_notification(notify_settings.site, date=day, force=True)

    assert (result.status, result.site, result.date) == (DeliveryStatus.FAILED, notify_settings.site, day)


def test_a_failing_site_does_not_stop_the_others(notify_settings, other_site, make_cart):
    """One site's bad recipient row must not cost every other site its e-mail."""
    from wagtail_lockedcarts.models import Cart, LockedCartSettings

    make_cart(status=CartStatus.LOCKED)
    Cart.objects.filter(pk=make_cart(status=CartStatus.LOCKED).pk).update(site=other_site)
    broken = LockedCartSettings.for_site(other_site)
    # Written past the form's validation: a header-injection attempt the mail layer refuses.
    LockedCartSettings.objects.filter(pk=broken.pk).update(email_recipients="a@example.com\rBcc: b@example.com")

    with pytest.raises(DeliveryError):
        tasks.daily_notification()

    assert [m.to for m in mail.outbox] == [["shop-admin@example.com", "ops@example.com"]]
    assert list(DailyNotificationRun.objects.values_list("site_id", flat=True)) == [notify_settings.site_id]


def test_send_daily_notification_force_sends_again_and_before_the_hour(notify_settings, make_cart):
    notify_settings.notification_hour = 23
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)
    early = datetime(2026, 11, 26, 6, 0, tzinfo=BERLIN)

    assert send_daily_notification(notify_settings.site, now=early).status == DeliveryStatus.NOT_DUE
    assert send_daily_notification(notify_settings.site, now=early, force=True).status == DeliveryStatus.SENT
    assert send_daily_notification(notify_settings.site, now=early, force=True).status == DeliveryStatus.SENT
    assert (
        send_daily_notification(notify_settings.site, now=early.replace(hour=23)).status
        == DeliveryStatus.ALREADY_CLAIMED
    )
    assert len(mail.outbox) == 2
    assert DailyNotificationRun.objects.count() == 1


def test_a_project_can_override_the_templates(notify_settings, make_cart, settings, tmp_path):
    emails = tmp_path / "wagtail_lockedcarts" / "emails"
    emails.mkdir(parents=True)
    (emails / "daily_notification_subject.txt").write_text("{{ site_name }} needs you ({{ notification.total }})")
    (emails / "daily_notification.txt").write_text("{% for s in sections %}{{ s.key }}={{ s.count }};{% endfor %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    make_cart(status=CartStatus.LOCKED)

    send_due_daily_notifications()

    (message,) = mail.outbox
    assert message.subject == "localhost needs you (1)"
    assert message.body == "locked=1;stale=0;on_hold=0;not_confirmed=0;"
    assert "Locked carts" in html_of(message)  # the package's HTML template still applies


def test_settings_under_their_old_digest_names_are_still_read(notify_settings, settings, make_cart):
    from django.core import checks

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "SEND_EMPTY_DIGEST": True}

    send_due_daily_notifications()

    assert len(mail.outbox) == 1
    warnings = [message for message in checks.run_checks() if message.id == "wagtail_lockedcarts.W004"]
    assert [str(message.msg) for message in warnings] == [
        "WAGTAIL_LOCKEDCARTS['SEND_EMPTY_DIGEST'] is now called 'SEND_EMPTY_DAILY_NOTIFICATION'."
    ]


def test_templates_written_before_the_rename_still_render(notify_settings, make_cart, settings, tmp_path):
    emails = tmp_path / "wagtail_lockedcarts" / "emails"
    emails.mkdir(parents=True)
    (emails / "daily_notification_subject.txt").write_text("{{ site_name }}: {{ digest.total }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    make_cart(status=CartStatus.LOCKED)

    send_due_daily_notifications()

    assert mail.outbox[0].subject == "localhost: 1"


def test_order_rows_say_why_they_are_listed_and_what_to_check(notify_settings, aged_order):
    from wagtail_lockedcarts.models import Cart, Order

    on_hold = aged_order("on_hold", hours_ago=3)
    Order.objects.filter(pk=on_hold.pk).update(card_brand="VISA", card_last4="1881")
    Cart.objects.filter(pk=on_hold.cart_id).update(
        paypal_status="COMPLETED", paypal_capture_status="PENDING", paypal_status_reason="PAYMENT_REVIEW"
    )
    late = aged_order("submitted", hours_ago=30)
    Order.objects.filter(pk=late.pk).update(export_attempts=1, last_export_error="ConnectionError: no answer")

    (result,) = send_due_daily_notifications()

    sections = {section.key: section for section in result.notification.sections}
    (held,) = sections["on_hold"].items
    assert held.reason == "Payment pending at PayPal"
    assert "Visa ••••1881" in held.detail and on_hold.paypal_order_id in held.detail
    assert "Payment pending at PayPal (under review by PayPal): not received yet" in held.detail
    (unconfirmed,) = sections["not_confirmed"].items
    assert (unconfirmed.reason, unconfirmed.detail) == ("Export not acknowledged", "ConnectionError: no answer")
    html = html_of(mail.outbox[0])
    assert "Payment pending at PayPal" in html and "Export not acknowledged" in html


# --------------------------------------------------------------------------------------------
# the claim's edges: dry runs, past and future days, chosen sites


def test_a_dry_run_renders_the_email_and_neither_claims_nor_sends(notify_settings, make_cart):
    notify_settings.email_system_messages = False
    notify_settings.notification_hour = 23
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)
    early = datetime(2026, 11, 26, 6, 0, tzinfo=BERLIN)

    result = send_daily_notification(
        notify_settings.site, now=early, date=early.date() - timedelta(days=1), dry_run=True
    )

    assert (result.status, result.site, result.date.isoformat()) == (
        DeliveryStatus.DRY_RUN,
        notify_settings.site,
        "2026-11-25",
    )
    assert result.notification.date.isoformat() == "2026-11-25"
    assert result.notification.generated_at == early  # the given moment, not the clock's
    assert result.recipients == ["shop-admin@example.com", "ops@example.com"]
    assert "1 locked cart" in result.notification.subject and "<html" in result.notification.html
    assert mail.outbox == [] and not DailyNotificationRun.objects.exists()


def test_a_past_day_is_due_at_any_hour_and_a_future_day_never(notify_settings, make_cart):
    notify_settings.notification_hour = 23
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)
    early = datetime(2026, 11, 26, 6, 0, tzinfo=BERLIN)
    site = notify_settings.site

    tomorrow = send_daily_notification(site, now=early, date=early.date() + timedelta(days=1))
    yesterday = send_daily_notification(site, now=early, date=early.date() - timedelta(days=1))

    assert tomorrow.status == DeliveryStatus.NOT_DUE
    assert (yesterday.status, yesterday.date.isoformat()) == (DeliveryStatus.SENT, "2026-11-25")
    assert [run.date.isoformat() for run in DailyNotificationRun.objects.all()] == ["2026-11-25"]
    assert len(mail.outbox) == 1


def test_the_run_covers_only_the_sites_it_is_given(notify_settings, other_site, make_cart):
    make_cart(status=CartStatus.LOCKED)

    results = send_due_daily_notifications(sites=[other_site])

    assert [(result.site, result.status) for result in results] == [(other_site, DeliveryStatus.EMPTY)]
    assert results[0].notification.is_empty
    assert list(DailyNotificationRun.objects.values_list("site", flat=True)) == [other_site.pk]


def test_a_refused_day_says_which_site_and_day_it_was(notify_settings, cart_settings):
    notify_settings.email_system_messages = False
    notify_settings.save()
    now = datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)

    result = send_daily_notification(notify_settings.site, now=now)

    assert (result.status, result.site, result.date.isoformat()) == (
        DeliveryStatus.DISABLED,
        notify_settings.site,
        "2026-11-26",
    )
    assert (result.recipients, result.notification, result.error) == ([], None, "")


def test_without_recipients_or_an_active_superuser_nothing_is_sent_or_claimed(notify_settings, make_cart):
    notify_settings.email_recipients = ""
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)

    (result,) = send_due_daily_notifications()

    assert (result.status, result.site) == (DeliveryStatus.NO_RECIPIENTS, notify_settings.site)
    assert result.date is not None and result.recipients == []
    assert mail.outbox == [] and not DailyNotificationRun.objects.exists()


def test_a_run_that_loses_the_claim_after_looking_sends_nothing(notify_settings, make_cart, monkeypatch):
    """Another worker claims the day between this run's "already sent?" look and its own claim
    (the PostgreSQL race test forces the same interleaving with two real threads)."""
    make_cart(status=CartStatus.LOCKED)
    real = notifications.recipients_for

    def another_worker_claims_meanwhile(site_settings):
        DailyNotificationRun.objects.create(site=notify_settings.site, date=timezone.localdate())
        return real(site_settings)

    monkeypatch.setattr(notifications, "recipients_for", another_worker_claims_meanwhile)

    result = send_daily_notification(notify_settings.site)

    assert (result.status, result.site, result.date) == (
        DeliveryStatus.ALREADY_CLAIMED,
        notify_settings.site,
        timezone.localdate(),
    )
    assert mail.outbox == [] and DailyNotificationRun.objects.get().sent_at is None


def test_a_project_template_may_use_the_sites_settings_in_the_email_and_in_a_dry_run(
    notify_settings, make_cart, settings, tmp_path
):
    emails = tmp_path / "wagtail_lockedcarts" / "emails"
    emails.mkdir(parents=True)
    (emails / "daily_notification_subject.txt").write_text("Report at {{ site_settings.notification_hour }}h")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    notify_settings.notification_hour = 0
    notify_settings.save()
    make_cart(status=CartStatus.LOCKED)

    dry = send_daily_notification(notify_settings.site, dry_run=True)
    send_due_daily_notifications()

    (message,) = mail.outbox
    assert dry.notification.subject == message.subject == "Report at 0h"


# --------------------------------------------------------------------------------------------
# what the caller gives: the moment, the day, the mail connection


def test_a_sent_result_names_the_addresses_it_was_sent_to(notify_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)

    result = send_daily_notification(notify_settings.site)

    (message,) = mail.outbox
    assert result.status == DeliveryStatus.SENT
    assert result.recipients == message.to == ["shop-admin@example.com", "ops@example.com"]


def test_the_e_mail_goes_through_the_callers_mail_connection(notify_settings, make_cart):
    """A caller (a management command, a test of a project's mail setup) may hand in its own
    connection; the settings' backend must not be used behind its back."""
    make_cart(status=CartStatus.LOCKED)
    stream = io.StringIO()
    console = get_connection("django.core.mail.backends.console.EmailBackend", stream=stream)

    result = send_daily_notification(notify_settings.site, connection=console)

    assert result.status == DeliveryStatus.SENT
    assert mail.outbox == []
    assert "Subject: [localhost] Carts and orders need attention: 1 locked cart" in stream.getvalue()


def test_the_e_mail_shows_the_state_at_the_moment_given_not_at_the_clocks(notify_settings, make_cart, stale_checkout):
    """An hour ago the checkout begun 90 minutes ago was 30 minutes old, inside the 60-minute
    timeout: an e-mail made for that moment does not list it, whatever the clock says now."""
    make_cart(status=CartStatus.LOCKED)
    stale_checkout(minutes_ago=90)
    an_hour_ago = timezone.now() - timedelta(hours=1)

    result = send_daily_notification(notify_settings.site, now=an_hour_ago)

    assert result.status == DeliveryStatus.SENT
    assert result.notification.counts == {"locked": 1, "stale": 0, "on_hold": 0, "not_confirmed": 0}
    assert result.notification.generated_at == an_hour_ago
    assert mail.outbox[0].subject == "[localhost] Carts and orders need attention: 1 locked cart"


def test_a_past_days_e_mail_is_headed_with_that_day(notify_settings, make_cart, settings):
    """A catch-up send (``lockedcarts_send_digest --date``) reports under the day it is for."""
    settings.TIME_ZONE = "Europe/Berlin"
    make_cart(status=CartStatus.LOCKED)
    now = datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)

    result = send_daily_notification(notify_settings.site, now=now, date=now.date() - timedelta(days=1))

    assert (result.status, result.notification.date.isoformat()) == (DeliveryStatus.SENT, "2026-11-25")
    (message,) = mail.outbox
    for body in (message.body, html_of(message)):
        assert "Daily report for localhost, Nov. 25, 2026" in body


def _queries_on(table, captured):
    return [query["sql"] for query in captured if f'"{table}"' in query["sql"]]


def test_sending_and_a_dry_run_load_the_sites_settings_once(notify_settings, make_cart):
    """The sender hands the settings it loaded to the builder, which would otherwise load them
    again: the e-mail's cost is fixed. Sending: settings 1, already-sent look 1, claim 3 (savepoint,
    insert, release), content 5 (two aggregates, two counts, the one non-empty list), marked sent 1.
    A dry run: settings 1, content 5."""
    make_cart(status=CartStatus.LOCKED)

    with CaptureQueriesContext(connection) as sending:
        assert send_daily_notification(notify_settings.site).status == DeliveryStatus.SENT
    with CaptureQueriesContext(connection) as dry_run:
        assert send_daily_notification(notify_settings.site, dry_run=True).status == DeliveryStatus.DRY_RUN

    settings_table = "wagtail_lockedcarts_lockedcartsettings"
    assert len(_queries_on(settings_table, sending.captured_queries)) == 1
    assert len(_queries_on(settings_table, dry_run.captured_queries)) == 1
    assert (len(sending), len(dry_run)) == (1 + 1 + 3 + 5 + 1, 1 + 5)
