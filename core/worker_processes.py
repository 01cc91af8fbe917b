"""Worker processes of a run (reading a large batch's files ahead, serializing its events).

Started with `spawn`, not `fork`: the run's process has polars', DuckDB's and Dagster's threads, and a
forked child would inherit their locks held. A spawned worker imports what it runs (~1–3 s), so the
callers start workers only for work large enough to repay that.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


@contextmanager
def worker_processes(workers: int) -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def end_with_parent() -> None:
    """In a long-lived worker process: end when the process that started it ends (also after its
    `kill -9`, which leaves no one to stop the worker) and ignore Ctrl-C (it stops the parent, whose
    end ends this one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)
