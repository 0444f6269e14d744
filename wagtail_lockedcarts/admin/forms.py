"""Forms of the admin actions that need more than a click: Confirm Order when the amounts differ,
Delete Cart when PayPal holds money for the cart, and resolving an unmatched payment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts import lifecycle
from wagtail_lockedcarts.models import PaymentResolution


class ConfirmOrderForm(forms.Form):
    """Asks for an explicit "yes, the difference is right" and a reason, only when PayPal
    captured an amount that differs from the cart total."""

    accept_difference = forms.BooleanField(
        label=_("I confirm the order although the cart total differs from the amount PayPal captured"),
        required=False,
    )
    override_reason = forms.CharField(
        label=_("Reason (kept in the audit log)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, obj, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.check = lifecycle.amount_check(obj)
        if self.check.matches is not False:
            del self.fields["accept_difference"]
            del self.fields["override_reason"]

    def clean(self):
        data = super().clean()
        if self.check.matches is False:
            if not data.get("accept_difference"):
                self.add_error("accept_difference", _("The amounts differ: confirm the difference to go on."))
            if not (data.get("override_reason") or "").strip():
                self.add_error("override_reason", _("Say why the order may differ from what PayPal captured."))
        return data


class DeleteCartForm(forms.Form):
    """Asks for an acknowledgement when PayPal holds (or may still capture) money for the cart."""

    acknowledge_payment = forms.BooleanField(required=False)

    def __init__(self, obj, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held = lifecycle.money_at_paypal(obj)
        if self.held is None:
            del self.fields["acknowledge_payment"]
        else:
            self.fields["acknowledge_payment"].label = _(
                "%(held)s I understand; the payment record stays and shows as unmatched."
            ) % {"held": lifecycle.payment_held_message(self.held)}

    def clean(self):
        data = super().clean()
        if self.held is not None and not data.get("acknowledge_payment"):
            self.add_error("acknowledge_payment", _("PayPal holds money for this cart: acknowledge it to delete."))
        return data


class ResolvePaymentForm(forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=PaymentResolution.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note (kept in the audit log)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
