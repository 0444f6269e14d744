"""Bulk actions on the Cart Management listing: Unlock, Delete, Check with PayPal.

Each cart goes through the same lifecycle function as the single-cart action (so each gets its
own audit entry), and each is checked per instance through the policy registry. Carts the user
may not act on are listed on the confirmation page; carts whose state changed between that page
and the POST are reported afterwards, untouched.

*Delete* replaces Wagtail's snippet bulk delete for carts (same ``action_type``, registered with
``order=1`` so it wins whatever the INSTALLED_APPS order): the built-in one would delete rows
without lifecycle and without the audit snapshot.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin import messages
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from wagtail_lockedcarts.admin import display
from wagtail_lockedcarts.exceptions import LockedCartsError
from wagtail_lockedcarts.models import Cart


def _report_failures(request, failures):
    if failures:
        messages.warning(
            request,
            ngettext(
                "%(count)d cart could not be changed: %(details)s",
                "%(count)d carts could not be changed: %(details)s",
                len(failures),
            )
            % {
                "count": len(failures),
                "details": "; ".join(f"{cart_id}: {reason}" for cart_id, reason in failures),
            },
        )


class ActionPermissionRequiredMixin:
    """The confirmation page (GET) and the action (POST) need the same permission: a user who
    may never do this action gets a 403 before any cart is looked up, so a refused user sees no
    customer name or e-mail. Carts whose *state* refuses the action are still listed (by number
    only) for users who hold the permission."""

    def dispatch(self, request, *args, **kwargs):
        if not self.permission_policy.user_has_permission(request.user, self.action.name):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ReportSkippedMixin:
    """Carts that no longer pass the per-instance check when the form is posted (another admin
    changed them after the confirmation page) are skipped and named, never silently dropped."""

    def prepare_action(self, objects, objects_without_access):
        skipped = objects_without_access.get("items_with_no_access") or []
        if skipped:
            messages.warning(
                self.request,
                ngettext(
                    "%(count)d cart was left unchanged (its state or your permissions do not allow it): %(carts)s",
                    "%(count)d carts were left unchanged (their state or your permissions do not allow it): %(carts)s",
                    len(skipped),
                )
                % {"count": len(skipped), "carts": ", ".join(str(cart.pk) for cart in skipped)},
            )
        return super().prepare_action(objects, objects_without_access)


class CartBulkAction(ActionPermissionRequiredMixin, ReportSkippedMixin, SnippetBulkAction):
    """A cart action of :mod:`~wagtail_lockedcarts.admin.display` on many carts, run through
    Wagtail's :meth:`form_valid` (``before_bulk_action`` / ``after_bulk_action`` hooks, one
    transaction). Every cart is audit-logged by lifecycle through ``log()``; Wagtail's admin
    log context gives all entries of one bulk action the same UUID."""

    models = [Cart]
    #: The :class:`~wagtail_lockedcarts.admin.display.AdminAction` run on each cart.
    action = None
    template_name = "wagtail_lockedcarts/admin/bulk_confirm.html"
    confirmation_message = ""
    action_button_text = _("Yes, continue")
    no_access_message = _(
        "These carts cannot be changed this way (their state does not allow it, or you lack the permission):"
    )

    def check_perm(self, obj):
        return self.permission_policy.user_has_permission_for_instance(self.request.user, self.action.name, obj)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "confirmation_message": self.confirmation_message,
            "action_button_text": self.action_button_text,
            "no_access_message": self.no_access_message,
            "page_title": self.display_name,
        }

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        view = kwargs["self"]
        return run_each(objects, view.request, view.action)


def run_each(objects, request, action):
    """Run ``action`` on each cart through lifecycle; report the ones it could not change."""
    done, failures = 0, []
    for cart in objects:
        try:
            outcome = action.perform(cart, request.user)
        except LockedCartsError as error:
            failures.append((cart.pk, str(error.message)))
            continue
        if outcome is not None and not getattr(outcome, "changed", True):
            failures.append((cart.pk, str(outcome.message or _("already done by someone else"))))
        else:
            done += 1
    _report_failures(request, failures)
    return done, 0


class UnlockCartsBulkAction(CartBulkAction):
    display_name = _("Unlock")
    action_type = "unlock_carts"
    aria_label = _("Unlock selected carts")
    action_priority = 20
    action = display.action_named(Cart, "unlock")
    confirmation_message = _("These carts open again: their shoppers can change them and check out once more.")
    action_button_text = _("Yes, unlock")

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d cart unlocked.", "%(count)d carts unlocked.", num_parent_objects) % {
            "count": num_parent_objects
        }


class CheckPayPalBulkAction(CartBulkAction):
    """Asks PayPal about each cart, one at a time, once the bulk action's transaction has
    committed: no database row lock may be held while waiting for PayPal. The hooks run as for
    any bulk action; the ``after_bulk_action`` hook sees the carts the check was started for."""

    display_name = _("Check with PayPal")
    action_type = "check_paypal"
    aria_label = _("Check the selected carts with PayPal")
    action_priority = 30
    action = display.action_named(Cart, "check")
    confirmation_message = _("PayPal is asked for the current state of each cart's payment and the answer is applied.")
    action_button_text = _("Yes, ask PayPal")

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        view = kwargs["self"]
        transaction.on_commit(lambda: view.check_each(objects))
        return len(objects), 0

    def check_each(self, objects):
        checked = run_each(objects, self.request, self.action)[0]
        if checked:
            messages.success(
                self.request,
                ngettext("%(count)d cart checked with PayPal.", "%(count)d carts checked with PayPal.", checked)
                % {"count": checked},
            )

    def get_success_message(self, num_parent_objects, num_child_objects):
        return None  # reported by check_each, once PayPal answered


class DeleteCartsBulkAction(ActionPermissionRequiredMixin, ReportSkippedMixin, DeleteBulkAction):
    """Wagtail's snippet bulk delete (its ``before/after_delete_snippet`` hooks included), each
    cart deleted through lifecycle with its audit snapshot."""

    models = [Cart]
    aria_label = _("Delete selected carts")
    action = display.action_named(Cart, "delete")

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        view = kwargs["self"]
        return run_each(objects, view.request, view.action)

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d cart deleted.", "%(count)d carts deleted.", num_parent_objects) % {
            "count": num_parent_objects
        }
