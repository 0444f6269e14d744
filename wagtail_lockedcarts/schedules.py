"""django-q2 schedules kept in step with the code by a ``post_migrate`` handler."""

from django.db.models.signals import post_migrate


def ensure_schedules(sender, using="default", **kwargs):
    """Create or update the package's schedules; idempotent (filled in by the background-work module)."""
    return None


def connect_post_migrate(app_config):
    post_migrate.connect(ensure_schedules, sender=app_config, dispatch_uid="wagtail_lockedcarts.schedules")
