"""HTML renderer: one self-contained file (CSS and plotly.js inlined once, no CDN, works offline)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from reports.formatting import jinja_filters
from reports.model import Report

TEMPLATES_DIR = Path(__file__).parent / "templates"


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
def plotly_js() -> str:
    import plotly.offline

    return plotly.offline.get_plotlyjs()


def render_html(report: Report, with_plotlyjs: bool = True) -> str:
    css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
    template = environment().get_template("report.html.j2")
    has_charts = any(section.charts for section in report.sections)
    return template.render(report=report, css=css, plotlyjs=plotly_js() if (with_plotlyjs and has_charts) else "")


def write_html(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
