"""The coordinator's own path (issue 15), driven through the sensors as the daemon would: a re-sent
file is picked up by landing_sensor and ONE batch run ingests it and rebuilds the reports of its
quarter and of every later quarter — and only those; a batch launched without its reports step
(Launchpad) is followed by one reports run requested by reports_after_batch_sensor."""

import shutil
from pathlib import Path

import dagster as dg
import pytest
from conftest import TEST_KEY, small_sample
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG as RANGE_END
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_START_TAG as RANGE_START

from core.resources import LandingResource, PseudonymizerResource, PublishedResource, ReportsResource, WarehouseResource
from pipelines.definitions import build_definitions

UNIT = "starachowice"
KEEP = ["umowa", "2021Q2", "2021Q3", "2021Q4"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return small_sample(tmp_path_factory.mktemp("coordinator"), {UNIT: KEEP})


def _landing_tick(sensor, resources, cursor):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": resources["landing"],
                                                                "warehouse": resources["warehouse"]})
    result = sensor(context)
    requests = [r for r in (list(result) if result is not None else []) if isinstance(r, dg.RunRequest)]
    return requests, context.cursor


def _after(defs, instance, run_id, resources, name="reports_after_batch_sensor",
           ended=dg.DagsterEventType.RUN_SUCCESS):
    sensor = defs.resolve_sensor_def(name)
    run = instance.get_run_by_id(run_id)
    records = instance.get_records_for_run(run_id, of_type=ended).records
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
        dagster_event=records[-1].event_log_entry.dagster_event,
        resources={"landing": resources["landing"], "published": PublishedResource(root=str(resources["tmp"]))})
    return sensor(context)


def _reports_after(defs, instance, run_id, resources):
    return _after(defs, instance, run_id, resources)


def _quarter_range(request) -> tuple[str, str]:
    if request.partition_key:
        return request.partition_key, request.partition_key
    return request.tags[RANGE_START], request.tags[RANGE_END]


def test_a_resent_file_rebuilds_the_reports_of_its_quarter_and_the_later_ones(sample, tmp_path):
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "cus.duckdb")),
                 "landing": LandingResource(root=str(sample / "landing")),
                 "reports": ReportsResource(root=str(tmp_path / "reports")),
                 "pseudonymizer": PseudonymizerResource(secret=TEST_KEY)}
    defs = build_definitions(resources=resources)
    resources["tmp"] = tmp_path / "published"
    original = (sample / "landing" / UNIT / "2021Q3" / "wydatki.csv").read_bytes()
    instance = dg.DagsterInstance.ephemeral()
    landing_sensor = defs.resolve_sensor_def("landing_sensor")
    batch = defs.resolve_job_def("ingest_batch_job")
    reports = defs.resolve_job_def("reports_job")

    def run_reports(request):
        assert request.tags["cus/after_run"]
        # only the unit whose file changed (+ the consolidated reports) is rewritten
        assert request.run_config["ops"]["report__quarterly_reports"]["config"]["rewrite_units"] == [UNIT]
        assert reports.execute_in_process(partition_key=request.partition_key, run_config=request.run_config,
                                          instance=instance, tags=request.tags).success

    def reports_materialized(run_id) -> list[str]:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
        return sorted(r.event_log_entry.dagster_event.partition for r in records
                      if r.event_log_entry.dagster_event.asset_key == dg.AssetKey(["report", "quarterly_reports"]))

    # first delivery: ONE batch run for every landed partition that also writes every quarter's reports
    (first,), cursor = _landing_tick(landing_sensor, resources, None)
    assert sorted(first.run_config["ops"]["ingest_batch"]["config"]["partitions"]) == [
        "starachowice", "starachowice|2021Q2", "starachowice|2021Q3", "starachowice|2021Q4"]
    ingest = batch.execute_in_process(run_config=first.run_config, instance=instance, tags=first.tags)
    assert ingest.success
    # the UI shows the report partitions as materialized by that run; no second run is requested
    assert reports_materialized(ingest.run_id) == ["2021-04-01", "2021-07-01", "2021-10-01"]
    assert _reports_after(defs, instance, ingest.run_id, resources) is None
    folder = tmp_path / "reports"
    files = {q: folder / q / UNIT / f"raport_{UNIT}_{q}.xlsx" for q in ("2021Q2", "2021Q3", "2021Q4")}
    pdfs = {q: f.with_suffix(".pdf") for q, f in files.items()}
    assert all(f.exists() for f in files.values()) and all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs.values())
    before = {q: f.read_bytes() for q, f in files.items()}
    stamps = {q: f.stat().st_mtime_ns for q, f in files.items()}

    # nothing new: the sensor starts nothing
    assert _landing_tick(landing_sensor, resources, cursor)[0] == []

    # the coordinator copies the corrected file over the landing file
    shutil.copy(sample / "resent" / UNIT / "2021Q3" / "wydatki.csv", sample / "landing" / UNIT / "2021Q3" / "wydatki.csv")
    (second,), cursor = _landing_tick(landing_sensor, resources, cursor)
    assert second.run_config["ops"]["ingest_batch"]["config"]["partitions"] == ["starachowice|2021Q3"]
    ingest = batch.execute_in_process(run_config=second.run_config, instance=instance, tags=second.tags)
    assert ingest.success
    # 2021Q3 and the later 2021Q4 (cumulative figures change), in the same run; 2021Q2 stays as it was
    assert reports_materialized(ingest.run_id) == ["2021-07-01", "2021-10-01"]
    assert files["2021Q2"].stat().st_mtime_ns == stamps["2021Q2"]
    for quarter in ("2021Q3", "2021Q4"):
        assert files[quarter].stat().st_mtime_ns != stamps[quarter]
    # the corrected quarter's figures changed (the re-sent file fixes an amount)
    assert files["2021Q3"].read_bytes() != before["2021Q3"]

    # a batch launched from the Launchpad without its reports step: ONE reports run follows (a range)
    stamps = {q: f.stat().st_mtime_ns for q, f in files.items()}
    launchpad = {"ops": {"ingest_batch": {"config": {"partitions": ["starachowice|2021Q3"], "force": True}}}}
    ingest = batch.execute_in_process(run_config=launchpad, instance=instance)
    assert ingest.success and reports_materialized(ingest.run_id) == []
    requested = _reports_after(defs, instance, ingest.run_id, resources)
    assert _quarter_range(requested) == ("2021-07-01", "2021-10-01")
    assert requested.tags["cus/after_run"] == ingest.run_id  # the chain of runs for that file
    run_reports(requested)
    assert files["2021Q2"].stat().st_mtime_ns == stamps["2021Q2"]
    assert all(files[q].stat().st_mtime_ns != stamps[q] for q in ("2021Q3", "2021Q4"))

    # a burst with a refused file: the batch fails, the other partition is committed; its reports
    # and the SQL copy follow from the failure sensors (the batch never got to its reports step)
    stamps = {q: f.stat().st_mtime_ns for q, f in files.items()}
    (sample / "landing" / UNIT / "2021Q3" / "wydatki.csv").write_bytes(original)
    (sample / "landing" / UNIT / "2021Q4" / "wydatki.csv").write_bytes(b"")  # refused: empty file
    (third,), cursor = _landing_tick(landing_sensor, resources, cursor)
    ingest = batch.execute_in_process(run_config=third.run_config, instance=instance, tags=third.tags,
                                      raise_on_error=False)
    assert not ingest.success and reports_materialized(ingest.run_id) == []
    failed = dg.DagsterEventType.RUN_FAILURE
    requested = _after(defs, instance, ingest.run_id, resources, "reports_after_failed_batch_sensor", failed)
    assert _quarter_range(requested) == ("2021-07-01", "2021-10-01")
    publish = _after(defs, instance, ingest.run_id, resources, "publish_after_failure_sensor", failed)
    assert publish.tags["cus/after_run"] == ingest.run_id and publish.job_name in (None, "publish_job")
    run_reports(requested)
    assert files["2021Q3"].stat().st_mtime_ns != stamps["2021Q3"]
    assert files["2021Q3"].read_bytes() != files["2021Q2"].read_bytes()
