from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from benchmarks.models import StockRow, UnorderedStockRow


class StockRowViewSet(SnippetViewSet):
    """Nothing customised: Wagtail's stock listing."""

    model = StockRow


class UnorderedStockRowViewSet(SnippetViewSet):
    """Nothing customised: Wagtail's stock listing of a model without ``Meta.ordering``."""

    model = UnorderedStockRow


register_snippet(StockRowViewSet)
register_snippet(UnorderedStockRowViewSet)
