"""The marts and report tables, rebuilt inside the caller's transaction (the batch publishes them with its data)."""

from __future__ import annotations

from assets.mart.mart_assets import MART_TABLES
from assets.mart.sql_tables import rebuild_in_transaction
from assets.report.report_tables import REPORT_TABLES

TABLES = MART_TABLES + REPORT_TABLES


def rebuild_tables(conn) -> dict[str, int]:
    """Every mart then report table in dependency order; no transaction of its own (see ingest.py)."""
    return rebuild_in_transaction(conn, TABLES)
