"""The checks a warehouse rebuilt with a new pseudonym key passes before it replaces the current one
(pipelines/tools/rotate_key.py; docs/settlement.md, „Zmiana klucza”).

Against the current warehouse: the same tables, the same partitions with the same row counts in
every raw, staging, mart and report table, the same report figures, the new key's fingerprint, as
many distinct pseudonyms as before and none of the old pseudonyms anywhere (any text column,
quarantined values and messages included).
"""

from __future__ import annotations

import duckdb

from core.key_fingerprint import key_fingerprint, stored_fingerprint
from core.warehouse import LAYERS, identifier
from reports.formatting import count, row_count

KEY_TABLE = ("raw", "pseudonym_key")  # differs by design: the fingerprint of the key
# A pseudonym (core/pesel.py `pseudonym`): 32 hex digits standing alone (a file's SHA-256 has 64).
PSEUDONYM_PATTERN = r"\b[0-9a-f]{32}\b"
TEXT_TYPES = ("VARCHAR", "VARCHAR[]")


class RotationError(Exception):
    """The key rotation refused or failed; the current warehouse is unchanged (Polish message)."""


def _tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                        "AND table_catalog = current_database() AND list_contains(?, table_schema) ORDER BY ALL",
                        [list(LAYERS)]).fetchall()
    return [(s, t) for s, t in rows if (s, t) != KEY_TABLE]


def _columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    return dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                             "AND table_name = ? AND table_catalog = current_database() ORDER BY ordinal_position",
                             [schema, table]).fetchall())


def _name(schema: str, table: str) -> str:
    return f"{identifier(schema)}.{identifier(table)}"


def partition_counts(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    """Rows per (unit, quarter) partition, or the table's row count when it has no partition columns."""
    columns = _columns(conn, schema, table)
    if "unit" in columns and "quarter" in columns:
        return conn.execute(f"SELECT unit, quarter, count(*) FROM {_name(schema, table)} GROUP BY ALL "
                            "ORDER BY unit, quarter NULLS FIRST").fetchall()
    return conn.execute(f"SELECT count(*) FROM {_name(schema, table)}").fetchall()


def _text_of_row(columns: dict[str, str]) -> str | None:
    texts = [f"CAST({identifier(c)} AS VARCHAR)" for c, kind in columns.items() if kind in TEXT_TYPES]
    return f"concat_ws(' ', {', '.join(texts)})" if texts else None


def pseudonym_tokens(conn: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> set[str]:
    """Every pseudonym-shaped token in any text column of `tables`."""
    tokens: set[str] = set()
    for schema, table in tables:
        text = _text_of_row(_columns(conn, schema, table))
        if text is None:
            continue
        rows = conn.execute(f"SELECT DISTINCT unnest(regexp_extract_all({text}, '{PSEUDONYM_PATTERN}')) "
                            f"FROM {_name(schema, table)}").fetchall()
        tokens.update(token for (token,) in rows if token is not None)
    return tokens


def _distinct_person_keys(conn: duckdb.DuckDBPyConnection) -> int:
    if "person_key" not in _columns(conn, "raw", "participants"):
        return 0
    return conn.execute("SELECT count(DISTINCT person_key) FROM raw.participants").fetchone()[0]


def _report_differences(old, new, table: str) -> int:
    """Rows of a report table that differ between the warehouses (timestamps of the build left out)."""
    columns = [c for c, kind in _columns(new, "report", table).items() if not kind.startswith("TIMESTAMP")]
    selected = ", ".join(identifier(c) for c in columns)
    before = old.sql(f"SELECT {selected} FROM report.{identifier(table)}").pl().to_arrow()  # a table: read twice
    new.register("report_before", before)
    try:
        return new.execute(f"SELECT (SELECT count(*) FROM (FROM report_before EXCEPT ALL SELECT {selected} FROM "
                           f"report.{identifier(table)})) + (SELECT count(*) FROM (SELECT {selected} FROM "
                           f"report.{identifier(table)} EXCEPT ALL FROM report_before))").fetchone()[0]
    finally:
        new.unregister("report_before")


def verify_rebuild(old: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection, new_key: bytes) -> tuple[int, int]:
    """(rows, distinct pseudonyms) of the rebuilt warehouse; RotationError naming the first differences."""
    problems: list[str] = []
    if stored_fingerprint(new) != key_fingerprint(new_key):
        problems.append("odcisk klucza w nowej hurtowni nie jest odciskiem nowego klucza")
    old_tables, new_tables = _tables(old), _tables(new)
    missing = sorted(set(old_tables) - set(new_tables))
    extra = sorted(set(new_tables) - set(old_tables))
    if missing or extra:
        problems.append("inne tabele: " + ", ".join([f"brak {s}.{t}" for s, t in missing]
                                                    + [f"nowa {s}.{t}" for s, t in extra]))
    rows = 0
    for schema, table in sorted(set(old_tables) & set(new_tables)):
        before, after = partition_counts(old, schema, table), partition_counts(new, schema, table)
        rows += sum(r[-1] for r in after)
        if before != after:
            problems.append(f"{schema}.{table}: inne partycje lub liczby wierszy ({_count_text(before)} → "
                            f"{_count_text(after)})")
        elif schema == "report" and _report_differences(old, new, table):
            problems.append(f"report.{table}: inne wartości niż w bieżącej hurtowni")
    before_keys, after_keys = _distinct_person_keys(old), _distinct_person_keys(new)
    if before_keys != after_keys:
        problems.append(f"inna liczba osób (pseudonimów): {before_keys} → {after_keys}")
    old_tokens = pseudonym_tokens(old, [t for t in old_tables if t[0] != "report"])
    left = old_tokens & pseudonym_tokens(new, new_tables)
    if left:
        problems.append(f"{count(len(left), 'stary pseudonim', 'stare pseudonimy', 'starych pseudonimów')} nadal w nowej hurtowni")
    if problems:
        raise RotationError("nowa hurtownia różni się od bieżącej: " + "; ".join(problems[:5])
                            + (f" (i {len(problems) - 5} innych)" if len(problems) > 5 else "") + ".")
    return rows, after_keys


def _count_text(counts: list[tuple]) -> str:
    if counts and len(counts[0]) == 3:
        return f"{count(len(counts), 'partycja', 'partycje', 'partycji')}, {row_count(sum(r[-1] for r in counts))}"
    return row_count(counts[0][0] if counts else 0)
