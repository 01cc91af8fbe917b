"""The marts and report tables, rebuilt inside the caller's transaction (the batch publishes them with its data)."""

from __future__ import annotations

from dataclasses import dataclass

from assets.mart.incremental import build
from assets.mart.mart_assets import MART_TABLES
from assets.mart.sql_tables import registry_units
from assets.report.report_tables import REPORT_TABLES

TABLES = MART_TABLES + REPORT_TABLES


@dataclass(frozen=True)
class TablesBuilt:
    rows: dict[str, int]  # "mart.fact_delivery" -> rows
    scopes: dict[str, list[str] | None]  # table -> the units whose rows were rebuilt (None: the whole table)


def rebuild_tables(conn) -> TablesBuilt:
    """Every mart then report table in dependency order — the large per-unit ones for the changed units
    only, when that is safe (assets/mart/incremental.py); no transaction of its own (see ingest.py)."""
    return TablesBuilt(*build(conn, list(TABLES), registry_units()))
