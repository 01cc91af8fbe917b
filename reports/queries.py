"""Reading the report inputs from the warehouse: SQL files in reports/sql/, bind parameters only.

Every query reads aggregates of the `report` layer (or file metadata of `raw.file_versions`);
none selects a person-level column (person_key, participant_id, names, PESEL) — tests check
the SQL text for that.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from core.registry import Unit
from core.warehouse import table_exists
from reports.builder import ReportInputs

SQL_DIR = Path(__file__).parent / "sql"

# ReportInputs field -> SQL file in reports/sql/ (same name).
INPUT_QUERIES: tuple[str, ...] = (
    "indicators", "profile", "profile_history", "services_area", "services_mode", "services_service", "commissioned",
    "finance_tasks", "finance_categories", "plan", "settlement", "advances", "quality", "quality_agreement", "quality_reasons",
    "flags", "milestones", "file_versions",
)

# report.* tables the report reads (the asset depends on them: AssetKey(["report", table])).
SOURCE_TABLES: list[str] = [
    "indicators", "participant_profile", "services_by_area", "services_by_mode", "services_by_service",
    "commissioned", "finance_by_task", "finance_by_category", "plan_vs_actual", "settlement", "advances",
    "data_quality", "quarantine_reasons", "flags", "milestones",
]

_TABLE_RE = re.compile(r"\b(?:FROM|JOIN)\s+(raw|staging|mart|report)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)


class WarehouseBusy(RuntimeError):
    pass


class ReportQueryError(RuntimeError):
    """A report query does not fit the warehouse (a column renamed or missing in a report table)."""


@contextmanager
def read_only(path: Path, wait_seconds: float = 120) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; waits while another process holds the write lock."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.IOException as error:
            text = str(error).lower()
            if "lock" not in text and "conflicting" not in text:
                raise
            if time.monotonic() > deadline:
                raise WarehouseBusy(f"Hurtownia {path} jest zajęta przez proces zapisujący.") from error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    try:
        yield conn
    finally:
        conn.close()


@cache
def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def rows(conn: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """Run reports/sql/<name>.sql with named parameters ($quarter, $units, ...) -> list of dicts."""
    text = sql(name)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    result = conn.execute(text, used)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row)) for row in result.fetchall()]


def quarter_arrivals(conn: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, dict]:
    """unit -> {files, last_loaded_at, fingerprint} of the quarter's current file versions."""
    if not table_exists(conn, "raw", "file_versions"):
        return {}
    return {r["unit"]: r for r in rows(conn, "quarter_arrivals", {"quarter": quarter})}


def tables_read(name: str) -> list[tuple[str, str]]:
    """(schema, table) pairs a SQL file reads (FROM/JOIN), in order of appearance."""
    seen: list[tuple[str, str]] = []
    for schema, table in _TABLE_RE.findall(sql(name)):
        pair = (schema.lower(), table.lower())
        if pair not in seen:
            seen.append(pair)
    return seen


def load_report_inputs(conn: duckdb.DuckDBPyConnection, quarter: str, units: list[Unit]) -> ReportInputs:
    """Every input of the quarter's reports for `units`, one SQL file per input.

    A table that does not exist yet (fresh warehouse, indicators never computed) leaves its input
    empty and is listed in `ReportInputs.missing`: the report says so instead of failing.
    """
    params = {"quarter": quarter, "units": [u.key for u in units]}
    inputs = ReportInputs(quarter=quarter, units=list(units))
    for name in INPUT_QUERIES:
        absent = [f"{schema}.{table}" for schema, table in tables_read(name) if not table_exists(conn, schema, table)]
        if absent:
            inputs.missing.extend(t for t in absent if t not in inputs.missing)
            continue
        try:
            setattr(inputs, name, rows(conn, name, params))
        except (duckdb.BinderException, duckdb.CatalogException) as error:
            raise ReportQueryError(
                f"Zapytanie reports/sql/{name}.sql nie pasuje do tabel hurtowni ({', '.join(f'{s}.{t}' for s, t in tables_read(name))}): "
                f"{error}. Przelicz tabele raportowe (indicators_job) albo uzgodnij kolumny z assets/report/sql/."
            ) from error
    return inputs
