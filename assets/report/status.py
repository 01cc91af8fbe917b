"""Status of every unit × quarter: what arrived, what is missing, refused or quarantined, which report is ready.

Computed in SQL (`status.sql`) from raw.file_versions, staging.validation_summary, staging.quarantine,
the unit registry (project periods, registry order, Polish names) and the report files on disk. Shown
as the asset `report/status` (a Markdown grid in its materialization metadata) and by `cus status`.
Quarters outside a unit's project period are "nie dotyczy", never "brak".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from core.contract import load_contract
from core.registry import Unit
from core.warehouse import table_exists
from reports.formatting import count
from reports.generate import report_folder, report_stem

STATUS_SQL = Path(__file__).with_name("status.sql")
QUARANTINE_ROWS_SQL = Path(__file__).with_name("quarantine_rows.sql")
REPORT_FORMATS = ("html", "pdf", "xlsx")

NOT_APPLICABLE = "nie dotyczy"
MISSING_CLOSED = "brak (kwartał zamknięty)"
MISSING_OPEN = "brak (kwartał trwa)"
REFUSED = "plik odrzucony"
MISSING_FILE = "brak pliku"
# a report older than a file it reads (its quarter's, an earlier quarter's or the agreement's): `cus run` rewrites it
OUTDATED = " (nieaktualny: starszy niż wczytane pliki — cus run przebuduje go, jeśli jest folder kwartału)"
QUARANTINE = "kwarantanna"
RECEIVED = "otrzymano"
REPORT_READY = "raport gotowy"

# status -> (short text of a grid cell, legend line)
SYMBOLS: dict[str, tuple[str, str]] = {
    REPORT_READY: ("✓ raport", "dane przyjęte, raport kwartalny gotowy (nowszy niż każdy plik, z którego powstaje)"),
    RECEIVED: ("✓ dane", "dane przyjęte, raportu jeszcze nie ma albo jest nieaktualny (starszy niż plik jego kwartału, wcześniejszego kwartału lub umowy)"),
    QUARANTINE: ("⚠ {n}", "{n} wierszy odrzuconych (kwarantanna, błąd) — do poprawienia przez jednostkę"),
    REFUSED: ("⛔ odrzucony", "plik odrzucony w całości (nieczytelny, bez wymaganych kolumn, innej jednostki albo "
                             "niespełniona reguła blokująca) — obowiązują wcześniejsze dane"),
    MISSING_FILE: ("? brak pliku", "przesłano część plików kwartału, bez pliku zwykle wysyłanego co kwartał "
                                   "(uczestnicy, świadczenia, wydatki) — jeśli go pominięto, prześlij go (bez niego jego "
                                   "wartości w kwartale są zerowe); jeśli w kwartale nie było takich danych, w porządku"),
    MISSING_CLOSED: ("✗ brak", "nie przesłano danych, a kwartał się zakończył"),
    MISSING_OPEN: ("… czeka", "nie przesłano jeszcze danych, kwartał trwa (lub się nie zaczął)"),
    NOT_APPLICABLE: ("·", "nie dotyczy — kwartał poza okresem realizacji projektu jednostki"),
}

# (source relation, warehouse table, columns when the table does not exist yet)
SOURCES = (
    ("src_file_versions", "raw.file_versions",
     {"unit": pl.Utf8, "quarter": pl.Utf8, "dataset": pl.Utf8, "file_sha256": pl.Utf8,
      "last_loaded_at": pl.Datetime("us"), "is_current": pl.Boolean}),
    ("src_validation", "staging.validation_summary",
     {"unit": pl.Utf8, "quarter": pl.Utf8, "dataset": pl.Utf8, "received": pl.Int64, "accepted": pl.Int64,
      "quarantined": pl.Int64, "warnings": pl.Int64}),
    ("src_quarantine", "staging.quarantine",
     {"unit": pl.Utf8, "quarter": pl.Utf8, "dataset": pl.Utf8, "row_number": pl.Int64, "severity": pl.Utf8,
      "message": pl.Utf8}),
    ("src_file_refusals", "raw.file_refusals",
     {"unit": pl.Utf8, "quarter": pl.Utf8, "dataset": pl.Utf8, "problem": pl.Utf8, "refused_at": pl.Datetime("us")}),
)


@dataclass(frozen=True)
class ReportFile:
    unit: str
    quarter: str
    format: str
    path: Path


def report_files(reports_root: Path, units: tuple[Unit, ...] | list[Unit]) -> list[ReportFile]:
    """The report files on disk for every unit × quarter of its period (HTML, PDF, XLSX)."""
    found = []
    for unit in units:
        for quarter in unit.quarters:
            stem = report_stem(quarter, unit.key)
            folder = report_folder(Path(reports_root), quarter, unit.key)
            for fmt in REPORT_FORMATS:
                path = folder / f"{stem}.{fmt}"
                if path.is_file():
                    found.append(ReportFile(unit.key, quarter, fmt, path))
    return found


def _registry_frame(units) -> pl.DataFrame:
    return pl.DataFrame({"unit": [u.key for u in units], "position": list(range(1, len(units) + 1)),
                         "unit_name": [u.name for u in units], "period_start": [u.period_start for u in units],
                         "period_end": [u.period_end for u in units]},
                        schema={"unit": pl.Utf8, "position": pl.Int64, "unit_name": pl.Utf8,
                                "period_start": pl.Date, "period_end": pl.Date})


def _datasets_frame() -> pl.DataFrame:
    quarterly = [d for d in load_contract().values() if d.level == "quarter"]
    return pl.DataFrame({"dataset": [d.name for d in quarterly], "title": [d.title for d in quarterly],
                         "position": list(range(1, len(quarterly) + 1)),
                         "every_quarter": [d.every_quarter for d in quarterly]},
                        schema={"dataset": pl.Utf8, "title": pl.Utf8, "position": pl.Int64, "every_quarter": pl.Boolean})


def _reports_frame(files: list[ReportFile]) -> pl.DataFrame:
    return pl.DataFrame({"unit": [f.unit for f in files], "quarter": [f.quarter for f in files],
                         "format": [f.format for f in files],
                         "modified_at": [datetime.fromtimestamp(f.path.stat().st_mtime) for f in files]},
                        schema={"unit": pl.Utf8, "quarter": pl.Utf8, "format": pl.Utf8,
                                "modified_at": pl.Datetime("us")})


def unit_quarter_status(conn: duckdb.DuckDBPyConnection | None, units: tuple[Unit, ...] | list[Unit],
                        reports_root: Path, today: date | None = None) -> pl.DataFrame:
    """One row per unit × quarter (registry order, then quarter) with `status` and its details.

    `conn` is a connection to the warehouse (read-only is enough) or None before the first load.
    """
    own = conn is None
    conn = duckdb.connect() if conn is None else conn
    registered = []
    try:
        for relation, table, schema in SOURCES:
            layer, name = table.split(".")
            if table_exists(conn, layer, name):
                columns = ", ".join(schema)
                conn.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {columns} FROM {table}")
            else:
                conn.execute(f"DROP VIEW IF EXISTS {relation}")
                conn.register(relation, pl.DataFrame(schema=schema).to_arrow())
                registered.append(relation)
        inputs = {"status_units": _registry_frame(units), "status_datasets": _datasets_frame(),
                  "src_report_files": _reports_frame(report_files(reports_root, units))}
        for relation, frame in inputs.items():
            conn.register(relation, frame.to_arrow())
            registered.append(relation)
        return conn.sql(STATUS_SQL.read_text(encoding="utf-8"), params={"today": today or date.today()}).pl()
    finally:
        for relation in registered:
            conn.unregister(relation)
        for relation, _table, _schema in SOURCES:
            if relation not in registered:
                conn.execute(f"DROP VIEW IF EXISTS {relation}")
        if own:
            conn.close()


def outdated_reports(conn: duckdb.DuckDBPyConnection, units: tuple[Unit, ...] | list[Unit],
                     reports_root: Path, landing_root: Path) -> dict[str, list[str]]:
    """unit -> quarters whose report is older than a file it reads (a run killed while writing reports,
    `cus run --no-reports`, a reports run that failed) and that the rebuild rule can write again (its
    landing folder exists: rebuild_scope.quarters_to_report): the batch's reports step rewrites them too.
    One whose folder is gone stays outdated in the status and is never asked for again."""
    status = unit_quarter_status(conn, units, reports_root).filter(pl.col("report_outdated"))
    out: dict[str, list[str]] = {}
    for row in status.select("unit", "quarter").iter_rows(named=True):
        if (Path(landing_root) / row["unit"] / row["quarter"]).is_dir():
            out.setdefault(row["unit"], []).append(row["quarter"])
    return out


def quarantine_lines(conn: duckdb.DuckDBPyConnection, unit: str, quarter: str, max_rows: int = 50) -> list[str]:
    """What is wrong in one unit × quarter, a line per rejected or warned cell: file, row, column, value and
    the message (`cus status --unit U --quarter Q`); at most `max_rows` lines and a line saying how many more."""
    if not table_exists(conn, "staging", "quarantine"):
        return []
    rows = conn.sql(QUARANTINE_ROWS_SQL.read_text(encoding="utf-8"),
                    params={"unit": unit, "quarter": quarter, "max_rows": max_rows}).fetchall()
    lines, total = [], rows[0][-1] if rows else 0
    for severity, source_file, row_number, header, value, message, _total in rows:
        where = [source_file or "?"] + ([f"wiersz {row_number}"] if row_number is not None else ["cały plik"])
        where += [f"kolumna „{header}”"] if header else []
        where += [f"wartość „{value}”"] if value is not None else []
        lines.append(f"  {'błąd' if severity == 'error' else 'ostrzeżenie'}: {', '.join(where)}: {message}")
    if total > len(rows):
        more = count(total - len(rows), "dalszy", "dalsze", "dalszych")
        lines.append(f"  … i {more} (wszystkie: tabela staging.quarantine, raport kwartalny, sprawdzenia w interfejsie "
                     "Dagster)")
    return lines


def cell_text(row: dict) -> str:
    """The short text of one grid cell, e.g. `✓ raport`, `⚠ 3`, `✗ brak`."""
    text = SYMBOLS[row["status"]][0].replace("{n}", str(row["quarantined_rows"]))
    if row["status"] in (QUARANTINE, REFUSED, MISSING_FILE) and row["report_ready"]:
        text += " · raport"
    return text


def legend() -> list[str]:
    return [f"{symbol.replace('{n}', 'N')} — {meaning.replace('{n}', 'N')}" for symbol, meaning in SYMBOLS.values()]


def grid_rows(status: pl.DataFrame, quarters: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the grid: units in registry order as rows with their names, quarters as columns."""
    quarters = quarters or sorted(status["quarter"].unique().to_list())
    header = ["jednostka", *quarters]
    rows = []
    for (unit_name,), part in status.group_by("unit_name", maintain_order=True):
        cells = {r["quarter"]: cell_text(r) for r in part.iter_rows(named=True)}
        rows.append([unit_name, *[cells.get(q, "") for q in quarters]])
    return header, rows


def _md_cell(text) -> str:
    return "—" if text is None or text == "" else str(text).replace("|", "\\|")


def grid_markdown(status: pl.DataFrame) -> str:
    header, rows = grid_rows(status)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n**Legenda:** " + "; ".join(legend()) + "."


def _report_cell(row: dict, links: dict[tuple[str, str], dict[str, str]]) -> str:
    if not row["report_ready"]:
        return "—"
    formats = links.get((row["unit"], row["quarter"]), {})
    text = " ".join(f"[{fmt.upper()}]({url})" for fmt, url in formats.items()) or row["report_formats"]
    return text + (OUTDATED if row["report_outdated"] else "")


def unit_detail_markdown(status: pl.DataFrame, unit: str,
                         links: dict[tuple[str, str], dict[str, str]] | None = None) -> str:
    """Quarters of one unit's project period: status, files received, refused, quarantined, report."""
    lines = ["| kwartał | stan | pliki przyjęte | brak pliku | plik odrzucony | kwarantanna (wiersze z błędem) | ostrzeżenia "
             "| raport |",
             "|---|---|---|---|---|---|---|---|"]
    for row in status.filter((pl.col("unit") == unit) & pl.col("in_period")).iter_rows(named=True):
        lines.append("| " + " | ".join(_md_cell(c) for c in (
            row["quarter"], row["status"], row["files"], row["missing_files"], row["refused_files"],
            row["quarantined_files"],
            row["warning_rows"] or None, _report_cell(row, links or {}))) + " |")
    return "\n".join(lines)


def unit_detail_text(status: pl.DataFrame, unit: str) -> str:
    """The quarters of one unit's period as plain text lines (`cus status --unit`)."""
    lines = []
    for row in status.filter((pl.col("unit") == unit) & pl.col("in_period")).iter_rows(named=True):
        parts = [f"{row['quarter']}: {row['status']}"]
        if row["files"]:
            parts.append(f"pliki: {row['files']}")
        if row["missing_files"]:
            parts.append(f"brak pliku: {row['missing_files']}")
        if row["refused_files"]:
            parts.append(f"odrzucony: {row['refused_files']}")
        if row["quarantined_files"]:
            parts.append(f"kwarantanna: {row['quarantined_files']}")
        if row["warning_rows"]:
            parts.append(f"ostrzeżenia: {row['warning_rows']}")
        if row["report_ready"]:
            parts.append(f"raport: {row['report_formats']}" + (OUTDATED if row["report_outdated"] else ""))
        lines.append("  " + "; ".join(parts))
    return "\n".join(lines)


def grid_text(status: pl.DataFrame) -> str:
    """The grid as aligned plain text for the terminal (`cus status`)."""
    header, rows = grid_rows(status)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n\nLegenda:\n" + "\n".join(f"  {line}" for line in legend())


def counts(status: pl.DataFrame) -> dict[str, int]:
    """Number of unit × quarter cells per status (in the order of the legend)."""
    by_status = dict(status.group_by("status").len().iter_rows())
    return {name: by_status.get(name, 0) for name in SYMBOLS}


def report_url(base_url: str, reports_root: Path, path: Path) -> str:
    """The address of a report file on the report server of `cus ui` (the reports folder over HTTP)."""
    from urllib.parse import quote

    relative = Path(path).resolve().relative_to(Path(reports_root).resolve()).as_posix()
    return f"{base_url.rstrip('/')}/{quote(relative)}"


def report_links(base_url: str, reports_root: Path, files: list[ReportFile]) -> dict[tuple[str, str], dict[str, str]]:
    """(unit, quarter) -> {format: URL} of the report files on disk."""
    links: dict[tuple[str, str], dict[str, str]] = {}
    for f in files:
        links.setdefault((f.unit, f.quarter), {})[f.format] = report_url(base_url, reports_root, f.path)
    return links
