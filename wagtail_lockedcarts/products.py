"""How a cart line learns its title and price: the site decides (``PRODUCT_RESOLVER``).

The default resolver sells any model instance that follows the *purchasable protocol*:

- ``title`` and ``price`` (a ``Decimal``), optionally ``sku`` — or a ``get_cart_product_info()``
  returning a :class:`ProductInfo`;
- optionally ``is_available()`` → ``False`` to refuse adding it (sold out, not for sale).

:class:`PurchasableMixin` gives a Wagtail page or snippet all of it, with fields and panels.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.exceptions import ProductNotFound, ProductUnavailable


@dataclass(frozen=True)
class ProductInfo:
    key: str
    title: str
    unit_price: Decimal
    sku: str = ""


def product_key(instance):
    """The key under which the default resolver finds ``instance`` again."""
    return f"{instance._meta.label_lower}:{instance.pk}"


def is_available(instance):
    """The product's own availability hook (``is_available()``); products without one are."""
    hook = getattr(instance, "is_available", None)
    return bool(hook()) if callable(hook) else True


class PurchasableMixin(models.Model):
    """Makes a Wagtail page or snippet something a shopper can add to the cart.

    ``class ProductPage(PurchasableMixin, Page)`` adds ``price``, ``sku`` and ``stock`` (empty =
    not tracked); put ``*PurchasableMixin.purchasable_panels`` into ``content_panels`` (or
    ``panels`` for a snippet) and ``{% add_to_cart_form page %}`` into the template. Override
    :meth:`is_available` for your own stock rule, or :meth:`get_cart_product_info` to change
    what a cart line records. Stock is not reserved by the cart: decrement it when an order is
    made (the ``order_created`` signal).
    """

    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Leave empty if you do not track stock.")
    )

    purchasable_panels = ["price", "sku", "stock"]

    class Meta:
        abstract = True

    @property
    def cart_key(self):
        return product_key(self)

    def is_available(self):
        return self.stock is None or self.stock > 0

    def get_cart_product_info(self):
        return ProductInfo(
            key=product_key(self),
            title=str(getattr(self, "title", self)),
            unit_price=Decimal(self.price).quantize(Decimal("0.01")),
            sku=self.sku or "",
        )


def resolve_model_product(key):
    """Default resolver: ``"app_label.model:pk"`` → a model with ``price`` and ``title`` (or
    ``get_cart_product_info()``). Pages must be live to be sold."""
    try:
        label, pk = str(key).rsplit(":", 1)
        model = apps.get_model(label)
    except (ValueError, LookupError):
        raise ProductNotFound() from None
    try:
        instance = model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError, ValidationError):
        raise ProductNotFound() from None
    if getattr(instance, "live", True) is False:
        raise ProductNotFound()
    if not is_available(instance):
        raise ProductUnavailable()
    if hasattr(instance, "get_cart_product_info"):
        return instance.get_cart_product_info()
    price = getattr(instance, "price", None)
    if price is None:
        raise ProductNotFound()
    return ProductInfo(
        key=product_key(instance),
        title=str(getattr(instance, "title", instance)),
        unit_price=Decimal(str(price)),
        sku=str(getattr(instance, "sku", "") or ""),
    )


def resolve_product(key):
    return import_string(conf.get("PRODUCT_RESOLVER"))(key)
