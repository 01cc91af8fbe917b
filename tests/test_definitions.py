"""The code location loads; the registry drives partitions; a fifth unit needs config only."""

from pathlib import Path

import dagster as dg
import yaml
from landing_fixtures import EXPENSE_HEADERS, write_csv

from core.registry import REGISTRY_PATH, load_units
from pipelines.definitions import build_definitions

KOSZALIN = {
    "key": "koszalin",
    "name": "Centrum Usług Społecznych w Koszalinie",
    "gmina": "Miasto Koszalin",
    "voivodeship": "zachodniopomorskie",
    "transformation": "MOPR → CUS",
    "agreement_no": "POWR.02.08.00-00-0005/20",
    "agreement_signed": "2020-07-15",
    "period_start": "2020-09-01",
    "period_end": "2023-12-31",
    "cus_start": "2021-01-01",
    "total": "2990000.00",
}


def test_definitions_load_with_descriptions_and_partitions():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/participants", "raw/deliveries", "raw/expenses", "raw/tranches", "raw/budget",
            "raw/spending_plan", "raw/services", "raw/indicator_targets", "raw/milestones"} <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.description and len(node.description) > 40, key
    quarter_asset = graph.get(dg.AssetKey(["raw", "expenses"]))
    partition_keys = quarter_asset.partitions_def.get_partition_keys()
    assert "starachowice|2020Q4" in partition_keys and "elblag|2023Q3" in partition_keys
    # only the quarters of each unit's period (Elbląg starts 2021-01-01): never "missing" outside it
    assert "elblag|2020Q4" not in partition_keys and len(partition_keys) == 11 + 10 + 11 + 10
    assert graph.get(dg.AssetKey(["raw", "budget"])).partitions_def.get_partition_keys() == \
        ["elblag", "myslenice", "starachowice", "srokowo"]
    assert defs.resolve_job_def("ingest_quarter_job") and defs.resolve_sensor_def("landing_sensor")


def test_registry_holds_the_four_units_with_agreement_settings():
    units = {u.key: u for u in load_units()}
    assert list(units) == ["elblag", "myslenice", "starachowice", "srokowo"]
    assert str(units["srokowo"].total) == "2489370.50"
    assert str(units["elblag"].eu_rate) == "0.8428" and str(units["elblag"].indirect_rate) == "0.15"
    assert units["starachowice"].quarters[0] == "2020Q4" and units["elblag"].quarters[-1] == "2023Q3"


def test_fifth_unit_by_configuration_only(tmp_path: Path, landing: Path, resources: dict):
    registry = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    registry["units"].append(KOSZALIN)
    registry_path = tmp_path / "units.yaml"
    registry_path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    write_csv(landing / "koszalin" / "2020Q4" / "wydatki.csv", EXPENSE_HEADERS,
              [["FV/1/2020", "5260001246", "2020-11-04", "", 1, "1.1", "Diagnoza", "900.00", "900.00", "900.00",
                "0.00", "N", "N", "N"]])

    load_units.cache_clear()
    defs = build_definitions(registry_path, resources=resources)
    graph = defs.resolve_asset_graph()
    partitions = graph.get(dg.AssetKey(["raw", "expenses"])).partitions_def
    assert "koszalin|2020Q4" in partitions.get_partition_keys()
    assert "koszalin|2023Q4" in partitions.get_partition_keys()  # 2023Q4: Koszalin's last quarter
    assert "koszalin|2024Q1" not in partitions.get_partition_keys()  # outside its period: no partition at all
    job = defs.resolve_job_def("ingest_quarter_job")
    result = job.execute_in_process(
        partition_key="koszalin|2020Q4",
        instance=dg.DagsterInstance.ephemeral(),
        op_selection=None,
    )
    assert result.success
    import duckdb

    with duckdb.connect(resources["warehouse"].path, read_only=True) as conn:
        assert conn.sql("SELECT unit, quarter, document_no FROM raw.expenses").fetchall() == \
            [("koszalin", "2020Q4", "FV/1/2020")]


def test_every_warehouse_writer_shares_one_pool_limited_to_one_run_step():
    """DuckDB allows one writer: every asset that touches the warehouse is in the `warehouse` pool,
    and the project's dagster.yaml lets one step of that pool run at a time across runs."""
    from core.paths import PROJECT_ROOT

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    pools = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assets_def = defs.resolve_assets_def(key)
            pools[key.to_user_string()] = assets_def.op.pool
    assert pools and set(pools.values()) == {"warehouse"}, {k: v for k, v in pools.items() if v != "warehouse"}
    instance_config = yaml.safe_load((PROJECT_ROOT / ".dagster_home" / "dagster.yaml").read_text(encoding="utf-8"))
    assert instance_config["concurrency"]["pools"]["default_limit"] == 1
    assert instance_config["telemetry"]["enabled"] is False


def test_cus_start_is_optional_and_defaults_to_the_period_start(tmp_path: Path):
    entry = {k: v for k, v in KOSZALIN.items() if k in ("key", "name", "agreement_no", "period_start", "period_end",
                                                           "total")}
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump({"defaults": yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))["defaults"],
                                    "units": [entry]}, allow_unicode=True), encoding="utf-8")
    (unit,) = load_units(path)
    assert unit.cus_start == unit.period_start and str(unit.eu_rate) == "0.8428"


def test_status_asset_comes_first_in_its_own_group_with_its_job_and_sensor():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    status = graph.get(dg.AssetKey(["report", "status"]))
    groups = sorted({graph.get(key).group_name for key in graph.get_all_asset_keys()})
    assert status.group_name == "aktualny_stan" and groups[0] == "aktualny_stan"  # listed first (alphabetical)
    assert status.partitions_def is None
    assert "nie dotyczy (poza okresem realizacji projektu)" in status.description
    assert defs.resolve_job_def("status_job") and defs.resolve_sensor_def("status_sensor")
