"""The building block of every admin action (confirm, unlock, delete, check PayPal, release,
retry export): GET shows what will happen, POST does it through :mod:`lifecycle`.

Order of checks in :meth:`ObjectActionView.dispatch`, and why:

1. the user's *model* permission (``confirm_cart`` …) — lacking it is a 403, whatever the object;
2. the object still exists — if someone deleted it meanwhile, say so and change nothing;
3. the action still fits the object's state — a stale page (confirmed by someone else) gets an
   explanation, not a 403, and nothing changes;
4. the per-instance policy — anything a site's own policy forbids beyond that is a 403.

The lifecycle functions re-check the state under a row lock, so a race lost between GET and POST
ends as an :class:`~wagtail_lockedcarts.exceptions.InvalidTransition` message, never a change.
"""

from dataclasses import dataclass

from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permissions import policy_registry

from wagtail_lockedcarts.exceptions import LockedCartsError


@dataclass(frozen=True)
class ActionSpec:
    """One admin action: policy action name, URL name in the viewset namespace, and its button."""

    action: str
    url_name: str
    label: str
    icon: str
    priority: int
    serious: bool = False


@dataclass(frozen=True)
class ActionLink:
    spec: ActionSpec
    url: str

    @property
    def label(self):
        return self.spec.label

    @property
    def icon(self):
        return self.spec.icon

    @property
    def priority(self):
        return self.spec.priority


def action_links(model, namespace, specs, user, instance, next_url=None):
    """The actions ``user`` may run on ``instance`` now (state and permission), as links to
    their confirmation pages. Asks the policy registry, so every screen agrees."""
    policy = policy_registry.get_by_type(model)
    links = []
    for spec in specs:
        if policy.user_has_permission_for_instance(user, spec.action, instance):
            url = reverse(f"{namespace}:{spec.url_name}", args=(quote(instance.pk),))
            if next_url:
                url += "?" + urlencode({"next": next_url})
            links.append(ActionLink(spec, url))
    return links


class ObjectActionView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Confirmation page (GET) and action (POST) for one object. Subclasses set ``model``,
    ``action`` and the texts, and implement :meth:`state_allows` and :meth:`perform`."""

    model = None
    action = None
    template_name = "wagtail_lockedcarts/admin/confirm_action.html"
    index_url_name = None
    inspect_url_name = None
    header_icon = ""
    page_title = ""
    #: What will happen, shown on the confirmation page.
    confirmation_message = ""
    submit_label = _("Yes, continue")
    cancel_label = _("No, go back")
    submit_classname = "button"
    gone_message = _("This item no longer exists; it may have been deleted by someone else.")
    pk_url_kwarg = "pk"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        pk = unquote(str(self.kwargs[self.pk_url_kwarg]))
        self.object = self.get_queryset().filter(pk=pk).first()

    def get_queryset(self):
        return self.model._default_manager.all()

    def state_allows(self, obj):
        raise NotImplementedError

    def perform(self):
        """Run the lifecycle function; return its Outcome (may raise LockedCartsError)."""
        raise NotImplementedError

    #: Shown when the object moved on meanwhile; may use %(status)s (its status now) and %(action)s.
    stale_message = _("This action no longer applies; nothing was changed.")

    def get_stale_message(self):
        return self.stale_message % {"status": self.object.get_status_display(), "action": self.page_title}

    def get_success_message(self, outcome):
        raise NotImplementedError

    def forbidden(self):
        """A real 403: Wagtail would turn a raised PermissionDenied into a redirect to the
        dashboard, which hides from scripts and tests that a state change was refused."""
        return permission_denied(self.request, PermissionDenied())

    def dispatch(self, request, *args, **kwargs):
        if not self.user_has_permission(self.action):
            return self.forbidden()
        if self.object is None:
            messages.warning(request, self.gone_message)
            return redirect(self.get_fallback_url(gone=True))
        if not self.state_allows(self.object):
            messages.warning(request, self.get_stale_message())
            return redirect(self.get_fallback_url())
        if not self.user_has_permission_for_instance(self.action, self.object):
            return self.forbidden()
        return super().dispatch(request, *args, **kwargs)

    # URLs -----------------------------------------------------------------------------------

    @cached_property
    def index_url(self):
        return reverse(self.index_url_name)

    def get_inspect_url(self):
        if self.object is not None and self.inspect_url_name:
            return reverse(self.inspect_url_name, args=(quote(self.object.pk),))

    def get_next_url(self):
        return get_valid_next_url_from_request(self.request)

    def get_fallback_url(self, gone=False):
        next_url = self.get_next_url()
        if next_url and not (gone and self._points_at_object(next_url)):
            return next_url
        if not gone and self.get_inspect_url():
            return self.get_inspect_url()
        return self.index_url

    def _points_at_object(self, url):
        path = url.split("?")[0]
        pk = quote(self.kwargs[self.pk_url_kwarg])
        return path.rstrip("/").endswith(f"/{pk}")

    def get_success_url(self, outcome=None):
        return self.get_next_url() or self.get_inspect_url() or self.index_url

    def get_cancel_url(self):
        return self.get_next_url() or self.get_inspect_url() or self.index_url

    # Rendering ------------------------------------------------------------------------------

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        items = [{"url": self.index_url, "label": capfirst(self.model._meta.verbose_name_plural)}]
        if self.get_inspect_url():
            items.append({"url": self.get_inspect_url(), "label": str(self.object)})
        items.append({"url": "", "label": self.get_page_title(), "sublabel": str(self.object)})
        return self.breadcrumbs_items + items

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            confirmation_message=self.confirmation_message,
            submit_label=self.submit_label,
            cancel_label=self.cancel_label,
            submit_classname=self.submit_classname,
            action_url=self.request.path,
            next_url=self.get_next_url() or "",
            cancel_url=self.get_cancel_url(),
            summary=self.get_summary(),
        )
        return context

    def get_summary(self):
        """(label, value) pairs shown above the form, so the admin sees what they act on."""
        return []

    # Handlers -------------------------------------------------------------------------------

    def post(self, request, *args, **kwargs):
        try:
            outcome = self.perform()
        except LockedCartsError as error:
            messages.error(request, error.message)
            still_there = self.get_queryset().filter(pk=self.object.pk).exists()
            return redirect(self.get_fallback_url(gone=not still_there))
        if outcome.changed:
            messages.success(request, self.get_success_message(outcome))
        else:
            messages.warning(request, outcome.message or self.get_stale_message())
        return redirect(self.get_success_url(outcome))
