"""A paginator that stops counting: past ``LISTING_COUNT_LIMIT`` rows the listing says "more
than 10,000" instead of counting a million carts on every view.

The count is ``SELECT COUNT(*) FROM (SELECT id … LIMIT limit + 1)``: it reads at most ``limit + 1``
index entries whatever the table size, and PostgreSQL's own row estimates are too coarse for a
filtered or searched listing. Pages beyond the limit are not offered (a deep ``OFFSET`` costs as
much as the rows it skips); sorting the other way, filtering or searching reaches any cart.
"""

from django.db import connections
from django.db.models import F, Lookup
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


class _AnyOf(Lookup):
    """``column = ANY(%s)`` with the list as one array parameter (PostgreSQL): ``__in`` would bind
    one parameter per id, which costs more in Python than the query costs in PostgreSQL."""

    lookup_name = "lockedcarts_any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        # The column's own type: a cross-type ``int4 = ANY(int8[])`` is not hashed and costs a
        # linear search of the whole list for every row the planner walks.
        column_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{column_type}[])", [*params, list(self.rhs)]


#: How many matches a search narrows to by id (see :func:`narrowed_to_matches`).
NARROW_FACTOR = 5


def narrowed_to_matches(queryset, matches):
    """``queryset`` reduced to the rows of ``matches`` (the same rows, searched), with their ids
    listed in the SQL when there are at most ``NARROW_FACTOR × LISTING_COUNT_LIMIT`` of them.

    On PostgreSQL a search's ``id IN (SELECT … UNION …)`` is a semi-join the planner answers with
    a Seq Scan of the whole table (0.4–0.7 s at 1M carts for a name that 5,000–11,000 carts
    share). Listed ids are fetched through the primary key instead (a bitmap scan), then the page
    is sorted from them, and the capped count reads the same list. The ids cost what the capped
    count cost before; with more matches than that the subquery stays. Elsewhere (SQLite) the
    subquery is answered well as it is.
    """
    if connections[matches.db].vendor != "postgresql":
        return matches
    most = NARROW_FACTOR * int(conf.get("LISTING_COUNT_LIMIT"))
    ids = list(matches.order_by().values_list("pk", flat=True)[: most + 1])
    if len(ids) > most:
        return matches
    return queryset.filter(_AnyOf(F("pk"), ids))
