"""Readable labels for the audit-log actions :mod:`lifecycle` writes."""

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.log_actions import LogFormatter

from wagtail_lockedcarts.models import LOCK_REASON_IN_SENTENCE, OrderStatus


def _reason_in_sentence(value):
    return LOCK_REASON_IN_SENTENCE.get(value, value or "")


class LockFormatter(LogFormatter):
    label = _("Lock cart")

    def format_message(self, log_entry):
        reason = (log_entry.data or {}).get("reason")
        if reason:
            return _("Cart locked: %(reason)s") % {"reason": _reason_in_sentence(reason)}
        return _("Cart locked")


class ConfirmFormatter(LogFormatter):
    label = _("Confirm order")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("override_reason"):
            return _(
                "Order %(order)s confirmed although the cart total %(total)s differs from the captured %(captured)s: "
                "%(reason)s"
            ) % {
                "order": data.get("order"),
                "total": data.get("cart_total", "?"),
                "captured": data.get("captured", "?"),
                "reason": data["override_reason"],
            }
        return _("Order %(order)s confirmed from cart") % {"order": data.get("order")}


class ReconcileFormatter(LogFormatter):
    label = _("Check with PayPal")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("order"):
            status = data.get("order_status")
            if status == OrderStatus.ON_HOLD:
                return _("Order %(order)s created on hold: PayPal payment pending") % {"order": data["order"]}
            return _("Order %(order)s created: PayPal payment completed") % {"order": data["order"]}
        if data.get("paypal_outcome"):
            return _("PayPal answered %(outcome)s: cart open again") % {"outcome": data["paypal_outcome"]}
        if data.get("lock_reason"):
            return _("PayPal checked: %(reason)s") % {"reason": _reason_in_sentence(data["lock_reason"])}
        summary = data.get("summary")
        return _("Checked with PayPal: %(summary)s") % {"summary": summary} if summary else _("Checked with PayPal")


class _SafeMessage(SafeString):
    """Wagtail capitalises log messages with ``capfirst`` (slice + concatenation), which would
    turn safe HTML back into escaped text; this string keeps its safety through both."""

    def __getitem__(self, key):
        return _SafeMessage(str.__getitem__(self, key))

    def __radd__(self, other):
        return _SafeMessage("".join((str(other), str.__str__(self))))


class DeleteFormatter(LogFormatter):
    """ "Cart deleted (…)" with a link to the snapshot the entry keeps (the cart itself is gone)."""

    label = _("Delete cart")

    def format_message(self, log_entry):
        text = self._text(log_entry)
        try:
            from wagtail_lockedcarts.admin.display import cart_url

            url = cart_url("deleted_snapshot", log_entry.pk)
        except Exception:  # noqa: BLE001 — the viewset may not be registered (modeladmin-only sites)
            return text
        return _SafeMessage(format_html('{} <a href="{}">{}</a>', text, url, _("View snapshot")))

    def _text(self, log_entry):
        data = log_entry.data or {}
        if data.get("total"):
            lines = len(data.get("lines", []))
            return ngettext(
                "Cart deleted (%(total)s %(currency)s, %(lines)s line)",
                "Cart deleted (%(total)s %(currency)s, %(lines)s lines)",
                lines,
            ) % {
                "total": data["total"],
                "currency": data.get("currency", ""),
                "lines": lines,
            }
        return _("Cart deleted")


class OrderFormatter(LogFormatter):
    label = _("Create order")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Order created from cart %(cart)s") % {"cart": data.get("cart")}


class ExportFormatter(LogFormatter):
    label = _("Export order")

    def format_message(self, log_entry):
        if (log_entry.data or {}).get("retry"):
            return _("Order export queued again")
        return _("Order exported")


class PaymentReversedFormatter(LogFormatter):
    label = _("Payment reversed")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("PayPal took the payment back (%(status)s): the order can no longer be released or exported") % {
            "status": data.get("capture_status", "?")
        }


class ResolvePaymentFormatter(LogFormatter):
    label = _("Resolve unmatched payment")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("order"):
            return _("Unmatched payment resolved: order %(order)s created from the paid snapshot (%(note)s)") % {
                "order": data["order"],
                "note": data.get("note", ""),
            }
        return _("Unmatched payment resolved (%(resolution)s): %(note)s") % {
            "resolution": data.get("resolution", ""),
            "note": data.get("note", ""),
        }


def register_log_actions(actions):
    actions.register_action("wagtail_lockedcarts.payment_reversed")(PaymentReversedFormatter)
    actions.register_action("wagtail_lockedcarts.resolve_payment")(ResolvePaymentFormatter)
    actions.register_action("wagtail_lockedcarts.lock")(LockFormatter)
    actions.register_action("wagtail_lockedcarts.unlock", _("Unlock cart"), _("Cart unlocked"))
    actions.register_action("wagtail_lockedcarts.confirm")(ConfirmFormatter)
    actions.register_action("wagtail_lockedcarts.delete")(DeleteFormatter)
    actions.register_action("wagtail_lockedcarts.reconcile")(ReconcileFormatter)
    actions.register_action(
        "wagtail_lockedcarts.checkout", _("Checkout"), _("Checkout started: cart frozen, shopper sent to PayPal")
    )
    actions.register_action("wagtail_lockedcarts.order")(OrderFormatter)
    actions.register_action(
        "wagtail_lockedcarts.release", _("Release order"), _("Order released from hold and submitted")
    )
    actions.register_action("wagtail_lockedcarts.export")(ExportFormatter)
