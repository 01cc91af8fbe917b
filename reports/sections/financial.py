"""Financial progress and settlement: budget use, the 70% rule of advances, spending by task and
category, direct / indirect / EU / national, limits, plan against actual and the projection
(report.settlement, report.advances, report.finance_by_*, report.plan_vs_actual)."""

from __future__ import annotations

from decimal import Decimal

from reports import charts
from reports.formatting import percent
from reports.inputs import UNIT, at_level, one
from reports.model import Column, Fact, Section, Table, ratio
from reports.sections import Scope, status


def _pct_text(value) -> str:
    return percent(value, decimals=0) if value is not None else "—"


def _exact(row: dict, numerator: str, denominator: str, stored: str):
    """A share unrounded from the row's amounts; the warehouse's 4-decimal share when they give none."""
    exact = ratio(row.get(numerator), row.get(denominator))
    return exact if exact is not None else row.get(stored)


def _advances_facts(scope: Scope) -> list[Fact]:
    if scope.consolidated or not scope.inputs.advances:
        return []
    a = scope.inputs.advances[0]
    allowed = a.get("next_tranche_allowed")
    return [
        Fact("Otrzymane transze zaliczki (narastająco)", a.get("received_total"), "money"),
        Fact("Wydatki rozliczone a otrzymane transze", _exact(a, "spent", "received_total", "spent_share"), "pct",
             status(allowed)),
        Fact(f"Wniosek o kolejną transzę (próg {_pct_text(a.get('threshold'))} wydatkowania)",
             "nie otrzymano jeszcze żadnej transzy — wniosek o pierwszą transzę nie wymaga rozliczenia"
             if not a.get("tranches") else
             "możliwy" if allowed else "niemożliwy — za niski stopień rozliczenia zaliczek" if allowed is not None
             else None),
    ]


def _tasks(scope: Scope) -> Table:
    rows = at_level(scope.inputs.finance_tasks, scope.level)
    rows.sort(key=lambda r: (r.get("task_no") is None, r.get("task_no") or 0))
    total = one(scope.inputs.finance_tasks, scope.total_level) or {}
    total = {"task_name": "Razem koszty bezpośrednie",
             **{k: total.get(k) for k in ("budget", "quarter_amount", "cumulative_amount", "pct")}}
    return Table(
        "wydatki-zadania", "Wydatki kwalifikowalne według zadań a budżet",
        [Column("task_no", "Nr zadania", "int"), Column("task_name", "Zadanie"), Column("budget", "Budżet", "money"),
         Column("quarter_amount", "W kwartale", "money"), Column("cumulative_amount", "Narastająco", "money"),
         Column("pct", "% budżetu", "pct")], rows, total=total,
        note="Nazwy zadań różnią się między jednostkami; w raporcie zbiorczym podano nazwę z pierwszej jednostki."
        if scope.consolidated else None)


def _categories(scope: Scope) -> Table | None:
    rows = [{**r, "unit_name": scope.unit_name(r.get("unit"))} for r in scope.inputs.finance_categories]
    rows.sort(key=lambda r: (r["unit_name"] or "", r.get("task_no") or 0, str(r.get("cost_category"))))
    if not rows:
        return None
    return Table(
        "wydatki-kategorie", "Wydatki kwalifikowalne według zadań i kategorii kosztów a budżet", scope.unit_column() + [
            Column("task_no", "Nr zadania", "int"), Column("cost_category", "Kategoria"),
            Column("category_name", "Nazwa kategorii"), Column("budget", "Budżet", "money"),
            Column("quarter_amount", "W kwartale", "money"), Column("cumulative_amount", "Narastająco", "money"),
            Column("pct", "% budżetu", "pct")], rows)


def _settlement(scope: Scope, s: dict) -> Table:
    rate = s.get("indirect_rate")  # a unit's flat rate; none for all units
    return Table(
        "rozliczenie", "Rozliczenie: koszty bezpośrednie, pośrednie, źródła finansowania",
        [Column("item", "Pozycja"), Column("quarter", "W kwartale", "money"),
         Column("cumulative", "Narastająco", "money")],
        [
            {"item": "Koszty bezpośrednie", "quarter": s.get("direct_quarter"), "cumulative": s.get("direct_cumulative")},
            {"item": "Koszty pośrednie (stawka ryczałtowa" + (f" {_pct_text(rate)})" if rate is not None else ")"),
             "quarter": s.get("indirect_quarter"), "cumulative": s.get("indirect_cumulative")},
            {"item": "Wydatki kwalifikowalne ogółem", "quarter": s.get("eligible_quarter"),
             "cumulative": s.get("eligible_cumulative")},
            {"item": "w tym EFS (84,28%, zaokrąglenie w dół do grosza)", "quarter": s.get("eu_quarter"),
             "cumulative": s.get("eu_cumulative")},
            {"item": "w tym budżet państwa (reszta)", "quarter": s.get("national_quarter"),
             "cumulative": s.get("national_cumulative")},
        ])


def _limits(scope: Scope) -> Table:
    rows = []
    # "W limicie" = not the warehouse's exact `*_over_limit`: the cumulative amount against what the
    # agreement allows (budget lines flagged as such, at most limit × project value; docs/settlement.md).
    # The share of spending to date is information only.
    for item, amount_key, share_key, limit_key, over_key in (
        ("Cross-financing", "cross_financing", "cross_financing_share", "cross_financing_limit",
         "cross_financing_over_limit"),
        ("Środki trwałe", "fixed_assets", "fixed_assets_share", "fixed_assets_limit", "fixed_assets_over_limit"),
    ):
        for r in at_level(scope.inputs.settlement, UNIT):
            over = r.get(over_key)
            rows.append({"item": f"{item} — {scope.unit_name(r['unit'])}" if scope.consolidated else item,
                         "amount": r.get(amount_key), "allowed": r.get(f"{amount_key}_allowed"),
                         "share": _exact(r, amount_key, "eligible_cumulative", share_key), "limit": r.get(limit_key),
                         "ok": None if over is None else not over})
    return Table(
        "limity", "Cross-financing i środki trwałe a kwoty dozwolone w umowie",
        [Column("item", "Pozycja"), Column("amount", "Kwota narastająco", "money"),
         Column("allowed", "Dozwolone wg umowy", "money"),
         Column("share", "Udział w dotychczasowych wydatkach", "pct"),
         Column("limit", "Limit (od wartości projektu)", "pct"), Column("ok", "W limicie", "flag")], rows,
        note="Błąd tylko wtedy, gdy kwota narastająco przekracza kwotę dozwoloną w umowie (linie budżetu oznaczone "
             "jako cross-financing / środki trwałe, najwyżej limit × wartość projektu); udział w dotychczasowych "
             "wydatkach jest informacją.")


def _advances(scope: Scope) -> Table | None:
    if not scope.inputs.advances:
        return None
    rows = [{"unit_name": scope.unit_name(a["unit"]), **a} for a in scope.inputs.advances]
    columns = [Column("tranches", "Liczba transz", "int"), Column("received_total", "Otrzymano ogółem", "money"),
               Column("received_eu", "w tym EFS", "money"), Column("received_state", "w tym budżet państwa", "money"),
               Column("spent", "Wydatki rozliczone", "money"), Column("spent_share", "Rozliczono", "pct"),
               Column("threshold", "Próg", "pct"), Column("next_tranche_allowed", "Kolejna transza możliwa", "flag")]
    return Table("zaliczki", "Zaliczki (transze) i reguła 70%", scope.unit_column() + columns, rows,
                 note="Kolejna transza wymaga rozliczenia co najmniej progu (70%) dotychczas otrzymanych transz.")


def _with_projection(rows: list[dict], q: str, projected: Decimal | None) -> list[dict]:
    """Chart geometry: a straight line from the actual cumulative at the reporting quarter to the
    warehouse's projection (report.settlement.projected_total) at the last plan quarter."""
    rows = [dict(r) for r in rows]
    future = [r for r in rows if r["quarter"] > q]
    current = [r for r in rows if r["quarter"] == q]
    start = current[0].get("actual_cum") if current else None
    if projected is None or start is None or not future:
        return rows
    current[0]["projected_cum"] = start
    step = (projected - start) / len(future)
    for i, r in enumerate(future, start=1):
        r["projected_cum"] = start + step * i
    return rows


def financial(scope: Scope) -> Section:
    section = Section("postep-finansowy", "Postęp finansowy i rozliczenie", "Postęp finansowy", page_break=True)
    q = scope.inputs.quarter
    s = one(scope.inputs.settlement, scope.level) or {}
    budget = s.get("budget_total")
    if s:
        section.facts = [
            Fact("Budżet projektu", budget, "money"),
            Fact("Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)", s.get("eligible_cumulative"), "money"),
            Fact("Stopień wykorzystania budżetu", s.get("budget_share"), "pct"),
        ]
    section.facts += _advances_facts(scope)
    section.tables.append(_tasks(scope))
    categories = _categories(scope)
    if categories:
        section.tables.append(categories)
    if s:
        section.tables += [_settlement(scope, s), _limits(scope)]
    advances = _advances(scope)
    if advances:
        section.tables.append(advances)
    plan = sorted(at_level(scope.inputs.plan, scope.level), key=lambda r: r["quarter"])
    if plan:
        section.tables.append(Table(
            "plan-wykonanie", "Harmonogram a wykonanie (kwartały do okresu sprawozdawczego)",
            [Column("quarter", "Kwartał", "quarter"), Column("planned", "Plan", "money"),
             Column("actual", "Wykonanie", "money"), Column("planned_cum", "Plan narastająco", "money"),
             Column("actual_cum", "Wykonanie narastająco", "money"),
             Column("pct", "Wykonanie / plan (narastająco)", "pct")],
            [r for r in plan if r["quarter"] <= q]))
        projected = s.get("projected_total")
        if projected is not None:
            # The warehouse's projection_risk only (band from schemas/flags.yaml, PROGNOZA_RYZYKO);
            # consolidated: at risk when any unit is (SQL bool_or).
            risk = s.get("projection_risk")
            section.facts.append(Fact("Prognoza wydatków na koniec projektu (przy obecnym tempie)", projected, "money",
                                      status(None if risk is None else not risk, warn=True)))
            if budget:
                section.facts.append(Fact("Prognoza jako % budżetu", s.get("projected_share"), "pct"))
        section.charts.append(charts.spending_vs_plan(_with_projection(plan, q, projected), budget))
    return section
