"""Participants' profile (ESF common breakdowns) with the disclosure control of reports/suppression.py."""

from __future__ import annotations

from typing import Any

from reports import charts
from reports.formatting import Suppressed
from reports.inputs import ALL, UNIT, at_level
from reports.labels import AGE_GROUPS
from reports.model import Column, Section, Table
from reports.sections import Scope
from reports.suppression import (
    CUMULATIVE_TRIPLE,
    QUARTER_TRIPLE,
    disclosure_by_series,
    hide_triple,
    is_small,
    summed_series,
)
from reports.suppression import footnote as suppression_footnote


def _history(scope: Scope) -> list[dict]:
    """The sensitive series up to the reporting quarter: earlier quarters from profile_history,
    the reporting quarter exactly as shown (the units' current profile rows)."""
    q = scope.inputs.quarter
    earlier = [dict(r) for r in scope.inputs.profile_history if r.get("quarter") != q and str(r.get("quarter")) < q]
    current = [{**r, "quarter": q} for r in at_level(scope.inputs.profile, UNIT) if r.get("sensitive")]
    return earlier + current


def profile(scope: Scope) -> tuple[Section, int]:
    section = Section("profil-uczestnikow", "Profil uczestników (wspólne wskaźniki EFS)", "Profil uczestników",
                      page_break=True)
    threshold = scope.settings.suppression_threshold
    q = scope.inputs.quarter
    rows = sorted(at_level(scope.inputs.profile, scope.level),
                  key=lambda r: (r.get("sort_order") or 0, str(r.get("code"))))
    hidden = 0
    age_rows = [{"age_group": AGE_GROUPS[int(r["age_group"]) - 1], "women": r.get("cumulative_women"),
                 "men": r.get("cumulative_men")} for r in rows if r.get("age_group")]
    # Sequential disclosure control (reports/suppression.py, the rule of the published copy too):
    # per unit × code over the quarters up to this one; the consolidated sum as its own series,
    # hidden wherever one of its units is.
    history = _history(scope)
    unit_decisions = disclosure_by_series(history, threshold)
    _summed, summed_decisions = summed_series(history, unit_decisions, threshold)
    if scope.suppress:
        if scope.consolidated:
            decide = lambda r: summed_decisions.get((r.get("code"), q), (True, True))  # noqa: E731
        else:
            decide = lambda r: unit_decisions.get((r.get("unit"), r.get("code"), q), (True, True))  # noqa: E731
        for r in rows:
            if not r.get("sensitive"):
                continue
            cumulative_published, quarter_published = decide(r)
            if not cumulative_published:
                hidden += hide_triple(r, CUMULATIVE_TRIPLE, threshold)
            if not quarter_published:
                hidden += hide_triple(r, QUARTER_TRIPLE, threshold)
    for r in rows:
        if r.get("sensitive"):
            r["label"] = f"{r.get('label')} *"
    section.tables.append(Table(
        "profil", "Uczestnicy według kategorii (osoby, które rozpoczęły udział)",
        [Column("label", "Kategoria"), Column("quarter_total", "W kwartale", "int"),
         Column("cumulative_total", "Narastająco", "int"), Column("cumulative_women", "w tym kobiety", "int"),
         Column("cumulative_men", "w tym mężczyźni", "int")], rows,
        note="Kategorie oznaczone * są danymi wrażliwymi; małe liczebności i liczby, z których dałoby się je "
             "odtworzyć (także różnicą kwartałów), są ukryte (przypis)." if scope.suppress else None,
    ))
    if scope.consolidated:
        table, cells_hidden = _sensitive_by_unit(scope, unit_decisions, summed_decisions)
        section.tables.append(table)
        hidden += cells_hidden
    if age_rows and any(r["women"] or r["men"] for r in age_rows):
        section.charts.append(charts.participants_by_sex_age(age_rows))
    if scope.suppress:
        section.notes.append(suppression_footnote(threshold))
    return section, hidden


def _sensitive_by_unit(scope: Scope, unit_decisions: dict, summed_decisions: dict) -> tuple[Table, int]:
    """Sensitive categories per unit (cumulative totals), each cell as in the unit's own series;
    the total row is the sum over units (SQL), hidden wherever a unit is."""
    threshold, q = scope.settings.suppression_threshold, scope.inputs.quarter
    unit_rows = [r for r in at_level(scope.inputs.profile, UNIT) if r.get("sensitive")]
    codes: dict[str, str] = {}
    for r in sorted(unit_rows, key=lambda r: r.get("sort_order") or 0):
        codes.setdefault(r["code"], r.get("label") or r["code"])
    value_of = {(r["unit"], r["code"]): r.get("cumulative_total") for r in unit_rows}
    hidden = 0
    by_unit: list[dict] = []
    for u in scope.inputs.units:
        row: dict[str, Any] = {"unit_name": u.name}
        for code in codes:
            value = value_of.get((u.key, code))
            if (u.key, code) in value_of and not unit_decisions.get((u.key, code, q), (True, True))[0]:
                value = Suppressed(threshold, primary=is_small(value, threshold))
                hidden += 1
            row[code] = value
        by_unit.append(row)
    sums = {r["code"]: r.get("cumulative_total") for r in at_level(scope.inputs.profile, ALL)}
    totals: dict[str, Any] = {"unit_name": "Razem"}
    for code in codes:
        total = sums.get(code)
        if not summed_decisions.get((code, q), (True, True))[0]:
            total = Suppressed(threshold, primary=is_small(total, threshold))
            hidden += 1
        totals[code] = total
    return Table("profil-wrazliwe", "Kategorie wrażliwe według jednostek (narastająco, osoby)",
                 [Column("unit_name", "Jednostka")] + [Column(code, label, "int") for code, label in codes.items()],
                 by_unit, total=totals), hidden
