"""The one view behind every admin action (Confirm Order, Unlock Cart, Delete Cart, Check PayPal
now, Release order on hold, Retry export): GET shows what will happen, POST does it.

It is Wagtail's :class:`~wagtail.admin.views.generic.base.BaseOperationView` (object lookup,
``next`` handling, success message, redirect) with a confirmation page, run by an
:class:`~wagtail_lockedcarts.admin.display.AdminAction` that the viewset passes in: the view holds
no action of its own.

Order of checks in :meth:`AdminActionView.dispatch`, and why:

1. the user's *model* permission (``confirm_cart`` …) — lacking it is a 403, whatever the object;
2. the object still exists — if someone deleted it meanwhile, say so and change nothing;
3. the action still fits the object's state — a stale page (confirmed by someone else) gets an
   explanation, not a 403, and nothing changes;
4. the per-instance policy — anything a site's own policy forbids beyond that is a 403.

The lifecycle functions re-check the state under a row lock, so a race lost between GET and POST
ends as an :class:`~wagtail_lockedcarts.exceptions.InvalidTransition` message, never a change.
"""

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail.admin import messages
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import BaseOperationView, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from wagtail_lockedcarts.admin.display import points_at
from wagtail_lockedcarts.exceptions import LockedCartsError


class AdminActionView(PermissionCheckedMixin, WagtailAdminTemplateMixin, BaseOperationView):
    """Confirmation page (GET) and operation (POST) of ``action`` on one object. The viewset
    sets ``model``, ``action`` and the URL names; subclasses set the texts shared by a model's
    actions and :meth:`get_summary`."""

    action = None
    template_name = "wagtail_lockedcarts/admin/confirm_action.html"
    index_url_name = None
    inspect_url_name = None
    header_icon = ""
    submit_label = _("Yes, continue")
    cancel_label = _("No, go back")
    gone_message = _("This item no longer exists; it may have been deleted by someone else.")
    #: Shown when the object moved on meanwhile; may use %(status)s (its status now) and %(action)s.
    stale_message = _("This action no longer applies; nothing was changed.")

    def setup(self, request, *args, **kwargs):
        try:
            super().setup(request, *args, **kwargs)
        except Http404:
            # Deleted meanwhile: dispatch explains this instead of a bare 404.
            self.object = None
            self.next_url = get_valid_next_url_from_request(request)

    @property
    def page_title(self):
        return self.action.page_title

    def forbidden(self):
        """A real 403: Wagtail would turn a raised PermissionDenied into a redirect to the
        dashboard, which hides from scripts and tests that a state change was refused."""
        return permission_denied(self.request, PermissionDenied())

    def dispatch(self, request, *args, **kwargs):
        action = self.action.name
        if not self.user_has_permission(action):
            return self.forbidden()
        if self.object is None:
            messages.warning(request, self.gone_message)
            return redirect(self.get_fallback_url(gone=True))
        if not self.state_allows():
            messages.warning(request, self.get_stale_message())
            return redirect(self.get_fallback_url())
        if not self.user_has_permission_for_instance(action, self.object):
            return self.forbidden()
        return super().dispatch(request, *args, **kwargs)

    def state_allows(self):
        """Whether the action fits the object's state, whoever asks (a stale page, not a 403)."""
        raise NotImplementedError

    def get_stale_message(self):
        return self.stale_message % {"status": self.object.get_status_display(), "action": self.page_title}

    # URLs -----------------------------------------------------------------------------------

    @cached_property
    def index_url(self):
        return reverse(self.index_url_name)

    def get_inspect_url(self):
        if self.object is not None and self.inspect_url_name:
            return reverse(self.inspect_url_name, args=(quote(self.object.pk),))

    def get_fallback_url(self, gone=False):
        """``next`` unless it leads to an object that is gone, else the object, else the listing."""
        if self.next_url and not (gone and self._next_points_at_object()):
            return self.next_url
        if not gone and self.get_inspect_url():
            return self.get_inspect_url()
        return self.index_url

    def _next_points_at_object(self):
        return points_at(self.next_url, self.pk)

    def get_success_url(self):
        return self.get_fallback_url(gone=self.action.removes_object)

    def get_cancel_url(self):
        return self.next_url or self.get_inspect_url() or self.index_url

    # Rendering ------------------------------------------------------------------------------

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        items = [{"url": self.index_url, "label": capfirst(self.model._meta.verbose_name_plural)}]
        if self.get_inspect_url():
            items.append({"url": self.get_inspect_url(), "label": str(self.object)})
        items.append({"url": "", "label": self.get_page_title(), "sublabel": str(self.object)})
        return self.breadcrumbs_items + items

    def get_summary(self):
        """(label, value) pairs shown above the form, so the admin sees what they act on."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            action=self.action,
            confirmation_message=self.action.confirmation_message,
            submit_label=self.action.submit_label or self.submit_label,
            cancel_label=self.cancel_label,
            submit_classname="button serious" if self.action.serious else "button",
            action_url=self.request.path,
            next_url=self.next_url,
            cancel_url=self.get_cancel_url(),
            summary=self.get_summary(),
            form=self.form,
        )
        return context

    # Handlers -------------------------------------------------------------------------------

    @cached_property
    def form(self):
        """The action's form (a reason, an acknowledgement …) or None. Its cleaned data is
        passed to the lifecycle call as keyword arguments."""
        if self.action.form_class is None:
            return None
        return self.action.form_class(self.object, **self.get_form_kwargs())

    def get_form_kwargs(self):
        return {"data": self.request.POST} if self.request.method == "POST" else {}

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data())

    def perform_operation(self):
        options = self.form.cleaned_data if self.form is not None else {}
        self.outcome = self.action.perform(self.object, self.request.user, **options)

    def get_success_message(self):
        return self.action.format_success_message(self.object, self.outcome)

    def add_success_message(self):
        if self.outcome.changed:
            super().add_success_message()
        else:
            messages.warning(self.request, self.outcome.message or self.get_stale_message())

    def post(self, request, *args, **kwargs):
        if self.form is not None and not self.form.is_valid():
            messages.validation_error(request, _("The action could not be run. Please check the form."), self.form)
            return self.render_to_response(self.get_context_data(), status=400)
        try:
            return super().post(request, *args, **kwargs)
        except LockedCartsError as error:
            messages.error(request, error.message)
            still_there = self.get_base_object_queryset().filter(pk=self.object.pk).exists()
            return redirect(self.get_fallback_url(gone=not still_there))
