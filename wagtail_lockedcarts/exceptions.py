from django.utils.translation import gettext_lazy as _


class LockedCartsError(Exception):
    """Base class: every error here carries a message fit to show a shopper or an editor."""

    default_message = _("The cart could not be changed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class CartNotEditable(LockedCartsError):
    """The cart is not open, so its lines are frozen (the amount PayPal holds must not drift)."""

    def __init__(self, cart):
        from wagtail_lockedcarts.models import CartStatus

        self.cart = cart
        messages = {
            CartStatus.AWAITING_PAYMENT: _(
                "Your cart is waiting for PayPal to confirm your payment and cannot be changed."
            ),
            CartStatus.LOCKED: _(
                "Your cart is locked while we check your payment with PayPal. "
                "We will be in touch; it cannot be changed until then."
            ),
            CartStatus.ORDERED: _("This cart has already been ordered."),
        }
        super().__init__(messages.get(cart.status, _("This cart cannot be changed.")))


class InvalidTransition(LockedCartsError):
    default_message = _("That action does not apply to the cart in its current state.")


class EmptyCart(LockedCartsError):
    default_message = _("Your cart is empty.")


class ProductNotFound(LockedCartsError):
    default_message = _("That product is not available.")


class ProductUnavailable(ProductNotFound):
    """The product exists but its ``is_available()`` hook says no (sold out, not for sale)."""

    default_message = _("Sorry, that product is currently unavailable.")


class AmountDiffers(InvalidTransition):
    """Confirm Order on a cart whose total differs from what PayPal captured, without the admin
    accepting the difference and giving a reason."""

    default_message = _(
        "The cart total differs from the amount PayPal captured. Confirm the difference and give a reason."
    )


class PaymentHeldAtPayPal(InvalidTransition):
    """Delete Cart on a cart PayPal holds (or may soon hold) money for, without acknowledgement."""

    default_message = _("PayPal holds money for this cart. Acknowledge that before deleting it.")
