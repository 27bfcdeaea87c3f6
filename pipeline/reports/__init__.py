"""Report writers shared by plan and reconcile: one table model, written as xlsx, CSV and HTML."""

from pipeline.reports.flat import write_csv
from pipeline.reports.html import Chart, render_page
from pipeline.reports.table import Column, Sheet, counts_by, totals_by
from pipeline.reports.xlsx import write_workbook

__all__ = [
    "Chart",
    "Column",
    "Sheet",
    "counts_by",
    "render_page",
    "totals_by",
    "write_csv",
    "write_workbook",
]
