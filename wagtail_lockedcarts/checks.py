"""System checks for the background-work configuration a site must provide."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

BROKER_KEYS = ("orm", "redis", "django_redis", "sqs", "iron_mq", "mongo", "broker_class", "disque_nodes")


@register(Tags.compatibility)
def check_q_cluster(app_configs=None, **kwargs):
    from . import conf

    if not conf.get("USE_SCHEDULES"):
        return []
    errors = []
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not q_cluster or not any(key in q_cluster for key in BROKER_KEYS):
        errors.append(
            Warning(
                "Q_CLUSTER names no broker, so django-q2 falls back to Redis and queued work "
                "(order export, daily e-mail) fails.",
                hint='Add Q_CLUSTER = {"orm": "default", "timeout": 300, "retry": 600, '
                '"max_attempts": 3, "catch_up": False} to your settings.',
                id="wagtail_lockedcarts.W001",
            )
        )
    elif q_cluster.get("timeout") and q_cluster.get("retry", 60) <= q_cluster["timeout"]:
        errors.append(
            Warning(
                "Q_CLUSTER['retry'] must be greater than Q_CLUSTER['timeout'], or a task still "
                "running is delivered again and runs twice.",
                hint="For example timeout 300, retry 600.",
                id="wagtail_lockedcarts.W002",
            )
        )
    return errors
