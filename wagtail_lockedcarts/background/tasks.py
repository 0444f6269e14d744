"""django-q2 entry points. Thin: each one calls :mod:`wagtail_lockedcarts.lifecycle` or a service."""

from django_q.tasks import async_task

from wagtail_lockedcarts import lifecycle


def export_order(order_id):
    """Queued after an order is submitted; raising makes the ORM broker re-deliver it."""
    return lifecycle.export_order(order_id)


def enqueue_export(order_id):
    return async_task(
        "wagtail_lockedcarts.background.tasks.export_order",
        order_id,
        group="wagtail_lockedcarts.export",
        task_name=f"wagtail_lockedcarts.export.{order_id}",
    )


def queue_export_on_submit(sender, order_id, **kwargs):
    """Receiver of :data:`signals.order_submitted` (connected in ``AppConfig.ready``)."""
    enqueue_export(order_id)


def connect_signals():
    from wagtail_lockedcarts import signals

    signals.order_submitted.connect(queue_export_on_submit, dispatch_uid="wagtail_lockedcarts.queue_export")


def daily_notification(**kwargs):
    """Hourly: send each site's daily notification once its hour has come (see notifications).

    Raises when a site's e-mail could not be sent, after trying every site: django-q2 records the
    failure and the ORM broker re-delivers the task after ``retry``; sites already sent are
    skipped by their claim. ``kwargs`` absorbs django-q2 options such as ``intended_date``.
    """
    from wagtail_lockedcarts.background.notifications import (
        DeliveryError,
        DeliveryStatus,
        send_due_daily_notifications,
    )

    results = send_due_daily_notifications()
    failed = [result for result in results if result.status == DeliveryStatus.FAILED]
    if failed:
        raise DeliveryError("; ".join(f"site {result.site.pk} ({result.date}): {result.error}" for result in failed))
    return {f"{result.site.pk}:{result.date}": result.status for result in results}


def check_carts_with_paypal(cart_ids, user_id=None, **kwargs):
    """The bulk *Check with PayPal*: ask PayPal about each cart, one at a time, off the request.

    Each check leaves its answer in the cart's history (through ``check_paypal_now``); the task's
    result is one message per cart, which django-q2 keeps with the task.
    """
    from django.contrib.auth import get_user_model

    from wagtail_lockedcarts.models import Cart
    from wagtail_lockedcarts.paypal.reconcile import check_paypal_now

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    results = {}
    for cart_id in cart_ids:
        cart = Cart.objects.filter(pk=cart_id).first()
        if cart is None:
            results[cart_id] = "cart no longer exists"
            continue
        try:
            results[cart_id] = check_paypal_now(cart, user).summary
        except Exception as error:  # one cart's trouble must not stop the others
            results[cart_id] = f"{type(error).__name__}: {error}"
    return results


def checkout_sweep(**kwargs):
    """Every few minutes: reconcile with PayPal or lock checkouts nobody came back from."""
    from wagtail_lockedcarts.background.sweeps import sweep_checkouts

    return str(sweep_checkouts())
