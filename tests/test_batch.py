"""Batch execution is right: many partitions in one run give exactly what one-partition runs give;
unchanged files are skipped; a burst from the sensor is one run; a killed run is recovered."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import TEST_KEY, small_sample

from core.resources import LandingResource, PseudonymizerResource, ReportsResource, WarehouseResource
from pipelines.definitions import build_definitions

# Agreement + quarters of two units, holding sample bad rows: starachowice 2021Q3 (eligible > gross),
# 2022Q1 (participant with a bad PESEL), myslenice 2022Q1 (NIP checksum); expenses of several quarters
# of one unit exercise "document number unique in the unit" across quarters.
KEEP = {"starachowice": ["umowa", "2021Q2", "2021Q3", "2022Q1"], "myslenice": ["umowa", "2022Q1"]}
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_landing(tmp_path_factory) -> Path:
    return small_sample(tmp_path_factory.mktemp("sample"), KEEP) / "landing"


def _resources(root: Path, landing: Path) -> dict:
    return {"warehouse": WarehouseResource(path=str(root / "cus.duckdb")), "landing": LandingResource(root=str(landing)),
            "reports": ReportsResource(root=str(root / "reports")), "pseudonymizer": PseudonymizerResource(secret=TEST_KEY)}


def _batch(defs, instance, partitions=None, force=False) -> dg.ExecuteInProcessResult:
    config = {"ops": {"ingest_batch": {"config": {"partitions": partitions or [], "force": force}}}}
    return defs.resolve_job_def("ingest_batch_job").execute_in_process(run_config=config, instance=instance,
                                                                        raise_on_error=False)


def _materializations(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list:
    """The run's materializations as its history holds them (the batch's are not in the step's event stream)."""
    records = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return [r.event_log_entry.dagster_event for r in records]


def _plan(landing: Path) -> list:
    """The files a batch over an empty warehouse reads from `landing`."""
    from assets.batch.plan import plan_batch
    from core.registry import load_units

    with duckdb.connect() as conn:
        return plan_batch(conn, landing, load_units()).files


def _snapshot(db: Path) -> dict[str, list]:
    """Every table of every layer, without the columns that hold the time of the run."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema IN ('raw', 'staging', 'mart', 'report') AND table_type = 'BASE TABLE' "
                              "ORDER BY 1, 2").fetchall()
        for schema, table in tables:
            columns = [c for c, t in conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND "
                "table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()
                if not t.startswith("TIMESTAMP") and c not in ("generated_at",)]
            select = ", ".join(f'"{c}"' for c in columns)
            out[f"{schema}.{table}"] = conn.execute(f"SELECT {select} FROM {schema}.{table} ORDER BY ALL").fetchall()
    return out


def test_a_batch_gives_the_warehouse_that_one_partition_runs_give(sample_landing, tmp_path, monkeypatch):
    one = _resources(tmp_path / "one", sample_landing)
    defs = build_definitions(resources=one)
    instance = dg.DagsterInstance.ephemeral()
    for unit, folders in KEEP.items():  # the order `cus run` took before batches: agreement, then quarters
        assert defs.resolve_job_def("ingest_agreement_job").execute_in_process(
            partition_key=unit, instance=instance).success
        for quarter in folders[1:]:
            assert defs.resolve_job_def("ingest_quarter_job").execute_in_process(
                partition_key=f"{unit}|{quarter}", instance=instance).success
    assert defs.resolve_job_def("indicators_job").execute_in_process(instance=instance).success

    many = _resources(tmp_path / "many", sample_landing)
    result = _batch(build_definitions(resources=many), dg.DagsterInstance.ephemeral())
    assert result.success
    assert sorted(result.output_for_node("ingest_batch")["partycje"]) == sorted(
        [u for u in KEEP] + [f"{u}|{q}" for u, folders in KEEP.items() for q in folders[1:]])

    expected, got = _snapshot(Path(one["warehouse"].path)), _snapshot(Path(many["warehouse"].path))
    assert sorted(got) == sorted(expected)
    for table in expected:
        assert got[table] == expected[table], table
    # GX in chunks of whole partitions (a batch of many units) gives the same warehouse
    import assets.staging.validate as validate

    monkeypatch.setattr(validate, "GX_CHUNK_ROWS", 50)
    chunked = _resources(tmp_path / "chunked", sample_landing)
    assert _batch(build_definitions(resources=chunked), dg.DagsterInstance.ephemeral()).success
    assert _snapshot(Path(chunked["warehouse"].path)) == got
    # and in set-based passes of one unit each (a dataset of a large batch), again the same warehouse
    import assets.batch.ingest as batch_ingest

    monkeypatch.setattr(batch_ingest, "CHUNK_BYTES", 1)
    monkeypatch.setattr(batch_ingest, "READ_AHEAD_FROM_BYTES", 0)  # files read one pass ahead, in worker processes
    assert [len(c) for c in batch_ingest.unit_chunks(
        [f for f in _plan(sample_landing) if f.dataset.name == "expenses"])] == [1, 3]  # myslenice, starachowice (registry order)
    passes = _resources(tmp_path / "passes", sample_landing)
    assert _batch(build_definitions(resources=passes), dg.DagsterInstance.ephemeral()).success
    assert _snapshot(Path(passes["warehouse"].path)) == got
    # and a small batch in passes of one unit each: its passes wait for their validation while the next
    # datasets load (one pending pass per dataset), again the same warehouse
    monkeypatch.undo()
    monkeypatch.setattr(batch_ingest, "CHUNK_BYTES", 1)
    assert batch_ingest.is_small(_plan(sample_landing))
    small_passes = _resources(tmp_path / "small_passes", sample_landing)
    assert _batch(build_definitions(resources=small_passes), dg.DagsterInstance.ephemeral()).success
    assert _snapshot(Path(small_passes["warehouse"].path)) == got
    # the sample's bad rows are in the quarantine of both (hand-listed in pipelines/tools/sample_data.py)
    quarantined = {(r[0], r[1], r[2]) for r in got["staging.quarantine"] if r[9] == "error"}
    assert ("starachowice", "2021Q3", "expenses") in quarantined
    assert ("starachowice", "2022Q1", "participants") in quarantined
    assert ("myslenice", "2022Q1", "expenses") in quarantined


def test_reading_ahead_in_worker_processes_gives_what_threads_give(sample_landing, tmp_path):
    import dataclasses

    import assets.batch.ingest as batch_ingest
    from assets.raw.landing_file import LandingFileError

    files = _plan(sample_landing)
    empty = tmp_path / "wydatki.csv"
    empty.write_text(" \n", encoding="utf-8")
    expenses = next(f for f in files if f.dataset.name == "expenses")
    files.append(dataclasses.replace(expenses, path=empty, quarter="2022Q2"))
    passes = [files[:3], files[3:]]
    threads = list(batch_ingest.read_passes(passes, small=True))
    processes = list(batch_ingest.read_passes(passes, small=False))
    assert [list(p) for p in processes] == [list(p) for p in threads] == passes
    for by_threads, by_processes in zip(threads, processes, strict=True):
        for planned, table in by_threads.items():
            other = by_processes[planned]
            if isinstance(table, LandingFileError):  # the refusal crosses the process boundary whole
                assert isinstance(other, LandingFileError) and str(other) == str(table)
                assert (other.path, other.problem, other.fix) == (table.path, table.problem, table.fix)
            else:
                assert other.frame.equals(table.frame) and other.sha256 == table.sha256
                assert (other.ignored_columns, other.totals_rows, other.header_block) == (
                    table.ignored_columns, table.totals_rows, table.header_block)
    assert isinstance(threads[-1][files[-1]], LandingFileError)


def test_every_partition_of_a_batch_gets_its_materializations_and_check_results(sample_landing, tmp_path):
    resources = _resources(tmp_path, sample_landing)
    instance = dg.DagsterInstance.ephemeral()
    result = _batch(build_definitions(resources=resources), instance)
    assert result.success
    materialized = {(e.asset_key.to_user_string(), e.event_specific_data.materialization.partition)
                    for e in _materializations(instance, result)}
    assert ("raw/expenses", "starachowice|2021Q3") in materialized
    assert ("staging/expenses", "myslenice|2022Q1") in materialized
    assert ("staging/budget", "starachowice") in materialized
    assert ("mart/fact_expense", None) in materialized
    # the check history of one rule shows the failing unit × quarter, with a Polish summary
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(["staging", "expenses"]), "kwota_kwalifikowalna_nie_wieksza_niz_brutto"), limit=50)
    failing = [r.event.dagster_event.event_specific_data for r in records
               if r.event and not r.event.dagster_event.event_specific_data.passed]
    assert [e.partition for e in failing] == ["starachowice|2021Q3"]
    assert "starachowice 2021Q3, plik starachowice/2021Q3/wydatki.csv" in failing[0].description
    assert "Kwota wydatków kwalifikowalnych" in failing[0].description
    status = [e.event_specific_data.materialization.metadata["status"].value for e in _materializations(instance, result)
              if e.asset_key.path == ["staging", "expenses"]
              and e.event_specific_data.materialization.partition == "starachowice|2021Q3"]
    assert len(status) == 1 and status[0].startswith("BŁĘDY — ") and "w kwarantannie" in status[0]


def test_unchanged_files_are_skipped_and_a_changed_one_alone_is_read(sample_landing, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    resources = _resources(tmp_path, landing)
    defs, instance = build_definitions(resources=resources), dg.DagsterInstance.ephemeral()
    assert _batch(defs, instance).success
    again = _batch(defs, instance)
    assert again.success and again.output_for_node("ingest_batch")["partycje"] == []
    assert not _materializations(instance, again)

    path = landing / "starachowice" / "2021Q3" / "wydatki.csv"
    path.write_bytes(path.read_bytes() + b"\n")  # same rows, new content: a new file version
    changed = _batch(defs, instance)
    assert changed.output_for_node("ingest_batch")["partycje"] == ["starachowice|2021Q3"]
    with duckdb.connect(resources["warehouse"].path, read_only=True) as conn:
        assert conn.execute("SELECT dataset, version_no FROM raw.file_versions WHERE is_current AND "
                            "unit = 'starachowice' AND quarter = '2021Q3' ORDER BY 1").fetchall() == [
            # the sample's optional opis_postepu (dataset narrative) comes every second quarter
            ("deliveries", 1), ("expenses", 2), ("narrative", 1), ("participants", 1), ("tranches", 1)]


def _consistent(db: Path) -> None:
    """Each unit × quarter is whole: its raw rows, staging summary and current file version agree."""
    with duckdb.connect(str(db), read_only=True) as conn:
        if not conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'validation_summary'"
                            ).fetchone()[0]:
            return
        mismatched = conn.execute("""
            WITH current_files AS (
                SELECT unit, quarter, dataset, file_sha256 FROM raw.file_versions WHERE is_current
            )
            SELECT f.unit, f.quarter, f.dataset
            FROM current_files AS f
            LEFT JOIN staging.validation_summary AS s
                ON f.unit = s.unit AND f.quarter IS NOT DISTINCT FROM s.quarter AND f.dataset = s.dataset
            WHERE s.file_sha256 IS DISTINCT FROM f.file_sha256
        """).fetchall()
        assert mismatched == []
        if conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart' "
                        "AND table_name = 'fact_expense'").fetchone()[0]:
            assert conn.execute("""
                SELECT count(*) FROM (
                    SELECT unit, quarter, file_sha256 FROM mart.fact_expense
                    EXCEPT SELECT unit, quarter, file_sha256 FROM staging.expenses
                )""").fetchone()[0] == 0


def test_a_killed_run_leaves_whole_partitions_and_recover_frees_the_warehouse_slot(sample_landing, tmp_path,
                                                                                    monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the project's event log lives under DAGSTER_HOME
    shutil.copy(PROJECT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CUS_WAREHOUSE": str(tmp_path / "w" / "cus.duckdb"),
           "CUS_LANDING": str(sample_landing), "CUS_REPORTS": str(tmp_path / "reports"),
           "CUS_PUBLISHED": str(tmp_path / "published"), "CUS_PSEUDONYM_KEY": TEST_KEY, "PYTHONPATH": str(PROJECT)}
    from pipelines.recovery import recover

    process = subprocess.Popen([sys.executable, "-m", "pipelines.tools.cli", "run", "--no-reports"], env=env,
                               cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            running = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            keys = instance.event_log_storage.get_concurrency_keys()
            if running and "warehouse" in keys and \
                    instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids:
                break
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(1.0)  # inside the batch (reading, validating or writing)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

        _consistent(tmp_path / "w" / "cus.duckdb")
        (killed,) = instance.get_runs(filters=dg.RunsFilter(job_name="ingest_batch_job"))
        assert killed.status == dg.DagsterRunStatus.STARTED  # nobody told Dagster
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids == {killed.run_id}

        done = recover(instance)
        assert any("oznaczony jako nieudany" in line for line in done)
        assert any("zwolniono miejsce" in line for line in done)
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids
        assert recover(instance) == []

    # a later run is not blocked and completes the work
    finished = subprocess.run([sys.executable, "-m", "pipelines.tools.cli", "run", "--no-reports"], env=env,
                              cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    _consistent(tmp_path / "w" / "cus.duckdb")


def test_the_raw_write_in_the_background_is_awaited_and_its_error_raised():
    """The pass's raw insert runs in a writer thread while the pass is validated: a failing validation
    still waits for it (the rollback needs the connection), and a failing insert fails the batch."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from assets.batch.ingest import _in_background

    written = []

    def slow_write(rows):
        time.sleep(0.2)
        written.append(rows)

    def failing_write():
        raise RuntimeError("insert failed")

    with ThreadPoolExecutor(max_workers=1) as writer:
        with pytest.raises(ValueError, match="validation"), _in_background(writer, slow_write, 3):
            raise ValueError("validation failed")
        assert written == [3]
        with pytest.raises(RuntimeError, match="insert failed"), _in_background(writer, failing_write):
            pass


def test_each_dataset_is_loaded_after_the_datasets_its_rules_read(monkeypatch):
    """A dataset's reference lists are the staging rows of the datasets its rules read: those are validated
    and written first (a small batch's GX runs meanwhile for the next datasets: `ingest_batch`)."""
    import assets.batch.ingest as batch_ingest

    order = [d.name for d in batch_ingest.dataset_order()]
    assert sorted(order) == sorted(d.name for d in batch_ingest.load_contract().values())
    for position, name in enumerate(order):
        read = batch_ingest.datasets_read(batch_ingest.load_contract()[name]) - {name}
        assert read <= set(order[:position]), (name, read, order[:position])
    # at each depth, the datasets others read go first (their GX runs finish before a reader waits)
    read_by_others = {other for d in batch_ingest.load_contract().values()
                      for other in batch_ingest.datasets_read(d) - {d.name}}
    depth: dict[str, int] = {}
    for name in order:
        read = batch_ingest.datasets_read(batch_ingest.load_contract()[name]) - {name}
        depth[name] = 1 + max((depth[other] for other in read), default=-1)
    assert [(depth[n], n not in read_by_others) for n in order] == sorted((depth[n], n not in read_by_others)
                                                                          for n in order)
    assert {"participants", "services"} <= read_by_others and depth["deliveries"] == 1

    reads = {"budget": {"narrative"}, "narrative": {"budget"}}
    monkeypatch.setattr(batch_ingest, "datasets_read", lambda d: reads.get(d.name, set()))
    with pytest.raises(ValueError, match="budget → narrative → budget"):
        batch_ingest.dataset_order()


def test_changed_reference_data_validates_the_units_later_quarters_again(sample_landing, tmp_path):
    """A service removed from the catalogue (agreement data) rejects its deliveries in every quarter of the unit,
    whichever order the files came in; a changed participants file validates the unit's later quarters again."""
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    resources = _resources(tmp_path, landing)
    defs, instance = build_definitions(resources=resources), dg.DagsterInstance.ephemeral()
    assert _batch(defs, instance).success

    catalogue = landing / "starachowice" / "umowa" / "uslugi.csv"
    lines = catalogue.read_text(encoding="utf-8").splitlines(keepends=True)
    catalogue.write_text("".join(line for line in lines if not line.startswith("STA-OSL,")), encoding="utf-8")
    result = _batch(defs, instance)
    assert sorted(result.output_for_node("ingest_batch")["partycje"]) == [
        "starachowice", "starachowice|2021Q2", "starachowice|2021Q3", "starachowice|2022Q1"]  # not myslenice
    with duckdb.connect(resources["warehouse"].path, read_only=True) as conn:
        rejected = conn.execute("SELECT quarter, count(*) FROM staging.quarantine WHERE unit = 'starachowice' AND "
                                "rule = 'service_in_catalogue' AND value = 'STA-OSL' GROUP BY 1 ORDER BY 1").fetchall()
        assert [q for q, n in rejected] == ["2021Q2", "2021Q3", "2022Q1"] and all(n > 0 for _, n in rejected)
        assert conn.execute("SELECT count(*) FROM staging.deliveries WHERE service_code = 'STA-OSL'").fetchone() == (0,)

    import openpyxl

    participants = landing / "starachowice" / "2021Q3" / "uczestnicy.xlsx"
    sheet = openpyxl.load_workbook(participants)
    sheet.active["A1"] = f"{sheet.active['A1'].value} "  # new content, same rows: a version later quarters read again
    sheet.save(participants)
    result = _batch(defs, instance)
    assert sorted(result.output_for_node("ingest_batch")["partycje"]) == ["starachowice|2021Q3", "starachowice|2022Q1"]
    # read again unchanged (cus ingest, `force`): no reference changed, nothing else is read
    result = _batch(defs, instance, partitions=["starachowice|2021Q3"], force=True)
    assert result.output_for_node("ingest_batch")["partycje"] == ["starachowice|2021Q3"]
