from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_lockedcarts.products import PurchasableMixin


class ShopIndexPage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["shop.ProductPage"]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["products"] = ProductPage.objects.child_of(self).live().order_by("title")
        return context


class ProductPage(PurchasableMixin, Page):
    """A product, made purchasable by the package's mixin (its own stricter ``sku`` and ``price``)."""

    sku = models.CharField(max_length=50, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    description = RichTextField(blank=True)

    content_panels = Page.content_panels + [
        *PurchasableMixin.purchasable_panels,
        FieldPanel("description"),
    ]
    parent_page_types = ["shop.ShopIndexPage"]
    subpage_types = []
