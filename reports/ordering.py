"""One order and one wording for every table of a report, applied to the built model.

- units in registry order everywhere (the order of `Report.units`: config/units.yaml);
- cost categories in natural order (3.1, 3.2, 3.10 — not 3.1, 3.10, 3.2);
- shares unrounded (recomputed from the amounts in the same row);
- a totals row in the tables of sums that lack one (consolidated tables above all);
- indicators by their official name and measurement unit (schemas/indicators.yaml), the internal
  code last;
- plural wording in the consolidated report.

Sorting is stable: rows keep the builder's order within a unit.
"""

from __future__ import annotations

import re

from reports.model import Column, Report, Table, ratio, total_row

_DIGITS = re.compile(r"(\d+)")


def natural_key(value) -> tuple:
    """'3.10' after '3.2': digit runs compare as numbers, the rest as case-folded text."""
    parts = _DIGITS.split(str(value if value is not None else ""))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in parts if p != "")


def order_units(report: Report) -> None:
    rank = {key: i for i, key in enumerate(report.units)}
    for section in report.sections:
        for table in section.tables:
            if any("unit" in r for r in table.rows):
                table.rows.sort(key=lambda r: rank.get(r.get("unit"), len(rank)))


def order_categories(report: Report) -> None:
    rank = {key: i for i, key in enumerate(report.units)}
    for table in _tables(report, "wydatki-kategorie"):
        table.rows.sort(key=lambda r: (rank.get(r.get("unit"), len(rank)), r.get("task_no") is None,
                                       r.get("task_no") or 0, natural_key(r.get("cost_category"))))


# table id -> (label column, summed columns, {ratio column: (numerator, denominator)})
TOTALS: dict[str, tuple[str | None, list[str], dict[str, tuple[str, str]]]] = {
    "wydatki-kategorie": (None, ["budget", "quarter_amount", "cumulative_amount"],
                          {"pct": ("cumulative_amount", "budget")}),
    "zlecanie-jednostki": ("unit_name", ["commissioned_amount", "direct_costs"],
                           {"share": ("commissioned_amount", "direct_costs")}),
    "zaliczki": ("unit_name", ["tranches", "received_total", "received_eu", "received_state", "spent"],
                 {"spent_share": ("spent", "received_total")}),
    "jakosc-umowa": (None, ["received", "accepted", "quarantined"], {"accepted_share": ("accepted", "received")}),
    "pliki": (None, ["rows_loaded"], {}),
}


# Shares stored unrounded: recomputed from the row's own amounts (the report tables keep 4 decimals).
RATIOS: dict[str, dict[str, tuple[str, str]]] = {
    "zlecanie-jednostki": {"share": ("commissioned_amount", "direct_costs")},
    "zaliczki": {"spent_share": ("spent", "received_total")},
}


def unrounded_shares(report: Report) -> None:
    for table_id, ratios in RATIOS.items():
        for table in _tables(report, table_id):
            for row in table.rows:
                for key, (num, den) in ratios.items():
                    exact = ratio(row.get(num), row.get(den))
                    if exact is not None:
                        row[key] = exact


# Tables summed in the per-unit report too (the others: consolidated only, where units add up).
UNIT_TOTALS = ("wydatki-kategorie",)


def add_totals(report: Report) -> None:
    for table_id, (label_key, sums, ratios) in TOTALS.items():
        if report.scope != "consolidated" and table_id not in UNIT_TOTALS:
            continue
        for table in _tables(report, table_id):
            if table.total is not None or len(table.rows) < 2:  # one row is its own total
                continue
            label_key = label_key or _first_text_column(table)
            present = [k for k in sums if any(c.key == k for c in table.columns)]
            if label_key is None or not present:
                continue
            total = total_row(table.rows, label_key, "Razem", present)
            for key, (num, den) in ratios.items():
                total[key] = ratio(total.get(num), total.get(den))
            table.total = total


def official_indicator_names(report: Report) -> None:
    """Name and measurement unit first, the internal code last (schemas/indicators.yaml)."""
    for table in _tables(report, "wskazniki", "wskazniki-plec", "wskazniki-jednostki"):
        keys = [c.key for c in table.columns]
        if "code" not in keys:
            continue
        code = Column("code", "Kod (wewnętrzny)")
        rest = [c for c in table.columns if c.key not in ("code", "name", "unit_name")]
        lead = [c for c in table.columns if c.key == "unit_name"]
        if "name" not in keys and any("name" in r for r in table.rows):
            keys.append("name")
        name = [Column("name", "Wskaźnik (nazwa z katalogu)")] if "name" in keys else []
        measure = [Column("measure_unit", "Jednostka miary")] if any(r.get("measure_unit") for r in table.rows) else []
        table.columns = name + measure + lead + rest + [code]


def plural_wording(report: Report) -> None:
    if report.scope != "consolidated":
        return
    for section in report.sections:
        if section.id == "identyfikacja":
            section.title = "Identyfikacja projektów i okresu sprawozdawczego"
        for table in section.tables:
            if table.id == "uslugi-katalog":
                table.title = "Usługi według katalogów usług jednostek"


def _tables(report: Report, *ids: str) -> list[Table]:
    return [t for s in report.sections for t in s.tables if t.id in ids]


def _first_text_column(table: Table) -> str | None:
    return next((c.key for c in table.columns if c.kind == "text"), None)


def tidy(report: Report) -> Report:
    order_units(report)
    order_categories(report)
    unrounded_shares(report)
    add_totals(report)
    official_indicator_names(report)
    plural_wording(report)
    return report


__all__ = ["add_totals", "natural_key", "order_categories", "order_units", "tidy", "unrounded_shares"]
