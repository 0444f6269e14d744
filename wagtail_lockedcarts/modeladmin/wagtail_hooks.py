"""Registers the two ModelAdmins as top-level menu items unless the site groups them itself
(``WAGTAIL_LOCKEDCARTS["MODELADMIN_REGISTER"] = False``; see the package docstring)."""

from django.conf import settings
from wagtail_modeladmin.options import modeladmin_register

from .options import CartModelAdmin, OrderModelAdmin


def register_by_default():
    return (getattr(settings, "WAGTAIL_LOCKEDCARTS", None) or {}).get("MODELADMIN_REGISTER", True)


if register_by_default():
    modeladmin_register(CartModelAdmin)
    modeladmin_register(OrderModelAdmin)
