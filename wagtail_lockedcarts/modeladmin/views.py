"""modeladmin views with the snippet screens' rules: Cart/Order Details with lines, read-only
carts sent to their details, edits limited to the customer fields of open carts, and history
only for users who may see the object."""

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail_modeladmin.views import EditView, HistoryView, InspectView

from wagtail_lockedcarts import lifecycle, rules
from wagtail_lockedcarts.admin.display import cart_summary_rows, order_summary_rows
from wagtail_lockedcarts.exceptions import InvalidTransition
from wagtail_lockedcarts.models import Cart


class CartInspectView(InspectView):
    page_title = _("Cart Details")

    def get_context_data(self, **kwargs):
        cart = Cart.objects.for_admin().prefetch_related("lines", "payment_attempts").get(pk=self.instance.pk)
        return super().get_context_data(
            summary_rows=cart_summary_rows(cart),
            lines=list(cart.lines.all()),
            payment_attempts=list(cart.payment_attempts.all()),
            history_url=self.url_helper.get_action_url("history", quote(cart.pk)),
            object=cart,
            **kwargs,
        )


class OrderInspectView(InspectView):
    page_title = _("Order Details")

    def get_context_data(self, **kwargs):
        order = self.instance
        return super().get_context_data(
            summary_rows=order_summary_rows(order),
            lines=list(order.lines.all()),
            history_url=self.url_helper.get_action_url("history", quote(order.pk)),
            object=order,
            **kwargs,
        )


class CartEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        if not rules.cart_allows("change", self.instance):
            messages.warning(request, _("Only open carts can be edited. This is the cart's read-only details screen."))
            return redirect(self.url_helper.get_action_url("inspect", quote(self.instance.pk)))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            cart = form.instance
            lifecycle.update_customer(
                cart, self.request.user, **{name: getattr(cart, name) for name in rules.CUSTOMER_FIELDS}
            )
        except InvalidTransition as error:
            messages.error(self.request, error.message)
            return redirect(self.url_helper.get_action_url("inspect", quote(self.instance.pk)))
        messages.success(self.request, self.get_success_message(self.instance))
        return redirect(self.get_success_url())


class ProtectedHistoryView(HistoryView):
    """wagtail-modeladmin's history view checks no permission at all; carts carry customer data."""

    def check_action_permitted(self, user):
        return self.permission_helper.user_can_inspect_obj(user, self.instance)

    def dispatch(self, request, *args, **kwargs):
        if not self.check_action_permitted(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
