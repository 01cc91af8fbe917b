"""The per-unit tables rebuilt for the changed units only (assets/mart/incremental.py) give exactly
the warehouse that a whole rebuild gives, and anything else than staging changing rebuilds whole."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from conftest import TEST_KEY, small_sample

import assets.mart.incremental as incremental
from assets.batch.tables import TABLES
from core.resources import LandingResource, PseudonymizerResource, ReportsResource, WarehouseResource
from pipelines.definitions import build_definitions

KEEP = {"starachowice": ["umowa", "2021Q2", "2021Q3", "2021Q4"], "myslenice": ["umowa", "2021Q3"],
        "elblag": ["umowa", "2021Q3"]}
PER_UNIT = [t for t in TABLES if t.doc is not None and t.doc.per_unit]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return small_sample(tmp_path_factory.mktemp("incremental"), KEEP)


def _correct(landing: Path, resent: Path) -> None:
    """A coordinator's corrections of one unit: the re-sent expenses of 2021Q3, half of the deliveries of
    2021Q3 and, in the participants of 2021Q4, every path completed and every person with a disability."""
    unit = "starachowice"
    shutil.copy(resent / unit / "2021Q3" / "wydatki.csv", landing / unit / "2021Q3" / "wydatki.csv")
    deliveries = landing / unit / "2021Q3" / "swiadczenia.csv"
    lines = deliveries.read_bytes().splitlines(keepends=True)
    deliveries.write_bytes(b"".join(lines[:1] + lines[1::2]))
    path = landing / unit / "2021Q4" / "uczestnicy.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), 1) if row[0] == "Identyfikator uczestnika")
    names = [c.value for c in sheet[header]]
    for answer in ("Zakończenie udziału zgodnie ze ścieżką", "Osoba z niepełnosprawnościami"):
        for row in range(header + 1, sheet.max_row + 1):
            sheet.cell(row=row, column=names.index(answer) + 1, value="Tak")
    workbook.save(path)


def _run(root: Path, landing: Path) -> tuple[dg.DagsterInstance, dg.ExecuteInProcessResult]:
    resources = {"warehouse": WarehouseResource(path=str(root / "cus.duckdb")),
                 "landing": LandingResource(root=str(landing)), "reports": ReportsResource(root=str(root / "reports")),
                 "pseudonymizer": PseudonymizerResource(secret=TEST_KEY)}
    instance = dg.DagsterInstance.ephemeral()
    result = build_definitions(resources=resources).resolve_job_def("ingest_batch_job").execute_in_process(
        run_config={"ops": {"ingest_batch": {"config": {"partitions": [], "force": False}}}}, instance=instance)
    assert result.success
    return instance, result


def _rebuilt(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """What the run's materialization of mart/fact_delivery says it rebuilt."""
    records = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    [event] = [r.event_log_entry.asset_materialization for r in records
               if r.event_log_entry.asset_materialization.asset_key == dg.AssetKey(["mart", "fact_delivery"])]
    return event.metadata["przebudowa"].value


def _tables(db: Path) -> dict[str, list]:
    """Every mart and report table (rows in order, without the columns that hold the time of a run)."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as conn:
        for t in TABLES:
            columns = [c for c, kind in conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [t.layer, t.name]).fetchall()
                if not kind.startswith("TIMESTAMP") and c != "generated_at"]
            select = ", ".join(f'"{c}"' for c in columns)
            out[f"{t.layer}.{t.name}"] = conn.execute(f"SELECT {select} FROM {t.layer}.{t.name} ORDER BY ALL").fetchall()
    return out


def test_a_correction_rebuilds_the_changed_units_rows_and_equals_a_whole_rebuild(sample, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(sample / "landing", landing)
    instance, first = _run(tmp_path / "step", landing)
    assert _rebuilt(instance, first) == "cała tabela"  # a new warehouse: everything
    before = _tables(tmp_path / "step" / "cus.duckdb")
    _filtered_queries_give_the_whole_tables(tmp_path / "step" / "cus.duckdb", before)

    _correct(landing, sample / "resent")
    instance, second = _run(tmp_path / "step", landing)
    assert _rebuilt(instance, second) == "wiersze jednostek: starachowice"
    stepwise = _tables(tmp_path / "step" / "cus.duckdb")
    for table in [f"{t.layer}.{t.name}" for t in PER_UNIT]:
        assert stepwise[table] != before[table], f"{table}: the correction changed nothing — the test proves nothing"

    _, whole = _run(tmp_path / "whole", landing)
    assert _tables(tmp_path / "whole" / "cus.duckdb") == stepwise
    with duckdb.connect(str(tmp_path / "step" / "cus.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.units_to_rebuild").fetchone()[0] == 0


def _filtered_queries_give_the_whole_tables(db: Path, tables: dict[str, list]) -> None:
    """Each per-unit model, reading only the rows of every unit (its SQL rewritten by sqlglot), gives the
    table its whole build gave: the rewrite keeps the model's meaning."""
    from assets.mart.sql_tables import prepare, prepare_report_macros
    from core.registry import load_units

    units = [u.key for u in load_units()]
    with duckdb.connect(str(db)) as conn:
        prepare(conn, load_units(), "mart")
        prepare_report_macros(conn)
        relations = incremental.unit_relations(conn)
        for t in PER_UNIT:
            query = incremental.filtered_query(t, units, relations)
            assert f"WHERE unit IN ('{units[0]}'" in query, t.name
            columns = [c for c, kind in conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [t.layer, t.name]).fetchall()
                if not kind.startswith("TIMESTAMP") and c != "generated_at"]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f"SELECT {select} FROM (\n{query}\n) ORDER BY ALL").fetchall()
            assert rows == tables[f"{t.layer}.{t.name}"], t.name


def test_anything_but_staging_changed_rebuilds_every_table_whole(sample, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(sample / "landing", landing)
    _run(tmp_path, landing)
    _correct(landing, sample / "resent")
    monkeypatch.setattr(incremental, "FORMAT", incremental.FORMAT + 1)  # as a changed model, schema or registry does
    instance, result = _run(tmp_path, landing)
    assert _rebuilt(instance, result) == "cała tabela"


def test_units_to_rebuild_follows_the_fingerprint_the_table_and_the_share_of_changed_units(tmp_path):
    from core.registry import load_units

    units = load_units()
    at = incremental.datetime(2026, 1, 1)
    table = next(t for t in PER_UNIT if t.name == "fact_expense")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("CREATE SCHEMA raw; CREATE SCHEMA mart; CREATE SCHEMA report")
        conn.execute("CREATE TABLE mart.fact_expense (unit VARCHAR)")
        incremental.ensure_build_state(conn)  # as `build` does once per rebuild
        assert incremental.units_to_rebuild(conn, table, units, "abc") is None  # never built whole
        incremental.record_build(conn, table, "abc", at, None)
        assert incremental.units_to_rebuild(conn, table, units, "abc") == []
        assert incremental.units_to_rebuild(conn, table, units, "abd") is None  # built from something else
        incremental.mark_changed(conn, {units[0].key}, at)
        assert incremental.units_to_rebuild(conn, table, units, "abc") == [units[0].key]
        incremental.record_build(conn, table, "abc", at, [units[0].key])  # its rows rebuilt
        assert incremental.units_to_rebuild(conn, table, units, "abc") == []
        incremental.mark_changed(conn, {u.key for u in units[: len(units) // 2]}, at)
        assert incremental.units_to_rebuild(conn, table, units, "abc") is None  # half of the units: whole
        other = next(t for t in TABLES if t.name == "dim_unit")
        assert incremental.units_to_rebuild(conn, other, units, "abc") is None  # not a per-unit table
        conn.execute("DROP TABLE mart.fact_expense")
        assert incremental.units_to_rebuild(conn, table, units, "abc") is None  # missing


def test_the_fingerprint_covers_models_schemas_and_the_registry():
    from core.registry import load_units

    units = load_units()
    assert incremental.fingerprint(units) == incremental.fingerprint(units)
    assert incremental.fingerprint(units) != incremental.fingerprint(units[1:])


def test_the_large_tables_are_rebuilt_per_unit():
    assert {f"{t.layer}.{t.name}" for t in PER_UNIT} == {
        "mart.fact_delivery", "mart.fact_expense", "mart.dim_participant", "mart.person_count",
        "report.services_by_area", "report.services_by_mode", "report.services_by_service", "report.indicators",
        "report.participant_profile"}
