from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def header_cart(context):
    """What the header's cart link shows: item count and status, from the package's safe
    ``request.cart`` (no query for a visitor without a cart; the cart page's own lines are reused).

    Pages that leave this tag out (the login page) never look the cart up; the one-time notices
    reach the shopper anyway (the middleware delivers them).
    """
    request = context.get("request")
    cart = getattr(request, "cart", None) if request is not None else None
    if cart is None:
        return {"count": 0, "status": ""}
    return {"count": cart.item_count, "status": cart.status if cart.exists else ""}
