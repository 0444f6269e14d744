"""Test settings naming a site's own Cart Management viewset (``CART_VIEWSET``); used by a
subprocess in tests/test_admin_actions.py, since the viewsets are registered once per process."""

from tests.settings import *  # noqa: F401,F403
from tests.settings import WAGTAIL_LOCKEDCARTS as _BASE

WAGTAIL_LOCKEDCARTS = {**_BASE, "CART_VIEWSET": "tests.custom_viewset.ShopCartViewSet"}
