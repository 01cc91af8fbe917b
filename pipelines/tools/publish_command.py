"""`cus publish` and the publication after a CLI run: the read-only SQL copy (assets/publish, docs/sql.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assets.publish import PublishError, connect_published, publish, write_table_docs
from reports.formatting import count, row_count


def publish_after_run(warehouse: Path, folder: Path, force: bool = False, echo: Callable[[str], None] = print) -> None:
    """After `cus run` / `cus ingest` / `cus rotate-key` (no daemon, so no publish_sensor): a failure is a warning."""
    if not Path(warehouse).is_file():
        return
    echo("Publikacja kopii do zapytań SQL (cus sql)")
    try:
        result = publish(warehouse, folder, force=force)
    except PublishError as error:
        echo(f"  Uwaga: kopia SQL nieodświeżona: {error} (cus publish --force ponawia)")
        return
    echo(f"  {'bez zmian' if result.skipped else 'ok'}     {result.path}")


def run_publish(warehouse: Path, folder: Path, force: bool, write_docs: bool) -> int:
    print(f"Publikacja {warehouse} → {folder}/current.duckdb")
    result = publish(warehouse, folder, force=force, echo=print)
    if result.skipped:
        print(f"Bez zmian: {result.reason} (--force publikuje mimo to). Kopia: {result.path}")
    else:
        rows = sum(t.rows for t in result.tables)
        print(f"Gotowe: {count(len(result.tables), 'tabela', 'tabele', 'tabel')}, {row_count(rows)} → {result.path}")
        if result.deleted:
            print(f"Usunięto stare kopie: {', '.join(result.deleted)}")
    if write_docs:
        from core.paths import PROJECT_ROOT

        docs = PROJECT_ROOT / "docs" / "sql.md"
        conn = connect_published(folder)
        try:
            changed = write_table_docs(docs, conn)
        finally:
            conn.close()
        print(f"{docs}: {'zaktualizowano' if changed else 'bez zmian'}")
    return 0
