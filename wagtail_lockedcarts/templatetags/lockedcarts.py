"""``{% load lockedcarts %}``: the pieces a site's own templates need to sell with this package.

- ``{% add_to_cart_form product %}``: the add-to-cart form for a purchasable page or snippet;
- ``{% cart_summary %}``: the mini cart (item count, total, a frozen cart said as such), linking
  to the cart page;
- ``{% cart_notice %}``: this request's shop messages — the one-time notices ("Your order 12 was
  confirmed") and the cart's confirmations — for base templates that show no Django messages;
- ``{% lockedcarts_stylesheet %}``: the optional storefront stylesheet (``STOREFRONT_CSS``);
- ``{{ amount|money:currency }}``: an amount with its currency's own decimals (``1.500 JPY``);
  ``{{ amount|amount_in:currency }}`` the number alone (``1.500``).

Each renders an overridable template under ``wagtail_lockedcarts/tags/``.
"""

from django import template
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.utils.html import format_html

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.money import format_amount, format_money
from wagtail_lockedcarts.products import is_available, product_key

register = template.Library()


@register.inclusion_tag("wagtail_lockedcarts/tags/add_to_cart_form.html", takes_context=True)
def add_to_cart_form(context, product, quantity=1, show_quantity=True, next=None):
    """The form that posts ``product`` to the cart and comes back to this page with a message."""
    request = context.get("request")
    return {
        "product": product,
        "product_key": product_key(product),
        "available": is_available(product),
        "quantity": quantity,
        "show_quantity": show_quantity,
        "next": next if next is not None else (request.get_full_path() if request else ""),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("wagtail_lockedcarts/tags/cart_summary.html", takes_context=True)
def cart_summary(context):
    """The mini cart. No query for a visitor without a cart; one (the lines) otherwise."""
    request = context.get("request")
    cart = getattr(request, "cart", None) if request is not None else None
    return {"cart": cart, "request": request}


@register.inclusion_tag("wagtail_lockedcarts/tags/cart_notice.html", takes_context=True)
def cart_notice(context):
    """This request's messages, unless the site's base template already showed them above."""
    request = context.get("request")
    if request is None or getattr(request, "_lockedcarts_notice_shown", False):
        return {"messages": []}
    request._lockedcarts_notice_shown = True
    storage = get_messages(request)
    if getattr(storage, "used", False):
        return {"messages": []}
    return {"messages": list(storage)}


@register.simple_tag
def lockedcarts_stylesheet():
    if not conf.get("STOREFRONT_CSS"):
        return ""
    return format_html('<link rel="stylesheet" href="{}">', static("wagtail_lockedcarts/css/storefront.css"))


@register.filter
def money(amount, currency):
    """``1.500 JPY`` / ``12,50 EUR``: localised, with the decimals PayPal uses for the currency."""
    return format_money(amount, currency)


@register.filter
def amount_in(amount, currency):
    """The number alone, for sentences that place the currency themselves."""
    return format_amount(amount, currency)
