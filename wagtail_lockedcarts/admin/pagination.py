"""A paginator that stops counting: past ``LISTING_COUNT_LIMIT`` rows the listing says "more
than 10,000" instead of counting a million carts on every view.

The count is ``SELECT COUNT(*) FROM (SELECT id … LIMIT limit + 1)``: it reads at most ``limit + 1``
index entries whatever the table size, and PostgreSQL's own row estimates are too coarse for a
filtered or searched listing. Pages beyond the limit are not offered (a deep ``OFFSET`` costs as
much as the rows it skips); sorting the other way, filtering or searching reaches any cart.
"""

from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from wagtail.admin.paginator import WagtailPaginator

from wagtail_lockedcarts import conf


class CappedPaginator(WagtailPaginator):
    @cached_property
    def limit(self):
        return int(conf.get("LISTING_COUNT_LIMIT"))

    @cached_property
    def _capped_count(self):
        queryset = self.object_list
        if not hasattr(queryset, "values"):
            return len(queryset), False
        found = queryset.order_by().values("pk")[: self.limit + 1].count()
        return min(found, self.limit), found > self.limit

    @cached_property
    def count(self):
        return self._capped_count[0]

    @cached_property
    def is_capped(self):
        """True when there are more rows than :attr:`count` says."""
        return self._capped_count[1]

    @cached_property
    def count_display(self):
        """ "12" or "more than 10,000" (localised), for headings."""
        count = number_format(self.count, force_grouping=True)
        return _("more than %(count)s") % {"count": count} if self.is_capped else count

    @cached_property
    def items_count_label(self):
        if not self.is_capped:
            return super().items_count_label
        return _("More than %(count)s %(items)s") % {
            "count": number_format(self.count, force_grouping=True),
            "items": self.verbose_name_plural,
        }
