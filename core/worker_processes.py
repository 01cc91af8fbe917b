"""Worker processes of a run (reading a large batch's files ahead, serializing its events).

Started with `spawn`, not `fork`: the run's process has polars', DuckDB's and Dagster's threads, and a
forked child would inherit their locks held. A spawned worker imports what it runs (~1–3 s), so the
callers start workers only for work large enough to repay that.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


@contextmanager
def worker_processes(workers: int) -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool
