"""django-q2 schedules: created by migrate, one row per name whatever happens, run by the scheduler."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from tests.fixtures_background import run_concurrently
from wagtail_lockedcarts.background.schedules import (
    CHECKOUT_SWEEP,
    DAILY_NOTIFICATION,
    SCHEDULE_NAMES,
    ensure_schedules,
)
from wagtail_lockedcarts.models import CartStatus, DailyNotificationRun


def rows():
    return sorted(Schedule.objects.filter(name__in=SCHEDULE_NAMES).values_list("name", flat=True))


def test_migrate_leaves_one_row_per_schedule(db):
    call_command("migrate", verbosity=0)
    ensure_schedules()
    ensure_schedules()

    assert rows() == [CHECKOUT_SWEEP, DAILY_NOTIFICATION]
    daily = Schedule.objects.get(name=DAILY_NOTIFICATION)
    assert (daily.func, daily.schedule_type, daily.repeats) == (
        "wagtail_lockedcarts.background.tasks.daily_notification",
        Schedule.HOURLY,
        -1,
    )
    sweep = Schedule.objects.get(name=CHECKOUT_SWEEP)
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == (
        "wagtail_lockedcarts.background.tasks.checkout_sweep",
        Schedule.MINUTES,
        5,
    )
    assert daily.cluster is None and sweep.cluster is None


def test_first_daily_run_is_the_next_full_hour_not_at_install(db):
    Schedule.objects.filter(name__in=SCHEDULE_NAMES).delete()
    before = timezone.now()

    ensure_schedules()

    next_run = Schedule.objects.get(name=DAILY_NOTIFICATION).next_run
    assert next_run > before and next_run - before <= timedelta(hours=1)
    assert (next_run.minute, next_run.second, next_run.microsecond) == (0, 0, 0)


def test_duplicates_are_removed_keeping_the_oldest_row(db):
    Schedule.objects.filter(name__in=SCHEDULE_NAMES).delete()
    ensure_schedules()
    original = Schedule.objects.get(name=DAILY_NOTIFICATION)
    for _ in range(2):
        Schedule.objects.create(name=DAILY_NOTIFICATION, func="old.path", schedule_type=Schedule.DAILY)

    ensure_schedules()

    (kept,) = Schedule.objects.filter(name=DAILY_NOTIFICATION)
    assert kept.pk == original.pk
    assert kept.func == "wagtail_lockedcarts.background.tasks.daily_notification"


def test_operator_edits_to_next_run_and_repeats_survive_migrate_but_code_fields_follow_the_code(db, settings):
    future = timezone.now() + timedelta(days=3)
    Schedule.objects.filter(name=CHECKOUT_SWEEP).update(next_run=future, repeats=0, func="tampered", minutes=99)
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "CHECKOUT_SWEEP_MINUTES": 2}

    ensure_schedules()

    sweep = Schedule.objects.get(name=CHECKOUT_SWEEP)
    assert (sweep.next_run, sweep.repeats) == (future, 0)
    assert (sweep.func, sweep.minutes) == ("wagtail_lockedcarts.background.tasks.checkout_sweep", 2)


def test_use_schedules_off_removes_both_schedules(db, settings):
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "USE_SCHEDULES": False}

    call_command("migrate", verbosity=0)

    assert rows() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_migrations_on_postgres_leave_one_row_per_name(postgres):
    for _ in range(3):
        Schedule.objects.filter(name__in=SCHEDULE_NAMES).delete()

        results, errors = run_concurrently(lambda: ensure_schedules(using="default"), count=6)

        assert errors == []
        assert rows() == [CHECKOUT_SWEEP, DAILY_NOTIFICATION]


# --------------------------------------------------------------------------------------------
# the scheduler runs them (django_q.scheduler.scheduler() directly; tasks run in-process)


def make_due(name):
    Schedule.objects.filter(name=name).update(next_run=timezone.now() - timedelta(seconds=1))


def test_scheduler_runs_the_daily_notification_and_moves_it_an_hour_on(notify_settings, make_cart):
    make_cart(status=CartStatus.LOCKED)
    make_due(DAILY_NOTIFICATION)

    scheduler()

    assert len(mail.outbox) == 1
    assert DailyNotificationRun.objects.get().sent_at is not None
    daily = Schedule.objects.get(name=DAILY_NOTIFICATION)
    assert timezone.now() < daily.next_run <= timezone.now() + timedelta(hours=1)
    assert Success.objects.filter(group=DAILY_NOTIFICATION).count() == 1
    scheduler()
    assert len(mail.outbox) == 1  # not due again for an hour


def test_scheduler_runs_the_checkout_sweep(cart_settings, stale_checkout):
    cart_settings.reconcile_with_paypal = False
    cart_settings.save()
    cart = stale_checkout()
    make_due(CHECKOUT_SWEEP)

    scheduler()

    cart.refresh_from_db()
    assert cart.status == CartStatus.LOCKED
    sweep = Schedule.objects.get(name=CHECKOUT_SWEEP)
    assert timezone.now() < sweep.next_run <= timezone.now() + timedelta(minutes=5)
    assert Success.objects.filter(group=CHECKOUT_SWEEP).count() == 1
