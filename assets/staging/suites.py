"""Great Expectations: rules -> an expectation suite per dataset, run on a partition's pandas frame.

GX is imported lazily (several seconds) and once per process; one ephemeral context holds one
suite and one validation definition per dataset and level (row / dataset). Per-partition values
(period dates, reference lists) are passed as `expectation_parameters` ({"$PARAMETER": name}).
Analytics and progress bars are off.

A small batch validates in a worker process (`start_validation_process`, `validate_frame`): GX's
import (~1,5 s) and its runs take the second core while the run's process reads, pseudonymizes and
writes. In a thread of the run's process they would hold the same GIL as that work: measured on the
pilot, a thread hid none of the import (9,5 s with it, 7,9 s with GX imported beforehand). A large
batch (`prepare_in_background`), one partition's asset and the rules' tests run GX in their own process.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import polars as pl

from assets.staging.bound import bound_expectations
from assets.staging.rules import Rule
from core.deferred_modules import defer

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_number"],
                 "return_unexpected_index_query": False, "partial_unexpected_count": 0}

# Imported by GX at start-up for expectations and renderers no rule file uses (KL divergence, KS tests,
# Altair charts): ~1 s of its import, deferred to a first use that does not come (core/deferred_modules.py).
GX_UNUSED_MODULES = ("scipy.stats", "altair")

LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict = {}


@dataclass
class ExpectationOutcome:
    rule: str
    column: str
    success: bool
    element_count: int
    unexpected_rows: list[int]
    observed: object = None
    error: str | None = None


def _gx():
    """(gx module, ephemeral context), created once per process."""
    with _lock:
        if "context" not in _state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            defer(*GX_UNUSED_MODULES)
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            source = context.data_sources.add_pandas("cus_staging")
            _state.update(gx=gx, context=context, source=source, definitions={})
        return _state["gx"], _state


_process: ProcessPoolExecutor | None = None
_tasks: list[Future] = []  # the last task given to the worker
_process_lock = threading.Lock()  # for the three above (`_lock` is held through GX's import)
_stops_at_exit = False


def start_validation_process() -> None:
    """Start the worker process that imports Great Expectations and then runs the batch's suites
    (`validate_frame`); it stays for the next batches of this process. Nothing when GX is already
    loaded here or a worker runs."""
    global _process
    with _process_lock:
        if _process is None and "context" not in _state:
            _process = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_serve)
            _tasks[:] = [_process.submit(int)]  # the pool starts its worker with the first task: now, not at the first suite
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
        if "context" in _state or _process is not None:
            return
    threading.Thread(target=_gx, name="gx-import", daemon=True).start()


def stop_validation_process() -> None:
    """Stop the worker without waiting for its import or its suite to finish (a run with nothing to
    validate, a large batch, a dead worker, the process's exit): a busy worker is killed, an idle one
    ends as the pool ends it (a killed one leaves the semaphore of GX's progress-bar lock to the
    resource tracker, which warns about it)."""
    global _process
    with _process_lock:
        process, _process = _process, None
        busy = any(not task.done() for task in _tasks)
        _tasks.clear()
    if process is not None:
        if busy:
            if hasattr(process, "kill_workers"):  # Python 3.14
                process.kill_workers()
            else:
                for worker in list((process._processes or {}).copy().values()):  # noqa: SLF001 — no kill() before 3.14
                    worker.kill()
        process.shutdown(wait=True, cancel_futures=True)  # quick: the worker is idle or killed


def _serve() -> None:
    """The worker's start: it ends with the process that started it (also after a `kill -9` of the run,
    which leaves no one to shut the pool down; Ctrl-C stops the parent, which ends it), then imports
    GX while its parent works."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()
    _gx()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def validate_frame(name: str, rules: list[Rule], frame: pl.DataFrame, columns: set[str]) -> list[ExpectationOutcome]:
    """`run_suite` on `frame` (a `row_number` column + the columns the rules read), in the worker
    process when one is started, else here. A worker that died (out of memory) or was stopped meanwhile
    is replaced by this process, with a warning."""
    frame = _gx_frame(frame, columns)
    with _process_lock:
        process = _process
    if process is not None:
        try:
            return _in_worker(process, name, rules, frame, columns)
        except BrokenProcessPool:
            stop_validation_process()
            LOG.warning("Proces walidacji (Great Expectations) zakończył się nieoczekiwanie — walidacja w procesie "
                        "przebiegu (wolniej o import Great Expectations).")
    return _validate_here(name, rules, frame, columns)


def _in_worker(process: ProcessPoolExecutor, name: str, rules: list[Rule], frame: pl.DataFrame,
               columns: set[str]) -> list[ExpectationOutcome]:
    try:
        task = process.submit(_validate_here, name, rules, frame, columns)
    except RuntimeError as error:  # the pool was shut down since: as if it had died
        raise BrokenProcessPool(str(error)) from error
    with _process_lock:
        _tasks[:] = [task]  # one worker: the tasks run in order, so the last one tells whether it is busy
    return task.result()


def _validate_here(name: str, rules: list[Rule], frame: pl.DataFrame, columns: set[str]) -> list[ExpectationOutcome]:
    return run_suite(name, rules, to_pandas(frame, columns), {})


def _gx_frame(frame: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    """`row_number` (the row's position in the batch) + the columns the expectations read."""
    return frame.select(["row_number"] + sorted(c for c in columns if c in frame.columns and c != "row_number"))


def to_pandas(frame: pl.DataFrame, columns: set[str]):
    """The frame GX validates (`_gx_frame`) in pandas: decimals as floats, dates as Python dates."""
    import pandas as pd

    selected = _gx_frame(frame, columns)
    dates = [c for c, t in selected.schema.items() if t == pl.Date]
    decimals = [c for c, t in selected.schema.items() if isinstance(t, pl.Decimal)]
    selected = selected.with_columns([pl.col(c).cast(pl.Float64) for c in decimals])
    pdf = selected.drop(dates).to_pandas()
    for name in dates:
        pdf[name] = pd.Series(selected[name].to_list(), dtype=object)
    return pdf


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def _validation_definition(name: str, rules: list[Rule]):
    gx, state = _gx()
    with _lock:
        if name in state["definitions"]:
            return state["definitions"][name]
        suite = gx.ExpectationSuite(name=name)
        for rule in rules:
            for expectation in bound_expectations(rule):
                cls = getattr(gx.expectations, _class_name(expectation.type))
                suite.add_expectation(cls(**expectation.kwargs, meta={"rule": rule.id, "column": expectation.column}))
        suite = state["context"].suites.add(suite)
        batch = state["source"].add_dataframe_asset(name).add_batch_definition_whole_dataframe("partition")
        definition = state["context"].validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        state["definitions"][name] = definition
        return definition


def run_suite(name: str, rules: list[Rule], frame, parameters: dict) -> list[ExpectationOutcome]:
    """Validate a pandas frame (with a `row_number` column) against the rules' expectations."""
    if not rules:
        return []
    definition = _validation_definition(name, rules)
    # What ValidationDefinition.run does minus storing the result in the (ephemeral) results store:
    # serializing every result to JSON costs about a third of a small partition's validation time,
    # and the results are kept in staging.quarantine / the Dagster checks instead.
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=definition.batch_definition, batch_parameters={"dataframe": frame},
                          result_format=RESULT_FORMAT)
    result = validator.validate_expectation_suite(definition.suite, parameters)
    outcomes = []
    for item in result.results:
        meta = item.expectation_config.meta or {}
        details = item.result or {}
        raised = (item.exception_info or {}).get("raised_exception")
        if raised:
            message = (item.exception_info or {}).get("exception_message")
            raise RuntimeError(f"Great Expectations: reguła {meta.get('rule')} ({meta.get('column')}): {message}")
        rows = [int(entry["row_number"]) for entry in details.get("unexpected_index_list") or []]
        outcomes.append(ExpectationOutcome(
            rule=meta["rule"], column=meta["column"], success=bool(item.success),
            element_count=int(details.get("element_count") or len(frame)), unexpected_rows=rows,
            observed=details.get("observed_value"),
        ))
    expected = sum(len(bound_expectations(r)) for r in rules)
    if len(outcomes) != expected:  # GX merges identical expectations: rule files must not repeat one
        raise RuntimeError(f"Great Expectations: {len(outcomes)} wyników zamiast {expected} w zestawie {name}")
    return outcomes
