"""DuckDB warehouse access: connections, layer schemas, idempotent partition writes.

Table names reach SQL only from code-side lists (the contract's dataset names); values are
always bound parameters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

LAYERS = ("raw", "staging", "mart", "report")
# The Dagster concurrency pool of every step that opens the warehouse (limit 1 in
# .dagster_home/dagster.yaml): DuckDB has one writer at a time, and a reader fails on a held file.
WAREHOUSE_POOL = "warehouse"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def sql_literal(text: str) -> str:
    """A string literal for SQL where DuckDB binds no parameters (DDL, COMMENT ON, ATTACH, generated SQL);
    texts from code-side lists and the catalog, never from data."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """Guard for identifiers that come from code-side lists (never from data)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


MEMORY_LIMIT_VARIABLE = "CUS_DUCKDB_MEMORY_LIMIT"
MEMORY_SHARE = 0.25  # of the machine's memory, when the variable is not set


def memory_limit() -> str:
    """DuckDB's memory limit for the warehouse: CUS_DUCKDB_MEMORY_LIMIT (e.g. `6GB`), else a quarter
    of the machine's memory. DuckDB's own default (80 %) beside a batch's frames killed the national
    tier's run by the out-of-memory killer while the marts were rebuilt (24 GB machine); with 6 GB
    DuckDB spills the large joins to `<warehouse>.tmp/` and the same rebuild fits (docs/scaling.md)."""
    configured = os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip()
    if configured:
        return configured
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1, int(total * MEMORY_SHARE / 2**30))}GiB"


@contextmanager
def connect(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit()})
    try:
        yield conn
    finally:
        conn.close()


def ensure_layers(conn: duckdb.DuckDBPyConnection) -> None:
    for layer in LAYERS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")


def run_sql_file(conn: duckdb.DuckDBPyConnection, path: Path, params: dict | None = None) -> None:
    conn.execute(Path(path).read_text(encoding="utf-8"), params or {})


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0] > 0


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure inside leaves the warehouse as it was."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def insert_frame(conn: duckdb.DuckDBPyConnection, target: str, frame: pl.DataFrame) -> None:
    """Insert `frame` into the quoted `schema.table` by column name (nothing for an empty frame).

    DuckDB reads the local `incoming_rows` by its replacement scan. Not `conn.register`: a registered
    view dropped inside a transaction keeps its Arrow data alive until the transaction commits, so a
    batch transaction held every frame it had written (~150 MB per million rows; docs/scaling.md)."""
    if frame.height:
        incoming_rows = frame.to_arrow()  # noqa: F841 — read by name in the statement below
        conn.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")


def delete_insert(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame, where: dict[str, object]
) -> None:
    """Delete the rows matching `where` (a partition) and insert `frame` (run inside `transaction`)."""
    target = f"{identifier(schema)}.{identifier(table)}"
    condition = " AND ".join(f"{identifier(col)} IS NOT DISTINCT FROM ?" for col in where) or "TRUE"
    conn.execute(f"DELETE FROM {target} WHERE {condition}", list(where.values()))
    insert_frame(conn, target, frame)


def replace_rows(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame, where: dict[str, object]
) -> None:
    """Idempotent partition write: delete the partition's rows and insert the new, atomically."""
    with transaction(conn):
        delete_insert(conn, schema, table, frame, where)


def query_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    return conn.sql(sql, params=params).pl() if params else conn.sql(sql).pl()


def replace_partitions(conn: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame,
                       partitions: list[tuple[str, str | None]], extra: dict[str, object] | None = None) -> None:
    """Delete the rows of many (unit, quarter) partitions and insert `frame` once (run inside `transaction`)."""
    target = f"{identifier(schema)}.{identifier(table)}"
    keys = pl.DataFrame({"unit": [u for u, _ in partitions], "quarter": [q for _, q in partitions]},
                        schema={"unit": pl.Utf8, "quarter": pl.Utf8})
    condition = "".join(f" AND t.{identifier(col)} IS NOT DISTINCT FROM ?" for col in (extra or {}))
    conn.register("batch_partitions", keys.to_arrow())
    try:
        conn.execute(f"DELETE FROM {target} AS t WHERE EXISTS (SELECT 1 FROM batch_partitions AS k WHERE "
                     f"k.unit = t.unit AND k.quarter IS NOT DISTINCT FROM t.quarter){condition}",
                     list((extra or {}).values()))
    finally:
        conn.unregister("batch_partitions")
    insert_frame(conn, target, frame)
