"""HTML renderer: one self-contained file (CSS and plotly.js inlined once, no CDN, works offline).

plotly.js is the *basic* partial bundle (trace types scatter, bar, pie — the report draws only
scatter and bar): reports/vendor/plotly-basic.min.js, the npm package plotly.js-basic-dist-min
at the plotly.js version plotly.py renders for (tests/test_reports.py checks both). It is inlined
gzip-compressed and base64-encoded (≈ 0,5 MB instead of 1,2 MB) and unpacked by the browser's
own DecompressionStream before the charts are drawn; see reports/templates/report.html.j2.
"""

from __future__ import annotations

import base64
import gzip
from functools import lru_cache
from pathlib import Path

import jinja2

from reports.formatting import jinja_filters
from reports.model import Report

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


def render_html(report: Report, with_plotlyjs: bool = True, static_charts: dict[str, str] | None = None) -> str:
    """The report as one HTML page. `static_charts`: chart id -> image URL (the PDF's SVGs,
    reports/pdf.py) shown instead of the drawn chart; a page whose charts are all images carries
    no plotly.js and runs no script."""
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
