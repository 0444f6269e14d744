"""django-q2 entry points. Thin: each one calls :mod:`wagtail_lockedcarts.lifecycle` or a service."""

from django_q.tasks import async_task

from . import lifecycle


def export_order(order_id):
    """Queued after an order is submitted; raising makes the ORM broker re-deliver it."""
    return lifecycle.export_order(order_id)


def enqueue_export(order_id):
    return async_task(
        "wagtail_lockedcarts.tasks.export_order",
        order_id,
        group="wagtail_lockedcarts.export",
        task_name=f"wagtail_lockedcarts.export.{order_id}",
    )
