"""Report-table assets: the aggregates the quarterly report prints, per unit × reporting quarter.

Each table is `assets/report/sql/<table>.sql` (CTE style), described in
schemas/warehouse/report.yaml (description, columns, checks), rebuilt whole in one transaction
from the mart (unpartitioned), in the order the SQL's reads give (assets/mart/sql_graph.py).
Every unit gets a row for every quarter of its project period up to its last quarter with data:
quarters without files show zeros in the quarter and carry the cumulative figures. The renderer
(reports/) reads these tables; names and columns are its interface (columns may be added, never
renamed).
"""

from __future__ import annotations

import duckdb

from assets.mart.sql_tables import SqlTable, build_sql_asset, build_tables, load_sql_tables

REPORT_TABLES: list[SqlTable] = list(load_sql_tables("report"))  # in build order


def build_reports(conn: duckdb.DuckDBPyConnection, units=None) -> dict[str, int]:
    """Rebuild every report table in dependency order, in one transaction (tests, CLI)."""
    return build_tables(conn, REPORT_TABLES, units)


def build_report_table_assets() -> list:
    return [build_sql_asset(table) for table in REPORT_TABLES]
