"""HTML renderer: one self-contained file (CSS and plotly.js inlined once, no CDN, works offline).

plotly.js is the *basic* partial bundle (trace types scatter, bar, pie — the report draws only
scatter and bar): reports/vendor/plotly-basic.min.js, the npm package plotly.js-basic-dist-min
at the plotly.js version plotly.py renders for (tests/test_reports.py checks both). It is inlined
gzip-compressed and base64-encoded (≈ 0,5 MB instead of 1,2 MB) and unpacked by the browser's
own DecompressionStream before the charts are drawn; see reports/templates/report.html.j2.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
from functools import lru_cache
from pathlib import Path

import jinja2

from reports.formatting import jinja_filters
from reports.model import Report, Table

TEMPLATES_DIR = Path(__file__).parent / "templates"
PLOTLY_BUNDLE = Path(__file__).parent / "vendor" / "plotly-basic.min.js"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension: source texts are never trusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(jinja_filters())
    return env


@lru_cache(maxsize=1)
def plotly_source() -> str:
    """The vendored partial bundle, as JavaScript text."""
    return PLOTLY_BUNDLE.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """What every page with charts inlines exactly once: the bundle, gzip (mtime 0, so the same
    bytes on every run) and base64 — plain ASCII, safe inside a <script> element."""
    packed = gzip.compress(plotly_source().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


# A consolidated report's table with more rows than this (its rows are per unit: 100 units make
# 700–1 600 rows of indicators, service catalogues, costs by category, files) shows on the page only
# its total and where the rows are: in the XLSX and in each unit's own report. Measured at 100 units:
# the page was a 299-page PDF (6,5 s to print) and a 3,2 MB HTML; the pilot's largest such table has
# ~70 rows, so its reports are unchanged. The XLSX and the content fingerprint keep every row.
PAGE_TABLE_MAX_ROWS = 250


def page_view(report: Report) -> Report:
    """The report as the HTML/PDF page shows it: consolidated tables longer than PAGE_TABLE_MAX_ROWS
    reduced to their total (the rows stay in the workbook)."""
    if report.scope != "consolidated":
        return report
    return dataclasses.replace(report, sections=[dataclasses.replace(s, tables=[_on_page(t) for t in s.tables])
                                                 for s in report.sections])


def _on_page(table: Table) -> Table:
    if len(table.rows) <= PAGE_TABLE_MAX_ROWS:
        return table
    return dataclasses.replace(table, rows=[], rows_in_workbook_only=len(table.rows))


def render_html(report: Report, with_plotlyjs: bool = True, static_charts: dict[str, str] | None = None) -> str:
    """The report as one HTML page (`page_view`). `static_charts`: chart id -> image URL (the PDF's
    SVGs, reports/pdf.py) shown instead of the drawn chart; a page whose charts are all images carries
    no plotly.js and runs no script."""
    report = page_view(report)
    static_charts = static_charts or {}
    css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
    template = environment().get_template("report.html.j2")
    drawn = any(c.chart_id not in static_charts for section in report.sections for c in section.charts)
    return template.render(report=report, css=css, static_charts=static_charts,
                           plotlyjs=plotly_js() if (with_plotlyjs and drawn) else "")


def write_html(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
