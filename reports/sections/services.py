"""Social services: commissioned share against the threshold, the 14 areas of the Act, modes of
delivery, the unit's catalogue (report.commissioned, report.services_by_*)."""

from __future__ import annotations

from decimal import Decimal

from reports import charts
from reports.inputs import UNIT, at_level, one
from reports.labels import COMMISSIONED_MODES, DELIVERY_MODES, SERVICE_AREAS, area_label, mode_label
from reports.model import Column, Fact, Section, Table, ratio
from reports.sections import Scope, status
from reports.suppression import hide_small_area_persons

ZERO = Decimal(0)
_SUMMED = ("deliveries", "quarter_value", "cumulative_value")


def _total(rows: list[dict], level: str, label_key: str) -> dict | None:
    """The table's total row (sums over its keys, SQL), labelled "Razem"."""
    row = one(rows, level)
    return {**{k: row.get(k) for k in _SUMMED}, label_key: "Razem"} if row else None


def _exact_share(row: dict):
    """The commissioned share unrounded from the amounts; the warehouse's 4-decimal share otherwise."""
    exact = ratio(row.get("commissioned_amount"), row.get("direct_costs"))
    return exact if exact is not None else row.get("share")


def _commissioned(scope: Scope, section: Section) -> None:
    rows = scope.inputs.commissioned
    own = one(rows, scope.level)
    if own is None:
        return
    if not scope.consolidated:
        section.facts = [
            Fact("Usługi zlecone podmiotom zewnętrznym (PES, NGO, klauzule) — narastająco",
                 own.get("commissioned_amount"), "money"),
            Fact("Koszty bezpośrednie — narastająco", own.get("direct_costs"), "money"),
            Fact("Udział usług zleconych w kosztach bezpośrednich", _exact_share(own), "pct",
                 status(own.get("met"), warn=True)),
            Fact("Próg z umowy", own.get("threshold"), "pct"),
        ]
        return
    section.facts = [
        Fact("Usługi zlecone — narastająco, wszystkie jednostki", own.get("commissioned_amount"), "money"),
        Fact("Koszty bezpośrednie — narastająco, wszystkie jednostki", own.get("direct_costs"), "money"),
        Fact("Udział usług zleconych (łącznie)", own.get("share"), "pct"),
    ]
    per_unit = [{**r, "unit_name": scope.unit_name(r["unit"])} for r in at_level(rows, UNIT)]
    section.tables.append(Table(
        "zlecanie-jednostki", "Udział usług zleconych a próg — według jednostek",
        [Column("unit_name", "Jednostka"), Column("commissioned_amount", "Usługi zlecone", "money"),
         Column("direct_costs", "Koszty bezpośrednie", "money"), Column("share", "Udział", "pct"),
         Column("threshold", "Próg", "pct"), Column("met", "Próg osiągnięty", "flag")], per_unit))


def _areas(scope: Scope, section: Section) -> tuple[list[dict], int]:
    """All 14 areas of the Act, an area without deliveries shown as zero (which areas the CUS covers)."""
    rows = scope.inputs.services_area
    by_area = {int(r["area"]): r for r in at_level(rows, scope.level) if r.get("area") is not None}
    sensitive_areas = set(scope.settings.sensitive_service_areas) if scope.suppress else set()
    table_rows = []
    for number in sorted(set(SERVICE_AREAS) | set(by_area)):
        r = by_area.get(number)
        table_rows.append({"area": number, "area_label": area_label(number) + (" *" if number in sensitive_areas else ""),
                           "deliveries": r.get("deliveries") if r else ZERO, "persons": r.get("persons") if r else None,
                           "quarter_value": r.get("quarter_value") if r else ZERO,
                           "cumulative_value": r.get("cumulative_value") if r else ZERO})
    # Persons in the areas of disability support and housing reveal a special category (config.yaml).
    hidden = hide_small_area_persons(table_rows, sensitive_areas, scope.settings.suppression_threshold,
                                     unit_rows=at_level(rows, UNIT) if scope.consolidated else None)
    with_persons = any(r.get("persons") is not None for r in table_rows)
    columns = [Column("area_label", "Obszar (art. 2 ust. 1 ustawy o CUS)"),
               Column("deliveries", "Świadczenia w kwartale", "int")]
    if with_persons:
        columns.append(Column("persons", "Osoby w kwartale", "int"))
    columns += [Column("quarter_value", "Wartość w kwartale", "money"),
                Column("cumulative_value", "Wartość narastająco", "money")]
    total = _total(rows, scope.total_level, "area_label") or {"area_label": "Razem", **dict.fromkeys(_SUMMED, ZERO)}
    section.tables.append(Table(
        "uslugi-obszary", "Usługi według obszarów ustawy", columns, table_rows, total=total,
        note=("Osoby liczone odrębnie w każdym obszarze (jedna osoba może korzystać z usług kilku obszarów)."
              + (" Obszary oznaczone * ujawniają kategorię wrażliwą (niepełnosprawność, wykluczenie mieszkaniowe): "
                 f"liczby osób od 1 do {scope.settings.suppression_threshold - 1} nie są publikowane (przypis)."
                 if sensitive_areas else "")) if with_persons else None))
    return table_rows, hidden


def _modes(scope: Scope, section: Section) -> None:
    rows = at_level(scope.inputs.services_mode, scope.level)
    order = list(DELIVERY_MODES)
    rows.sort(key=lambda r: order.index(r["mode"]) if r.get("mode") in order else len(order))
    for r in rows:
        r["mode_label"] = mode_label(r.get("mode"))
        r["commissioned"] = r.get("mode") in COMMISSIONED_MODES
    section.tables.append(Table(
        "uslugi-sposob", "Usługi według sposobu realizacji",
        [Column("mode_label", "Sposób realizacji"), Column("commissioned", "Zlecona", "flag"),
         Column("deliveries", "Świadczenia w kwartale", "int"), Column("quarter_value", "Wartość w kwartale", "money"),
         Column("cumulative_value", "Wartość narastająco", "money"), Column("share", "Udział (narastająco)", "pct")],
        rows, total=_total(scope.inputs.services_mode, scope.total_level, "mode_label")
        or {"mode_label": "Razem", **dict.fromkeys(_SUMMED)}))


def _catalogue(scope: Scope, section: Section) -> None:
    rows = [{**r, "unit_name": scope.unit_name(r.get("unit")), "area_label": area_label(r.get("area")),
             "mode_label": mode_label(r.get("mode"))} for r in at_level(scope.inputs.services_service, UNIT)]
    rows.sort(key=lambda r: (r["unit_name"] or "", r.get("area") or 0, str(r.get("service_code"))))
    label_key = "unit_name" if scope.consolidated else "service_name"
    section.tables.append(Table(
        "uslugi-katalog", "Usługi według katalogu usług jednostki", scope.unit_column() + [
            Column("service_code", "Kod"), Column("service_name", "Usługa"), Column("area_label", "Obszar"),
            Column("mode_label", "Sposób realizacji"), Column("deliveries", "Świadczenia w kwartale", "int"),
            Column("units", "Jednostki w kwartale", "quantity"), Column("quarter_value", "Wartość w kwartale", "money"),
            Column("cumulative_value", "Wartość narastająco", "money")], rows,
        total=_total(scope.inputs.services_service, scope.total_level, label_key) if rows else None,
        empty_text="Brak świadczeń w okresie."))


def services(scope: Scope) -> tuple[Section, int]:
    section = Section("uslugi", "Usługi społeczne — obszary ustawy, sposób realizacji, zlecanie", "Usługi",
                      page_break=True)
    _commissioned(scope, section)
    area_rows, hidden = _areas(scope, section)
    _modes(scope, section)
    _catalogue(scope, section)
    chart_rows = [{"area_label": area_label(r["area"]), "value": r.get("cumulative_value"),
                   "deliveries": r.get("deliveries")} for r in area_rows]
    if any((r["value"] or 0) > 0 for r in chart_rows):
        section.charts.append(charts.services_by_area(chart_rows))
    return section, hidden
