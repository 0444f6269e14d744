"""The "floor": a trivial model listed by Wagtail's stock ``SnippetViewSet`` (wagtail_hooks.py).

The benchmark fills it with as many rows as there are carts and measures its listing in the same
loop as our admin pages, so each page's cost can be read as a multiple of what Wagtail itself
costs for a listing of that size on this machine.
"""

from django.db import models


class StockRow(models.Model):
    title = models.CharField(max_length=255)

    def __str__(self):
        return self.title
