"""Permission and button helpers that ask the policy registry, and buttons that link to the
shared action views (with ``next`` back to the modeladmin screen)."""

from django.contrib.admin.utils import quote
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.permissions import policy_registry
from wagtail_modeladmin.helpers import ButtonHelper, PermissionHelper

from wagtail_lockedcarts.admin.display import action_links
from wagtail_lockedcarts.admin.permissions import CART_ACCESS_ACTIONS, ORDER_ACCESS_ACTIONS


class PolicyPermissionHelper(PermissionHelper):
    access_actions = ()

    @cached_property
    def policy(self):
        return policy_registry.get_by_type(self.model)

    def user_can_list(self, user):
        return self.policy.user_has_any_permission(user, self.access_actions)

    def user_can_create(self, user):
        return self.policy.user_has_permission(user, "add")

    def user_can_inspect_obj(self, user, obj):
        return self.inspect_view_enabled and self.user_can_list(user)

    def user_can_edit_obj(self, user, obj):
        return self.policy.user_has_permission_for_instance(user, "change", obj)

    def user_can_delete_obj(self, user, obj):
        return False  # deleting is "Delete Cart": lifecycle, with the audit snapshot


class CartPermissionHelper(PolicyPermissionHelper):
    access_actions = CART_ACCESS_ACTIONS


class OrderPermissionHelper(PolicyPermissionHelper):
    access_actions = ORDER_ACCESS_ACTIONS


class ActionButtonHelper(ButtonHelper):
    inspect_label = ""
    action_classnames = ["button-secondary"]

    def get_buttons_for_obj(self, obj, exclude=None, classnames_add=None, classnames_exclude=None):
        exclude = exclude or []
        classnames_add = classnames_add or []
        buttons = []
        pk = quote(obj.pk)
        usr = self.request.user
        if "edit" not in exclude and self.permission_helper.user_can_edit_obj(usr, obj):
            buttons.append(self.edit_button(pk, classnames_add, classnames_exclude))
        if "inspect" not in exclude and self.permission_helper.user_can_inspect_obj(usr, obj):
            button = self.inspect_button(pk, classnames_add, classnames_exclude)
            button["label"] = self.inspect_label
            buttons.append(button)
        for link in action_links(usr, obj, next_url=self.url_helper.index_url):
            serious = ["no"] if link.action.serious else []
            buttons.append(
                {
                    "url": link.url,
                    "label": str(link.label),
                    "classname": self.finalise_classname(
                        self.action_classnames + serious + classnames_add, classnames_exclude
                    ),
                    "title": str(link.label),
                }
            )
        return buttons


class CartButtonHelper(ActionButtonHelper):
    inspect_label = _("Cart Details")


class OrderButtonHelper(ActionButtonHelper):
    inspect_label = _("Order Details")
