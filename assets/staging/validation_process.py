"""Where Great Expectations runs: a small batch's suites in a worker process, the rest in the calling process.

A small batch validates in a worker process (`start_validation_process`, `submit_frame`): GX's
import (~1,5 s) and its runs take the second core while the run's process reads, pseudonymizes,
prepares the next datasets and writes. In a thread of the run's process they would hold the same GIL as that work: measured on the
pilot, a thread hid none of the import (9,5 s with it, 7,9 s with GX imported beforehand). A large
batch (`prepare_in_background`: a worker would hold a second copy of its largest chunk), one
partition's asset and the rules' tests run GX in their own process (assets/staging/suites.py).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import polars as pl

from assets.staging import validation_service
from assets.staging.rules import Rule
from assets.staging.suites import ExpectationOutcome, gx_frame, gx_loaded, import_gx, validate_here
from core.worker_processes import end_with_parent

LOG = logging.getLogger(__name__)

_process: ProcessPoolExecutor | validation_service.ServiceClient | None = None
_last_task: Future | None = None  # one worker runs its tasks in order: the last one tells whether it is busy
_process_lock = threading.Lock()  # for the three above (suites' own lock is held through GX's import)
_stops_at_exit = False


def start_validation_process() -> None:
    """Start the worker process that imports Great Expectations and then runs the batch's suites
    (`submit_frame`); it stays for the next batches of this process. A run of the Dagster UI connects to
    the validation service of `cus ui` instead (validation_service.py). Nothing when GX is already
    loaded here or a worker runs."""
    global _process, _last_task
    with _process_lock:
        if _process is None and not gx_loaded():
            _process = validation_service.connect()  # a run of the Dagster UI: GX is already imported there
            if _process is None:
                _process = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_serve)
                _last_task = _process.submit(int)  # the pool starts its worker with the first task: now, not at the first suite
            _stop_at_exit()


def _stop_at_exit() -> None:
    """At the process's exit the worker is stopped before anything waits for it (once per process):
    - a process started by multiprocessing (a Dagster daemon run: the code server starts it so) joins
      its children first — the worker would never end — and runs multiprocessing's finalizers just
      before: one is registered there;
    - any process: the pool's own exit handler (`threading._register_atexit`) would wait until the
      worker finished importing GX or the suite it runs (e.g. after Ctrl-C, which it ignores): this one
      is registered beside it and runs before it (they run in reverse order)."""
    global _stops_at_exit
    if not _stops_at_exit:
        _stops_at_exit = True
        multiprocessing.util.Finalize(None, stop_validation_process, exitpriority=100)
        register = getattr(threading, "_register_atexit", atexit.register)
        register(stop_validation_process)


def prepare_in_background() -> None:
    """Without the worker (a large batch): import Great Expectations in a thread of this process while the
    batch reads its first files."""
    with _process_lock:
        if gx_loaded() or _process is not None:
            return
    threading.Thread(target=import_gx, name="gx-import", daemon=True).start()


def stop_validation_process() -> None:
    """Stop the worker without waiting for its import or its suite to finish (a run with nothing to
    validate, a large batch, a dead worker, the process's exit): a busy worker is killed, an idle one
    ends as the pool ends it (a killed one leaves the semaphore of GX's progress-bar lock to the
    resource tracker, which warns about it)."""
    global _process, _last_task
    with _process_lock:
        process, _process = _process, None
        busy = _last_task is not None and not _last_task.done()
        _last_task = None
    if process is not None:
        if busy:
            if hasattr(process, "kill_workers"):  # Python 3.14
                process.kill_workers()
            else:
                # noqa below: no kill() before 3.14; the validation service's client has no processes of its own
                for worker in (getattr(process, "_processes", None) or {}).copy().values():  # noqa: SLF001
                    worker.kill()
        process.shutdown(wait=True, cancel_futures=True)  # quick: the worker is idle or killed


def _serve() -> None:
    """The worker's start: it ends with the run's process (also after its `kill -9`, which leaves no one
    to shut the pool down), then imports GX while its parent works."""
    end_with_parent()
    import_gx()


# The outcomes of a submitted suite run: calling it waits for them (`submit_frame`).
PendingOutcomes = Callable[[], list[ExpectationOutcome]]


def submit_frame(name: str, rules: list[Rule], frame: pl.DataFrame, columns: set[str]) -> PendingOutcomes:
    """`run_suite` on `frame` (a `row_number` column + the columns the rules read) started: in the worker
    process when one is started (the caller goes on while it runs; the worker runs its suites in the
    order they were submitted), else here at once. Calling the result gives the outcomes. A worker that
    died (out of memory) or was stopped meanwhile is replaced by this process, with a warning."""
    frame = gx_frame(frame, columns)  # only what the suite reads goes to the worker
    with _process_lock:
        process = _process
    if process is not None:
        try:
            task = _submit(process, name, rules, frame)
        except BrokenProcessPool:
            _worker_lost(process)
        else:
            return lambda: _outcome(process, task, name, rules, frame)
    outcomes = validate_here(name, rules, frame)
    return lambda: outcomes


def _submit(process: ProcessPoolExecutor, name: str, rules: list[Rule], frame: pl.DataFrame) -> Future:
    global _last_task
    try:
        task = process.submit(validate_here, name, rules, frame)
    except RuntimeError as error:  # the pool was shut down since: as if it had died
        raise BrokenProcessPool(str(error)) from error
    with _process_lock:
        _last_task = task
    return task


def _outcome(process: ProcessPoolExecutor, task: Future, name: str, rules: list[Rule],
             frame: pl.DataFrame) -> list[ExpectationOutcome]:
    try:
        return task.result()
    except BrokenProcessPool:
        _worker_lost(process)
        return validate_here(name, rules, frame)


def _worker_lost(process: ProcessPoolExecutor) -> None:
    """The worker died: this process validates from now on (one warning for all its pending suites)."""
    with _process_lock:
        if _process is not process:
            return
    stop_validation_process()
    LOG.warning("Proces walidacji (Great Expectations) zakończył się nieoczekiwanie — walidacja w procesie "
                "przebiegu (wolniej o import Great Expectations).")
