"""Which cart belongs to a request: the shopper's *active* cart, looked up fresh every time.

Nothing about the cart is cached in the browser, so when an admin confirms or deletes a cart the
shopper's very next request finds a new cart (and a one-time message) — no need to close the
browser. The session only remembers the id of the cart last shown, to word that message.
"""

from decimal import Decimal

from wagtail.models import Site

from wagtail_lockedcarts import conf, lifecycle
from wagtail_lockedcarts.models import Cart, CartStatus, Order, OrderStatus
from wagtail_lockedcarts.storefront import notices

SESSION_CART_KEY = notices.SESSION_CART_KEY


def _owner_filter(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"user": user}
    session_key = request.session.session_key
    if not session_key or SESSION_CART_KEY not in request.session:
        # A guest's cart is only ever made by this module, which notes it in the session:
        # no note, no cart — and no query.
        return None
    return {"user__isnull": True, "session_key": session_key}


def find_active_cart(request):
    """The shopper's newest cart that is not yet an order, or None. One query."""
    owner = _owner_filter(request)
    if owner is None:
        return None
    return Cart.objects.active().filter(**owner).order_by("-created_at", "-pk").first()


class CartLines(list):
    """The cart's lines, loaded once; ``.all`` and ``.count`` keep ``cart.lines.all`` templates working."""

    def all(self):
        return self

    def count(self, *args):
        return super().count(*args) if args else len(self)


class ShopperCart:
    """What ``request.cart`` is: the shopper's active cart, or an empty one not saved yet.

    Every property a template may use works the same on both, and none runs a query when the
    shopper has no cart. Lines are loaded at most once per request, so ``total``, ``item_count``
    and ``lines`` together cost one query. Anything else is read from the model instance
    (``instance``; unsaved when ``exists`` is false), so ``request.cart.status`` or
    ``request.cart.masked_card`` work as on a :class:`~wagtail_lockedcarts.models.Cart`.
    """

    def __init__(self, cart=None):
        self.instance = cart if cart is not None else Cart(currency=conf.get("DEFAULT_CURRENCY"))
        self._lines = None

    def __getattr__(self, name):
        if name.startswith("__") or name == "instance":
            raise AttributeError(name)
        return getattr(self.instance, name)

    def __repr__(self):
        return f"<ShopperCart {self.instance.pk or 'unsaved'} {self.instance.status}>"

    @property
    def exists(self):
        return self.instance.pk is not None

    @property
    def pk(self):
        return self.instance.pk

    id = pk

    @property
    def lines(self):
        if self._lines is None:
            self._lines = CartLines(self.instance.lines.all() if self.exists else ())
        return self._lines

    @property
    def item_count(self):
        """Number of items (quantities summed), for a mini cart's badge."""
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self):
        return not self.lines

    @property
    def total(self):
        """The live sum of the lines while the cart is open; the amount sent to PayPal after."""
        if self.exists and not self.instance.is_editable:
            return self.instance.total
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    def refresh(self):
        self.instance.refresh_from_db()
        self._lines = None
        return self


def get_active_cart(request):
    """``request.cart``: the active cart, or an unsaved empty one (so read-only pages never write)."""
    cart = find_active_cart(request)
    notice_previous_cart(request, cart)
    return ShopperCart(cart)


def _current_cart(request):
    cart = getattr(request, "cart", None)
    if cart is None:
        return find_active_cart(request)
    return cart.instance if isinstance(cart, ShopperCart) else cart


def get_or_create_active_cart(request):
    """The active cart (a model instance), creating it (and the session, for guests) on the
    first write. The cart remembers the session that last wrote to it, so a notice about it can
    reach that session later."""
    cart = _current_cart(request)
    if not request.session.session_key:
        request.session.save()
    session_key = request.session.session_key
    if cart is not None and cart.pk:
        if cart.session_key != session_key:
            Cart.objects.filter(pk=cart.pk).update(session_key=session_key)
            cart.session_key = session_key
        request.session[SESSION_CART_KEY] = cart.pk
        return cart
    user = getattr(request, "user", None)
    owner = {"session_key": session_key}
    if user is not None and user.is_authenticated:
        owner.update(user=user, customer_email=user.email or "")
    cart = Cart.objects.create(
        site=Site.find_for_request(request),
        currency=conf.get("DEFAULT_CURRENCY"),
        **owner,
    )
    request.session[SESSION_CART_KEY] = cart.pk
    request.cart = ShopperCart(cart)
    return cart


def notice_previous_cart(request, cart):
    """Tell the shopper, once, what happened to the cart they had before (when no pushed notice
    did already: :mod:`wagtail_lockedcarts.storefront.notices`)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    previous_id = session.get(SESSION_CART_KEY)
    current_id = cart.pk if cart is not None else None
    if previous_id == current_id:
        return
    if current_id is None:
        session.pop(SESSION_CART_KEY, None)
    else:
        session[SESSION_CART_KEY] = current_id
    if previous_id is None:
        return
    previous = Cart.objects.filter(pk=previous_id).only("status").first()
    if previous is None:
        notices.add_message(request, notices.REMOVED)
    elif previous.status == CartStatus.ORDERED:
        order = Order.objects.filter(cart_id=previous_id).only("pk", "status").first()
        held = order is not None and order.status == OrderStatus.ON_HOLD
        notices.add_message(request, notices.ON_HOLD if held else notices.CONFIRMED, order.pk if order else previous_id)


def mark_outcome_shown(request, cart):
    """The page shows what became of ``cart`` (the PayPal return page): no notice repeats it."""
    notices.discard(request, cart.pk)
    if cart.status == CartStatus.ORDERED and request.session.get(SESSION_CART_KEY) == cart.pk:
        del request.session[SESSION_CART_KEY]


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
        token = notices.merging.set(frozenset({guest.pk}))
        try:
            kept = lifecycle.merge_carts(guest, mine)
        finally:
            notices.merging.reset(token)
    else:
        Cart.objects.filter(pk=guest.pk, user__isnull=True).update(
            user=user, customer_email=guest.customer_email or user.email or ""
        )
        kept = guest
    # login() gave the session a new key: notices about the cart must find this one.
    Cart.objects.filter(pk=kept.pk).update(session_key=request.session.session_key or "")
    kept.refresh_from_db()
    request.session[SESSION_CART_KEY] = kept.pk
    if hasattr(request, "cart"):
        request.cart = ShopperCart(kept)
