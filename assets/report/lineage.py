"""Lineage: the source rows and file versions behind any figure of the report tables.

    source_rows(conn, "eligible_cumulative", "srokowo", "2021Q2")
    source_rows(conn, "indicator", "srokowo", "2021Q2", code="PROD_OSOBY_USLUGI", cumulative=True)
    source_rows(conn, "cumulative_value", "srokowo", "2021Q2", area=4)

Each figure maps to one table macro of `assets/report/sql/lineage_macros.sql`
(`report.lineage_expenses`, `report.lineage_deliveries`, `report.lineage_tranches`,
`report.lineage_persons`, `report.lineage_budget`, `report.lineage_plan`, `report.lineage_targets`,
`report.lineage_milestones`); the macros join the mart facts to
`raw.file_versions`, so every row carries source_file, file_sha256, row_number and version_no.
Analysts call the same macros in SQL. Filters are bound parameters on a code-side column list.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl


@dataclass(frozen=True)
class Figure:
    macro: str  # report.<macro>(unit, quarter, cumulative[, code])
    cumulative: bool
    where: tuple[tuple[str, object], ...] = ()  # fixed conditions (column, value)
    filters: tuple[str, ...] = ()  # optional keyword filters allowed
    by_code: bool = False  # `code=` selects rows of that code (targets, milestones)


_EXPENSE_FILTERS = ("task_no", "cost_category", "document_no")
_DELIVERY_FILTERS = ("area", "mode", "service_code", "participant_id")

FIGURES: dict[str, Figure] = {
    # report.settlement / finance_by_* / commissioned / advances: expense documents
    "direct_quarter": Figure("lineage_expenses", False, filters=_EXPENSE_FILTERS),
    "eligible_quarter": Figure("lineage_expenses", False, filters=_EXPENSE_FILTERS),
    "indirect_quarter": Figure("lineage_expenses", False),
    "eu_quarter": Figure("lineage_expenses", False),
    "national_quarter": Figure("lineage_expenses", False),
    "quarter_amount": Figure("lineage_expenses", False, filters=_EXPENSE_FILTERS),
    "direct_cumulative": Figure("lineage_expenses", True, filters=_EXPENSE_FILTERS),
    "eligible_cumulative": Figure("lineage_expenses", True, filters=_EXPENSE_FILTERS),
    "indirect_cumulative": Figure("lineage_expenses", True),
    "eu_cumulative": Figure("lineage_expenses", True),
    "national_cumulative": Figure("lineage_expenses", True),
    "cumulative_amount": Figure("lineage_expenses", True, filters=_EXPENSE_FILTERS),
    "spent": Figure("lineage_expenses", True),
    "direct_costs": Figure("lineage_expenses", True),
    "cross_financing": Figure("lineage_expenses", True, where=(("cross_financing", True),)),
    "fixed_assets": Figure("lineage_expenses", True, where=(("fixed_asset", True),)),
    "commissioned_amount": Figure("lineage_expenses", True, where=(("commissioned", True),)),
    # report.advances: tranches
    "received_total": Figure("lineage_tranches", True),
    "received_quarter": Figure("lineage_tranches", False),
    # report.services_by_*: deliveries
    "deliveries": Figure("lineage_deliveries", False, filters=_DELIVERY_FILTERS),
    "quarter_value": Figure("lineage_deliveries", False, filters=_DELIVERY_FILTERS),
    "cumulative_value": Figure("lineage_deliveries", True, filters=_DELIVERY_FILTERS),
    # report.indicators / participant_profile: persons (code=...)
    "indicator": Figure("lineage_persons", True),
    "quarter_total": Figure("lineage_persons", False),
    "cumulative_total": Figure("lineage_persons", True),
    # agreement data (one file per unit: umowa/)
    "budget": Figure("lineage_budget", False, filters=("task_no", "cost_category")),
    "planned": Figure("lineage_plan", False),  # the plan of `quarter`
    "planned_cumulative": Figure("lineage_plan", True),  # the plan up to `quarter` (all without one)
    "target_total": Figure("lineage_targets", False, by_code=True),
    "milestones": Figure("lineage_milestones", False, by_code=True),
}
AGREEMENT_MACROS = ("lineage_budget", "lineage_targets", "lineage_milestones")

# Indicators that are not counts of persons: the rows they are computed from.
NON_PERSON_INDICATORS: dict[str, Figure] = {
    "PROD_KAMIENIE": Figure("lineage_milestones", False),
    "REZ_ZLECANIE": Figure("lineage_expenses", True),  # commissioned (flag) / all direct costs
}
# Figures taken from the unit registry, not from landing files: no source rows to return.
REGISTRY_INDICATORS = {"PROD_CUS": "config/units.yaml (cus_start jednostki)"}


def source_rows(conn: duckdb.DuckDBPyConnection, figure: str, unit: str, quarter: str | None = None, *,
                code: str | None = None, cumulative: bool | None = None, **filters) -> pl.DataFrame:
    """Rows (with source file, SHA-256, row number and file version) behind `figure` of `unit` in
    reporting `quarter`. `cumulative` overrides the figure's default scope (person figures).
    Person figures need `code` (indicator or profile code)."""
    try:
        spec = FIGURES[figure]
    except KeyError:
        raise ValueError(f"Nieznana wielkość {figure!r}; dostępne: {', '.join(sorted(FIGURES))}") from None
    unknown = set(filters) - set(spec.filters)
    if unknown:
        raise ValueError(f"Filtry {sorted(unknown)} niedozwolone dla {figure!r}; dozwolone: {list(spec.filters)}")
    if spec.macro == "lineage_persons" and code in REGISTRY_INDICATORS:
        raise ValueError(f"{code} nie pochodzi z plików jednostki, tylko z rejestru: {REGISTRY_INDICATORS[code]}")
    if spec.macro == "lineage_persons" and code in NON_PERSON_INDICATORS:
        spec = NON_PERSON_INDICATORS[code]
    scope = spec.cumulative if cumulative is None else cumulative
    if spec.macro in AGREEMENT_MACROS:
        sql, params = f"SELECT * FROM report.{spec.macro}(?)", [unit]
    elif spec.macro == "lineage_persons":
        if not code:
            raise ValueError(f"{figure!r}: podaj kod wskaźnika (code=...)")
        sql, params = "SELECT * FROM report.lineage_persons(?, ?, ?, ?)", [unit, quarter, code, scope]
    else:
        sql, params = f"SELECT * FROM report.{spec.macro}(?, ?, ?)", [unit, quarter, scope]
    conditions = list(spec.where) + list(filters.items())
    if spec.by_code and code:
        conditions.append(("code", code))
    if conditions:
        sql += " WHERE " + " AND ".join(f"{column} IS NOT DISTINCT FROM ?" for column, _ in conditions)
        params += [value for _, value in conditions]
    return conn.sql(sql, params=params).pl()
