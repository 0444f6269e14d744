"""Which cart belongs to a request: the shopper's *active* cart, looked up fresh every time.

Nothing about the cart is cached in the browser, so when an admin confirms or deletes a cart the
shopper's very next request finds a new cart (and a one-time message) — no need to close the
browser. The session only remembers the id of the cart last shown, to word that message.
"""

from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from wagtail_lockedcarts import conf, lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus, Order

SESSION_CART_KEY = "wagtail_lockedcarts.cart_id"


def _owner_filter(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"user": user}
    session_key = request.session.session_key
    if not session_key:
        return None
    return {"user__isnull": True, "session_key": session_key}


def find_active_cart(request):
    """The shopper's newest cart that is not yet an order, or None. One query."""
    owner = _owner_filter(request)
    if owner is None:
        return None
    return Cart.objects.active().filter(**owner).order_by("-created_at", "-pk").first()


def get_active_cart(request):
    """The active cart, or an unsaved empty one (so read-only pages never write)."""
    cart = find_active_cart(request)
    _notice_previous_cart(request, cart)
    if cart is None:
        cart = Cart(currency=conf.get("DEFAULT_CURRENCY"))
    return cart


def get_or_create_active_cart(request):
    """The active cart, creating it (and the session, for guests) on the first write."""
    cart = request.cart if getattr(request, "cart", None) is not None else get_active_cart(request)
    if cart.pk:
        return cart
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        owner = {"user": user, "customer_email": user.email or ""}
    else:
        if not request.session.session_key:
            request.session.save()
        owner = {"session_key": request.session.session_key}
    cart = Cart.objects.create(
        site=Site.find_for_request(request),
        currency=conf.get("DEFAULT_CURRENCY"),
        **owner,
    )
    request.session[SESSION_CART_KEY] = cart.pk
    request.cart = cart
    return cart


def _notice_previous_cart(request, cart):
    """Tell the shopper, once, what happened to the cart they had before."""
    previous_id = request.session.get(SESSION_CART_KEY)
    current_id = cart.pk if cart is not None else None
    if previous_id == current_id:
        return
    if current_id is None:
        request.session.pop(SESSION_CART_KEY, None)
    else:
        request.session[SESSION_CART_KEY] = current_id
    if previous_id is None:
        return
    previous = Cart.objects.filter(pk=previous_id).only("status").first()
    if previous is None:
        messages.info(
            request,
            _("Your previous cart was removed. You can go on shopping with a new cart."),
            fail_silently=True,
        )
    elif previous.status == CartStatus.ORDERED:
        order = Order.objects.filter(cart_id=previous_id).only("pk").first()
        messages.success(
            request,
            _("Your order %(number)s was confirmed. Thank you!") % {"number": order.pk if order else previous_id},
            fail_silently=True,
        )


def merge_guest_cart_on_login(sender, request, user, **kwargs):
    """``user_logged_in`` handler: the cart built as a guest joins the shopper's account."""
    if request is None or not hasattr(request, "session"):
        return
    guest_id = request.session.get(SESSION_CART_KEY)
    guest = Cart.objects.filter(pk=guest_id, user__isnull=True).first() if guest_id else None
    if guest is None:
        return
    mine = Cart.objects.active().filter(user=user).order_by("-created_at", "-pk").first()
    if mine is not None and mine.status == CartStatus.OPEN and guest.status == CartStatus.OPEN:
        kept = lifecycle.merge_carts(guest, mine)
    else:
        Cart.objects.filter(pk=guest.pk, user__isnull=True).update(
            user=user, session_key="", customer_email=guest.customer_email or user.email or ""
        )
        kept = guest
    request.session[SESSION_CART_KEY] = kept.pk
    if hasattr(request, "cart"):
        request.cart = kept
