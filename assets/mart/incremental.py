"""Mart and report tables rebuilt for the changed units only, where it pays (docs/scaling.md).

A batch run rebuilds every table in its own transaction. Rebuilt whole, the large per-unit tables
(`rebuild: per_unit` in schemas/warehouse/*.yaml: the mart's facts, participants and person counts,
the report tables that aggregate them per unit) are what a correction waits for as the warehouse
grows — ~10 of 11,6 s at 100 units, ~2 minutes nationally. Their rows of the units whose staging
changed are deleted and inserted again from the same SQL model, reading only those units' rows;
every other table is rebuilt whole (cheap).

When it is safe, per table:
- `raw.units_to_rebuild` lists, for every per-unit table, the units whose staging rows changed since
  the table's rows of them were built (written by the batch in the transaction that writes staging,
  emptied for a table by its rebuild);
- `raw.table_builds` holds, per table, the fingerprint of what its last whole rebuild was built from
  besides staging: the SQL models and macros, schemas/ (contract, indicators, flags, warehouse), the
  unit registry and this code. Any difference — or a missing table, or changed units covering half of
  the registry — rebuilds the table whole, as before. Every whole rebuild records it: the batch's,
  the UI's mart and report assets', `indicators_job`'s.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from assets.mart.sql_tables import (
    MODEL_FOLDERS,
    MONEY_MACROS_SQL,
    SqlTable,
    load_sql_tables,
    prepare,
    prepare_report_macros,
    run_table_sql,
    units_frame,
)
from core.paths import SCHEMAS_DIR
from core.registry import Unit
from core.warehouse import identifier, run_sql_file, sql_literal, table_exists

BUILD_STATE_SQL = Path(__file__).with_name("build_state.sql")
FORMAT = 1  # part of the fingerprint: raise it when this module changes what a partial rebuild writes
# Changed units covering at least this share of the registry: a full rebuild (no slower, simpler).
FULL_FROM_SHARE = 0.5


def ensure_build_state(conn) -> None:
    run_sql_file(conn, BUILD_STATE_SQL)


def per_unit_tables() -> list[str]:
    """"mart.fact_delivery", ...: the tables with `rebuild: per_unit` (schemas/warehouse/*.yaml)."""
    return [f"{t.layer}.{t.name}" for layer in MODEL_FOLDERS for t in load_sql_tables(layer)
            if t.doc is not None and t.doc.per_unit]


def mark_changed(conn, units: set[str] | list[str], changed_at: datetime) -> None:
    """Units whose staging rows the caller's transaction changed: their rows of every per-unit table are
    rebuilt next."""
    if not units:
        return
    ensure_build_state(conn)
    conn.execute("INSERT INTO raw.units_to_rebuild SELECT t, u, ? FROM unnest(?::VARCHAR[]) AS a(t), "
                 "unnest(?::VARCHAR[]) AS b(u)", [changed_at, per_unit_tables(), sorted(units)])


def fingerprint(units: tuple[Unit, ...] | list[Unit]) -> str:
    """What the tables are built from besides staging (see the module's docstring)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    files = [MONEY_MACROS_SQL, Path(__file__), Path(__file__).with_name("sql_tables.py")]
    files += [p for folder in MODEL_FOLDERS.values() for p in sorted(folder.glob("*.sql"))]
    files += sorted(SCHEMAS_DIR.rglob("*.yaml"))
    for path in files:
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    digest.update(units_frame(units).write_csv().encode())
    return digest.hexdigest()


def units_to_rebuild(conn, table: SqlTable, units: tuple[Unit, ...] | list[Unit], built_from: str) -> list[str] | None:
    """The units whose rows of `table` must be rebuilt; None = rebuild the table whole (not a per-unit
    table, missing, last built whole from something else, or changed units covering half of the
    registry). The build state's tables exist (`ensure_build_state`)."""
    if table.doc is None or not table.doc.per_unit or not table_exists(conn, table.layer, table.name):
        return None
    qualified = f"{table.layer}.{table.name}"
    last = conn.execute("SELECT fingerprint FROM raw.table_builds WHERE table_name = ?", [qualified]).fetchall()
    if last != [(built_from,)]:
        return None
    changed = [u for (u,) in conn.execute("SELECT DISTINCT unit FROM raw.units_to_rebuild WHERE table_name = ? "
                                          "ORDER BY unit", [qualified]).fetchall()]
    return None if len(changed) >= FULL_FROM_SHARE * max(len(units), 1) else changed


def record_build(conn, table: SqlTable, built_from: str, built_at: datetime, units: list[str] | None) -> None:
    """`table` is rebuilt for `units` (None: whole, from `built_from`)."""
    qualified = f"{table.layer}.{table.name}"
    if units is None:
        conn.execute("DELETE FROM raw.units_to_rebuild WHERE table_name = ?", [qualified])
        conn.execute("DELETE FROM raw.table_builds WHERE table_name = ?", [qualified])
        conn.execute("INSERT INTO raw.table_builds VALUES (?, ?, ?)", [qualified, built_from, built_at])
    elif units:
        conn.execute("DELETE FROM raw.units_to_rebuild WHERE table_name = ? AND list_contains(?::VARCHAR[], unit)",
                     [qualified, units])


def _unit_keys(units: list[str]) -> str:
    return ", ".join(sql_literal(u) for u in units)


def unit_relations(conn) -> set[str]:
    """"mart.fact_delivery", ...: the warehouse's tables and views with a `unit` column."""
    return {f"{schema}.{name}" for schema, name in conn.execute(
        "SELECT DISTINCT schema_name, table_name FROM duckdb_columns() "
        "WHERE column_name = 'unit' AND database_name = current_database()").fetchall()}


def filtered_query(table: SqlTable, units: list[str], relations: set[str]) -> str:
    """The model's SELECT with every relation it reads that has a `unit` column (schema-qualified,
    e.g. mart.fact_delivery) replaced by that relation's rows of `units` — what a per-unit table's rows
    of these units are computed from. Filtering the sources, not only the result, is what makes it
    fast: DuckDB pushes a filter on the result into a left join's outer side only (report.services_by_*
    read every delivery otherwise)."""
    import sqlglot  # only a partial rebuild needs it (~0,25 s to import)
    from sqlglot import exp

    [create] = [statement for statement in sqlglot.parse(table.sql_path.read_text(encoding="utf-8"), read="duckdb")
                if isinstance(statement, exp.Create)]  # one CREATE OR REPLACE TABLE per model (sql_graph.py)
    tree = create.expression
    keys = _unit_keys(units)
    for source in list(tree.find_all(exp.Table)):
        qualified = f"{source.db}.{source.name}"
        if source.db and qualified in relations:
            source.replace(sqlglot.parse_one(
                f"(SELECT * FROM {qualified} WHERE unit IN ({keys})) AS {source.alias_or_name}", read="duckdb"))
    return tree.sql(dialect="duckdb")


def rebuild_units(conn, table: SqlTable, units: list[str], relations: set[str]) -> int:
    """Delete and insert again the rows of `units` (the table keeps the other units' rows)."""
    target = f"{identifier(table.layer)}.{identifier(table.name)}"
    if units:
        keys = _unit_keys(units)
        query = filtered_query(table, units, relations)
        conn.execute(f"DELETE FROM {target} WHERE unit IN ({keys})")
        conn.execute(f"INSERT INTO {target} SELECT * FROM (\n{query}\n) WHERE unit IN ({keys})")
    return conn.execute(f"SELECT count(*) FROM {target}").fetchone()[0]


def build(conn, tables: list[SqlTable], units: tuple[Unit, ...] | list[Unit], built_at: datetime | None = None,
          partial: bool = True) -> tuple[dict[str, int], dict[str, list[str] | None]]:
    """Every table of `tables` (in dependency order) inside the caller's transaction: with `partial`, the
    per-unit ones for their changed units only when that is safe. Returns the row counts and, per table,
    the units whose rows were rebuilt (None: the whole table)."""
    built_at = built_at or datetime.now().replace(microsecond=0)
    prepare(conn, units, "mart")
    ensure_build_state(conn)
    built_from = fingerprint(units)
    counts, scopes = {}, {}
    relations = unit_relations(conn) if partial else set()
    macros_stale = True  # the lineage macros appear once the mart tables they read exist
    for t in tables:
        if t.layer == "report" and macros_stale:
            prepare_report_macros(conn)
        macros_stale = t.layer != "report"
        qualified = f"{t.layer}.{t.name}"
        changed = units_to_rebuild(conn, t, units, built_from) if partial else None
        counts[qualified] = run_table_sql(conn, t) if changed is None else rebuild_units(conn, t, changed, relations)
        record_build(conn, t, built_from, built_at, changed)
        scopes[qualified] = changed
    return counts, scopes
