from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from benchmarks.models import StockRow


class StockRowViewSet(SnippetViewSet):
    """Nothing customised: Wagtail's stock listing."""

    model = StockRow


register_snippet(StockRowViewSet)
