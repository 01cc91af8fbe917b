"""`cus rotate-key` (issue 12, point 8): a new pseudonym key, the warehouse rebuilt from the landing files.

One unit (Elbląg), its agreement files and one quarter (2021Q3) of tests/validation_fixtures.py, built
once with the old key by `cus run --no-reports`; every test works on its own copy of that project.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import sys
import uuid
from decimal import Decimal as D
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_cli_end_to_end import one_unit_registry, tiny_project
from validation_fixtures import (
    PESEL_A,
    PESEL_B,
    PESEL_C,
    write_expenses,
)

OLD_KEY = "rotation-test-old-key-0123456789abcdef"
NEW_KEY = "rotation-test-new-key-0123456789abcdef"
ENV = ("CUS_WAREHOUSE", "CUS_LANDING", "CUS_REPORTS", "CUS_PUBLISHED", "CUS_PSEUDONYM_KEY", "CUS_NEW_PSEUDONYM_KEY",
       "CUS_REGISTRY", "DAGSTER_HOME")
TABLES = ("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN "
          "('raw', 'staging', 'mart', 'report') AND table_name <> 'pseudonym_key' ORDER BY ALL")


def hmac_hex(key: str, text: bytes) -> str:
    """HMAC-SHA256 shortened to 32 hex digits: the pseudonym (of a PESEL) and the key fingerprint (of a fixed text)."""
    return hmac.new(key.encode(), text, hashlib.sha256).hexdigest()[:32]


def _set_env(monkeypatch, root: Path, key: str = OLD_KEY) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"CUS_WAREHOUSE": root / "warehouse" / "cus.duckdb", "CUS_LANDING": root / "landing",
                        "CUS_REPORTS": root / "reports", "CUS_PUBLISHED": root / "published", "CUS_PSEUDONYM_KEY": key,
                        "CUS_REGISTRY": root / "units.yaml", "DAGSTER_HOME": root / "dagster_home"}.items():
        monkeypatch.setenv(name, str(value))
    from core.registry import load_units

    load_units.cache_clear()


def cus(capsys, *argv: str) -> tuple[int, str, str]:
    from pipelines.tools.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The tiny landing set and its warehouse, built with OLD_KEY."""
    root = tiny_project(tmp_path_factory.mktemp("rotation"))
    one_unit_registry(root / "units.yaml")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _set_env(monkeypatch, root)
        from pipelines.tools.cli import main

        assert main(["run", "--no-reports"]) == 0
    return root


@pytest.fixture
def project(built, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(built, root)
    _set_env(monkeypatch, root)
    yield root
    from core.registry import load_units

    load_units.cache_clear()


def warehouse_file(root: Path) -> Path:
    return root / "warehouse" / "cus.duckdb"


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def row_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {f"{s}.{t}": conn.execute(f"SELECT count(*) FROM {s}.{t}").fetchone()[0]
                for s, t in conn.execute(TABLES).fetchall()}


def report_rows(path: Path) -> dict[str, list]:
    """Every report table's rows, sorted, without the time of the check (report.data_quality.checked_at)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [t for s, t in conn.execute(TABLES).fetchall() if s == "report"]
        return {t: sorted(map(repr, conn.execute(f"SELECT * EXCLUDE (checked_at) FROM report.{t}" if t == "data_quality"
                                                 else f"SELECT * FROM report.{t}").fetchall())) for t in tables}


def test_rotation_rebuilds_every_pseudonym_with_the_new_key_and_keeps_every_figure(project, capsys, monkeypatch):
    warehouse = warehouse_file(project)
    before_bytes = warehouse.read_bytes()
    before_keys = query(warehouse, "SELECT person_key FROM staging.participants ORDER BY participant_id")
    before_counts, before_reports = row_counts(warehouse), report_rows(warehouse)
    assert before_keys == [(hmac_hex(OLD_KEY, p.encode()),) for p in (PESEL_A, PESEL_B, PESEL_C)]
    published_before = (project / "published" / "current.duckdb").resolve()

    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    code, out, err = cus(capsys, "rotate-key")
    assert code == 0 and err == "", out + err
    assert OLD_KEY not in out and NEW_KEY not in out  # never printed

    # the new key's fingerprint; every pseudonym is HMAC(new key, PESEL), none is an old one
    assert query(warehouse, "SELECT fingerprint FROM raw.pseudonym_key") == [
        (hmac_hex(NEW_KEY, b"cus-pseudonym-key-fingerprint-v1"),)]
    new_keys = [(hmac_hex(NEW_KEY, p.encode()),) for p in (PESEL_A, PESEL_B, PESEL_C)]
    for table in ("raw.participants", "staging.participants", "mart.dim_participant"):
        assert query(warehouse, f"SELECT person_key FROM {table} ORDER BY participant_id") == new_keys, table
    assert not set(before_keys) & set(query(warehouse, "SELECT person_key FROM mart.person_count"))
    # the same rows everywhere and the same report figures: 1 230,00 + 500,00 direct, 15% indirect = 1 989,50
    assert row_counts(warehouse) == before_counts
    assert report_rows(warehouse) == before_reports
    assert query(warehouse, "SELECT eligible_cumulative FROM report.settlement WHERE unit = 'elblag' "
                            "AND quarter = '2021Q3'") == [(D("1989.50"),)]
    assert query(warehouse, "SELECT count(*), count(*) FILTER (is_current) FROM raw.file_versions") == [(6, 6)]

    # the old file kept byte for byte as the announced backup, nothing else left next to it
    (backup,) = [p for p in warehouse.parent.iterdir() if p != warehouse]
    assert backup.name.startswith("cus.przed-zmiana-klucza-") and backup.suffix == ".duckdb"
    assert backup.read_bytes() == before_bytes
    assert f"Stara hurtownia (stare pseudonimy) zachowana jako {backup}" in out
    assert "2 partycje" in out and "3 osoby" in out
    # the published copy is refreshed from the new warehouse
    assert (project / "published" / "current.duckdb").resolve() != published_before

    # from now on the new key works and the old one is refused
    from core.key_fingerprint import KeyMismatchError, check_warehouse_key

    check_warehouse_key(warehouse, NEW_KEY.encode())
    with pytest.raises(KeyMismatchError):
        check_warehouse_key(warehouse, OLD_KEY.encode())


WRONG_OLD = ("Błąd: Klucz w CUS_PSEUDONYM_KEY nie jest kluczem, z którym zbudowano hurtownię {warehouse} (odcisk "
             "hurtowni {stored}, podanego klucza {given}). Zmiana klucza wymaga obecnego klucza: ustaw go w "
             "CUS_PSEUDONYM_KEY, a nowy w CUS_NEW_PSEUDONYM_KEY. Nic nie zmieniono.\n")
MISSING_NEW = ("Błąd: Brak nowego klucza pseudonimizacji: ustaw zmienną środowiskową CUS_NEW_PSEUDONYM_KEY (co najmniej "
               "32 znaki, np. `export CUS_NEW_PSEUDONYM_KEY=$(python3 -c 'import secrets; "
               "print(secrets.token_urlsafe(48))')`); obecny klucz zostaje w CUS_PSEUDONYM_KEY. Nic nie zmieniono.\n")
SAME = ("Błąd: Nowy klucz (CUS_NEW_PSEUDONYM_KEY) jest taki sam jak obecny (CUS_PSEUDONYM_KEY): pseudonimy by się nie "
        "zmieniły. Podaj nowy, inny klucz. Nic nie zmieniono.\n")
SHORT = ("Błąd: Nowy klucz w CUS_NEW_PSEUDONYM_KEY jest za krótki (wymagane co najmniej 32 znaki): użyj długiego, "
         "losowego sekretu, np. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`. Nic nie zmieniono.\n")


def test_refusals_name_the_problem_and_change_nothing(project, capsys, monkeypatch):
    warehouse = warehouse_file(project)
    before = warehouse.read_bytes()
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    monkeypatch.setenv("CUS_PSEUDONYM_KEY", "a-wrong-old-key-0123456789abcdef")
    code, out, err = cus(capsys, "rotate-key")
    assert code == 1 and err == WRONG_OLD.format(
        warehouse=warehouse, stored=hmac_hex(OLD_KEY, b"cus-pseudonym-key-fingerprint-v1")[:8],
        given=hmac_hex("a-wrong-old-key-0123456789abcdef", b"cus-pseudonym-key-fingerprint-v1")[:8])

    monkeypatch.setenv("CUS_PSEUDONYM_KEY", OLD_KEY)
    monkeypatch.delenv("CUS_NEW_PSEUDONYM_KEY")
    assert cus(capsys, "rotate-key") == (1, "", MISSING_NEW)
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", OLD_KEY)
    assert cus(capsys, "rotate-key") == (1, "", SAME)
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", "short-new-key")
    assert cus(capsys, "rotate-key") == (1, "", SHORT)
    for text in (out, err):
        assert OLD_KEY not in text and NEW_KEY not in text

    # a landing file changed since it was loaded: the rebuild would change the data, so it is refused
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    write_expenses(project / "landing", [])
    code, out, err = cus(capsys, "rotate-key")
    assert code == 1 and err.startswith(f"Błąd: Pliki w {project / 'landing'} różnią się od wersji wczytanych do "
                                        "hurtowni (elblag|2021Q3 expenses). Zmiana klucza odbudowuje hurtownię"), err
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["cus.duckdb"]
    assert warehouse.read_bytes() == before


def test_a_failure_in_the_rebuild_leaves_the_warehouse_byte_identical(project, capsys, monkeypatch):
    from assets.batch import tables
    from pipelines.tools import rotate_key

    warehouse = warehouse_file(project)
    before = warehouse.read_bytes()

    def fails_after_the_marts(conn):
        tables.rebuild_tables(conn)  # the whole rebuild ran, then the transaction fails
        raise OSError("dysk pełny")

    monkeypatch.setattr(rotate_key, "rebuild_tables", fails_after_the_marts)
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    code, out, err = cus(capsys, "rotate-key")
    assert code == 1
    stored = hmac_hex(OLD_KEY, b"cus-pseudonym-key-fingerprint-v1")[:8]
    assert err == (f"Błąd: Zmiana klucza przerwana: dysk pełny. Bieżąca hurtownia {warehouse} pozostała bez zmian "
                   f"(klucz o odcisku {stored}); częściowo zbudowany plik usunięto.\n")
    assert warehouse.read_bytes() == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["cus.duckdb"]


def test_no_rotation_while_a_run_is_in_flight_or_the_warehouse_is_open_for_writing(project, capsys, monkeypatch):
    from pipelines.recovery import HOST_TAG, PID_TAG

    warehouse = warehouse_file(project)
    before = warehouse.read_bytes()
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    # a process holding the warehouse open for writing (a run's step): DuckDB's lock refuses the rotation
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(120)", str(warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        code, out, err = cus(capsys, "rotate-key")
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and err == (f"Błąd: Hurtownia {warehouse} jest otwarta do zapisu przez inny proces (przebieg "
                                 "potoku?): poczekaj na jego koniec i uruchom cus rotate-key ponownie. "
                                 "Nic nie zmieniono.\n")
    # a run in flight (this live process, as `cus run` tags it): refused before anything is opened
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="ingest_batch_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED,
                                   tags={HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}))
    code, out, err = cus(capsys, "rotate-key")
    assert code == 1 and err == (f"Błąd: Trwa przebieg ingest_batch_job ({run_id[:8]}): zmiana klucza nie może biec "
                                 "równocześnie z zapisem do hurtowni. Poczekaj na jego koniec (po przerwanym "
                                 "przebiegu: cus recover) i uruchom cus rotate-key ponownie. Nic nie zmieniono.\n")
    assert warehouse.read_bytes() == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["cus.duckdb"]


def test_the_check_of_the_rebuilt_warehouse_catches_old_pseudonyms_other_figures_and_rows(project, tmp_path):
    from pipelines.tools.rotate_check import RotationError, verify_rebuild

    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse_file(project), copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("UPDATE report.settlement SET eligible_cumulative = eligible_cumulative + 0.01")
        conn.execute("DELETE FROM staging.expenses WHERE document_no = 'FV/2/2021'")
    with (duckdb.connect(str(warehouse_file(project)), read_only=True) as old, duckdb.connect(str(copy)) as new,
          pytest.raises(RotationError) as raised):
        verify_rebuild(old, new, NEW_KEY.encode())
    assert str(raised.value) == (
        "nowa hurtownia różni się od bieżącej: odcisk klucza w nowej hurtowni nie jest odciskiem nowego klucza; "
        "report.settlement: inne wartości niż w bieżącej hurtowni; staging.expenses: inne partycje lub liczby wierszy "
        "(1 partycja, 2 wiersze → 1 partycja, 1 wiersz); 3 stare pseudonimy nadal w nowej hurtowni.")


def test_delete_old_leaves_only_the_new_warehouse(project, capsys, monkeypatch):
    warehouse = warehouse_file(project)
    monkeypatch.setenv("CUS_NEW_PSEUDONYM_KEY", NEW_KEY)
    code, out, err = cus(capsys, "rotate-key", "--delete-old")
    assert code == 0 and err == "", out + err
    assert "Stara hurtownia usunięta (--delete-old). Zniszcz stary klucz." in out
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["cus.duckdb"]
    assert query(warehouse, "SELECT person_key FROM staging.participants WHERE participant_id = 'ELB/0001'") == [
        (hmac_hex(NEW_KEY, PESEL_A.encode()),)]
