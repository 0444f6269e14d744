"""Registers the two ModelAdmins as top-level menu items unless the site groups them itself
(``WAGTAIL_LOCKEDCARTS["MODELADMIN_REGISTER"] = False``; see the package docstring)."""

from wagtail_modeladmin.options import modeladmin_register

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.modeladmin.options import CartModelAdmin, OrderModelAdmin

if conf.get("MODELADMIN_REGISTER"):
    modeladmin_register(CartModelAdmin)
    modeladmin_register(OrderModelAdmin)
