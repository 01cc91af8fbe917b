"""Plotly charts of the report: `Chart`s whose HTML fragment needs plotly.js (inlined once per
page); the PDF prints the same figures as SVG (reports/pdf.py).

Fixed pixel sizes fit an A4 page, so the same figure is drawn on screen and on paper; the mode
bar is off (nothing to click on paper). Axis numbers use the Polish separators.
"""

from __future__ import annotations

import json
from decimal import Decimal

import plotly.graph_objects as go

from reports.formatting import PLOTLY_SEPARATORS, money, percent, quantity, quarter_short
from reports.model import Chart

WIDTH, HEIGHT = 700, 340
LABEL_WIDTH = 42  # characters per line of a horizontal bar's label (about a third of the chart's width)
BLUE, ORANGE, GREY, GREEN, RED = "#0b4f8a", "#e07b00", "#8a96a3", "#2e8b57", "#c0392b"
WOMEN, MEN = "#c2185b", "#1565c0"
CONFIG = {"displayModeBar": False, "responsive": False, "locale": "pl"}


def _layout(fig: go.Figure, title: str, height: int = HEIGHT, **extra) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        width=WIDTH,
        height=height,
        separators=PLOTLY_SEPARATORS,
        font={"family": "DejaVu Sans, Liberation Sans, Arial, sans-serif", "size": 11, "color": "#1d2733"},
        margin={"l": 70, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        **extra,
    )
    fig.update_xaxes(showline=True, linecolor="#c9d1db", gridcolor="#eef1f5")
    fig.update_yaxes(showline=True, linecolor="#c9d1db", gridcolor="#eef1f5", zerolinecolor="#c9d1db")
    return fig


def to_fragment(fig: go.Figure, chart_id: str) -> Chart:
    """The chart's box and a call that draws it once the inlined plotly.js is unpacked
    (`cusChart`, reports/templates/report.html.j2). `</` is escaped so no text of the data can
    close the script element."""
    div_id = f"chart-{chart_id}"
    figure = fig.to_json().replace("</", "<\\/")
    config = json.dumps(CONFIG)
    size = f"width:{fig.layout.width or WIDTH}px; height:{fig.layout.height or HEIGHT}px;"
    return Chart(chart_id, figure,
                 f'<div id="{div_id}" class="plotly-graph-div" style="{size}"></div>'
                 f'<script type="text/javascript">cusChart("{div_id}", {figure}, {config});</script>')


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
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=quarters, y=[_f(r.get("planned_cum")) for r in rows], name="plan (harmonogram)",
                             mode="lines+markers", line={"color": GREY, "dash": "dash"},
                             hovertext=[money(r.get("planned_cum")) for r in rows], hoverinfo="text+name"))
    actual = [r for r in rows if r.get("actual_cum") is not None]
    fig.add_trace(go.Scatter(x=[quarter_short(r["quarter"]) for r in actual], y=[_f(r["actual_cum"]) for r in actual],
                             name="wydatki kwalifikowalne (narastająco)", mode="lines+markers",
                             line={"color": BLUE, "width": 3},
                             hovertext=[money(r["actual_cum"]) for r in actual], hoverinfo="text+name"))
    projected = [r for r in rows if r.get("projected_cum") is not None]
    if projected:
        fig.add_trace(go.Scatter(x=[quarter_short(r["quarter"]) for r in projected],
                                 y=[_f(r["projected_cum"]) for r in projected], name="prognoza (tempo wydatków)",
                                 mode="lines", line={"color": ORANGE, "dash": "dot"}))
    if budget:
        fig.add_hline(y=float(budget), line={"color": RED, "width": 1},
                      annotation_text=f"budżet {money(budget)}", annotation_position="top left")
    fig.update_yaxes(title_text="zł", tickformat=",.0f", rangemode="tozero")
    fig = _layout(fig, "Wydatki narastająco a harmonogram", HEIGHT + 40)
    # The legend inside the plot's lower right corner (empty: cumulative lines rise to the right);
    # slanted quarter labels take the space below the plot.
    fig.update_layout(legend={"orientation": "v", "xanchor": "right", "x": 0.99, "yanchor": "bottom", "y": 0.02,
                              "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#c9d1db", "borderwidth": 1})
    # Ten and more quarters do not fit side by side at A4 width: labels slanted, every one shown.
    fig.update_xaxes(type="category", tickangle=-45 if len(quarters) > 6 else 0, automargin=True)
    return to_fragment(fig, chart_id)


def indicator_progress(rows: list[dict], chart_id: str = "indicators") -> Chart:
    """rows: label, pct (ratio cumulative/target), cumulative, target."""
    rows = [r for r in rows if r.get("pct") is not None]
    labels = [wrap_label(r["label"]) for r in rows]  # official names are long: wrapped, never cut
    values = [_f(r["pct"]) for r in rows]
    colours = [GREEN if v >= 1 else BLUE for v in values]
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", marker_color=colours,
        text=[percent(r["pct"]) for r in rows], textposition="auto",
        hovertext=[f"{quantity(r.get('cumulative'))} z {quantity(r.get('target'))}" for r in rows], hoverinfo="text",
    ))
    fig.add_vline(x=1.0, line={"color": RED, "width": 1, "dash": "dash"})
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", automargin=True)
    height = max(220, 90 + sum(18 + 13 * label.count("<br>") for label in labels) + 12 * len(rows))
    return to_fragment(_layout(fig, "Stopień osiągnięcia wskaźników (narastająco / wartość docelowa)", height,
                               showlegend=False), chart_id)


def services_by_area(rows: list[dict], chart_id: str = "areas") -> Chart:
    """rows: area_label, value (zł, narastająco), deliveries."""
    rows = [r for r in rows if (r.get("value") or 0) > 0 or (r.get("deliveries") or 0) > 0]
    fig = go.Figure(go.Bar(
        x=[_f(r.get("value")) for r in rows], y=[r["area_label"] for r in rows], orientation="h",
        marker_color=BLUE, text=[money(r.get("value")) for r in rows], textposition="auto",
        hovertext=[f"{quantity(r.get('deliveries'))} świadczeń" for r in rows], hoverinfo="text",
    ))
    fig.update_xaxes(title_text="zł", tickformat=",.0f", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", automargin=True)
    height = max(220, 70 + 30 * len(rows))
    return to_fragment(_layout(fig, "Wartość usług według obszarów ustawy (narastająco)", height,
                               showlegend=False), chart_id)


def participants_by_sex_age(rows: list[dict], chart_id: str = "participants") -> Chart:
    """rows: age_group, women, men (counts; suppressed cells must be removed by the caller)."""
    groups = [r["age_group"] for r in rows]
    fig = go.Figure()
    for key, name, colour in (("women", "kobiety", WOMEN), ("men", "mężczyźni", MEN)):
        values = [r.get(key) if isinstance(r.get(key), (int, Decimal)) else None for r in rows]
        fig.add_trace(go.Bar(x=groups, y=[_f(v) for v in values], name=name, marker_color=colour,
                             text=[quantity(v) if v is not None else "" for v in values], textposition="auto"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="osoby", tickformat=",d", rangemode="tozero")
    return to_fragment(_layout(fig, "Uczestnicy według płci i wieku (narastająco)"), chart_id)
