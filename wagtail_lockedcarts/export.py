"""Order export: the hand-off to the site's own fulfilment, chosen by ``ORDER_EXPORTER``."""

import logging

from django.utils.module_loading import import_string

from wagtail_lockedcarts import conf

logger = logging.getLogger("wagtail_lockedcarts.export")


def log_order(order):
    """Default exporter: writes the order to the ``wagtail_lockedcarts.export`` logger.

    Replace it with a callable that sends the order to your ERP / fulfilment service; it must
    raise on failure (the order then stays ``submitted`` and the export is retried) and be safe to
    call twice for the same order (use ``order.pk`` as your idempotency key).
    """
    logger.info(
        "Order %s exported: %s %s, %d line(s)",
        order.pk,
        order.total,
        order.currency,
        order.lines.count(),
    )


def get_exporter():
    return import_string(conf.get("ORDER_EXPORTER"))
