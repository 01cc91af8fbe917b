"""Reading the report inputs from the warehouse: one generic reader (reports/readers.py renders
reports/sql/report_rows.sql.j2 for every entry of READS), bind parameters only.

Every query reads aggregates of the `report` layer (or file metadata of `raw.file_versions`, the
claim's documents of `mart.fact_expense` and its descriptive part `mart.narrative`);
none selects a person-level column (person_key, participant_id, names, PESEL) — tests check
the SQL text for that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from core.registry import Unit
from core.warehouse import table_exists
from reports.inputs import ReportInputs
from reports.readers import READS, SQL_DIR, TEMPLATE, sql_for

# report.* tables the report reads (the asset depends on them: AssetKey(["report", table])).
SOURCE_TABLES: list[str] = list(dict.fromkeys(r.schema_table[1] for r in READS if r.schema_table[0] == "report"))
# mart.* tables the report reads directly: the claim's list of documents and its descriptive part.
MART_SOURCE_TABLES: list[str] = list(dict.fromkeys(r.schema_table[1] for r in READS if r.schema_table[0] == "mart"))


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
    """A SQL file of reports/sql/ (the schedule's quarter_arrivals.sql)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _run(conn: duckdb.DuckDBPyConnection, text: str, params: dict) -> list[dict]:
    used = {k: v for k, v in params.items() if f"${k}" in text}
    result = conn.execute(text, used)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row)) for row in result.fetchall()]


def rows(conn: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """Run reports/sql/<name>.sql with named parameters ($quarter, $units, ...) -> list of dicts."""
    return _run(conn, sql(name), params)


def quarter_arrivals(conn: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, dict]:
    """unit -> {files, last_loaded_at, fingerprint} of the quarter's current file versions."""
    if not table_exists(conn, "raw", "file_versions"):
        return {}
    return {r["unit"]: r for r in rows(conn, "quarter_arrivals", {"quarter": quarter})}


def load_report_inputs(conn: duckdb.DuckDBPyConnection, quarter: str, units: list[Unit]) -> ReportInputs:
    """Every input of the quarter's reports for `units`, one generic query per entry of READS.

    A table that does not exist yet (fresh warehouse, indicators never computed) leaves its input
    empty and is listed in `ReportInputs.missing`: the report says so instead of failing.
    """
    params = {"quarter": quarter, "units": [u.key for u in units]}
    inputs = ReportInputs(quarter=quarter, units=list(units))
    present = set(conn.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
    for read in READS:
        if read.schema_table not in present:
            if read.table not in inputs.missing:
                inputs.missing.append(read.table)
            continue
        try:
            setattr(inputs, read.name, _run(conn, sql_for(read.name), params))
        except (duckdb.BinderException, duckdb.CatalogException) as error:
            raise ReportQueryError(
                f"Odczyt „{read.name}” (reports/readers.py, szablon reports/sql/{TEMPLATE}) nie pasuje do tabeli "
                f"{read.table}: {error}. Przelicz tabele raportowe (indicators_job) albo uzgodnij kolumny z "
                "assets/report/sql/."
            ) from error
    return inputs
