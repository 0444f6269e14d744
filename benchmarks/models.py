"""The "floor": trivial models listed by Wagtail's stock ``SnippetViewSet`` (wagtail_hooks.py).

The benchmark fills each with as many rows as there are carts and measures its listing in the
same loop as our admin pages, so each page's cost can be read as a multiple of what Wagtail itself
costs for a listing of that size on this machine.

Two of them, because Wagtail 8's snippet listing orders differently by model:

* :class:`StockRow` has a plain ``Meta.ordering``: the listing walks the primary key and computes
  the "Updated" column (a subquery on the log entries) for the 20 rows shown. This is the floor
  (F0), and the shape issue 13's figures (79 → 152 ms) fit.
* :class:`UnorderedStockRow` has none: Wagtail then orders by that "Updated" subquery, so every
  row's latest log entry is looked up before the first page can be cut (F0u; at 1M it costs
  seconds). Reported next to the floor, never used as one.
"""

from django.db import models


class StockRow(models.Model):
    title = models.CharField(max_length=255)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.title


class UnorderedStockRow(models.Model):
    title = models.CharField(max_length=255)

    def __str__(self):
        return self.title
