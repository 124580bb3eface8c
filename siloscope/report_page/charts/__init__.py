"""Inline SVG charts, drawn in Python: the page needs no script, font or file from anywhere.

Every chart is an <svg role="img"> with a <title> and a <desc> a screen reader reads
out, and `data-*` attributes on its marks, so a test (or a curious reader of the source)
can tell which number each mark stands for. The charts come in three groups:

    departments.py  network_chart, heatmap_chart: how departments work together
    customers.py    first_response_chart, fragmented_chart: what customers meet
    trends.py       verdict_trend_chart, department_trend_chart: night by night

Their building blocks are in ../svg.py (frame, text, empty state), ../palette.py (colours)
and ../formatting.py (numbers and days as text, shared with the page).
"""

from siloscope.report_page.charts.customers import first_response_chart, fragmented_chart
from siloscope.report_page.charts.departments import heatmap_chart, network_chart
from siloscope.report_page.charts.trends import department_trend_chart, verdict_trend_chart

__all__ = [
    "department_trend_chart",
    "first_response_chart",
    "fragmented_chart",
    "heatmap_chart",
    "network_chart",
    "verdict_trend_chart",
]
