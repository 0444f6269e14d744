"""One-time notices to the shopper about what happened to their cart while they were away.

An admin (or PayPal, through a webhook or the sweep) may confirm, unlock or delete a cart at any
moment; the shopper should read about it once, on whatever page they open next. The notice is
*pushed* into the shopper's session when the change commits, so delivering it costs nothing but
reading the session Django loads anyway: no cart query runs for shoppers with nothing waiting.

Pushing needs a server-side session (database, cache, file). With signed-cookie sessions no
notice can be pushed; the cart lookup (:func:`shopper.notice_previous_cart`) then still tells the
shopper on the next page that uses ``request.cart``.

A notice describes an event, not a sentence: the text is chosen when it is shown, in the
shopper's language, and a page that already shows the outcome (the PayPal return page) discards
the notice for its cart, so two messages never tell different stories.
"""

import contextvars
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

#: The shopper's current cart id, kept in the session by :mod:`.shopper` (defined here, the
#: lower module, so the notices can read it without importing the shopper).
SESSION_CART_KEY = "wagtail_lockedcarts.cart_id"
SESSION_NOTICES_KEY = "wagtail_lockedcarts.notices"

CONFIRMED = "confirmed"
ON_HOLD = "on_hold"
REMOVED = "removed"
REOPENED = "reopened"

TEXTS = {
    CONFIRMED: (messages.SUCCESS, _("Your order %(number)s was confirmed. Thank you!")),
    ON_HOLD: (
        messages.INFO,
        _("We received your order %(number)s. PayPal is still clearing your payment; we will ship once it has."),
    ),
    REMOVED: (messages.INFO, _("Your previous cart was removed. You can go on shopping with a new cart.")),
    REOPENED: (
        messages.INFO,
        _("Your cart is open again: no payment was taken for it. You can change it or pay again."),
    ),
}


def add_message(request, kind, number=None):
    """Show notice ``kind`` once on this request's page."""
    level, text = TEXTS[kind]
    messages.add_message(request, level, text % {"number": number}, fail_silently=True)


def _session_store():
    if settings.SESSION_ENGINE.endswith("signed_cookies"):
        return None
    return import_module(settings.SESSION_ENGINE).SessionStore


def push(session_key, kind, cart_id, number=None):
    """Leave notice ``kind`` in the session ``session_key`` (if that session still exists)."""
    store_class = _session_store()
    if not session_key or store_class is None:
        return False
    session = store_class(session_key)
    waiting = list(session.get(SESSION_NOTICES_KEY, []))
    if session.session_key is None:  # the session expired or was flushed: nobody to tell
        return False
    waiting = [notice for notice in waiting if notice.get("cart") != cart_id]
    waiting.append({"kind": kind, "cart": cart_id, "number": number})
    session[SESSION_NOTICES_KEY] = waiting
    session.save()
    return True


def deliver(request):
    """Turn the notices waiting in this shopper's session into messages on this page.

    A visitor without a session cookie costs nothing here (no session is loaded).
    """
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    waiting = session.get(SESSION_NOTICES_KEY)
    if not waiting:
        return
    del session[SESSION_NOTICES_KEY]
    for notice in waiting:
        if notice.get("kind") not in TEXTS:
            continue
        add_message(request, notice["kind"], notice.get("number"))
        if notice["kind"] != REOPENED and session.get(SESSION_CART_KEY) == notice.get("cart"):
            # Told already: the cart lookup must not tell the same story again.
            del session[SESSION_CART_KEY]


def discard(request, cart_id):
    """This page shows the cart's outcome itself: drop any notice about it, now and pushed later
    in this request (the request's copy of the session is what gets saved)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    waiting = session.get(SESSION_NOTICES_KEY) or []
    session[SESSION_NOTICES_KEY] = [notice for notice in waiting if notice.get("cart") != cart_id]
    session.modified = True


# --------------------------------------------------------------------------------------------
# signal receivers (connected in apps.ready)


def on_order_created(sender, order, cart, user=None, **kwargs):
    from wagtail_lockedcarts.models import OrderStatus

    if cart is None:
        return  # made from an unmatched payment whose cart is gone: no shopper session to tell
    kind = ON_HOLD if order.status == OrderStatus.ON_HOLD else CONFIRMED
    push(cart.session_key, kind, cart.pk, number=order.pk)


def on_cart_unlocked(sender, cart, user=None, **kwargs):
    push(cart.session_key, REOPENED, cart.pk)


#: Carts being merged into the shopper's account on login: their deletion is no news to the shopper.
merging = contextvars.ContextVar("wagtail_lockedcarts_merging", default=frozenset())


def on_cart_pre_delete(sender, instance, **kwargs):
    """The row is about to go: remember whose session to tell once the deletion commits."""
    if instance.session_key and instance.pk not in merging.get():
        session_key, cart_id = instance.session_key, instance.pk
        transaction.on_commit(lambda: push(session_key, REMOVED, cart_id))
