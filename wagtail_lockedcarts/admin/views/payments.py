"""Unmatched payments: money PayPal holds that no order accounts for, because the cart was
deleted or moved on to another checkout. Listed until an admin resolves each one with a note
(create the order from the paid snapshot, or record that it was refunded at PayPal)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.admin.forms import ResolvePaymentForm
from wagtail_lockedcarts.exceptions import LockedCartsError
from wagtail_lockedcarts.models import PaymentAttempt

RESOLVE_PERMISSION = "wagtail_lockedcarts.resolve_payment"


def user_sees_payments(user):
    return user.has_perm(RESOLVE_PERMISSION) or user.has_perm("wagtail_lockedcarts.confirm_cart")


class UnmatchedPaymentsMenuItem(MenuItem):
    """*Unmatched payments* in the sidebar, after *Cart Management* and *Orders*, for the users
    the screen lets in (those who may resolve a payment or confirm a cart); nobody else sees it."""

    def is_shown(self, request):
        return user_sees_payments(request.user)


def unmatched_payments_menu_item():
    label = _("Unmatched payments")
    return UnmatchedPaymentsMenuItem(
        label,
        reverse_lazy("wagtail_lockedcarts_payments:unmatched"),
        name="lockedcarts-unmatched-payments",
        icon_name="warning",
        # The expanded sidebar cuts a label this long ("Unmatched payme…"): the full one on hover.
        attrs={"title": label},
        order=212,
    )


class PaymentPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not user_sees_payments(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class UnmatchedPaymentsView(PaymentPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_lockedcarts/admin/unmatched_payments.html"
    page_title = _("Unmatched payments")
    header_icon = "warning"

    def get_context_data(self, **kwargs):
        payments = (
            PaymentAttempt.objects.unmatched().select_related("cart", "site").prefetch_related("events").order_by("pk")
        )
        return super().get_context_data(
            payments=payments, can_resolve=self.request.user.has_perm(RESOLVE_PERMISSION), **kwargs
        )


class ResolvePaymentView(PaymentPermissionMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "wagtail_lockedcarts/admin/resolve_payment.html"
    form_class = ResolvePaymentForm
    page_title = _("Resolve unmatched payment")
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(RESOLVE_PERMISSION):
            raise PermissionDenied
        self.payment = get_object_or_404(PaymentAttempt.objects.prefetch_related("events"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(payment=self.payment, **kwargs)

    def form_valid(self, form):
        try:
            outcome = lifecycle.resolve_payment(
                self.payment, self.request.user, form.cleaned_data["resolution"], form.cleaned_data["note"]
            )
        except LockedCartsError as error:
            messages.error(self.request, error.message)
            return redirect(reverse("wagtail_lockedcarts_payments:unmatched"))
        if outcome.order is not None:
            messages.success(
                self.request,
                _("Order %(order)s created from the paid snapshot.") % {"order": outcome.order.pk},
            )
        else:
            messages.success(self.request, _("Payment marked as resolved."))
        return redirect(reverse("wagtail_lockedcarts_payments:unmatched"))
