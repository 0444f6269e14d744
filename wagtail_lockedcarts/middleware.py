"""Public import path kept from 0.1 (``MIDDLEWARE`` settings name it); the middleware lives in
:mod:`wagtail_lockedcarts.storefront.middleware`."""

from wagtail_lockedcarts.storefront.middleware import CartMiddleware

__all__ = ["CartMiddleware"]
