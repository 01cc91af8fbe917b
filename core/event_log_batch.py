"""A batch's per-partition events in Dagster's run history, written set-based.

A batch run reports thousands of materializations and check results (one per unit × quarter ×
dataset and per rule). Through `context.log_event` each pays Dagster's log manager, the console
handler, SQLAlchemy statement compilation, two serializations and up to six statements (3–8 ms
per event, `benchmarks/event_log.py`). Here the same `EventLogEntry` objects are built directly
(what `DagsterEvent.from_step` and the log manager build: same job, step, run, level, message and
tags), and `PooledSqliteEventLogStorage.store_event_batch` writes them with prepared statements in
one transaction per SQLite file, leaving the rows Dagster's `SqliteEventLogStorage.store_event`
leaves (tests/test_event_log_storage.py compares both through Dagster's read APIs):

- `event_logs` of the run's file: every event;
- `event_logs` of the index file: every event again (its id is the storage id the UI reads);
- `asset_keys`: per asset the batch's last materialization (row inserted, or updated);
- `asset_event_tags`: the tags Dagster indexes (data version, multi-partition dimensions);
- `asset_check_executions`: per check result the row of its run, check and partition updated
  (a planned evaluation), else a new row.

Only the console's per-event debug line is not written: the caller logs one summary line.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

import dagster as dg
from dagster._core.events import AssetCheckEvaluation, DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, AssetEventTagsTable, AssetKeyTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from sqlalchemy.engine import Connection

GROUP_SIZE = 250  # events per store_event_batch: one commit, short enough that readers and the daemon never wait long

MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value
CHECK_EVALUATION = DagsterEventType.ASSET_CHECK_EVALUATION.value

_EVENT_COLUMNS = ("run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition")
_INSERT_EVENT = f"INSERT INTO event_logs ({', '.join(_EVENT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_TAG = "INSERT INTO asset_event_tags (event_id, asset_key, key, value, event_timestamp) VALUES (?, ?, ?, ?, ?)"
_UPDATE_CHECK = ("UPDATE asset_check_executions SET execution_status = ?, evaluation_event = ?, "
                 "evaluation_event_timestamp = ?, evaluation_event_storage_id = ?, materialization_event_storage_id = ?, "
                 "partition = ? WHERE asset_key = ? AND check_name = ? AND run_id = ? AND partition IS ?")
_INSERT_CHECK = ("INSERT INTO asset_check_executions (execution_status, evaluation_event, evaluation_event_timestamp, "
                 "evaluation_event_storage_id, materialization_event_storage_id, partition, asset_key, check_name, "
                 "run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")

Event = dg.AssetMaterialization | dg.AssetCheckEvaluation


def log_events_bulk(context, events: Iterable[Event]) -> int:
    """`context.log_event` for many events of one step: the same events in the run history and in the
    step's event stream (run results, hooks), stored GROUP_SIZE at a time through the event log's
    `store_event_batch` (Dagster's default stores them one by one). Returns how many were logged."""
    step_context = context.get_step_execution_context()
    op_context = getattr(context, "op_execution_context", context)
    instance = step_context.instance
    count = 0
    iterator = iter(events)
    while chunk := list(islice(iterator, GROUP_SIZE)):
        entries = list(step_event_entries(step_context, chunk))
        instance.event_log_storage.store_event_batch(entries)
        # the rest of DagsterInstance.handle_new_event (run listeners: only external step launchers add any)
        for subscriber in instance._subscribers.get(step_context.run_id) or ():
            for entry in entries:
                subscriber(entry)
        # the rest of OpExecutionContext.log_event: the step yields the events after its compute function
        op_context._events.extend(entry.get_dagster_event() for entry in entries)
        count += len(entries)
    return count


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


def write_bulk_events(storage, entries: Sequence[EventLogEntry], connect: Callable[[str], Connection]) -> None:
    """Store `entries` (each `is_bulk_event`) as `SqliteEventLogStorage.store_event` stores them one by
    one. `connect(shard)` gives the open connection of a shard; the caller commits."""
    index_conn = connect(INDEX_SHARD_NAME)
    index = _cursor(index_conn)
    to_text = _timestamp_binder(index_conn)
    run_cursors: dict[str, sqlite3.Cursor] = {}
    latest: dict[str, tuple[EventLogEntry, int]] = {}
    tags: list[tuple] = []
    checks: list[tuple[EventLogEntry, str, str, int]] = []
    for entry in entries:
        values = storage._event_to_row(entry)  # Dagster's columns; the event serialized once for every row
        timestamp = values["timestamp"] = to_text(values["timestamp"])
        row = tuple(values[column] for column in _EVENT_COLUMNS)
        if entry.run_id not in run_cursors:
            run_cursors[entry.run_id] = _cursor(connect(entry.run_id))
        run_cursors[entry.run_id].execute(_INSERT_EVENT, row)
        index.execute(_INSERT_EVENT, row)
        event_id = index.lastrowid
        if values["dagster_event_type"] == MATERIALIZATION:
            latest[values["asset_key"]] = (entry, event_id)
            tags.extend((event_id, values["asset_key"], key, value, timestamp)
                        for key, value in storage._tags_for_asset_event(entry).items())
        else:  # a check result: its event_logs rows have no asset key (DagsterEvent.asset_key)
            checks.append((entry, values["event"], timestamp, event_id))
    has_index_cols = storage._has_asset_key_index_cols_on_connection(index_conn)
    for asset_key, (entry, event_id) in latest.items():
        values = storage._get_asset_entry_values(entry, event_id, has_index_cols)
        _upsert_asset_key(index, asset_key, {column: _bind(index_conn, column, value) for column, value in values.items()})
    if tags and storage.has_table(AssetEventTagsTable.name):
        index.executemany(_INSERT_TAG, tags)
    if checks and not storage.supports_asset_checks:
        raise dg.DagsterInvariantViolationError(
            "Asset checks require a database schema migration. Run `dagster instance migrate`.")
    for entry, serialized, timestamp, event_id in checks:
        _store_check_evaluation(index, entry, serialized, timestamp, event_id)


def _store_check_evaluation(cursor: sqlite3.Cursor, entry: EventLogEntry, serialized: str, timestamp: str,
                            event_id: int) -> None:
    # SqlEventLogStorage._update_asset_check_evaluation: the row of a planned evaluation, else a new row
    evaluation: AssetCheckEvaluation = entry.get_dagster_event().event_specific_data
    status = (AssetCheckExecutionRecordStatus.SUCCEEDED if evaluation.passed
              else AssetCheckExecutionRecordStatus.FAILED).value
    target = evaluation.target_materialization_data
    values = (status, serialized, timestamp, event_id, target.storage_id if target else None, evaluation.partition)
    where = (evaluation.asset_key.to_string(), evaluation.check_name, entry.run_id)
    cursor.execute(_UPDATE_CHECK, values + where + (evaluation.partition,))
    if cursor.rowcount > 1:
        raise dg.DagsterInvariantViolationError(
            f"Updated {cursor.rowcount} rows for asset check evaluation {evaluation.asset_check_key} "
            "as a result of duplicate AssetCheckPlanned events.")
    if cursor.rowcount == 0:
        cursor.execute(_INSERT_CHECK, values + where)


def _upsert_asset_key(cursor: sqlite3.Cursor, asset_key: str, values: dict) -> None:
    # SqlEventLogStorage._store_asset_event: insert, or (the asset key is unique) update the row
    if not values:
        return
    columns = list(values)
    try:
        cursor.execute(f"INSERT INTO asset_keys (asset_key, {', '.join(columns)}) "
                       f"VALUES (?{', ?' * len(columns)})", (asset_key, *values.values()))
    except sqlite3.IntegrityError:
        cursor.execute(f"UPDATE asset_keys SET {', '.join(f'{c} = ?' for c in columns)} WHERE asset_key = ?",
                       (*values.values(), asset_key))


def _bind(conn: Connection, column: str, value):
    """A value as SQLAlchemy binds it for `asset_keys.<column>` (timestamps as SQLite text)."""
    process = AssetKeyTable.c[column].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process else value


def _timestamp_binder(conn: Connection) -> Callable:
    """Naive UTC datetime → the text SQLAlchemy stores in SQLite TIMESTAMP/DATETIME columns."""
    return AssetCheckExecutionsTable.c.evaluation_event_timestamp.type.dialect_impl(conn.dialect).bind_processor(
        conn.dialect)


def _cursor(conn: Connection) -> sqlite3.Cursor:
    """The DB-API cursor under a storage connection (statements join its open transaction)."""
    return conn.connection.driver_connection.cursor()
