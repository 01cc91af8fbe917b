"""Recovery after a killed run: mark dead runs failed and free the `warehouse` pool slot they hold.

A run killed with `kill -9` never reports its end: it stays "Started" and keeps the only slot of
the `warehouse` pool, so every later run would wait for it forever. The warehouse itself needs
nothing: a batch writes in one transaction, which DuckDB rolls back when the file is opened again.

- runs started by the CLI (`cus run`, in the CLI's own process) carry the tags `cus/host` and
  `cus/pid`; such a run whose process no longer exists is dead;
- runs launched by the Dagster daemon (sensor, UI) are watched by Dagster run monitoring
  (`run_monitoring` in .dagster_home/dagster.yaml), which fails a run whose worker died and frees
  the slots of ended runs;
- a slot held by a run that has ended (or no longer exists) is freed.

`recover` runs at the start of every `cus run` / `cus ingest` and in the landing sensor; `cus recover`
runs it by hand and says what it did.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

from core.warehouse import WAREHOUSE_POOL

HOST_TAG, PID_TAG = "cus/host", "cus/pid"
IN_FLIGHT = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """Tags of a run executed in this process (so a later `recover` can tell whether it is alive)."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead(run: dg.DagsterRun) -> bool:
    """A CLI run of this host whose process has gone (daemon-launched runs: run monitoring decides)."""
    host, pid = run.tags.get(HOST_TAG), run.tags.get(PID_TAG)
    if host != socket.gethostname() or not (pid or "").isdigit():
        return False
    return int(pid) != os.getpid() and not _alive(int(pid))


def recover(instance: dg.DagsterInstance) -> list[str]:
    """Fail dead runs and free the warehouse slots of runs that are not running; Polish lines of what was done."""
    done = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        if is_dead(run):
            instance.report_run_failed(run, "Przebieg przerwany: proces już nie istnieje (np. kill -9). "
                                            "Oznaczony jako nieudany przez odzyskiwanie (`cus recover`); "
                                            "hurtownia została bez zmian z tego przebiegu.")
            done.append(f"przebieg {run.run_id[:8]} ({run.job_name}) przerwany — oznaczony jako nieudany")
    storage = instance.event_log_storage
    if WAREHOUSE_POOL not in storage.get_concurrency_keys():
        return done
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    holders = set(info.active_run_ids) | {step.run_id for step in info.pending_steps}
    for run_id in sorted(holders):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            done.append(f"zwolniono miejsce w puli „{WAREHOUSE_POOL}” zajęte przez zakończony przebieg {run_id[:8]}")
    return done
