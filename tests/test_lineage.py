"""Lineage: the source rows and file versions behind a report figure (assets/report/lineage.py and
the report.lineage_* table macros), and the mart/report assets materialized end to end."""

from decimal import Decimal

import dagster as dg
import duckdb
import pytest
import yaml
from mart_fixtures import TESTOWO_Q2_EXPENSES, D, build_all, load_drugie, load_testowo, put, registry_yaml, validation
from mart_fixtures import warehouse as make_warehouse

from assets.report.lineage import source_rows


@pytest.fixture(scope="module")
def wh():
    conn = make_warehouse()
    yield conn
    conn.close()


def test_expense_figures_trace_to_documents_and_file_versions(wh):
    got = source_rows(wh, "eligible_cumulative", "testowo", "2021Q2")
    assert got["document_no"].to_list() == ["FV/1", "FV/2", "FV/3", "FV/4"]
    assert sum(got["eligible_amount"].to_list(), Decimal(0)) == D("19000.33")   # = direct_cumulative of 2021Q2
    assert got["source_file"].to_list()[2] == "testowo/2021Q2/wydatki.csv"
    assert got["row_number"].to_list() == [2, 3, 2, 3] and got["version_no"].to_list() == [1, 1, 1, 1]
    quarter = source_rows(wh, "direct_quarter", "testowo", "2021Q4")
    assert quarter["document_no"].to_list() == ["FV/5"]
    by_task = source_rows(wh, "cumulative_amount", "testowo", "2021Q4", task_no=2)
    assert by_task["document_no"].to_list() == ["FV/2", "FV/5"]
    assert source_rows(wh, "commissioned_amount", "testowo", "2021Q4")["document_no"].to_list() == ["FV/1", "FV/3"]
    assert source_rows(wh, "fixed_assets", "testowo", "2021Q4")["document_no"].to_list() == ["FV/2"]


def test_sql_macro_is_usable_by_analysts(wh):
    got = wh.execute("SELECT document_no, file_sha256 FROM report.lineage_expenses('testowo', '2021Q1', false)"
                     ).fetchall()
    assert got == [("FV/1", "sha-testowo-2021Q1-expenses-v1"), ("FV/2", "sha-testowo-2021Q1-expenses-v1")]


def test_person_service_and_tranche_figures(wh):
    persons = source_rows(wh, "indicator", "testowo", "2021Q2", code="PROD_OSOBY_USLUGI")
    # 4 persons up to 2021Q2; k1 appears under P1 and P5 -> both rows shown, one person counted
    assert sorted(persons["participant_id"].to_list()) == ["P1", "P2", "P3", "P4", "P5"]
    assert persons.filter(persons["participant_id"] == "P1")["source_file"].to_list() == ["testowo/2021Q2/uczestnicy.csv"]
    in_quarter = source_rows(wh, "quarter_total", "testowo", "2021Q2", code="PROD_OSOBY_USLUGI")
    assert in_quarter["participant_id"].to_list() == ["P4"]
    services = source_rows(wh, "cumulative_value", "testowo", "2021Q4", area=4)
    assert services["participant_id"].to_list() == ["P1", "P4", "P6"]
    assert sum(services["value"].to_list(), Decimal(0)) == D("225.00")
    tranches = source_rows(wh, "received_total", "testowo", "2021Q4")
    assert tranches["tranche_no"].to_list() == [1, 2, 3]
    budget = source_rows(wh, "budget", "testowo", task_no=1)
    assert budget["cost_category"].to_list() == ["1.1", "1.2"]


def test_corrected_file_version_is_traced():
    conn = make_warehouse()
    corrected = [dict(TESTOWO_Q2_EXPENSES[0], eligible_amount=D("9000.00")), TESTOWO_Q2_EXPENSES[1]]
    put(conn, "expenses", "testowo", "2021Q2", corrected, version=2)
    build_all(conn)
    got = source_rows(conn, "direct_quarter", "testowo", "2021Q2")
    assert got["file_sha256"].to_list() == ["sha-testowo-2021Q2-expenses-v2"] * 2
    assert got["version_no"].to_list() == [2, 2] and got["is_current"].to_list() == [True, True]
    assert got["eligible_amount"].to_list() == [D("9000.00"), D("2000.00")]


def test_unknown_figure_or_filter_is_a_clear_error(wh):
    with pytest.raises(ValueError, match="Nieznana wielkość"):
        source_rows(wh, "nothing", "testowo", "2021Q1")
    with pytest.raises(ValueError, match="niedozwolone"):
        source_rows(wh, "eligible_cumulative", "testowo", "2021Q1", participant_id="P1")


def test_mart_and_report_assets_materialize_end_to_end(tmp_path, monkeypatch):
    """dagster.materialize of every mart + report asset on a temporary warehouse."""
    from assets.mart.mart_assets import build_mart_assets
    from assets.report.report_tables import build_report_table_assets
    from core.registry import load_units
    from core.resources import WarehouseResource

    registry = tmp_path / "units.yaml"
    registry.write_text(yaml.safe_dump(registry_yaml(), allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CUS_REGISTRY", str(registry))
    load_units.cache_clear()
    path = tmp_path / "cus.duckdb"
    with duckdb.connect(str(path)) as conn:
        validation(conn)
        load_testowo(conn)
        load_drugie(conn)
    assets = build_mart_assets() + build_report_table_assets()
    result = dg.materialize(assets, resources={"warehouse": WarehouseResource(path=str(path))},
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events() and
                    [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]}
    assert {"mart/dim_participant", "report/indicators", "report/settlement", "report/flags"} <= materialized
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks and all(checks.values()), checks
    assert {"split_adds_up", "quarters_sum_to_cumulative", "person_counted_once"} <= set(checks)
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT eligible_cumulative FROM report.settlement WHERE unit = 'testowo' "
                            "AND quarter = '2021Q4'").fetchone()[0] == D("27600.38")
        assert conn.execute("SELECT document_no FROM report.lineage_expenses('testowo', '2021Q4', false)"
                            ).fetchall() == [("FV/5",)]
    load_units.cache_clear()


def test_settlement_check_catches_a_wrong_split(wh):
    from assets.mart.sql_tables import run_checks
    from assets.report.report_tables import REPORT_TABLES

    settlement = next(t for t in REPORT_TABLES if t.name == "settlement")
    assert all(r.passed for r in run_checks(wh, settlement))
    wh.execute("UPDATE report.settlement SET eu_cumulative = eu_cumulative + 0.01 "
               "WHERE unit = 'testowo' AND quarter = '2021Q2'")
    try:
        failed = {r.check_name for r in run_checks(wh, settlement) if not r.passed}
        assert failed == {"split_adds_up", "quarters_sum_to_cumulative"}
    finally:
        wh.execute("UPDATE report.settlement SET eu_cumulative = eu_cumulative - 0.01 "
                   "WHERE unit = 'testowo' AND quarter = '2021Q2'")


def test_agreement_and_non_person_figures_trace_to_their_files(wh):
    """Every figure has a source: milestones behind PROD_KAMIENIE, expenses behind REZ_ZLECANIE,
    the harmonogram behind plan figures, the targets file behind targets; PROD_CUS comes from
    the registry and says so instead of returning nothing."""
    milestones = source_rows(wh, "indicator", "testowo", "2021Q4", code="PROD_KAMIENIE")
    assert milestones["code"].to_list() == ["KM1", "KM2", "KM3"]
    assert set(milestones["source_file"].to_list()) == {"testowo/umowa/kamienie_milowe.csv"}
    commissioned = source_rows(wh, "indicator", "testowo", "2021Q1", code="REZ_ZLECANIE")
    assert commissioned.sort("document_no").select("document_no", "commissioned").rows() == [
        ("FV/1", True), ("FV/2", False)]
    plan = source_rows(wh, "planned", "testowo", quarter="2021Q3")
    assert plan.select("quarter", "planned_amount").rows() == [("2021Q3", Decimal("25000.00"))]
    assert source_rows(wh, "planned_cumulative", "testowo")["planned_amount"].sum() == Decimal("115000.00")
    assert source_rows(wh, "planned_cumulative", "testowo", "2021Q2")["planned_amount"].sum() == Decimal("30000.00")
    targets = source_rows(wh, "target_total", "testowo", code="PROD_OSOBY_USLUGI")
    assert targets.select("target_total", "source_file").rows() == [(Decimal("10.00"), "testowo/umowa/wskazniki.csv")]
    with pytest.raises(ValueError, match="config/units.yaml"):
        source_rows(wh, "indicator", "testowo", "2021Q4", code="PROD_CUS")
