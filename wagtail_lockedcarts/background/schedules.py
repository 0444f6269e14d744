"""django-q2 schedules kept in step with the code by a ``post_migrate`` handler.

Why ``post_migrate`` and not a data migration: it runs again after every ``migrate`` and after
every ``flush`` (transactional tests), and with ``--nomigrations``; a data migration runs once and
is gone after a flush. django-q2 has no unique constraint on ``Schedule.name``, so the handler
makes the name unique itself: it serialises concurrent runs with a PostgreSQL advisory lock,
removes duplicates (keeping the lowest pk) and then ``update_or_create``\\ s on the name.

Two schedules:

``wagtail_lockedcarts.daily_notification`` — **hourly**, not daily. Each site picks its own hour
(``LockedCartSettings.notification_hour``, local time), so one daily schedule could only serve one hour.
The hourly task sends for every site whose hour has come today and whose ``(site, date)``
:class:`~wagtail_lockedcarts.models.DailyNotificationRun` is not claimed yet. That also makes it robust: a
cluster that was down at 08:00 sends at the next hour it is up, and a failed send is retried an
hour later, while the claim keeps it to one e-mail per site per local day.

``wagtail_lockedcarts.checkout_sweep`` — every ``CHECKOUT_SWEEP_MINUTES`` minutes: reconciles
or locks checkouts nobody came back from.

What an operator may change in the django-q admin and keeps across ``migrate``: ``next_run``,
``repeats`` (set 0 to pause) and ``cluster``. ``func``, the type and the interval follow the code.
Set ``WAGTAIL_LOCKEDCARTS["USE_SCHEDULES"] = False`` to have the handler delete both schedules, for
sites that run ``lockedcarts_send_digest`` / ``lockedcarts_reconcile`` from cron instead
(otherwise both would run and the sweep would do its work twice).

Recommended ``Q_CLUSTER``: ``catch_up: False`` (after downtime django-q2 otherwise replays every
missed hourly run back to back; harmless thanks to the claims, but noise) and ``retry`` greater
than ``timeout`` (else a task still running is delivered a second time). The system checks in
:mod:`wagtail_lockedcarts.checks` warn about both broker and retry problems.
"""

from datetime import timedelta

from django.db import connections, router, transaction
from django.db.models.signals import post_migrate
from django.utils import timezone

DAILY_NOTIFICATION = "wagtail_lockedcarts.daily_notification"
CHECKOUT_SWEEP = "wagtail_lockedcarts.checkout_sweep"
SCHEDULE_NAMES = (DAILY_NOTIFICATION, CHECKOUT_SWEEP)

# pg_advisory_xact_lock key: any constant bigint unique to this handler.
ADVISORY_LOCK_KEY = 0x4C43_5343_4845_44  # "LCSCHED"


def schedule_specs(now=None):
    """``{name: (defaults, create_defaults)}`` for every schedule the package keeps."""
    from django_q.models import Schedule

    from wagtail_lockedcarts import conf

    now = now or timezone.now()
    sweep_minutes = max(1, int(conf.get("CHECKOUT_SWEEP_MINUTES")))
    # The first hourly run at the next full hour, so installing never fires an e-mail at once.
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return {
        DAILY_NOTIFICATION: (
            {
                "func": "wagtail_lockedcarts.background.tasks.daily_notification",
                "schedule_type": Schedule.HOURLY,
                "minutes": None,
            },
            {"next_run": next_hour, "repeats": -1},
        ),
        CHECKOUT_SWEEP: (
            {
                "func": "wagtail_lockedcarts.background.tasks.checkout_sweep",
                "schedule_type": Schedule.MINUTES,
                "minutes": sweep_minutes,
            },
            {"next_run": now + timedelta(minutes=sweep_minutes), "repeats": -1},
        ),
    }


def ensure_schedules(sender=None, using="default", **kwargs):
    """Create, update or (with ``USE_SCHEDULES`` off) delete the package's schedules. Idempotent."""
    from django_q.models import Schedule

    from wagtail_lockedcarts import conf

    if not router.allow_migrate_model(using, Schedule):
        return
    connection = connections[using]
    if Schedule._meta.db_table not in connection.introspection.table_names():
        return  # django_q not migrated on this database (yet): the next migrate creates them.
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        schedules = Schedule.objects.using(using)
        if not conf.get("USE_SCHEDULES"):
            schedules.filter(name__in=SCHEDULE_NAMES).delete()
            return
        for name, (defaults, create_defaults) in schedule_specs().items():
            remove_duplicates(schedules, name)
            schedules.update_or_create(name=name, defaults=defaults, create_defaults={**defaults, **create_defaults})


def remove_duplicates(schedules, name):
    """Keep the oldest row of ``name`` (the one operators may have edited) and delete the rest."""
    pks = list(schedules.filter(name=name).order_by("pk").values_list("pk", flat=True))
    if len(pks) > 1:
        schedules.filter(pk__in=pks[1:]).delete()


def connect_post_migrate(app_config):
    post_migrate.connect(ensure_schedules, sender=app_config, dispatch_uid="wagtail_lockedcarts.background.schedules")
