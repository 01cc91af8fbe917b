"""The batch's set-based event writing (core/event_log_batch.py) leaves the run history Dagster leaves.

The same two runs (a batch of three unit × quarter partitions, then two partitions re-sent) log the
same materializations and check results once through `context.log_event` into Dagster's own
`SqliteEventLogStorage` and once through `log_events_bulk` into the project's pooled storage
(.dagster_home/dagster.yaml); everything the UI reads through Dagster's public read APIs must be
identical: records, storage ids, order, partitions, statuses, metadata and check history.
"""

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

import core.event_log_batch
from core.event_log_batch import event_serializer, log_events_bulk

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = ["gdansk|2021Q1", "gdansk|2021Q2", "torun|2021Q1"]
PARTITIONS_DEF = dg.StaticPartitionsDefinition(PARTITIONS)
RAW, STAGING, MART = dg.AssetKey(["raw", "expenses"]), dg.AssetKey(["staging", "expenses"]), dg.AssetKey(["mart", "fact"])
RULE = dg.AssetCheckKey(STAGING, "kwota_dodatnia")
TABLE_RULE = dg.AssetCheckKey(MART, "klucz_unikalny")
ASSET_EVENTS = (dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION)


def _check(key: dg.AssetCheckKey, partition: str | None, passed: bool, failing: int) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=key.asset_key, check_name=key.name, passed=passed, partition=partition,
        severity=dg.AssetCheckSeverity.ERROR if failing > 1 else dg.AssetCheckSeverity.WARN,
        metadata={"wiersze z błędem": failing, "przykłady": dg.MetadataValue.md("| wiersz |\n|---|\n| 7 |")},
        description=None if passed else f"{partition or 'tabela'}: {failing} wierszy z kwotą ujemną")


def _events(run: int) -> list:
    events: list = []
    for number, partition in enumerate(PARTITIONS if run == 1 else PARTITIONS[:2]):
        rows = 10 * run + number
        events.append(dg.AssetMaterialization(asset_key=RAW, partition=partition,
                                              metadata={"dagster/row_count": rows, "plik": f"{partition}/wydatki.csv"}))
        events.append(dg.AssetMaterialization(
            asset_key=STAGING, partition=partition, description="Walidacja partycji",
            tags={"dagster/data_version": f"v{run}"},
            metadata={"status": "OK", "odrzucone wg reguły": dg.MetadataValue.json({"kwota_dodatnia": number}),
                      "podgląd": dg.MetadataValue.md("| a |\n|---|\n| 1 |")}))
        events.append(_check(RULE, partition, passed=partition != "torun|2021Q1", failing=number))
    if run == 2:  # the same rule and partition twice in one run: Dagster updates that run's row
        events.append(_check(RULE, PARTITIONS[0], passed=False, failing=3))
    events.append(dg.AssetMaterialization(asset_key=MART, metadata={"dagster/row_count": 3 * run}))
    events.append(_check(TABLE_RULE, None, passed=True, failing=0))
    if run == 2:  # ... also for a check without a partition
        events.append(_check(TABLE_RULE, None, passed=False, failing=2))
    return events


class Mode(dg.Config):
    run: int
    bulk: bool
    serialize: bool = False  # bulk, each group serialized in a second process while the previous is stored


@dg.op(name="ingest_batch")
def report_events(context: dg.OpExecutionContext, config: Mode) -> None:
    if config.bulk:
        events = _events(config.run)
        with event_serializer(len(events) if config.serialize else 0) as serializer:
            assert (serializer is not None) == config.serialize
            assert log_events_bulk(context, events, serializer) == len(events)
        return
    for event in _events(config.run):
        context.log_event(event)


@dg.job(name="ingest_batch_job")
def events_job():
    report_events()


def _history(tmp_path: Path, monkeypatch, bulk: bool, serialize: bool = False) -> dict:
    home = tmp_path / ("serialized" if serialize else "bulk" if bulk else "dagster")
    home.mkdir()
    if bulk:
        shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        monkeypatch.setattr(core.event_log_batch, "GROUP_SIZE", 7)  # a raw materialization of two partitions in one call
        monkeypatch.setattr(core.event_log_batch, "PARALLEL_FROM_EVENTS", 1)
    else:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        if bulk:
            assert type(instance.event_log_storage).__name__ == "PooledSqliteEventLogStorage"
        runs = {}
        for run in (1, 2):
            config = {"run": run, "bulk": bulk, "serialize": serialize}
            result = events_job.execute_in_process(instance=instance, run_config={"ops": {"ingest_batch": {"config": config}}})
            assert result.success
            runs[result.run_id] = f"run{run}"
            logged = [r.event_log_entry.dagster_event for r in instance.get_records_for_run(result.run_id).records]
            runs[f"events{run}"] = [(e.event_type_value, e.asset_key, e.partition, e.message) for e in logged
                                    if e is not None and e.event_type_value in ("ASSET_MATERIALIZATION",
                                                                                  "ASSET_CHECK_EVALUATION")]
            streamed = [e for e in result.all_events if e.event_type_value in ("ASSET_MATERIALIZATION",
                                                                                 "ASSET_CHECK_EVALUATION")]
            assert len(streamed) == (0 if bulk else len(runs[f"events{run}"]))  # bulk: the history only
        return _read(instance, runs)


def _read(instance: dg.DagsterInstance, runs: dict) -> dict:
    def plain(value) -> str:  # serialized, with the run ids named and the event times left out
        if isinstance(value, dg.EventLogEntry):
            value = value._replace(timestamp=0.0)
        text = dg.serialize_value(value)
        for run_id, name in runs.items():
            text = text.replace(run_id, name) if isinstance(name, str) else text
        return text

    def record(r: dg.EventLogRecord) -> tuple:
        return r.storage_id, plain(r.event_log_entry)

    def check_record(r) -> tuple:
        return r.id, runs[r.run_id], r.status, r.partition, plain(r.event)

    storage = instance.event_log_storage
    out: dict = {"events in the run's history": [runs["events1"], runs["events2"]]}
    for key in (RAW, STAGING, MART):
        out[f"{key} materializations"] = [record(r) for r in instance.fetch_materializations(key, limit=100).records]
        out[f"{key} latest"] = plain(instance.get_latest_materialization_event(key))
        out[f"{key} partitions"] = instance.get_materialized_partitions(key)
        (asset_record,) = instance.get_asset_records([key])
        out[f"{key} asset record"] = (asset_record.storage_id, runs[asset_record.asset_entry.last_run_id],
                                      record(asset_record.asset_entry.last_materialization_record))
    out["staging status"] = instance.get_status_by_partition(STAGING, PARTITIONS, PARTITIONS_DEF)
    out["data version tags"] = instance.get_event_tags_for_asset(STAGING, filter_tags={"dagster/data_version": "v2"})
    for key in (RULE, TABLE_RULE):
        out[f"{key} history"] = [check_record(r) for r in storage.get_asset_check_execution_history(key, limit=50)]
        out[f"{key} latest"] = check_record(storage.get_latest_asset_check_execution_by_key([key])[key])
        out[f"{key} summary"] = check_record(storage.get_asset_check_summary_records([key])[key].last_check_execution_record)
    for partition in PARTITIONS:
        out[f"history {partition}"] = [check_record(r) for r in storage.get_asset_check_execution_history(
            RULE, limit=50, partition_filter=PartitionKeyFilter(key=partition))]
        latest = storage.get_latest_asset_check_execution_by_key([RULE], partition_filter=PartitionKeyFilter(key=partition))
        out[f"latest {partition}"] = check_record(latest[RULE])
    out["check partitions"] = sorted(
        (i.partition_key, i.latest_execution_status, runs[i.latest_planned_run_id], i.latest_check_event_storage_id,
         i.latest_materialization_storage_id, i.latest_target_materialization_storage_id)
        for i in storage.get_asset_check_partition_info([RULE]))
    for run_id, name in runs.items():
        if isinstance(name, str):
            out[f"{name} records"] = [  # Dagster's own step events carry durations: their type only
                (r.storage_id, r.event_log_entry.dagster_event_type,
                 plain(r.event_log_entry) if r.event_log_entry.dagster_event_type in ASSET_EVENTS else None)
                for r in instance.get_records_for_run(run_id, limit=1000).records]
    return out


@pytest.fixture
def histories(tmp_path, monkeypatch) -> tuple[dict, dict]:
    return _history(tmp_path, monkeypatch, bulk=False), _history(tmp_path, monkeypatch, bulk=True)


def test_bulk_events_leave_the_run_history_dagster_leaves(histories):
    dagster_path, bulk_path = histories
    assert list(bulk_path) == list(dagster_path)
    for what in dagster_path:
        assert bulk_path[what] == dagster_path[what], what


def test_events_serialized_in_a_second_process_leave_the_same_history(histories, tmp_path, monkeypatch):
    dagster_path, _bulk = histories
    serialized = _history(tmp_path, monkeypatch, bulk=True, serialize=True)
    for what in dagster_path:
        assert serialized[what] == dagster_path[what], what


def test_the_history_shows_each_partition_and_each_rule_result(histories):
    _dagster, got = histories
    # hand-counted from _events: run 1 = 3 partitions, run 2 = both gdansk quarters again
    assert [len(got[f"{key} materializations"]) for key in (RAW, STAGING, MART)] == [5, 5, 2]
    assert got[f"{STAGING} partitions"] == set(PARTITIONS)
    assert got["staging status"] == {p: dg.AssetPartitionStatus.MATERIALIZED for p in PARTITIONS}
    assert got["data version tags"] == [{"dagster/data_version": "v2"}] * 2  # the two re-sent partitions
    failed, succeeded = AssetCheckExecutionRecordStatus.FAILED, AssetCheckExecutionRecordStatus.SUCCEEDED
    # one row per run, check and partition: run 2 evaluated gdansk|2021Q1 twice and ended failed
    assert [(run, status) for _id, run, status, _p, _e in got["history gdansk|2021Q1"]] == [
        ("run2", failed), ("run1", succeeded)]
    assert [(run, status) for _id, run, status, _p, _e in got["history gdansk|2021Q2"]] == [
        ("run2", succeeded), ("run1", succeeded)]
    assert [(run, status) for _id, run, status, _p, _e in got["history torun|2021Q1"]] == [("run1", failed)]
    assert len(got[f"{RULE} history"]) == 5
    assert [(run, status, partition) for _id, run, status, partition, _e in got[f"{TABLE_RULE} history"]] == [
        ("run2", failed, None), ("run1", succeeded, None)]
    assert '"gdansk|2021Q1: 3 wierszy z kwot\\u0105 ujemn\\u0105"' in got["latest gdansk|2021Q1"][4]
    # the run's own log: its events in the order logged, between Dagster's step events
    for run, expected in (("run1", ["M", "M", "C"] * 3 + ["M", "C"]), ("run2", ["M", "M", "C"] * 2 + ["C", "M", "C", "C"])):
        kinds = [{"ASSET_MATERIALIZATION": "M", "ASSET_CHECK_EVALUATION": "C"}.get(event_type)
                 for _id, event_type, _e in got[f"{run} records"]]
        assert [k for k in kinds if k] == expected
        assert kinds.index("M") > kinds.index(None)  # after the step started
