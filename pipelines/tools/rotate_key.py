"""`cus rotate-key`: a new pseudonym key for the whole warehouse (docs/settlement.md, „Zmiana klucza”).

The warehouse holds keyed pseudonyms of the PESEL numbers, never the numbers, so pseudonyms cannot be
converted: the warehouse is rebuilt from the landing files with the new key. The rebuild is the batch
ingest (assets/batch/ingest.py) with `force` over every landed partition, marts and report tables
included and the delivery history copied, written in one transaction into a NEW DuckDB file next to
the current one; the file is
checked against the current warehouse (pipelines/tools/rotate_check.py) and only then swapped in with
one `os.replace`. Until that moment the current warehouse is not written at all; any failure deletes
the new file and says the current one is unchanged.

While rotating, the current warehouse is held open read-only: DuckDB then refuses a writer from any
other process, so no run can write data the swap would drop.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from assets.batch.ingest import ingest_batch
from assets.batch.plan import BatchPlan, current_versions, plan_batch
from assets.batch.tables import TablesBuilt, rebuild_tables
from assets.partition_keys import unit_quarter_key
from core.key_fingerprint import key_fingerprint, stored_fingerprint
from core.registry import Unit
from core.settings import DEMO_PSEUDONYM_KEY, KEY_VARIABLE
from core.warehouse import WAREHOUSE_POOL, delete_insert, query_frame
from pipelines.recovery import IN_FLIGHT, recover
from pipelines.tools.rotate_check import RotationError, verify_rebuild
from reports.formatting import count, row_count

NEW_KEY_VARIABLE = "CUS_NEW_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32
HISTORY_TABLES = ("file_versions", "file_refusals")  # raw.*: the delivery history, no personal data
NOTHING_CHANGED = "Nic nie zmieniono."

MISSING_NEW_KEY = (
    f"Brak nowego klucza pseudonimizacji: ustaw zmienną środowiskową {NEW_KEY_VARIABLE} (co najmniej "
    f"{MIN_KEY_LENGTH} znaki, np. `export {NEW_KEY_VARIABLE}=$(python3 -c 'import secrets; "
    "print(secrets.token_urlsafe(48))')`); obecny klucz zostaje w CUS_PSEUDONYM_KEY. " + NOTHING_CHANGED)
SHORT_NEW_KEY = (f"Nowy klucz w {NEW_KEY_VARIABLE} jest za krótki (wymagane co najmniej {MIN_KEY_LENGTH} znaki): "
                 "użyj długiego, losowego sekretu, np. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`. "
                 + NOTHING_CHANGED)
SAME_KEY = (f"Nowy klucz ({NEW_KEY_VARIABLE}) jest taki sam jak obecny ({KEY_VARIABLE}): pseudonimy by się nie "
            "zmieniły. Podaj nowy, inny klucz. " + NOTHING_CHANGED)
DEMO_NEW_KEY = (f"Nowy klucz ({NEW_KEY_VARIABLE}) to klucz demonstracyjny — dozwolony tylko w `cus demo` i testach. "
                "Podaj własny, długi, losowy klucz. " + NOTHING_CHANGED)
WRONG_OLD_KEY = (
    f"Klucz w {KEY_VARIABLE} nie jest kluczem, z którym zbudowano hurtownię {{warehouse}} (odcisk hurtowni "
    "{stored}, podanego klucza {given}). Zmiana klucza wymaga obecnego klucza: ustaw go w "
    f"{KEY_VARIABLE}, a nowy w {NEW_KEY_VARIABLE}. " + NOTHING_CHANGED)
NO_FINGERPRINT = ("Hurtownia {warehouse} nie ma zapisanego odcisku klucza (raw.pseudonym_key) — nie wczytano do niej "
                  f"jeszcze danych albo pochodzi ze starszej wersji, więc nie da się sprawdzić klucza z {KEY_VARIABLE}. "
                  "Zbuduj ją od nowa (cus run --force) zamiast zmieniać klucz. " + NOTHING_CHANGED)
NO_WAREHOUSE = "Brak hurtowni {warehouse}: nie ma czego przepseudonimizować (nowy klucz ustaw po prostu w " \
               f"{KEY_VARIABLE} przed pierwszym cus run). " + NOTHING_CHANGED
BUSY = ("Hurtownia {warehouse} jest otwarta do zapisu przez inny proces (przebieg potoku?): poczekaj na jego koniec "
        "i uruchom cus rotate-key ponownie. " + NOTHING_CHANGED)
RUN_IN_FLIGHT = ("Trwa przebieg {job} ({run_id}): zmiana klucza nie może biec równocześnie z zapisem do hurtowni. "
                 "Poczekaj na jego koniec (po przerwanym przebiegu: cus recover) i uruchom cus rotate-key ponownie. "
                 + NOTHING_CHANGED)
LANDING_CHANGED = (
    "Pliki w {landing} różnią się od wersji wczytanych do hurtowni ({files}). Zmiana klucza odbudowuje hurtownię z "
    "tych plików, więc zmieniłyby się też dane. Najpierw wczytaj zmiany obecnym kluczem (cus run) albo przywróć pliki "
    "— plik odrzucony przy wczytaniu trzeba poprawić — potem uruchom cus rotate-key. " + NOTHING_CHANGED)
FAILED = ("Zmiana klucza przerwana: {reason} Bieżąca hurtownia {warehouse} pozostała bez zmian (klucz o odcisku "
          "{stored}); częściowo zbudowany plik usunięto.")


@dataclass
class RotationResult:
    warehouse: Path
    backup: Path | None  # the old warehouse (old pseudonyms), None when deleted
    partitions: int
    rows: int
    pseudonyms: int
    old_fingerprint: str
    new_fingerprint: str


def read_keys(environ=os.environ) -> tuple[bytes, bytes]:
    """(old, new) keys from the environment; RotationError (Polish, never showing a key) when unusable."""
    from core.settings import require_pseudonym_key

    old = require_pseudonym_key(allow_demo=True)  # a demo warehouse may move to a real key
    new = environ.get(NEW_KEY_VARIABLE, "").strip()
    if not new:
        raise RotationError(MISSING_NEW_KEY)
    if new == DEMO_PSEUDONYM_KEY:
        raise RotationError(DEMO_NEW_KEY)
    if new == old:
        raise RotationError(SAME_KEY)
    if len(new) < MIN_KEY_LENGTH:
        raise RotationError(SHORT_NEW_KEY)
    return old.encode("utf-8"), new.encode("utf-8")


def refuse_if_run_in_flight(instance: dg.DagsterInstance) -> list[str]:
    """Recovery first (dead runs, freed slots), then refuse while any run is in flight or holds the pool."""
    done = recover(instance)
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT), limit=1)
    if runs:
        raise RotationError(RUN_IN_FLIGHT.format(job=runs[0].job_name, run_id=runs[0].run_id[:8]))
    storage = instance.event_log_storage
    if WAREHOUSE_POOL in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(WAREHOUSE_POOL)
        holders = sorted(set(info.active_run_ids) | {step.run_id for step in info.pending_steps})
        if holders:
            raise RotationError(RUN_IN_FLIGHT.format(job=f"w puli „{WAREHOUSE_POOL}”", run_id=holders[0][:8]))
    return done


def check_old_key(conn: duckdb.DuckDBPyConnection, old_key: bytes, warehouse: Path) -> str:
    stored = stored_fingerprint(conn)
    if stored is None:
        raise RotationError(NO_FINGERPRINT.format(warehouse=warehouse))
    if stored != key_fingerprint(old_key):
        raise RotationError(WRONG_OLD_KEY.format(warehouse=warehouse, stored=stored[:8],
                                                 given=key_fingerprint(old_key)[:8]))
    return stored


def plan_rebuild(conn: duckdb.DuckDBPyConnection, landing_root: Path, units: tuple[Unit, ...]) -> BatchPlan:
    """Every landed file; refused unless the landing files are exactly the warehouse's current versions."""
    plan = plan_batch(conn, landing_root, units, None, force=True)
    landed = {(f.unit, f.quarter, f.dataset.name): f.sha256 for f in plan.files}
    loaded = current_versions(conn)
    differ = sorted(unit_quarter_key(u, q) + f" {d}" for u, q, d in set(landed) | set(loaded)
                    if landed.get((u, q, d)) != loaded.get((u, q, d)))
    differ += [f"{key} (plik nieczytelny)" for key in plan.refused]
    if differ:
        shown = ", ".join(differ[:6]) + (f" i {len(differ) - 6} innych" if len(differ) > 6 else "")
        raise RotationError(LANDING_CHANGED.format(landing=landing_root, files=shown))
    return plan


def _open_current(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The current warehouse, read-only and held (no other process can write it meanwhile)."""
    try:
        if Path(f"{warehouse}.wal").exists():  # a WAL would apply to the swapped-in file: fold it in first
            with duckdb.connect(str(warehouse)) as conn:
                conn.execute("CHECKPOINT")
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:
        raise RotationError(BUSY.format(warehouse=warehouse)) from error


def _copy_history(old: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection) -> None:
    """The delivery history (every file version, every refusal) as it was: the rebuild knows only the current
    files. Runs inside the rebuild's transaction."""
    for table in HISTORY_TABLES:
        delete_insert(new, "raw", table, query_frame(old, f"SELECT * FROM raw.{table}"), {})


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)


def _build(old, new_file: Path, plan: BatchPlan, landing_root: Path, units, new_key: bytes,
           echo: Callable[[str], None]) -> tuple[int, int]:
    with duckdb.connect(str(new_file)) as new:
        echo(f"  odbudowa z plików landing nowym kluczem: {count(len(plan.partitions), 'partycja', 'partycje', 'partycji')}, "
             f"{count(len(plan.files), 'plik', 'pliki', 'plików')}")

        def history_and_tables(conn) -> TablesBuilt:  # in the batch's one transaction
            _copy_history(old, conn)
            return rebuild_tables(conn)

        result = ingest_batch(new, plan, landing_root, units, new_key, rebuild_tables=history_and_tables)
        if result.refused:
            first = next(iter(result.refused.values()))
            raise RotationError(f"plik odrzucony przy odbudowie: {first}")
        echo("  sprawdzenie: partycje, liczby wierszy, pseudonimy, odcisk klucza, tabele raportów")
        checked = verify_rebuild(old, new, new_key)
        new.execute("CHECKPOINT")
    if Path(f"{new_file}.wal").exists():
        raise RotationError(f"plik {new_file} ma niezapisany dziennik (WAL).")
    return checked


def rotate_key(warehouse: Path, landing_root: Path, units: tuple[Unit, ...], old_key: bytes, new_key: bytes,
               keep_backup: bool = True, echo: Callable[[str], None] = print,
               now: datetime | None = None) -> RotationResult:
    """Rebuild the warehouse with `new_key` into a new file, check it, swap it in; the old file kept or deleted."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise RotationError(NO_WAREHOUSE.format(warehouse=warehouse))
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    new_file = warehouse.with_name(f"{warehouse.stem}.nowy-klucz-{stamp}{warehouse.suffix}")
    backup = warehouse.with_name(f"{warehouse.stem}.przed-zmiana-klucza-{stamp}{warehouse.suffix}")
    if backup.exists():
        raise RotationError(f"Plik {backup} już istnieje: uruchom cus rotate-key za chwilę. " + NOTHING_CHANGED)
    old = _open_current(warehouse)
    try:
        stored = check_old_key(old, old_key, warehouse)
        plan = plan_rebuild(old, landing_root, units)
        _remove(new_file)
        try:
            rows, pseudonyms = _build(old, new_file, plan, landing_root, units, new_key, echo)
            if keep_backup:
                _link_or_copy(warehouse, backup)
            os.replace(new_file, warehouse)  # atomic: readers see the old file or the new, never a mix
        except BaseException as error:
            _remove(new_file)
            if keep_backup:
                backup.unlink(missing_ok=True)  # not swapped: the current file is still the old one
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RotationError(FAILED.format(reason=reason if reason.endswith(".") else reason + ".",
                                              warehouse=warehouse, stored=stored[:8])) from error
    finally:
        old.close()
    return RotationResult(warehouse, backup if keep_backup else None, len(plan.partitions), rows, pseudonyms,
                          stored, key_fingerprint(new_key))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the same bytes under a second name, no copy
    except OSError:
        shutil.copy2(source, target)


def run_rotate_key(warehouse: Path, landing_root: Path, units: tuple[Unit, ...], instance: dg.DagsterInstance,
                   published_dir: Path, keep_backup: bool = True, echo: Callable[[str], None] = print) -> int:
    """`cus rotate-key`: keys from the environment, no run in flight, rotate, then refresh the published copy."""
    from pipelines.tools.publish_command import publish_after_run

    old_key, new_key = read_keys()
    for line in refuse_if_run_in_flight(instance):
        echo(f"  Odzyskiwanie: {line}")
    echo(f"Zmiana klucza pseudonimizacji hurtowni {warehouse}")
    result = rotate_key(warehouse, landing_root, units, old_key, new_key, keep_backup=keep_backup, echo=echo)
    echo(f"Gotowe: hurtownia przepseudonimizowana nowym kluczem (odcisk {result.old_fingerprint[:8]} → "
         f"{result.new_fingerprint[:8]}): {count(result.partitions, 'partycja', 'partycje', 'partycji')}, "
         f"{row_count(result.rows)}, {count(result.pseudonyms, 'osoba', 'osoby', 'osób')} — każdy pseudonim jest nowy, "
         "liczby wierszy i wartości raportów jak przed zmianą.")
    if result.backup is not None:
        echo(f"Stara hurtownia (stare pseudonimy) zachowana jako {result.backup}. Ze starym kluczem pozwala powiązać "
             "stare pseudonimy z osobami (RODO): usuń ją (np. `shred -u`), gdy sprawdzisz nową, i zniszcz stary klucz.")
    else:
        echo("Stara hurtownia usunięta (--delete-old). Zniszcz stary klucz.")
    echo(f"Ustaw teraz nowy klucz w {KEY_VARIABLE} wszędzie, gdzie działa potok (cus, interfejs Dagster, demon), i usuń "
         f"{NEW_KEY_VARIABLE}: przebieg ze starym kluczem zostanie odrzucony.")
    publish_after_run(warehouse, published_dir, force=True, echo=echo)  # the SQL copy of the new file
    return 0
