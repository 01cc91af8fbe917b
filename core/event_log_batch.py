"""A batch's per-partition events in Dagster's run history, written set-based.

A batch run reports thousands of materializations and check results (one per unit × quarter ×
dataset and per rule). Through `context.log_event` each pays Dagster's log manager, the console
handler, SQLAlchemy statement compilation, two serializations and up to six statements (3–8 ms
per event, `benchmarks/event_log.py`). Here the same `EventLogEntry` objects are built directly
(what `DagsterEvent.from_step` and the log manager build: same job, step, run, level, message and
tags), and `PooledSqliteEventLogStorage.store_event_batch` writes them in one transaction per
SQLite file: each event serialized once, the per-event rows by statements compiled once from
Dagster's own tables, the per-asset rows by Dagster's own methods. The rows are those Dagster's
`SqliteEventLogStorage.store_event` leaves (tests/test_event_log_storage.py compares both paths
through Dagster's read APIs):

- `event_logs` of the run's file: every event;
- `event_logs` of the index file: every event again (its id is the storage id the UI reads);
- `asset_keys`: per asset the batch's last materialization (row inserted, or updated);
- `asset_event_tags`: the tags Dagster indexes (data version, multi-partition dimensions);
- `asset_check_executions`: per check result the row of its run, check and partition updated
  (a planned evaluation), else a new row.

Only the per-event debug line of the console (and of any job `@logger` or `python_logs` handler) is
not written: the caller logs one summary line.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from itertools import islice

import dagster as dg
import sqlalchemy as db
from dagster._core.events import AssetCheckEvaluation, DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._serdes import serialize_value
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from core.worker_processes import worker_processes

GROUP_SIZE = 250  # events per store_event_batch: one commit, short enough that readers and the daemon never wait long

MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value
CHECK_EVALUATION = DagsterEventType.ASSET_CHECK_EVALUATION.value

EVENT_COLUMNS = ("run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition")

Event = dg.AssetMaterialization | dg.AssetCheckEvaluation


def log_events_bulk(context, events: Iterable[Event], serializer: Executor | None = None) -> int:
    """`context.log_event` for many events of one step, into the run history (what the UI, the sensors
    and `instance.get_records_for_run` read), stored GROUP_SIZE at a time through the event log's
    `store_event_batch` (Dagster's default stores them one by one). Unlike `context.log_event` they
    are not kept for the step's event stream: a national batch logs millions, which the run's process
    would hold until the step ends (and an in-process run's result for good). With `serializer`
    (`event_serializer`) each group is serialized in that process while the previous one is stored.
    Returns how many were logged."""
    step_context = context.get_step_execution_context()
    instance = step_context.instance
    storage = instance.event_log_storage
    if not getattr(storage, "stores_serialized", False):
        serializer = None  # a storage that serializes the events itself: the worker's would be wasted
    count = 0

    def store(entries: list[EventLogEntry], serialized: list[str] | None) -> None:
        if serialized is None:
            storage.store_event_batch(entries)
        else:
            storage.store_event_batch(entries, serialized)
        # the rest of DagsterInstance.handle_new_event (run listeners: only external step launchers add any)
        for subscriber in instance._subscribers.get(step_context.run_id) or ():
            for entry in entries:
                subscriber(entry)

    iterator = iter(events)
    previous = None  # with a serializer: a group is stored while the next one is serialized
    while chunk := list(islice(iterator, GROUP_SIZE)):
        entries = list(step_event_entries(step_context, chunk))
        if serializer is None:
            store(entries, None)
        else:
            if previous is not None:
                store(previous[0], previous[1].result())
            previous = (entries, serializer.submit(serialize_entries, entries))
        count += len(entries)
    if previous is not None:
        store(previous[0], previous[1].result())
    return count


def serialize_entries(entries: list[EventLogEntry]) -> list[str]:
    """Each entry as the event log stores it (`serialize_value`: what `_event_to_row` writes)."""
    return [serialize_value(entry) for entry in entries]


# A step logging at least this many events serializes them in a second process while it stores them:
# serializing is about half of the write and holds the GIL (the national tier: ~600 000 events per
# 500 units, ~2 minutes). Fewer events are serialized inline: the worker's start (~3 s) would cost more.
PARALLEL_FROM_EVENTS = 50_000


@contextmanager
def event_serializer(expected_events: int) -> Iterator[Executor | None]:
    """The process that serializes a large step's events (None: inline)."""
    if expected_events < PARALLEL_FROM_EVENTS or (os.cpu_count() or 1) < 2:
        yield None
        return
    with worker_processes(1) as pool:
        yield pool


def step_event_entries(step_context, events: Iterable[Event]) -> Iterator[EventLogEntry]:
    """The `EventLogEntry` that `context.log_event(event)` stores, built without the log manager
    (`DagsterEvent.from_step`, `DagsterLogHandler`, `construct_event_record`)."""
    handler, step = step_context.log.metadata, step_context.step
    common = {"job_name": step_context.job_name, "step_handle": step.handle, "node_handle": step.node_handle,
              "step_kind_value": step.kind.value, "logging_tags": step_context.event_tags, "pid": os.getpid()}
    for event in events:
        if isinstance(event, dg.AssetMaterialization):
            dagster_event = DagsterEvent(event_type_value=MATERIALIZATION, event_specific_data=StepMaterializationData(event),
                                         message=_materialization_message(event), **common)
        elif isinstance(event, AssetCheckEvaluation):
            dagster_event = DagsterEvent(event_type_value=CHECK_EVALUATION, event_specific_data=event,
                                         message=_check_message(event), **common)
        else:
            raise TypeError(f"log_events_bulk: zdarzenie typu {type(event).__name__} — tylko materializacje "
                            "i wyniki sprawdzeń; inne zdarzenia przez context.log_event")
        yield EventLogEntry(error_info=None, level=logging.DEBUG, user_message=dagster_event.message,
                            run_id=handler["run_id"], timestamp=time.time(),
                            step_key=handler["step_key"] or dagster_event.step_key, job_name=handler["job_name"],
                            dagster_event=dagster_event)


def _event_row(storage, entry: EventLogEntry, event_json: str) -> dict:
    """`SqlEventLogStorage._event_to_row` of a run's materialization or check result, with the event
    already serialized."""
    dagster_event = entry.get_dagster_event()
    return {"run_id": entry.run_id, "event": event_json, "dagster_event_type": dagster_event.event_type_value,
            "timestamp": storage._event_insert_timestamp(entry), "step_key": dagster_event.step_key,
            "asset_key": dagster_event.asset_key.to_string() if dagster_event.asset_key else None,
            "partition": dagster_event.partition or None}


def _materialization_message(event: dg.AssetMaterialization) -> str:
    # DagsterEvent.asset_materialization
    return event.description or "Materialized value{}.".format(f" {event.label}" if event.label else "")


def _check_message(event: AssetCheckEvaluation) -> str:
    # DagsterEvent.asset_check_evaluation
    return (f"Asset check '{event.check_name}' on '{event.asset_key.to_user_string()}' "
            + ("passed." if event.passed else "did not pass.")
            + ("" if event.description is None else f" Description: '{event.description}'"))


def is_bulk_event(event: EventLogEntry) -> bool:
    """A run's materialization or check result: what `write_bulk_events` stores."""
    dagster_event = event.dagster_event
    if dagster_event is None or not event.run_id:  # a check result without a run has its own path in Dagster
        return False
    if dagster_event.event_type_value == MATERIALIZATION:
        return dagster_event.asset_key is not None
    return dagster_event.event_type_value == CHECK_EVALUATION


def write_bulk_events(storage, entries: Sequence[EventLogEntry], connect: Callable[[str], Connection],
                      serialized: Sequence[str] | None = None) -> None:
    """Store `entries` (each `is_bulk_event`) as `SqliteEventLogStorage.store_event` stores them one by
    one (`serialized`: their `serialize_value`, when already made). `connect(shard)` gives the open
    connection of a shard; the caller commits."""
    index_conn = connect(INDEX_SHARD_NAME)
    index, statements = _cursor(index_conn), _Statements(index_conn.dialect)  # ~0.5 ms per call
    run_cursors: dict[str, sqlite3.Cursor] = {}
    materializations: list[tuple[EventLogEntry, int]] = []
    checks: list[tuple[EventLogEntry, dict, int]] = []
    for position, entry in enumerate(entries):
        # Dagster's columns; the event serialized once for all rows (or before, in the serializer process)
        row = storage._event_to_row(entry) if serialized is None else _event_row(storage, entry, serialized[position])
        row["timestamp"] = statements.timestamp(row["timestamp"])
        if entry.run_id not in run_cursors:
            run_cursors[entry.run_id] = _cursor(connect(entry.run_id))
        run_cursors[entry.run_id].execute(*statements.insert_event(row))
        index.execute(*statements.insert_event(row))
        if row["dagster_event_type"] == MATERIALIZATION:
            materializations.append((entry, index.lastrowid))
        else:  # a check result (its event_logs rows have no asset key: DagsterEvent.asset_key)
            checks.append((entry, row, index.lastrowid))
    if materializations:  # Dagster's own statements: a few per asset, not per event
        latest = {entry.get_dagster_event().asset_key: (entry, event_id) for entry, event_id in materializations}
        for entry, event_id in latest.values():
            storage._store_asset_event(index_conn, entry, event_id)
        storage._store_asset_event_tags(index_conn, *zip(*materializations))
    if checks and not storage.supports_asset_checks:
        raise dg.DagsterInvariantViolationError(
            "Asset checks require a database schema migration. Run `dagster instance migrate`.")
    for entry, row, event_id in checks:
        _store_check_evaluation(index, statements, entry, row, event_id)


def _store_check_evaluation(cursor: sqlite3.Cursor, statements: _Statements, entry: EventLogEntry, row: dict,
                            event_id: int) -> None:
    # SqlEventLogStorage._update_asset_check_evaluation: the row of a planned evaluation, else a new row
    evaluation: AssetCheckEvaluation = entry.get_dagster_event().event_specific_data
    target = evaluation.target_materialization_data
    values = {
        "execution_status": (AssetCheckExecutionRecordStatus.SUCCEEDED if evaluation.passed
                             else AssetCheckExecutionRecordStatus.FAILED).value,
        "evaluation_event": row["event"], "evaluation_event_timestamp": row["timestamp"],
        "evaluation_event_storage_id": event_id,
        "materialization_event_storage_id": target.storage_id if target else None,
        "partition": evaluation.partition, "asset_key": evaluation.asset_key.to_string(),
        "check_name": evaluation.check_name, "run_id": entry.run_id}
    if evaluation.partition is not None:
        # one upsert on Dagster's unique index (asset_key, check_name, run_id, partition): the same row as
        # update-then-insert, one statement (a batch run plans no evaluations, so the update always missed)
        cursor.execute(*statements.upsert_check(values))
        return
    cursor.execute(*statements.update_check(values))  # unpartitioned: NULL is never a conflict in the index
    if cursor.rowcount > 1:
        raise dg.DagsterInvariantViolationError(
            f"Updated {cursor.rowcount} rows for asset check evaluation {evaluation.asset_check_key} "
            "as a result of duplicate AssetCheckPlanned events.")
    if cursor.rowcount == 0:
        cursor.execute(*statements.insert_check(values))


class _Statements:
    """Dagster's tables (dagster._core.storage.event_log.schema) compiled once into DB-API statements."""

    def __init__(self, dialect) -> None:
        check_values = ("execution_status", "evaluation_event", "evaluation_event_timestamp",
                        "evaluation_event_storage_id", "materialization_event_storage_id", "partition")
        check_key = ("asset_key", "check_name", "run_id")
        table = AssetCheckExecutionsTable
        update = table.update().values({column: db.bindparam(column) for column in check_values}).where(
            table.c.asset_key == db.bindparam("key_asset_key"), table.c.check_name == db.bindparam("key_check_name"),
            table.c.run_id == db.bindparam("key_run_id"), table.c.partition.is_(db.bindparam("key_partition")))
        self.insert_event = _compile(SqlEventLogStorageTable.insert(), dialect, EVENT_COLUMNS)
        self.insert_check = _compile(table.insert(), dialect, check_values + check_key)
        upsert = sqlite_insert(table)
        upsert = upsert.on_conflict_do_update(index_elements=[table.c[name] for name in (*check_key, "partition")],
                                              set_={column: upsert.excluded[column] for column in check_values})
        self.upsert_check = _compile(upsert, dialect, check_values + check_key)
        self.update_check = _compile(update, dialect, None, rename=lambda name: name.removeprefix("key_"))
        self.timestamp = table.c.evaluation_event_timestamp.type.dialect_impl(dialect).bind_processor(dialect)


def _compile(statement, dialect, columns, rename=lambda name: name) -> Callable[[dict], tuple[str, tuple]]:
    compiled = statement.compile(dialect=dialect, column_keys=list(columns) if columns else None)
    sql, names = str(compiled), [rename(name) for name in compiled.positiontup]
    return lambda values: (sql, tuple(values[name] for name in names))


def _cursor(conn: Connection) -> sqlite3.Cursor:
    """The DB-API cursor under a storage connection (statements join its open transaction)."""
    return conn.connection.driver_connection.cursor()
