"""Bulk actions on the Cart Management listing: Unlock, Delete, Check with PayPal.

Each cart goes through the same lifecycle function as the single-cart action (so each gets its
own audit entry), and each is checked per instance through the policy registry. Carts the user
may not act on are listed on the confirmation page; carts whose state changed between that page
and the POST are reported afterwards, untouched.

*Delete* replaces Wagtail's snippet bulk delete for carts (same ``action_type``, registered with
``order=1`` so it wins whatever the INSTALLED_APPS order): the built-in one would delete rows
without lifecycle and without the audit snapshot.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_q.tasks import async_task
from wagtail.admin import messages
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from wagtail_lockedcarts import lifecycle
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


def run_each(objects, request, action, **kwargs):
    """Run ``action`` on each cart through lifecycle; report the ones it could not change."""
    done, failures = 0, []
    for cart in objects:
        try:
            outcome = action.perform(cart, request.user, **kwargs)
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
    """Queues one django-q2 task that asks PayPal about each cart, once the bulk action's
    transaction has committed: the request returns at once however slow PayPal is, and no row
    lock is held while waiting for it. Each cart's answer goes to its history; the task's result
    holds one message per cart. The hooks run as for any bulk action."""

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
        cart_ids = [cart.pk for cart in objects]
        user_id = view.request.user.pk
        transaction.on_commit(
            lambda: async_task(
                "wagtail_lockedcarts.background.tasks.check_carts_with_paypal",
                cart_ids,
                user_id,
                group="wagtail_lockedcarts.check_paypal",
            )
        )
        return len(objects), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "PayPal is being asked about %(count)d cart in the background; its answer appears in the cart's history.",
            "PayPal is being asked about %(count)d carts in the background; each answer appears in the cart's history.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class AcknowledgePaymentsForm(forms.Form):
    acknowledge_payment = forms.BooleanField(
        label=_("I understand that PayPal holds money for some of these carts; their payment records stay."),
        required=False,
    )


class DeleteCartsBulkAction(ActionPermissionRequiredMixin, ReportSkippedMixin, DeleteBulkAction):
    """Wagtail's snippet bulk delete (its ``before/after_delete_snippet`` hooks included), each
    cart deleted through lifecycle with its audit snapshot. Carts PayPal holds money for are
    named with the amount on the confirmation page and are deleted only with the acknowledgement;
    without it they are left and reported."""

    models = [Cart]
    aria_label = _("Delete selected carts")
    action = display.action_named(Cart, "delete")
    form_class = AcknowledgePaymentsForm
    template_name = "wagtail_lockedcarts/admin/bulk_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        held = []
        for item in context.get("items", []):
            payment = lifecycle.money_at_paypal(item["item"])
            if payment is not None:
                held.append((item["item"], lifecycle.payment_held_message(payment)))
        context["payments_held"] = held
        return context

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        view = kwargs["self"]
        acknowledged = bool(view.cleaned_form.cleaned_data.get("acknowledge_payment"))
        return run_each(objects, view.request, view.action, acknowledge_payment=acknowledged)

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d cart deleted.", "%(count)d carts deleted.", num_parent_objects) % {
            "count": num_parent_objects
        }
