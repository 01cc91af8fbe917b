"""Mart assets: facts and dimensions across quarters, rebuilt set-based from staging.

Each table is `assets/mart/sql/<table>.sql` (CTE style), described in schemas/warehouse/mart.yaml
(description, columns, checks → COMMENT ON, asset description, asset checks); the tables it reads
come from the SQL (assets/mart/sql_graph.py). Money rules are the macros of
`assets/mart/money_macros.sql`. Unpartitioned: every run rebuilds the whole table in one
transaction (CREATE OR REPLACE TABLE), reading every unit × quarter of staging.
"""

from __future__ import annotations

import duckdb

from assets.mart.sql_tables import SqlTable, build_sql_asset, build_tables, load_sql_tables

MART_TABLES: list[SqlTable] = list(load_sql_tables("mart"))  # in build order


def build_mart(conn: duckdb.DuckDBPyConnection, units=None) -> dict[str, int]:
    """Rebuild every mart table in dependency order, in one transaction (tests, CLI)."""
    return build_tables(conn, MART_TABLES, units)


def build_mart_assets() -> list:
    return [build_sql_asset(table) for table in MART_TABLES]
