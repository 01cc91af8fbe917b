"""Markdown previews of warehouse rows for Dagster materialization metadata (what a coordinator
sees in the UI), under the same personal-data rule as the published SQL copy (schemas/publish.yaml,
read by core/privacy.py): person-grain tables get no row preview, identifier and free-text columns
are left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl

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
                       partitions: list[tuple[str, str | None]], order_by: str = "row_number",
                       limit: int = 5) -> dict[tuple[str, str | None], str | None]:
    """`markdown_preview` of many (unit, quarter) partitions of one table in one query (a batch run):
    each partition's first `limit` rows by the non-null column `order_by`, taken per partition by
    `min_by(…, n)` — no sort of the batch's rows (a window over 10 mln rows took 45 s; this ~1,5 s)."""
    if not partitions or withheld_reason("mart", table) is not None:
        return {}
    _columns, shown = _shown_columns(conn, schema, table)
    if not shown:
        return {}
    preview_keys = pl.DataFrame(  # noqa: F841 — read by name in the query (DuckDB's replacement scan)
        {"unit": [u for u, _ in partitions], "quarter": [q for _, q in partitions]},
        schema={"unit": pl.Utf8, "quarter": pl.Utf8}).to_arrow()
    fields = ", ".join(f"{identifier(c)} := t.{identifier(c)}" for c in shown)
    order = f"t.{identifier(order_by)}"
    rows = conn.execute(
        f"SELECT t.unit, t.quarter, min_by(struct_pack(preview_order := {order}, {fields}), {order}, {int(limit)}) "
        f"FROM {identifier(schema)}.{identifier(table)} AS t WHERE EXISTS (SELECT 1 FROM preview_keys AS k "
        "WHERE k.unit = t.unit AND k.quarter IS NOT DISTINCT FROM t.quarter) GROUP BY t.unit, t.quarter").fetchall()
    grouped = {(unit, quarter): [tuple(r.values())[1:] for r in sorted(first, key=lambda r: r["preview_order"])]
               for unit, quarter, first in rows}
    return {key: _markdown(shown, grouped.get(key, [])) for key in partitions}
