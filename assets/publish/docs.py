"""docs/sql.md: the generated list of published tables and columns (`cus publish --write-docs`),
and reading it back (tests/test_sql_docs.py checks it matches what is published today)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from assets.publish.meta import META_SCHEMA
from assets.publish.store import PublishError

DOCS_BEGIN = "<!-- BEGIN GENERATED: published tables (cus publish --write-docs) -->"
DOCS_END = "<!-- END GENERATED: published tables -->"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def render_table_docs(conn: duckdb.DuckDBPyConnection, descriptions: dict | None = None) -> str:
    """Markdown for every table and column of a published copy (descriptions from its COMMENTs,
    else from `descriptions` = {"schema.table": (table text, {column: text})})."""
    descriptions = descriptions or {}
    out: list[str] = []
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY schema_name = 'meta', schema_name, table_name"
    ).fetchall()
    dropped = {}
    if tables and any(s == META_SCHEMA and t == "dropped_columns" for s, t, _ in tables):
        for s, t, c, r in conn.execute(
            f"SELECT schema_name, table_name, column_name, reason FROM {META_SCHEMA}.dropped_columns ORDER BY ALL"
        ).fetchall():
            dropped.setdefault(f"{s}.{t}", []).append(f"`{c}` ({r})")
    schema = None
    for s, t, comment in tables:
        if s != schema:
            schema = s
            out.append(f"### Schemat `{s}`\n")
        qualified = f"{s}.{t}"
        table_text, column_texts = descriptions.get(qualified, (None, {}))
        out.append(f"#### `{qualified}`\n")
        text = comment or table_text
        out.append((_cell(text) or "_(brak opisu / no description)_") + "\n")
        out.append("| kolumna | typ | opis |")
        out.append("|---|---|---|")
        for name, data_type, col_comment in conn.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [s, t],
        ).fetchall():
            out.append(f"| `{name}` | {data_type} | {_cell(col_comment or column_texts.get(name))} |")
        if qualified in dropped:
            out.append(f"\nPominięte (dane osobowe): {', '.join(dropped[qualified])}.")
        out.append("")
    macros = conn.execute(
        "SELECT DISTINCT schema_name, function_name, parameters FROM duckdb_functions() "
        "WHERE database_name = current_database() AND function_type IN ('macro', 'table_macro') AND NOT internal "
        "ORDER BY schema_name, function_name"
    ).fetchall()
    if macros:
        out.append("### Makra\n")
        for s, name, params in macros:
            out.append(f"- `{s}.{name}({', '.join(params)})`")
        out.append("")
    if any(s == META_SCHEMA and t == "withheld_tables" for s, t, _ in tables):
        withheld = conn.execute(
            f"SELECT schema_name, table_name, reason FROM {META_SCHEMA}.withheld_tables ORDER BY ALL").fetchall()
        if withheld:
            out.append("### Tabele hurtowni niepublikowane (dane osobowe)\n")
            for s, t, reason in withheld:
                out.append(f"- `{s}.{t}` — {_cell(reason)}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def generated_section(text: str) -> str | None:
    if DOCS_BEGIN not in text or DOCS_END not in text:
        return None
    return text.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0].strip("\n") + "\n"


def write_table_docs(docs_path: Path, conn: duckdb.DuckDBPyConnection, descriptions: dict | None = None) -> bool:
    """Replace the generated section of docs/sql.md; True when the file changed."""
    docs_path = Path(docs_path)
    text = docs_path.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise PublishError(f"{docs_path}: brak znaczników sekcji generowanej ({DOCS_BEGIN} … {DOCS_END}).")
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    new = f"{head}{DOCS_BEGIN}\n\n{render_table_docs(conn, descriptions)}\n{DOCS_END}{tail}"
    if new != text:
        docs_path.write_text(new, encoding="utf-8")
        return True
    return False


def documented_columns(markdown: str) -> dict[str, set[str]]:
    """{"schema.table": {columns}} as listed in the generated section of docs/sql.md."""
    section = generated_section(markdown) or ""
    found: dict[str, set[str]] = {}
    current = None
    for line in section.splitlines():
        if m := re.match(r"^#### `([^`]+)`", line):
            current = m.group(1)
            found[current] = set()
        elif current and (m := re.match(r"^\| `([^`]+)` \|", line)):
            found[current].add(m.group(1))
    return found


