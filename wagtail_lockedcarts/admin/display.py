"""What the admin shows and where it lives, written once for every screen that shows it.

The snippet views, the optional modeladmin screens, the dashboard items and the daily
notification e-mail all come here for:

* **admin URLs** — built from the *registered* viewsets (``Cart.snippet_viewset``) and, for
  absolute links in e-mails, Wagtail's :func:`~wagtail.admin.utils.get_admin_base_url`. A site
  that registers a viewset subclass with another URL prefix or view gets links that follow it;
  no admin URL is written out as a string anywhere else in the package;
* **the admin actions** (:class:`AdminAction`) — Confirm Order, Unlock Cart, Delete Cart, Check
  PayPal now, Release order on hold, Retry export, each declared once: its label and button, the
  policy action that is both its permission and its state rule, the lifecycle call and its
  messages. The viewsets mount one view per action; buttons, links and views read the same
  declaration;
* **amounts** (:func:`~wagtail_lockedcarts.money.format_money`, per currency) and the **summary rows** of the details and confirmation screens.

Admin view modules import from here; nothing imports the view modules for their helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.admin.utils import quote
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import hooks
from wagtail.admin.utils import get_admin_base_url
from wagtail.admin.widgets.button import Button
from wagtail.permissions import policy_registry

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.admin.forms import ConfirmOrderForm, DeleteCartForm
from wagtail_lockedcarts.exceptions import LockedCartsError
from wagtail_lockedcarts.models import Cart, CartStatus, LockReason, Order
from wagtail_lockedcarts.money import format_money

#: URL namespaces of the two viewsets (public: sites link to ``wagtail_lockedcarts_carts:list``).
CART_NAMESPACE = "wagtail_lockedcarts_carts"
ORDER_NAMESPACE = "wagtail_lockedcarts_orders"

#: Query parameters of the listing shortcuts the dashboard and the e-mail link to.
CART_FILTER_PARAM = "cart_filter"
ORDER_FILTER_PARAM = "order_filter"


# --------------------------------------------------------------------------------------------
# URLs


def viewset_for(model):
    """The viewset registered for ``model``. A worker process (daily notification) may ask before
    anything imported the ``wagtail_hooks`` modules that register it, so look them up then."""
    viewset = getattr(model, "snippet_viewset", None)
    if viewset is None:
        hooks.search_for_hooks()
        viewset = model.snippet_viewset
    return viewset


def absolute_url(path):
    """``path`` prefixed with the admin's base URL (``WAGTAILADMIN_BASE_URL``), for e-mails."""
    return (get_admin_base_url() or "").rstrip("/") + path


def _finish(url, query, absolute):
    if query:
        url += "?" + urlencode(query)
    return absolute_url(url) if absolute else url


#: Reversed URLs with a placeholder for the key: a listing builds five or six URLs per row.
_REVERSED = {}
_PK = "73577357735773577357"  # digits: also fits an <int:pk> converter
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


@receiver(setting_changed)
def _forget_reversed(**kwargs):
    _REVERSED.clear()


def _reverse(url_name, key=None):
    """``reverse(url_name, args=(key,))``, each URL name reversed once per URLconf and script
    prefix; ``key`` is put into the cached URL when it needs no escaping."""
    if key is not None and not _PLAIN_KEY.fullmatch(key):
        return reverse(url_name, args=(key,))
    cache_key = (url_name, key is None, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    url = _REVERSED.get(cache_key)
    if url is None:
        url = _REVERSED[cache_key] = reverse(url_name, args=() if key is None else (_PK,))
    return url if key is None else url.replace(_PK, key)


def admin_url(model, view_name, obj=None, *, query=None, absolute=False):
    """URL of ``view_name`` (``list``, ``inspect``, ``history``, ``confirm_cart`` …) of the
    viewset registered for ``model``; ``obj`` is an instance or a primary key."""
    key = None if obj is None else str(quote(getattr(obj, "pk", obj)))
    return _finish(_reverse(viewset_for(model).get_url_name(view_name), key), query, absolute)


def cart_url(view_name, cart=None, *, query=None, absolute=False):
    return admin_url(Cart, view_name, cart, query=query, absolute=absolute)


def order_url(view_name, order=None, *, query=None, absolute=False):
    return admin_url(Order, view_name, order, query=query, absolute=absolute)


def cart_list_url(cart_filter=None, *, absolute=False):
    """Cart Management, optionally narrowed by the Cart Filter (``locked`` …)."""
    return cart_url("list", query={CART_FILTER_PARAM: cart_filter} if cart_filter else None, absolute=absolute)


def no_return_carts_url(*, absolute=False):
    """Cart Management narrowed to the carts locked because PayPal never answered."""
    return cart_url(
        "list", query={CART_FILTER_PARAM: "locked", "lock_reason": LockReason.NO_RETURN.value}, absolute=absolute
    )


def order_list_url(order_filter=None, *, absolute=False):
    """The Orders listing, optionally narrowed by its filter (``on_hold``, ``not_confirmed`` …)."""
    return order_url("list", query={ORDER_FILTER_PARAM: order_filter} if order_filter else None, absolute=absolute)


def locked_carts_url(*, absolute=False):
    return cart_list_url("locked", absolute=absolute)


def unmatched_payments_url(*, absolute=False):
    """The list of payments PayPal holds money for that no order accounts for."""
    return _finish(reverse("wagtail_lockedcarts_payments:unmatched"), None, absolute)


def resolve_payment_url(payment, *, absolute=False):
    return _finish(reverse("wagtail_lockedcarts_payments:resolve", args=(payment.pk,)), None, absolute)


def admin_home_url(*, absolute=False):
    return _finish(reverse("wagtailadmin_home"), None, absolute)


def settings_url(site, *, absolute=False):
    """The site's *Locked carts* settings, or "" where wagtail.contrib.settings is not mounted."""
    try:
        path = reverse("wagtailsettings:edit", args=["wagtail_lockedcarts", "lockedcartsettings", site.pk])
    except NoReverseMatch:
        return ""
    return _finish(path, None, absolute)


def with_next(url, next_url):
    """``url`` that returns to ``next_url`` when done (Wagtail's ``?next=`` convention)."""
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --------------------------------------------------------------------------------------------
# money and summaries


def cart_total(cart):
    return format_money(cart.total, cart.currency)


def cart_listed_total(cart):
    """The stored total (``Cart.stored_total``, kept by lifecycle): what listings show and sort."""
    return format_money(cart.stored_total, cart.currency)


def order_total(order):
    return format_money(order.total, order.currency)


def local_time(value):
    """An aware datetime in the admin's time zone (the site's ``TIME_ZONE`` unless the admin
    chose another in their account), as the listing, the history and Wagtail show times.
    ``|localize`` in a template formats a datetime as it is, without converting it."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _export_time_csv(value):
    return local_time(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else value


def _export_time_xlsx(value):
    return timezone.make_naive(local_time(value)) if timezone.is_aware(value) else value


#: For ``custom_value_preprocess`` of the listings' CSV/XLSX export: times in the admin's time
#: zone to the second, like the screens (Wagtail's default is raw UTC, microseconds in the CSV).
LOCAL_TIME_EXPORT = {datetime: {"csv": _export_time_csv, "xlsx": _export_time_xlsx}}


#: PayPal's status reasons, in words (others are shown lower-cased, underscores as spaces).
PAYPAL_REASON_WORDS = {
    "ECHECK": _("eCheck"),
    "PAYMENT_REVIEW": _("under review by PayPal"),
    "PENDING_REVIEW": _("under review by PayPal"),
    "RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION": _("the shop must accept it in PayPal"),
    "UNILATERAL": _("the shop's PayPal account is not confirmed"),
    "VERIFICATION_REQUIRED": _("verification required"),
    "BUYER_COMPLAINT": _("buyer complaint"),
    "CHARGEBACK": _("chargeback"),
    "INSTRUMENT_DECLINED": _("the payer's card or account was declined"),
}


def paypal_status_in_words(order_status, capture_status="", reason="", asked=True):
    """What PayPal last said, as a sentence an admin can act on, PayPal's own codes after it:
    "Payment pending at PayPal (eCheck): not received yet (COMPLETED / PENDING / ECHECK)".

    Only a completed capture means the money arrived; every other answer says so plainly.
    """
    codes = " / ".join(part for part in (order_status, capture_status, reason) if part)
    if not codes:
        return str(_("Not asked yet")) if not asked else "—"
    why = PAYPAL_REASON_WORDS.get(reason, reason.replace("_", " ").lower()) if reason else ""
    if capture_status == "COMPLETED":
        text = _("Paid: PayPal received the money")
    elif capture_status == "PENDING":
        text = (
            _("Payment pending at PayPal (%(reason)s): not received yet") % {"reason": why}
            if why
            else _("Payment pending at PayPal: not received yet")
        )
    elif capture_status in ("DECLINED", "FAILED"):
        text = _("Payment declined by PayPal: no money received")
    elif capture_status == "REFUNDED":
        text = _("Refunded at PayPal: the money went back to the payer")
    elif capture_status == "PARTIALLY_REFUNDED":
        text = _("Partly refunded at PayPal")
    elif order_status == "APPROVED":
        text = _("Approved by the payer, not captured yet: no money received yet")
    elif order_status in ("CREATED", "SAVED", "PAYER_ACTION_REQUIRED"):
        text = _("Not paid: the shopper did not finish at PayPal")
    elif order_status == "VOIDED":
        text = _("Cancelled at PayPal: no money received")
    else:
        return codes
    return f"{text} ({codes})"


def paypal_status_text(cart):
    """The cart's last known PayPal status in words (see :func:`paypal_status_in_words`)."""
    return paypal_status_in_words(
        cart.paypal_status, cart.paypal_capture_status, cart.paypal_status_reason, asked=bool(cart.paypal_order_id)
    )


def cart_summary_rows(cart):
    """(label, value) rows of the Cart Details screen (snippet and modeladmin alike)."""
    order = getattr(cart, "order", None) if cart.status == CartStatus.ORDERED else None
    return [
        (_("Cart number"), cart.pk),
        (_("Status"), cart.get_status_display()),
        (_("Lock reason"), cart.get_lock_reason_display() or "—"),
        (_("Locked at"), local_time(cart.locked_at) or "—"),
        (_("Customer"), cart.customer_label),
        (_("Customer e-mail"), cart.customer_email or "—"),
        (_("Payer e-mail"), cart.payer_email or "—"),
        (_("Total amount"), cart_total(cart)),
        *amount_rows(cart),
        (_("Card"), cart.masked_card or "—"),
        (_("PayPal order id"), cart.paypal_order_id or "—"),
        (_("PayPal capture id"), cart.paypal_capture_id or "—"),
        (_("Last known PayPal status"), paypal_status_text(cart) or "—"),
        (_("PayPal last checked at"), local_time(cart.paypal_checked_at) or "—"),
        (_("Checkout started at"), local_time(cart.checkout_started_at) or "—"),
        (_("Created at"), local_time(cart.created_at)),
        (pgettext_lazy("lockedcarts", "Order"), str(order) if order else "—"),
    ]


def order_summary_rows(order):
    """(label, value, url) rows of the Order Details screen (snippet and modeladmin alike)."""
    cart_link = cart_url("inspect", order.cart_id) if order.cart_id else None
    return [
        (_("Order number"), order.number, None),
        (_("Status"), order.get_status_display(), None),
        (_("Customer"), order.customer_name or "—", None),
        (_("E-mail"), order.email or "—", None),
        (_("Total"), order_total(order), None),
        (
            _("Captured by PayPal"),
            format_money(order.payment.captured_amount, order.payment.captured_currency)
            if order.payment_id and order.payment.captured_amount is not None
            else "—",
            None,
        ),
        (_("Amount difference accepted because"), order.amount_override_reason or "—", None),
        (_("Payment problem"), order.payment_problem or "—", None),
        (_("Card"), order.masked_card or "—", None),
        (_("PayPal order id"), order.paypal_order_id or "—", None),
        (_("PayPal capture id"), order.paypal_capture_id or "—", None),
        (_("Cart"), order.cart_reference or "—", cart_link),
        (_("Created at"), local_time(order.created_at), None),
        (_("Submitted at"), local_time(order.submitted_at) or "—", None),
        (_("Exported at"), local_time(order.exported_at) or "—", None),
        (_("Export attempts"), order.export_attempts, None),
        (_("Last export error"), order.last_export_error or "—", None),
    ]


def amount_rows(cart):
    """The cart total's companions: what PayPal captured, and whether the two match."""
    check = lifecycle.amount_check(cart)
    if not check.known:
        return [(_("Captured by PayPal"), _("nothing captured yet")), (_("Amounts match"), "—")]
    return [
        (_("Captured by PayPal"), format_money(check.captured, check.captured_currency)),
        (_("Amounts match"), _("Yes") if check.matches else _("No – the cart total differs from the capture")),
    ]


def cart_action_summary(cart):
    """(label, value) rows above an action's confirmation button: what the admin acts on."""
    return [
        (_("Customer"), cart.customer_label),
        (_("Total amount"), cart_total(cart)),
        *amount_rows(cart),
        (_("Card"), cart.masked_card or "—"),
        (_("Status"), cart.get_status_display()),
        (_("Lock reason"), cart.get_lock_reason_display() or "—"),
        (_("PayPal order id"), cart.paypal_order_id or "—"),
    ]


def order_action_summary(order):
    return [
        (_("Customer"), order.customer_name or "—"),
        (_("Total"), order_total(order)),
        (_("Status"), order.get_status_display()),
        (_("PayPal capture id"), order.paypal_capture_id or "—"),
    ]


# --------------------------------------------------------------------------------------------
# actions


@dataclass(frozen=True)
class AdminAction:
    """One admin action on one object, declared once.

    ``name`` is the policy action: the permission (``confirm`` → ``confirm_cart``) and, through
    the permission policy, the rule of which states it fits. ``perform(obj, user)`` is the
    lifecycle call; it returns a :class:`~wagtail_lockedcarts.lifecycle.TransitionResult` or raises a
    :class:`~wagtail_lockedcarts.exceptions.LockedCartsError` whose message is shown.
    ``success_message`` may use ``%(cart)s`` and ``%(order)s``; when it is empty, the outcome's
    own message is shown. An action that needs input (a reason, an acknowledgement) names a
    ``form_class``, built as ``form_class(obj, data=…)``; its cleaned data is passed to
    ``perform`` as keyword arguments, and an invalid form changes nothing.
    """

    name: str
    url_name: str
    url_path: str
    label: str
    icon: str
    priority: int
    confirmation_message: str
    submit_label: str
    perform: Callable
    success_message: str = ""
    serious: bool = False
    #: Shown as a header button on the details screen (the others go to its "…" menu).
    primary: bool = False
    #: The object is gone afterwards, so the admin is never sent back to it.
    removes_object: bool = False
    form_class: type | None = None

    @property
    def page_title(self):
        return self.label

    def format_success_message(self, obj, outcome):
        if not self.success_message:
            return outcome.message
        order = getattr(outcome, "order", None)
        return self.success_message % {"cart": obj.pk, "order": order.pk if order is not None else obj.pk}


def _check_paypal_now(cart, user):
    from wagtail_lockedcarts.paypal.reconcile import check_paypal_now

    report = check_paypal_now(cart, user)
    if not report.reachable:
        raise LockedCartsError(
            _("PayPal could not be reached: %(error)s. Nothing was changed.") % {"error": report.error or "?"}
        )
    if report.error:
        # PayPal answered with an error (e.g. INVALID_RESOURCE_ID): a failure, never "checked".
        raise LockedCartsError(report.summary)
    return lifecycle.TransitionResult(report.cart or cart, True, message=report.summary or _("Checked with PayPal."))


CART_ADMIN_ACTIONS = (
    AdminAction(
        name="confirm",
        url_name="confirm_cart",
        url_path="confirm",
        label=_("Confirm Order"),
        icon="success",
        priority=40,
        primary=True,
        confirmation_message=_(
            "This converts the cart to an order and sends it to export. Do this only once you are sure the "
            "payment arrived."
        ),
        submit_label=_("Yes, confirm the order"),
        perform=lambda cart, user, override_reason="", **_form: lifecycle.confirm_order(
            cart, user=user, override_reason=override_reason
        ),
        form_class=ConfirmOrderForm,
        success_message=_("Order %(order)s created from the cart and sent to export."),
    ),
    AdminAction(
        name="unlock",
        url_name="unlock_cart",
        url_path="unlock-cart",
        label=_("Unlock Cart"),
        icon="lock-open",
        priority=50,
        primary=True,
        confirmation_message=_(
            "This opens the cart again: the shopper can change it and check out once more. The "
            "PayPal checkout it was locked for is given up."
        ),
        submit_label=_("Yes, unlock the cart"),
        perform=lambda cart, user: lifecycle.unlock_cart(cart, user=user),
        success_message=_("Cart %(cart)s unlocked."),
    ),
    AdminAction(
        name="check",
        url_name="check_paypal",
        url_path="check-paypal",
        label=_("Check PayPal now"),
        icon="rotate",
        priority=60,
        confirmation_message=_(
            "This asks PayPal for the current state of the cart's payment and applies the answer: a "
            "completed payment becomes an order, a declined one opens the cart again."
        ),
        submit_label=_("Ask PayPal"),
        perform=_check_paypal_now,
    ),
    AdminAction(
        name="delete",
        url_name="delete_cart",
        url_path="delete-cart",
        label=_("Delete Cart"),
        icon="bin",
        priority=70,
        serious=True,
        removes_object=True,
        confirmation_message=_(
            "This deletes the cart and its lines for good. A snapshot (customer, lines, total, "
            "PayPal references) stays in the cart's history."
        ),
        submit_label=_("Yes, delete the cart"),
        perform=lambda cart, user, acknowledge_payment=False, **_form: lifecycle.delete_cart(
            cart, user=user, acknowledge_payment=acknowledge_payment
        ),
        form_class=DeleteCartForm,
        success_message=_("Cart %(cart)s deleted."),
    ),
)

ORDER_ADMIN_ACTIONS = (
    AdminAction(
        name="release",
        url_name="release_order",
        url_path="release",
        label=_("Release order on hold"),
        icon="resubmit",
        priority=40,
        primary=True,
        confirmation_message=_(
            "This releases the order from hold and sends it to export, although PayPal has not "
            "reported the payment as completed."
        ),
        submit_label=_("Yes, release the order"),
        perform=lambda order, user: lifecycle.release_order(order, user=user),
        success_message=_("Order %(order)s released and sent to export."),
    ),
    AdminAction(
        name="export",
        url_name="retry_export",
        url_path="retry-export",
        label=_("Retry export"),
        icon="upload",
        priority=50,
        primary=True,
        confirmation_message=_(
            "This queues the order for export again. The exporter must accept an order it may already have received."
        ),
        submit_label=_("Yes, export again"),
        perform=lambda order, user: lifecycle.retry_export(order, user=user),
        success_message=_("Export of order %(order)s queued again."),
    ),
)


ACTIONS = {Cart: CART_ADMIN_ACTIONS, Order: ORDER_ADMIN_ACTIONS}


def action_named(model, name):
    """The declared action ``name`` (``"unlock"`` …) of ``model``, for bulk actions and the like."""
    return next(action for action in ACTIONS[model] if action.name == name)


@dataclass(frozen=True)
class ActionLink:
    """An action the user may run on an object now, as a link to its confirmation page."""

    action: AdminAction
    url: str

    @property
    def label(self):
        return self.action.label

    @property
    def icon(self):
        return self.action.icon

    @property
    def priority(self):
        return self.action.priority


def action_links(user, obj, next_url=None):
    """The actions of ``obj``'s viewset that ``user`` may run on ``obj`` now (permission and
    state, asked through the policy registry so every screen agrees). An action that removes the
    object never returns to a URL of that object: it goes back to the listing instead."""
    model = type(obj)
    viewset = viewset_for(model)
    policy = policy_registry.get_by_type(model)
    links = []
    for action in viewset.actions:
        if policy.user_has_permission_for_instance(user, action.name, obj):
            url = admin_url(model, action.url_name, obj)
            back = next_url
            if action.removes_object and back and points_at(back, obj.pk):
                back = admin_url(model, "list")
            links.append(ActionLink(action, with_next(url, back)))
    return links


def points_at(url, pk):
    """Whether ``url`` is one of an object's own admin pages (…/<pk>/)."""
    return url.split("?")[0].rstrip("/").endswith(f"/{quote(pk)}")


def action_buttons(user, obj, next_url=None):
    """:func:`action_links` as Wagtail buttons, for the listings' and details' menus."""
    return [
        Button(link.label, url=link.url, icon_name=link.icon, priority=link.priority)
        for link in action_links(user, obj, next_url=next_url)
    ]


def history_button(url):
    """The History entry every cart and order menu ends with."""
    return Button(pgettext_lazy("lockedcarts", "History"), url=url, icon_name="history", priority=90)
