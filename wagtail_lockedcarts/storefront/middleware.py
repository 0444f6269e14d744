from django.utils.functional import SimpleLazyObject

from wagtail_lockedcarts.storefront import notices
from wagtail_lockedcarts.storefront.shopper import get_active_cart


class CartMiddleware:
    """Adds a lazy ``request.cart`` (no query runs unless a view or template uses it) and shows
    the shopper's waiting one-time notices on whatever page they open.

    Place it after ``SessionMiddleware``, ``AuthenticationMiddleware`` and ``MessageMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.cart = SimpleLazyObject(lambda: get_active_cart(request))
        notices.deliver(request)
        return self.get_response(request)
