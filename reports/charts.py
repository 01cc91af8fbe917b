"""Plotly charts of the report: `Chart`s whose HTML fragment needs plotly.js (inlined once per
page); the PDF prints the same figures as SVG (reports/pdf.py).

A figure is plotly's JSON (data + layout, with plotly.py's default template "plotly", read from
plotly.py's own package data) written here as plain dicts: plotly.py's graph objects validate
every property on every call (~15 ms per chart and ~1 s of lazy imports per process — most of a
report's build time); tests/test_report_formatting.py validates every chart with
`plotly.graph_objects.Figure` instead, so a misspelt property still fails a test.

Fixed pixel sizes fit an A4 page, so the same figure is drawn on screen and on paper; the mode
bar is off (nothing to click on paper). Axis numbers use the Polish separators.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib.resources import files

from reports.formatting import PLOTLY_SEPARATORS, money, percent, quantity, quarter_short
from reports.model import Chart

WIDTH, HEIGHT = 700, 340
LABEL_WIDTH = 42  # characters per line of a horizontal bar's label (about a third of the chart's width)
BLUE, ORANGE, GREY, GREEN, RED = "#0b4f8a", "#e07b00", "#8a96a3", "#2e8b57", "#c0392b"
WOMEN, MEN = "#c2185b", "#1565c0"
CONFIG = {"displayModeBar": False, "responsive": False, "locale": "pl"}
AXIS = {"showline": True, "linecolor": "#c9d1db", "gridcolor": "#eef1f5"}


@cache
def default_template() -> dict:
    """plotly.py's default template ("plotly"), as plotly.py puts it into every figure."""
    return json.loads(files("plotly").joinpath("package_data", "templates", "plotly.json").read_text("utf-8"))


def figure(data: list[dict], title: str, height: int = HEIGHT, xaxis: dict | None = None,
           yaxis: dict | None = None, **layout) -> dict:
    """A figure with the report's common layout: title, size, Polish separators, fonts, axes."""
    return {"data": data, "layout": {
        "template": default_template(),
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        "width": WIDTH,
        "height": height,
        "separators": PLOTLY_SEPARATORS,
        "font": {"family": "DejaVu Sans, Liberation Sans, Arial, sans-serif", "size": 11, "color": "#1d2733"},
        "margin": {"l": 70, "r": 20, "t": 50, "b": 50},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "xaxis": {**AXIS, **(xaxis or {})},
        "yaxis": {**AXIS, "zerolinecolor": "#c9d1db", **(yaxis or {})},
        **layout,
    }}


def to_fragment(fig: dict, chart_id: str) -> Chart:
    """The chart's box and a call that draws it once the inlined plotly.js is unpacked
    (`cusChart`, reports/templates/report.html.j2). `</` is escaped so no text of the data can
    close the script element."""
    div_id = f"chart-{chart_id}"
    figure_json = json.dumps(fig, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    config = json.dumps(CONFIG)
    layout = fig["layout"]
    size = f"width:{layout.get('width', WIDTH)}px; height:{layout.get('height', HEIGHT)}px;"
    return Chart(chart_id, figure_json,
                 f'<div id="{div_id}" class="plotly-graph-div" style="{size}"></div>'
                 f'<script type="text/javascript">cusChart("{div_id}", {figure_json}, {config});</script>')


def _f(value) -> float:
    return float(value) if value is not None else None  # plotly needs floats; labels use Decimal text


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """Break a long axis label into lines of at most `width` characters (Plotly's <br>)."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def spending_vs_plan(rows: list[dict], budget: Decimal | None = None, chart_id: str = "spending") -> Chart:
    """rows: quarter, planned_cum, actual_cum (None after the reporting quarter), projected_cum (optional)."""
    quarters = [quarter_short(r["quarter"]) for r in rows]
    data = [{"type": "scatter", "x": quarters, "y": [_f(r.get("planned_cum")) for r in rows],
             "name": "plan (harmonogram)", "mode": "lines+markers", "line": {"color": GREY, "dash": "dash"},
             "hovertext": [money(r.get("planned_cum")) for r in rows], "hoverinfo": "text+name"}]
    actual = [r for r in rows if r.get("actual_cum") is not None]
    data.append({"type": "scatter", "x": [quarter_short(r["quarter"]) for r in actual],
                 "y": [_f(r["actual_cum"]) for r in actual], "name": "wydatki kwalifikowalne (narastająco)",
                 "mode": "lines+markers", "line": {"color": BLUE, "width": 3},
                 "hovertext": [money(r["actual_cum"]) for r in actual], "hoverinfo": "text+name"})
    projected = [r for r in rows if r.get("projected_cum") is not None]
    if projected:
        data.append({"type": "scatter", "x": [quarter_short(r["quarter"]) for r in projected],
                     "y": [_f(r["projected_cum"]) for r in projected], "name": "prognoza (tempo wydatków)",
                     "mode": "lines", "line": {"color": ORANGE, "dash": "dot"}})
    extra: dict = {}
    if budget:  # a horizontal line at the budget across the plot, labelled at its left end
        y = float(budget)
        extra["shapes"] = [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                            "line": {"color": RED, "width": 1}}]
        extra["annotations"] = [{"text": f"budżet {money(budget)}", "showarrow": False, "xref": "x domain", "x": 0,
                                 "xanchor": "left", "yref": "y", "y": y, "yanchor": "bottom"}]
    # The legend inside the plot's lower right corner (empty: cumulative lines rise to the right);
    # slanted quarter labels take the space below the plot. Ten and more quarters do not fit side
    # by side at A4 width: labels slanted, every one shown.
    fig = figure(data, "Wydatki narastająco a harmonogram", HEIGHT + 40,
                 xaxis={"type": "category", "tickangle": -45 if len(quarters) > 6 else 0, "automargin": True},
                 yaxis={"title": {"text": "zł"}, "tickformat": ",.0f", "rangemode": "tozero"},
                 **extra)
    fig["layout"]["legend"] = {"orientation": "v", "xanchor": "right", "x": 0.99, "yanchor": "bottom", "y": 0.02,
                               "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#c9d1db", "borderwidth": 1}
    return to_fragment(fig, chart_id)


def indicator_progress(rows: list[dict], chart_id: str = "indicators") -> Chart:
    """rows: label, pct (ratio cumulative/target), cumulative, target."""
    rows = [r for r in rows if r.get("pct") is not None]
    labels = [wrap_label(r["label"]) for r in rows]  # official names are long: wrapped, never cut
    values = [_f(r["pct"]) for r in rows]
    bar = {"type": "bar", "x": values, "y": labels, "orientation": "h",
           "marker": {"color": [GREEN if v >= 1 else BLUE for v in values]},
           "text": [percent(r["pct"]) for r in rows], "textposition": "auto",
           "hovertext": [f"{quantity(r.get('cumulative'))} z {quantity(r.get('target'))}" for r in rows],
           "hoverinfo": "text"}
    target = {"type": "line", "xref": "x", "x0": 1.0, "x1": 1.0, "yref": "y domain", "y0": 0, "y1": 1,
              "line": {"color": RED, "width": 1, "dash": "dash"}}  # 100% of the target
    height = max(220, 90 + sum(18 + 13 * label.count("<br>") for label in labels) + 12 * len(rows))
    return to_fragment(figure([bar], "Stopień osiągnięcia wskaźników (narastająco / wartość docelowa)", height,
                              xaxis={"tickformat": ".0%", "rangemode": "tozero"},
                              yaxis={"autorange": "reversed", "automargin": True},
                              shapes=[target], showlegend=False), chart_id)


def services_by_area(rows: list[dict], chart_id: str = "areas") -> Chart:
    """rows: area_label, value (zł, narastająco), deliveries."""
    rows = [r for r in rows if (r.get("value") or 0) > 0 or (r.get("deliveries") or 0) > 0]
    bar = {"type": "bar", "x": [_f(r.get("value")) for r in rows], "y": [r["area_label"] for r in rows],
           "orientation": "h", "marker": {"color": BLUE}, "text": [money(r.get("value")) for r in rows],
           "textposition": "auto", "hovertext": [f"{quantity(r.get('deliveries'))} świadczeń" for r in rows],
           "hoverinfo": "text"}
    height = max(220, 70 + 30 * len(rows))
    return to_fragment(figure([bar], "Wartość usług według obszarów ustawy (narastająco)", height,
                              xaxis={"title": {"text": "zł"}, "tickformat": ",.0f", "rangemode": "tozero"},
                              yaxis={"autorange": "reversed", "automargin": True},
                              showlegend=False), chart_id)


def participants_by_sex_age(rows: list[dict], chart_id: str = "participants") -> Chart:
    """rows: age_group, women, men (counts; suppressed cells must be removed by the caller)."""
    groups = [r["age_group"] for r in rows]
    data = []
    for key, name, colour in (("women", "kobiety", WOMEN), ("men", "mężczyźni", MEN)):
        values = [r.get(key) if isinstance(r.get(key), (int, Decimal)) else None for r in rows]
        data.append({"type": "bar", "x": groups, "y": [_f(v) for v in values], "name": name,
                     "marker": {"color": colour}, "text": [quantity(v) if v is not None else "" for v in values],
                     "textposition": "auto"})
    return to_fragment(figure(data, "Uczestnicy według płci i wieku (narastająco)",
                              yaxis={"title": {"text": "osoby"}, "tickformat": ",d", "rangemode": "tozero"},
                              barmode="group"), chart_id)
