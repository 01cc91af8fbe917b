"""Dagster's SQLite event log, with pooled connections (configured in .dagster_home/dagster.yaml).

Dagster's `SqliteEventLogStorage` opens a new SQLite connection for every event it stores (a new
engine with `NullPool`) and closes it afterwards; closing the last connection of a WAL database
checkpoints it, so every event pays a checkpoint and an fsync. A batch run logs thousands of
per-partition events (a materialization per unit × quarter × dataset and a check result per
rule), and that cost dominated it: ~70 ms per event on this project's 2-core machine, 3–5 ms with
the connections kept open, well under 1 ms written set-based (measured by `benchmarks/event_log.py`).

This subclass changes how connections are made: one engine per shard (the index and each run's
file), kept open in a small pool, with `PRAGMA synchronous=NORMAL`, which in WAL mode never
corrupts the log and loses nothing when a process is killed; only an operating-system crash or a
power cut can lose the last events (Dagster's run monitoring then marks such a run as failed); and
a 64 MB write-ahead log between checkpoints (`WAL_AUTOCHECKPOINT_PAGES`).
Schema, migrations and queries stay Dagster's. Engines of runs not touched recently are closed
(at most `MAX_OPEN_SHARDS` files open per process: the webserver and the daemon read many runs).
And `store_event_batch` writes a batch's materializations and check results set-based, leaving the
rows `store_event` leaves (core/event_log_batch.py; `log_events_bulk` is the op-side call).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as db
from dagster._config import StringSource
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.types import MayHaveInstanceWeakref
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

from core.event_log_batch import is_bulk_event, write_bulk_events

MAX_OPEN_SHARDS = 16


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose SQLite connections stay open between events."""

    def __init__(self, base_dir: str | None = None, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._held: dict[int, dict] = {}
        self._tables: set[str] = set()
        self._asset_key_columns: set[str] = set()
        self._deferred_inst_data = inst_data
        if base_dir is not None:
            super().__init__(base_dir=base_dir, inst_data=inst_data)
        else:  # the instance's own folder, known when the instance registers (register_instance)
            MayHaveInstanceWeakref.__init__(self)

    def register_instance(self, instance) -> None:
        """Without `base_dir`, the run history lives where Dagster's default keeps it: `history/runs`
        of the instance's folder (also for `DagsterInstance.from_config(folder)`, whatever
        DAGSTER_HOME says)."""
        if not hasattr(self, "_base_dir"):
            super().__init__(base_dir=os.path.join(instance.root_directory, "history", "runs"),
                             inst_data=self._deferred_inst_data)
        super().register_instance(instance)

    @classmethod
    def config_type(cls):
        from dagster import Field

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:  # ty: ignore
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1, max_overflow=8,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            db.event.listen(engine, "connect", _set_pragmas)
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN_SHARDS:
                _shard, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        held = self._held.get(threading.get_ident())
        if held is not None:
            yield self._held_connection(held, shard)
            return
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def grouped_writes(self) -> Iterator[None]:
        """Store the events of this thread in one transaction per SQLite file, committed at the end
        (a batch run's per-partition events: one commit instead of several per event). On an error
        nothing of the group is stored."""
        if threading.get_ident() in self._held:
            yield
            return
        held: dict[str, tuple[Connection, object]] = {}
        self._held[threading.get_ident()] = held
        try:
            yield
            for _conn, transaction in held.values():
                transaction.commit()
        finally:
            self._held.pop(threading.get_ident(), None)
            for conn, transaction in held.values():
                if transaction.is_active:
                    transaction.rollback()
                conn.close()

    # log_events_bulk may hand over events already serialized (core/event_log_batch.event_serializer)
    stores_serialized = True

    def store_event_batch(self, events: Sequence[EventLogEntry], serialized: Sequence[str] | None = None) -> None:
        """Materializations and check results of runs written set-based (core/event_log_batch.py),
        other events by `store_event`, in order; one transaction per SQLite file. `serialized`: the
        events' `serialize_value`, when made beforehand (in the process of `event_serializer`)."""
        with self.grouped_writes():
            held = self._held[threading.get_ident()]
            pending: list[int] = []  # positions of consecutive bulk events

            def write_pending() -> None:
                write_bulk_events(self, [events[i] for i in pending], lambda shard: self._held_connection(held, shard),
                                  None if serialized is None else [serialized[i] for i in pending])
                pending.clear()

            for position, event in enumerate(events):
                if is_bulk_event(event):
                    pending.append(position)
                    continue
                if pending:
                    write_pending()
                self.store_event(event)
            if pending:
                write_pending()

    def _held_connection(self, held: dict, shard: str) -> Connection:
        if shard not in held:
            engine = self._engine(shard)
            with self._db_lock:
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            conn = engine.connect()
            held[shard] = (conn, conn.begin())
        return held[shard][0]

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before every check result whether its table exists (a new engine each time);
        a table that exists stays."""
        if table_name in self._tables:
            return True
        # Not through _connect: Dagster asks while it holds the index transaction (and _db_lock).
        with self._engine(INDEX_SHARD_NAME).connect() as conn:
            exists = bool(conn.dialect.has_table(conn, table_name))
        if exists:
            self._tables.add(table_name)
        return exists

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        if column_name not in self._asset_key_columns:
            if not super()._has_asset_key_col_on_connection(conn, column_name):
                return False
            self._asset_key_columns.add(column_name)
        return True

    def wipe(self) -> None:
        self._dispose_all()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_all()
        super().dispose()

    def _dispose_all(self) -> None:
        with self._engines_lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()


# Pages of write-ahead log after which a commit copies them into the database file (SQLite's default
# 1 000 = 4 MB). A national batch writes ~15 GB of history; with a 64 MB log the index pages that
# successive groups touch are copied once per checkpoint, not once per few groups: ~5 % less time per
# event (300 000 check results of 2 assets × 14 rules over 2 477 × 16 partitions, bulk path with the
# serializer: 57,2 s → 54,3 s, two runs each, 2026-12-04).
WAL_AUTOCHECKPOINT_PAGES = 16_384


def _set_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
