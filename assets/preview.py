"""Markdown previews of warehouse rows for Dagster materialization metadata (what a coordinator
sees in the UI), under the same personal-data rule as the published SQL copy (schemas/publish.yaml,
read by core/privacy.py): person-grain tables get no row preview, identifier and free-text columns
are left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb

from core.privacy import column_policy, withheld_reason
from core.warehouse import identifier

# Lineage columns are in every table and say nothing about the content: left out of previews.
NOT_PREVIEWED = {"file_sha256", "loaded_at", "source_file", "row_number"}
MAX_COLUMNS = 10
MAX_CELL = 40


def _cell(value) -> str:
    """Polish formats of the reports (reports/formatting.py); spaces kept plain for Markdown."""
    from reports.formatting import flag, number, pl_date, quantity

    if value is None:
        return "—"
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, Decimal):
        text = number(value, 2) if value.as_tuple().exponent <= -2 else quantity(value)
        return text.replace("\u00a0", " ")
    if isinstance(value, (date, datetime)):
        return pl_date(value)
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _shown_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[list[str], list[str]]:
    """(all columns, the previewed ones) of `schema.table`."""
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [schema, table]).fetchall()]
    hidden = set(column_policy(schema, columns)) | NOT_PREVIEWED
    return columns, [c for c in columns if c not in hidden][:MAX_COLUMNS]


def _markdown(shown: list[str], rows: list[tuple]) -> str | None:
    if not rows:
        return None
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _order(order_by: str | None, columns: list[str]) -> str:
    order_by = order_by or ("unit" if "unit" in columns else None)  # tables of all units: one unit first
    return ", ".join(identifier(c.strip()) for c in order_by.split(",")) if order_by else "1"


def markdown_preview(conn: duckdb.DuckDBPyConnection, schema: str, table: str, where: dict[str, object] | None = None,
                     order_by: str | None = None, limit: int = 5) -> str | None:
    """The first `limit` rows of `schema.table` (optionally of one partition) as a Markdown table,
    or None for a person-grain table (participants) or an empty selection."""
    if withheld_reason("mart", table) is not None:
        return None
    columns, shown = _shown_columns(conn, schema, table)
    if not shown:
        return None
    where = where or {}
    condition = " AND ".join(f"{identifier(c)} IS NOT DISTINCT FROM ?" for c in where) or "TRUE"
    rows = conn.execute(
        f"SELECT {', '.join(identifier(c) for c in shown)} FROM {identifier(schema)}.{identifier(table)} "
        f"WHERE {condition} ORDER BY {_order(order_by, columns)} LIMIT {int(limit)}", list(where.values())).fetchall()
    return _markdown(shown, rows)


def partition_previews(conn: duckdb.DuckDBPyConnection, schema: str, table: str,
                       partitions: list[tuple[str, str | None]], order_by: str | None = None,
                       limit: int = 5) -> dict[tuple[str, str | None], str | None]:
    """`markdown_preview` of many (unit, quarter) partitions of one table in one query (a batch run)."""
    if not partitions or withheld_reason("mart", table) is not None:
        return {}
    columns, shown = _shown_columns(conn, schema, table)
    if not shown:
        return {}
    wanted = [f"{unit}|{quarter or ''}" for unit, quarter in partitions]
    rows = conn.execute(
        f"SELECT unit, quarter, {', '.join(identifier(c) for c in shown)} "
        f"FROM {identifier(schema)}.{identifier(table)} "
        "WHERE list_contains(?, unit || '|' || coalesce(quarter, '')) "
        f"QUALIFY row_number() OVER (PARTITION BY unit, quarter ORDER BY {_order(order_by, columns)}) <= {int(limit)} "
        f"ORDER BY unit, quarter, {_order(order_by, columns)}", [wanted]).fetchall()
    grouped: dict[tuple[str, str | None], list[tuple]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[1]), []).append(row[2:])
    return {key: _markdown(shown, grouped.get(key, [])) for key in partitions}
