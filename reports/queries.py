"""Reading the report inputs from the warehouse: SQL files in reports/sql/, bind parameters only.

Every query reads aggregates of the `report` layer (or file metadata of `raw.file_versions`);
none selects a person-level column (person_key, participant_id, names, PESEL) — tests check
the SQL text for that.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import duckdb

from pipelines.registry import Unit
from pipelines.warehouse import table_exists
from reports.builder import ReportInputs

SQL_DIR = Path(__file__).parent / "sql"

# report.* tables the report reads (the asset depends on them).
SOURCE_TABLES: list[str] = []


class WarehouseBusy(RuntimeError):
    pass


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


@lru_cache(maxsize=None)
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


def load_report_inputs(conn: duckdb.DuckDBPyConnection, quarter: str, units: list[Unit]) -> ReportInputs:
    raise NotImplementedError("waiting for the report tables")
