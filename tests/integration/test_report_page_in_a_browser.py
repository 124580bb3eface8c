"""The nightly report page in a real browser (Debian's chromium, headless): it loads with no
console error and no request beyond the file, every chart is drawn, and a screenshot of
it, kept in test-artifacts/, is far from blank.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from siloscope.config import load_config
from siloscope.pipeline import build, publish, report_page, run_all
from siloscope.settings import Settings
from tests.integration.headless_chromium import HeadlessChromium
from tests.integration.png_pixels import decode_png
from transforms.build import BuildWindow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
NIGHT = datetime(2026, 11, 1, tzinfo=UTC)
NIGHTS = 3

CHARTS_DRAWN = """
Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('circle, rect, path, line'))
    .filter(mark => { const b = mark.getBBox(); return b.width > 0 || b.height > 0; });
  const labels = Array.from(svg.querySelectorAll('text'))
    .filter(text => text.getComputedTextLength() > 0);
  return {chart: svg.dataset.chart, width: box.width, height: box.height,
          marks: marks.length, labels: labels.length};
})
"""


@pytest.fixture(scope="module")
def nightly_page(tmp_path_factory):
    """The simulated organisation, three nightly snapshots, published, page drawn."""
    root = tmp_path_factory.mktemp("report-page")
    document = yaml.safe_load((REPO / "config" / "acme.yaml").read_text())
    config_path = root / "acme.yaml"
    config_path.write_text(yaml.safe_dump(document))
    settings = Settings.resolve(config_path, root / "siloscope.duckdb", str(root / "landing"))
    run_all(settings, "browser-test", NIGHT)
    config = load_config(config_path)
    for night in range(NIGHTS):
        end = NIGHT - timedelta(days=NIGHTS - 1 - night)
        build(settings, config, BuildWindow.rolling(end, config.rolling_window_days))
    publish(settings, config, NIGHT)
    return report_page(settings, config)


@pytest.fixture(scope="module")
def visit(nightly_page):
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(nightly_page, ARTIFACTS / "report-page.html")
    with HeadlessChromium(width=1280, height=900) as browser:
        page = browser.open(nightly_page)
        charts = browser.evaluate(CHARTS_DRAWN)
        title = browser.evaluate("document.title")
        png = browser.screenshot(ARTIFACTS / "report-page.png")
    return page, charts, title, png


def test_the_page_loads_without_console_errors_or_network_requests(visit):
    page, _, title, _ = visit
    assert page.loaded
    assert page.console_errors == []
    assert page.network_requests == []
    assert title.startswith("Siloscope: Acme")


def test_every_chart_is_drawn_with_marks_and_labels(visit):
    _, charts, _, _ = visit
    kinds = [c["chart"] for c in charts]
    assert kinds == [
        "network",
        "heatmap",
        "first-response",
        "verdict-trend",
        "department-trend",
        "fragmented",
    ]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 150, chart
        assert chart["marks"] >= 5, chart
        assert chart["labels"] >= 5, chart
    network = next(c for c in charts if c["chart"] == "network")
    # five department circles and four lines from the glue department at least
    assert network["marks"] >= 5 + 4


def _colour_near(pixels: set[bytes], hex_colour: str, tolerance: int = 3) -> bool:
    wanted = bytes.fromhex(hex_colour.lstrip("#"))
    return any(all(abs(p[i] - wanted[i]) <= tolerance for i in range(3)) for p in pixels)


def test_the_screenshot_is_far_from_blank(visit):
    *_, png = visit
    width, height, rows = decode_png(png)
    assert width == 1280 and height > 2000  # the whole page, not one screen
    background = bytes.fromhex("F5F7FA")
    colours: set[bytes] = set()
    painted = total = 0
    for row in rows[::4]:
        for x in range(0, len(row), 12):  # every 4th pixel of every 4th row
            pixel = row[x : x + 3]
            colours.add(pixel)
            total += 1
            painted += pixel not in (background, b"\xff\xff\xff")
    assert len(colours) > 100, len(colours)
    assert painted / total > 0.05, painted / total
    # the glued verdict's colour and the glue department's node are on screen
    assert _colour_near(colours, "#00775A")
    assert _colour_near(colours, "#009E73")
