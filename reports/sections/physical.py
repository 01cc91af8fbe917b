"""Physical progress: output and result indicators (report.indicators)."""

from __future__ import annotations

from reports import charts
from reports.inputs import UNIT, at_level
from reports.model import ROW_KINDS, Column, Section, Table, ratio
from reports.sections import Scope


def _is_share(row: dict) -> bool:
    """Indicators measured as a share (REZ_ZLECANIE: commissioned share vs the unit's threshold)."""
    return str(row.get("measure_unit") or "").strip() == "%"


def _shaped(rows: list[dict]) -> list[dict]:
    rows = sorted(rows, key=lambda r: (r.get("sort_order") or 0, str(r.get("code")), r.get("unit") or ""))
    for row in rows:
        if _is_share(row):  # values are ratios 0–1: printed as percentages, never summed over units
            row[ROW_KINDS] = {k: "pct" for k in ("target_total", "quarter_total", "cumulative_total")}
        # unrounded from the counts; the warehouse's 4-decimal pct only when they give none
        exact = ratio(row.get("cumulative_total"), row.get("target_total"))
        if exact is not None:
            row["pct"] = exact
    return rows


def physical(scope: Scope) -> Section:
    section = Section("postep-rzeczowy", "Postęp rzeczowy — wskaźniki produktu i rezultatu", "Postęp rzeczowy")
    indicators = scope.inputs.indicators
    rows = at_level(indicators, scope.level)
    if scope.consolidated:  # a sum of shares means nothing: shares are shown per unit only
        rows = [r for r in rows if not _is_share(r)]
    rows = _shaped(rows)
    shares_left_out = scope.consolidated and any(_is_share(r) for r in at_level(indicators, UNIT))
    main = [Column("code", "Kod"), Column("name", "Wskaźnik"), Column("kind", "Typ"),
            Column("target_total", "Wartość docelowa", "int"), Column("quarter_total", "W kwartale", "int"),
            Column("cumulative_total", "Narastająco", "int"), Column("pct", "% realizacji", "pct")]
    section.tables.append(Table(
        "wskazniki", "Wskaźniki: wartość docelowa, w kwartale, narastająco", main, rows,
        note="% realizacji = wartość narastająco / wartość docelowa." + (
            " Wskaźniki mierzone udziałem (np. udział usług zleconych) nie są sumowane — zob. tabelę według "
            "jednostek i część „Usługi”." if shares_left_out else "")))
    sex = [Column("code", "Kod"), Column("name", "Wskaźnik"),
           Column("target_women", "Docelowo K", "int"), Column("target_men", "Docelowo M", "int"),
           Column("quarter_women", "W kwartale K", "int"), Column("quarter_men", "W kwartale M", "int"),
           Column("cumulative_women", "Narastająco K", "int"), Column("cumulative_men", "Narastająco M", "int")]
    with_sex = [r for r in rows if not _is_share(r) and any(r.get(c.key) is not None for c in sex[2:])]
    section.tables.append(Table("wskazniki-plec", "Wskaźniki w podziale na płeć (K — kobiety, M — mężczyźni)", sex,
                                with_sex, empty_text="Wskaźniki nie mają podziału na płeć."))
    if scope.consolidated:
        per_unit = _shaped(at_level(indicators, UNIT))
        for r in per_unit:
            r["unit_name"] = scope.unit_name(r["unit"])
        section.tables.append(Table(
            "wskazniki-jednostki", "Wskaźniki według jednostek",
            [Column("code", "Kod"), Column("unit_name", "Jednostka"), Column("target_total", "Wartość docelowa", "int"),
             Column("quarter_total", "W kwartale", "int"), Column("cumulative_total", "Narastająco", "int"),
             Column("pct", "% realizacji", "pct")], per_unit))
    chart_rows = [{"label": r.get("name") or r.get("code"), "pct": r.get("pct"),
                   "cumulative": r.get("cumulative_total"), "target": r.get("target_total")}
                  for r in rows if r.get("target_total")]
    if chart_rows:
        section.charts.append(charts.indicator_progress(chart_rows))
    return section
