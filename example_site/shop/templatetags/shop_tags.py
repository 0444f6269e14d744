from django import template
from django.db.models import Sum

register = template.Library()

_CACHE_ATTR = "_shop_header_cart"


@register.simple_tag(takes_context=True)
def header_cart(context):
    """What the header's cart link shows: item count and status.

    This tag is the only place the shop layout touches the lazy ``request.cart``, so pages that
    leave it out (the login page) never look the cart up. Looking it up is also what delivers the
    plugin's one-time messages ("Your order 12 was confirmed"), which is why the header renders
    before the messages area. On the cart page the view's own lines are counted: no extra query.
    """
    request = context.get("request")
    if request is None or not hasattr(request, "cart"):
        return {"count": 0, "status": ""}
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    cart = request.cart
    lines = context.get("lines")
    if lines is not None and context.get("cart") is cart:
        count = sum(line.quantity for line in lines)
    elif cart.pk:
        count = cart.lines.aggregate(items=Sum("quantity"))["items"] or 0
    else:
        count = 0
    summary = {"count": count, "status": cart.status if cart.pk else ""}
    setattr(request, _CACHE_ATTR, summary)
    return summary
