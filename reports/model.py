"""The report as data: sections of tables with typed cells, shared by the HTML, PDF and XLSX.

Renderers never compute figures: they format what the model holds, so the three outputs show
the same numbers (and the tests compare them with the warehouse through this one model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reports.formatting import Suppressed, quarter_label

# Optional per-row override of column kinds: row[ROW_KINDS] = {column key: kind} (e.g. an
# indicator measured as a share among indicators counted in persons).
ROW_KINDS = "_kinds"


def cell_kind(row: dict, column: Column) -> str:
    return (row.get(ROW_KINDS) or {}).get(column.key, column.kind)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # see reports.formatting.KINDS


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note: str | None = None
    empty_text: str = "Brak danych za ten okres."
    rows_in_workbook_only: int = 0  # HTML/PDF: this many rows not shown on the page (reports/html.py)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def all_rows(self) -> list[dict[str, Any]]:
        return self.rows + ([self.total] if self.total else [])


@dataclass
class Fact:
    """A labelled single value (identification, 70% rule, shares against limits)."""

    label: str
    value: Any
    kind: str = "text"
    status: str | None = None  # "ok" | "warn" | "bad" -> coloured badge


@dataclass(frozen=True)
class Chart:
    """A Plotly figure of the report (reports/charts.py). The HTML draws `fragment` with the inlined
    plotly.js; the PDF shows the same figure as an SVG image drawn once by the printer's browser
    (reports/pdf.py), so a printed page runs no script."""

    chart_id: str
    figure_json: str  # plotly's figure JSON (data + layout), `</` escaped
    fragment: str  # the chart's box + the call that draws it (HTML)


@dataclass
class Section:
    id: str
    title: str
    sheet: str  # XLSX sheet name (≤ 31 characters, no []:*?/\)
    facts: list[Fact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)  # filled by reports.charts
    notes: list[str] = field(default_factory=list)
    page_break: bool = False  # start on a new page when printed
    in_html: bool = True  # False: an XLSX-only annex (e.g. the list of expense documents); HTML/PDF skip it


@dataclass
class SignOff:
    """Who prepared and who approved the report, and when (reports/signoff.py)."""

    prepared_by: str | None = None
    prepared_on: Any = None
    approved_by: str | None = None
    approved_on: Any = None
    source: str = ""  # where the names come from (the quarter's opis_postepu file or reports/config.yaml)


@dataclass
class Report:
    scope: str  # "unit" | "consolidated"
    unit_key: str  # unit key or "zbiorczy"
    title: str
    quarter: str
    period_start: Any
    period_end: Any
    generated_at: Any
    sections: list[Section]
    footnotes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # unit keys covered
    suppressed_cells: int = 0  # cells hidden by disclosure control
    # Running header of every printed page: (unit, "quarter · agreement"), so a loose page can be attributed.
    running_header: tuple[str, str] = ("", "")
    signoff: SignOff | None = None
    version: int | None = None  # grows when the report is rebuilt with other content (reports/versioning.py)
    version_note: str = ""

    @property
    def document_title(self) -> str:
        """Title of the files (HTML <title> -> PDF title, XLSX properties), with the version."""
        version = f" — wersja {self.version}" if self.version else ""
        return f"{self.title} — {quarter_label(self.quarter)}{version}"

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def table(self, table_id: str) -> Table:
        return next(t for s in self.sections for t in s.tables if t.id == table_id)


def total_row(rows: list[dict], label_key: str, label: str, sum_keys: list[str]) -> dict:
    """Sum of Decimal/int columns (None and suppressed cells are skipped by the caller's choice)."""
    out: dict[str, Any] = {label_key: label}
    for key in sum_keys:
        values = [r.get(key) for r in rows]
        if any(isinstance(v, Suppressed) for v in values):
            out[key] = None
            continue
        present = [v for v in values if v is not None]
        out[key] = sum(present, Decimal(0)) if present else None
    return out


def ratio(numerator, denominator) -> Decimal | None:
    if numerator is None or denominator in (None, 0):
        return None
    return Decimal(numerator) / Decimal(denominator)
