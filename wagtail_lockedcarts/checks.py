"""System checks for the background-work configuration a site must provide.

The package cannot set ``Q_CLUSTER`` itself (it belongs to the project), but every queued job —
order exports always, the daily e-mail and the sweep when ``USE_SCHEDULES`` is on — depends on it.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

BROKER_KEYS = ("orm", "redis", "django_redis", "sqs", "iron_mq", "mongo", "broker_class", "disque_nodes")
RECOMMENDED = 'Q_CLUSTER = {"orm": "default", "timeout": 300, "retry": 600, "max_attempts": 3, "catch_up": False}'


@register(Tags.compatibility)
def check_q_cluster(app_configs=None, **kwargs):
    """W001 Q_CLUSTER missing or without a broker, W002 retry <= timeout, W003 endless redelivery.

    Runs whether or not ``USE_SCHEDULES`` is on: order exports are queued either way.
    """
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not q_cluster:
        return [
            Warning(
                "Q_CLUSTER is not set, so django-q2 falls back to a Redis broker and queued work "
                "(order export, daily e-mail, checkout sweep) fails unless Redis is configured.",
                hint=f"Add {RECOMMENDED} to your settings and run `manage.py qcluster`.",
                id="wagtail_lockedcarts.W001",
            )
        ]
    errors = []
    if not any(key in q_cluster for key in BROKER_KEYS):
        errors.append(
            Warning(
                "Q_CLUSTER names no broker, so django-q2 falls back to Redis and queued work "
                "(order export, daily e-mail, checkout sweep) fails.",
                hint=f'Add "orm": "default" (the database as the queue), e.g. {RECOMMENDED}.',
                id="wagtail_lockedcarts.W001",
            )
        )
    timeout, retry = q_cluster.get("timeout"), q_cluster.get("retry", 60)
    if timeout and retry <= timeout:
        errors.append(
            Warning(
                f"Q_CLUSTER['retry'] ({retry}) must be greater than Q_CLUSTER['timeout'] ({timeout}), "
                "or a task still running is delivered again and runs twice.",
                hint="For example timeout 300, retry 600.",
                id="wagtail_lockedcarts.W002",
            )
        )
    if not q_cluster.get("max_attempts") and "redis" not in q_cluster and "django_redis" not in q_cluster:
        errors.append(
            Warning(
                "Q_CLUSTER['max_attempts'] is 0 (the default): a task that always fails, such as an "
                "export to an unreachable system, is re-delivered every `retry` seconds forever.",
                hint='Set "max_attempts": 3 (failed exports stay listed in the daily e-mail and can be retried from the admin).',
                id="wagtail_lockedcarts.W003",
            )
        )
    return errors
