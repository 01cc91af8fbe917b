"""The report's sections, one module each: they pick rows of reports/inputs.py and shape and
format them into the report model (reports/model.py). No figure is computed here: sums over
units, totals and ratios come from the SQL of reports/readers.py."""

from __future__ import annotations

from dataclasses import dataclass

from reports.inputs import ALL, TOTAL, UNIT, UNIT_TOTAL, ReportInputs
from reports.model import Column
from reports.settings import ReportSettings


@dataclass(frozen=True)
class Scope:
    """What every section needs to know about the report it is part of."""

    kind: str  # "unit" | "consolidated"
    inputs: ReportInputs
    settings: ReportSettings
    suppress: bool

    @property
    def consolidated(self) -> bool:
        return self.kind == "consolidated"

    @property
    def level(self) -> str:
        """The rows of the report's own figures: the unit's, or the sum over all units."""
        return ALL if self.consolidated else UNIT

    @property
    def total_level(self) -> str:
        return TOTAL if self.consolidated else UNIT_TOTAL

    @property
    def names(self) -> dict[str, str]:
        return {u.key: u.name for u in self.inputs.units}

    def unit_name(self, key: str | None) -> str | None:
        return self.names.get(key, key)

    def unit_column(self) -> list[Column]:
        """Rows of several units carry their unit's name (consolidated report)."""
        return [Column("unit_name", "Jednostka")] if self.consolidated else []


def status(ok: bool | None, warn: bool = False) -> str | None:
    if ok is None:
        return None
    return "ok" if ok else ("warn" if warn else "bad")
