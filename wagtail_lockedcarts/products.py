"""How a cart line learns its title and price: the site decides (``PRODUCT_RESOLVER``)."""

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.exceptions import ProductNotFound


@dataclass(frozen=True)
class ProductInfo:
    key: str
    title: str
    unit_price: Decimal
    sku: str = ""


def product_key(instance):
    """The key under which the default resolver finds ``instance`` again."""
    return f"{instance._meta.label_lower}:{instance.pk}"


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
