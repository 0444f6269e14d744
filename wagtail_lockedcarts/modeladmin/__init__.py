"""Optional integration for sites that build their admin with wagtail-modeladmin.

Install with the ``modeladmin`` extra and add the sub-app **together with** wagtail-modeladmin::

    INSTALLED_APPS = [
        ...,
        "wagtail_lockedcarts",
        "wagtail_lockedcarts.modeladmin",
        "wagtail_modeladmin",
        ...,
    ]

Either/or: with this sub-app installed, the snippet viewsets add no "Cart Management" / "Orders"
sidebar items and no admin URL finder; :class:`~.options.CartModelAdmin` and
:class:`~.options.OrderModelAdmin` take their place. The snippet views stay mounted because the
action views (Confirm Order, Unlock Cart, Delete Cart, Check PayPal now, Release order on hold,
Retry export) and the bulk actions are shared: the modeladmin buttons link to them, so every
action still runs through lifecycle, the policy registry and the audit log.

By default both ModelAdmins are registered as top-level menu items. A site that wants them in
its own ``ModelAdminGroup`` sets ``WAGTAIL_LOCKEDCARTS["MODELADMIN_REGISTER"] = False`` and
registers the group itself::

    from wagtail_modeladmin.options import ModelAdminGroup, modeladmin_register
    from wagtail_lockedcarts.modeladmin.options import CartModelAdmin, OrderModelAdmin

    @modeladmin_register
    class ShopAdminGroup(ModelAdminGroup):
        menu_label = "Shop"
        items = (CartModelAdmin, OrderModelAdmin)

wagtail-modeladmin's own permission helper asks ``user.has_perm`` directly; the helpers here ask
Wagtail 8's permission policy registry instead, so both admin flavours enforce the same rules.
"""
