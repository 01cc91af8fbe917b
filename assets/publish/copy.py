"""The copy engine: a read-only DuckDB copy of the warehouse without personal data, for ad hoc SQL.

Analysts never open the live warehouse (DuckDB holds one writer *or* readers per file, so an open
SQL client would make a pipeline run fail on the lock, and vice versa). After each successful run
that changed the warehouse, `publish()` writes a fresh copy into the published folder
(assets/publish/store.py) with the `mart` and `report` schemas, the validation results of `staging`
(without the rejected cell values), `raw.file_versions`, the warehouse's scalar macros and the
lineage macros (assets/publish/macros.py), and a `meta` schema describing every table and column
and what was left out (assets/publish/meta.py). A copy is made again when the warehouse changed or
the publishing rules did (`policy_fingerprint`).

What may leave the warehouse is data: schemas/publish.yaml, read by core/privacy.py (withheld
tables at person grain, dropped identifier and free-text columns, masked validation messages,
the suppression groups), each rule with its Polish reason; docs/sql.md explains it to analysts and
docs/domain.md gives the personal-data rules behind it. Sensitive breakdowns get the reports'
disclosure control (`reports.suppression.disclosure_by_series`, threshold and sensitive areas of
reports/config.yaml), so one rule protects reports and copy.

The rules are applied to whatever the warehouse holds, so a new table is published without code
changes — and `docs/sql.md` must then document it (`tests/test_sql_docs.py` fails until
`cus publish --write-docs` regenerates the list). Columns without a warehouse COMMENT get one from
schemas/warehouse/*.yaml (assets/publish/column_docs.py), so every published column is described in the copy itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from assets.publish.column_docs import describe, docs_fingerprint, table_description
from assets.publish.macros import copy_scalar_macros, create_lineage_macros, lineage_macro_statements
from assets.publish.meta import META_DOCS, META_SCHEMA, comment_meta_tables, create_meta_tables
from assets.publish.quoting import quote_ident
from assets.publish.store import (
    KEEP,
    PublishError,
    cleanup_old_copies,
    copy_name,
    current_copy,
    publish_lock,
    read_manifest,
    switch_current,
    warehouse_fingerprint,
)
from core.privacy import PublishPolicy, load_policy
from core.warehouse import sql_literal
from reports.formatting import row_count
from reports.settings import default_settings
from reports.suppression import disclosure_by_series

LOCK_TIMEOUT_S = 120.0


def sensitive_service_areas() -> tuple[int, ...]:
    """Areas of the Act whose person counts are sensitive (reports/config.yaml)."""
    return tuple(int(a) for a in default_settings().sensitive_service_areas)


def suppression_threshold() -> int:
    """The reports' small-count threshold (reports/config.yaml)."""
    return int(default_settings().suppression_threshold)


@dataclass
class PublishedTable:
    schema: str
    name: str
    rows: int
    columns: list[str]
    dropped: dict[str, str] = field(default_factory=dict)  # column -> reason

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class PublishResult:
    path: Path | None  # the copy `current.duckdb` points to
    published_at: str
    tables: list[PublishedTable] = field(default_factory=list)
    skipped: bool = False
    reason: str = ""
    source_fingerprint: str = ""
    deleted: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)  # "schema.table" -> reason (person grain)

    @property
    def row_counts(self) -> dict[str, int]:
        return {t.qualified: t.rows for t in self.tables}

    @property
    def dropped_columns(self) -> dict[str, list[str]]:
        return {t.qualified: sorted(t.dropped) for t in self.tables if t.dropped}


def policy_fingerprint() -> str:
    """Hash of the publishing rules: a copy made under other rules (an older release, another
    threshold) is republished even when the warehouse did not change."""
    rules = [load_policy().raw, sensitive_service_areas(), suppression_threshold(), lineage_macro_statements(),
             docs_fingerprint(), META_DOCS]
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def _attach_read_only(conn: duckdb.DuckDBPyConnection, warehouse_path: Path, timeout_s: float,
                      say: Callable[[str], None] = lambda _text: None) -> None:
    """ATTACH the warehouse READ_ONLY, waiting while a writer holds the file lock."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    waiting = False
    while True:
        try:
            conn.execute(f"ATTACH {sql_literal(str(warehouse_path))} AS wh (READ_ONLY)")
            return
        except duckdb.IOException as error:
            if "lock" in str(error).lower() and not waiting:
                waiting = True
                say(f"  hurtownia zajęta przez przebieg zapisujący — czekam na jego koniec (do {timeout_s:.0f} s)…")
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise PublishError(
                    f"Hurtownia {warehouse_path} jest zajęta przez inny proces zapisujący "
                    f"(czekano {timeout_s:.0f} s) — spróbuj ponownie po zakończeniu przebiegu."
                ) from error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _source_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = 'wh' ORDER BY schema_name, table_name"
    ).fetchall()


def _source_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str, str | None]]:
    return conn.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = 'wh' AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()


def _mask_quoted_values(conn: duckdb.DuckDBPyConnection, policy: PublishPolicy, target: str,
                        names: list[str]) -> None:
    """Replace the quoted rejected cell in validation messages with „…” (schemas/publish.yaml
    `masked_messages`)."""
    for column in policy.message_columns:
        if column in names:
            col = quote_ident(column)
            conn.execute(f"UPDATE {target} SET {col} = regexp_replace({col}, ?, ?, 'g') "
                         f"WHERE regexp_matches({col}, ?)",
                         [policy.quoted_value, policy.quoted_value_mask, policy.quoted_value])


def _suppress_sensitive(conn: duckdb.DuckDBPyConnection, policy: PublishPolicy, target: str, names: list[str],
                        threshold: int) -> int:
    """Sequential disclosure control on sensitive rows (`reports.suppression.disclosure_by_series`,
    the reports' rule): per series (unit × code) over the quarters, a cumulative triple is NULL
    when one of its counts is small or changed by 1..threshold−1 since the last published quarter;
    a quarter triple when it is small or either cumulative around it is hidden. Returns the rows touched."""
    if "sensitive" not in names:
        return 0
    groups = [[c for c in group if c in names] for group in policy.suppressed_groups]
    if not any(groups):
        return 0
    series_keys = tuple(c for c in policy.series_keys if c in names)
    has_quarter = "quarter" in names
    selected = list(series_keys) + (["quarter"] if has_quarter else []) + [c for g in groups for c in g]
    result = conn.execute(f"SELECT rowid, {', '.join(quote_ident(c) for c in selected)} FROM {target} WHERE sensitive")
    rows = [dict(zip(["_rowid", *selected], r)) for r in result.fetchall()]
    if not has_quarter:  # no series: every row is its own first quarter
        series_keys = ("_rowid",)
        for r in rows:
            r["quarter"] = ""
    decided = disclosure_by_series(rows, threshold, series_keys)
    hide: dict[int, list[str]] = {}
    for r in rows:
        cumulative_published, quarter_published = decided[(*(r[k] for k in series_keys), r["quarter"])]
        columns = []
        for group, published in zip(groups, (quarter_published, cumulative_published)):
            if not published:
                columns += group
        if columns:
            hide[r["_rowid"]] = columns
    for columns in {tuple(c) for c in hide.values()}:
        ids = [rowid for rowid, cols in hide.items() if tuple(cols) == columns]
        sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
        conn.execute(f"UPDATE {target} SET {sets} WHERE list_contains(?, rowid)", [ids])
    return len(hide)


def _suppress_sensitive_areas(conn: duckdb.DuckDBPyConnection, policy: PublishPolicy, target: str,
                              names: list[str], threshold: int, areas: tuple[int, ...]) -> int:
    """Persons served in a sensitive area of the Act (6: disability, 12: housing; reports/config.yaml)
    from 1 to threshold−1 are NULL, in every table with `area` and person counts (the reports' rule,
    reports.suppression.hide_small_area_persons). Returns the rows touched."""
    columns = [c for c in policy.area_person_columns if c in names]
    if "area" not in names or not columns or not areas:
        return 0
    touched = 0
    for column in columns:
        col = quote_ident(column)
        touched += conn.execute(f"UPDATE {target} SET {col} = NULL WHERE list_contains(?, CAST(area AS INTEGER)) "
                                f"AND {col} > 0 AND {col} < ?", [list(areas), threshold]).fetchone()[0]
    return touched


def _table_comment(policy: PublishPolicy, schema: str, table: str, comment: str | None, names: list[str],
                   threshold: int, areas: tuple[int, ...]) -> str | None:
    """The warehouse COMMENT (else column_docs' text) plus the suppression notes that apply."""
    comment = comment or table_description(schema, table)
    if "sensitive" in names and any(c in names for g in policy.suppressed_groups for c in g):
        comment = (comment or "") + " " + policy.suppression_note.format(n=threshold - 1)
    if "area" in names and any(c in names for c in policy.area_person_columns) and areas:
        comment = (comment or "") + " " + policy.area_note.format(areas=", ".join(str(a) for a in areas),
                                                                  n=threshold - 1)
    return comment


def _copy_table(conn: duckdb.DuckDBPyConnection, policy: PublishPolicy, schema: str, table: str,
                comment: str | None, threshold: int, areas: tuple[int, ...]) -> tuple[PublishedTable, int] | None:
    """Copy one table under the policy and describe it in `meta`; (table, rows suppressed), or None
    when no column may be published."""
    columns = _source_columns(conn, schema, table)
    dropped = policy.column_policy(schema, [c[0] for c in columns])
    kept = [c for c in columns if c[0] not in dropped]
    if not kept:
        return None
    names = [c[0] for c in kept]
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    target = f"{quote_ident(schema)}.{quote_ident(table)}"
    conn.execute(f"CREATE TABLE {target} AS SELECT {', '.join(quote_ident(n) for n in names)} FROM wh.{target}")
    rows = conn.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    suppressed = _suppress_sensitive(conn, policy, target, names, threshold)
    suppressed += _suppress_sensitive_areas(conn, policy, target, names, threshold, areas)
    if schema in policy.masked_schemas:
        _mask_quoted_values(conn, policy, target, names)
    comment = _table_comment(policy, schema, table, comment, names, threshold, areas)
    if comment:
        conn.execute(f"COMMENT ON TABLE {target} IS {sql_literal(comment)}")
    for name, data_type, col_comment in kept:
        text = describe(schema, table, name, col_comment)
        if text:
            conn.execute(f"COMMENT ON COLUMN {target}.{quote_ident(name)} IS {sql_literal(text)}")
        conn.execute(f"INSERT INTO {META_SCHEMA}.columns VALUES (?, ?, ?, ?, ?)", [schema, table, name, data_type, text])
    for name, reason in dropped.items():
        conn.execute(f"INSERT INTO {META_SCHEMA}.dropped_columns VALUES (?, ?, ?, ?)", [schema, table, name, reason])
    conn.execute(f"INSERT INTO {META_SCHEMA}.tables VALUES (?, ?, ?, ?)", [schema, table, rows, comment])
    return PublishedTable(schema, table, rows, names, dropped), suppressed


def _write_copy(conn: duckdb.DuckDBPyConnection, warehouse_path: Path, lock_timeout_s: float,
                say: Callable[[str], None]) -> tuple[str, list[PublishedTable], dict[str, str]]:
    """Fill an empty copy from the warehouse: (warehouse fingerprint as read, tables, withheld)."""
    policy = load_policy()
    _attach_read_only(conn, warehouse_path, lock_timeout_s, say)
    fingerprint = warehouse_fingerprint(warehouse_path)  # as of the moment we hold the read lock
    create_meta_tables(conn)
    threshold = suppression_threshold()
    areas = sensitive_service_areas()
    all_tables = _source_tables(conn)
    withheld = {f"{s}.{t}": policy.withheld(s, t) for s, t, _c in all_tables if policy.withheld(s, t) is not None}
    for qualified, why in withheld.items():
        conn.execute(f"INSERT INTO {META_SCHEMA}.withheld_tables VALUES (?, ?, ?)", [*qualified.split(".", 1), why])
        say(f"  pominięto tabelę {qualified}: {why}")
    sources = [(s, t, c) for s, t, c in all_tables if policy.is_published(s, t)]
    tables: list[PublishedTable] = []
    for i, (schema, table, comment) in enumerate(sources, start=1):
        copied = _copy_table(conn, policy, schema, table, comment, threshold, areas)
        if copied is None:
            continue
        published, suppressed = copied
        tables.append(published)
        say(f"  [{i}/{len(sources)}] {schema}.{table}: {row_count(published.rows)}"
            + (f" (pominięto: {', '.join(published.dropped)})" if published.dropped else "")
            + (f" (ukryte małe liczebności: {row_count(suppressed)})" if suppressed else ""))
    copy_scalar_macros(conn, say)
    conn.execute("DETACH wh")
    create_lineage_macros(conn, say)
    return fingerprint, tables, withheld


def publish(
    warehouse_path: str | Path,
    published_dir: str | Path,
    *,
    force: bool = False,
    keep: int = KEEP,
    run_id: str | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    echo: Callable[[str], None] | None = None,
) -> PublishResult:
    """Copy the publishable tables of the warehouse into a new read-only DuckDB file and switch
    `current.duckdb` to it. Skipped when the warehouse has not changed since the last copy
    (unless `force`). Raises `PublishError` with a one-line Polish message."""
    warehouse_path = Path(warehouse_path)
    published_dir = Path(published_dir)
    say = echo or (lambda _text: None)
    if not warehouse_path.is_file():
        raise PublishError(f"Brak hurtowni {warehouse_path}: najpierw wczytaj dane (cus run).")
    published_dir.mkdir(parents=True, exist_ok=True)
    keep = max(1, keep)
    with publish_lock(published_dir):
        fingerprint = warehouse_fingerprint(warehouse_path)
        previous = read_manifest(published_dir)
        existing = current_copy(published_dir)
        policy = policy_fingerprint()
        if (not force and existing is not None and existing.exists()
                and previous.get("source_fingerprint") == fingerprint
                and previous.get("source_file") == str(warehouse_path.resolve())
                and previous.get("policy") == policy):
            return PublishResult(path=existing, published_at=previous.get("published_at", ""), skipped=True,
                                 reason="hurtownia bez zmian od ostatniej publikacji", source_fingerprint=fingerprint)

        now = datetime.now(UTC)
        final = copy_name(published_dir, now)
        partial = published_dir / f".{final.name}.partial{os.getpid()}"
        partial.unlink(missing_ok=True)
        try:
            conn = duckdb.connect(str(partial))
            try:
                fingerprint, tables, withheld = _write_copy(conn, warehouse_path, lock_timeout_s, say)
                conn.execute(f"INSERT INTO {META_SCHEMA}.publication VALUES (?, ?, ?, ?)",
                             [now, str(warehouse_path.resolve()), fingerprint, run_id])
                comment_meta_tables(conn)
                conn.execute("CHECKPOINT")
            finally:
                conn.close()
            Path(f"{partial}.wal").unlink(missing_ok=True)
            os.chmod(partial, 0o444)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            Path(f"{partial}.wal").unlink(missing_ok=True)
            raise
        manifest = {
            "file": final.name,
            "published_at": now.isoformat(),
            "source_file": str(warehouse_path.resolve()),
            "source_fingerprint": fingerprint,
            "policy": policy,
            "run_id": run_id,
            "tables": {t.qualified: t.rows for t in tables},
            "dropped_columns": {t.qualified: t.dropped for t in tables if t.dropped},
            "withheld_tables": withheld,
        }
        switch_current(published_dir, final, manifest)
        deleted = cleanup_old_copies(published_dir, keep, final)
    return PublishResult(path=final, published_at=now.isoformat(), tables=tables,
                         source_fingerprint=fingerprint, deleted=deleted, withheld=withheld)
