"""The rows a quarter's reports are built from (read by reports/queries.py through reports/readers.py).

Rows carry a `level` (reports/sql/report_rows.sql.j2): 'unit' — a unit's stored row; 'all' — the
sum over the report's units (the consolidated figures); 'unit_total' / 'total' — the sums over a
table's keys, for one unit / all units. A row without `level` is a unit's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.registry import Unit

UNIT, ALL, UNIT_TOTAL, TOTAL = "unit", "all", "unit_total", "total"


@dataclass
class ReportInputs:
    """Rows of the report layer for one quarter and the units covered (see reports/readers.py)."""

    quarter: str
    units: list[Unit]
    indicators: list[dict] = field(default_factory=list)
    profile: list[dict] = field(default_factory=list)
    # Sensitive profile rows of every quarter up to the reporting one (sequential disclosure control).
    profile_history: list[dict] = field(default_factory=list)
    services_area: list[dict] = field(default_factory=list)
    services_mode: list[dict] = field(default_factory=list)
    services_service: list[dict] = field(default_factory=list)
    commissioned: list[dict] = field(default_factory=list)
    finance_tasks: list[dict] = field(default_factory=list)
    finance_categories: list[dict] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    settlement: list[dict] = field(default_factory=list)
    advances: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    quality_agreement: list[dict] = field(default_factory=list)
    quality_reasons: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    file_versions: list[dict] = field(default_factory=list)
    narrative: list[dict] = field(default_factory=list)  # mart.narrative (reports/sections/narrative.py)
    expense_documents: list[dict] = field(default_factory=list)  # mart.fact_expense (reports/sections/documents.py)
    # Entries under the landing root that are not read (core/landing.py): unit, path, problem, fix.
    landing_problems: list[dict] = field(default_factory=list)
    # Warehouse tables that do not exist (yet): their inputs are empty and the report says so.
    missing: list[str] = field(default_factory=list)

    def for_unit(self, unit_key: str) -> ReportInputs:
        """The unit's own rows (its stored rows and its totals); rows of all units are left out."""
        picked = {name: [r for r in getattr(self, name) if r.get("unit") == unit_key]
                  for name in self.__dataclass_fields__ if name not in ("quarter", "units", "missing")}
        return ReportInputs(quarter=self.quarter, units=[u for u in self.units if u.key == unit_key],
                            missing=list(self.missing), **picked)


def at_level(rows: list[dict], level: str) -> list[dict]:
    """Copies of the rows of one level (sections change their copies, never the inputs)."""
    return [dict(r) for r in rows if r.get("level", UNIT) == level]


def one(rows: list[dict], level: str) -> dict | None:
    """The single row of a level (a unit's row, the sum over all units, a total), or None when the
    table has no unit rows at all (an empty table still yields an all-NULL grand total)."""
    if not at_level(rows, UNIT):
        return None
    found = at_level(rows, level)
    return found[0] if found else None
