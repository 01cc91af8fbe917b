"""Run the pipeline without the UI: every partition that has landing files, then the tables.

Used by `cus run` / `cus demo`; runs are recorded in the Dagster instance (DAGSTER_HOME), so the
UI shows the same materializations afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from core.quarters import quarter_to_partition_key
from core.registry import Unit
from pipelines.sensors import landing_files
from reports.formatting import number


@dataclass
class RunSummary:
    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def landed_quarters(landing_root: Path, unit: Unit) -> list[str]:
    """The unit's reporting quarters that have a landing folder."""
    return [q for q in unit.quarters if (Path(landing_root) / unit.key / q).is_dir()]


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            messages.append(error.message.strip().splitlines()[-1] if error.message else error.cls_name)
    return "; ".join(messages) or "run failed"


def _progress(step: tuple[int, int] | None) -> str:
    """`[ 3/12  25%] ` — the position of a run in its stage (progress display of the CLI)."""
    if not step:
        return ""
    done, total = step
    width = len(str(total))
    return f"[{done:>{width}}/{total} {100 * done // max(total, 1):>3}%] "


def run_job(defs: dg.Definitions, job_name: str, partition_key, instance, label: str,
            summary: RunSummary, echo: Callable[[str], None], step: tuple[int, int] | None = None) -> None:
    job = defs.resolve_job_def(job_name)
    started = time.monotonic()
    # The console shows one line per run; the full event log is in the Dagster UI (DAGSTER_HOME).
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    result = job.execute_in_process(run_config=quiet, partition_key=partition_key, instance=instance,
                                    raise_on_error=False, tags={"cus/started_by": "cli"})
    took = f"({number(time.monotonic() - started, 1)} s)"
    if result.success:
        summary.succeeded.append(label)
        echo(f"  {_progress(step)}ok     {label} {took}")
    else:
        summary.failed.append((label, _failure_text(result)))
        echo(f"  {_progress(step)}BŁĄD   {label}: {_failure_text(result)} {took}")


def reports_to_rebuild(units: list[Unit], landing_root: Path, quarters: list[str] | None) -> list[str]:
    """Quarters whose reports change when `quarters` were (re)ingested: those quarters and every
    later quarter with data, because a correction changes every cumulative figure after it."""
    landed = {q for unit in units for q in landed_quarters(landing_root, unit)}
    if not quarters:
        return sorted(landed)
    return sorted(q for q in landed if q >= min(quarters))


def run_pipeline(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    units: list[Unit],
    landing_root: Path,
    quarters: list[str] | None = None,
    with_tables: bool = True,
    with_reports: bool = True,
    echo: Callable[[str], None] = print,
) -> RunSummary:
    """Ingest + validate every (unit, quarter) that has files, then marts/indicators, then reports."""
    summary = RunSummary()
    job_names = {job.name for job in defs.jobs or []}
    planned = []
    for unit in units:
        if (Path(landing_root) / unit.key / "umowa").is_dir():
            planned.append(("ingest_agreement_job", unit.key, f"{unit.key}/umowa"))
        for quarter in landed_quarters(landing_root, unit):
            if quarters and quarter not in quarters:
                continue
            key = dg.MultiPartitionKey({"quarter": quarter_to_partition_key(quarter), "unit": unit.key})
            planned.append(("ingest_quarter_job", key, f"{unit.key}/{quarter}"))
    problems: list[str] = []
    landing_files(Path(landing_root), tuple(units), problems)
    for problem in problems:
        echo(f"  Uwaga: {problem}")
    echo(f"1/3 Wczytanie i walidacja (ingest → staging): {len(planned)} partycji")
    for i, (job_name, key, label) in enumerate(planned, start=1):
        run_job(defs, job_name, key, instance, label, summary, echo, step=(i, len(planned)))
    if with_tables:
        echo("2/3 Hurtownia i wskaźniki (mart → report)")
        run_job(defs, "indicators_job", None, instance, "indicators", summary, echo, step=(1, 1))
    if with_reports and "reports_job" in job_names:
        echo("3/3 Raporty kwartalne (HTML, PDF, XLSX)")
        report_quarters = reports_to_rebuild(units, landing_root, quarters)
        for i, quarter in enumerate(report_quarters, start=1):
            run_job(defs, "reports_job", quarter_to_partition_key(quarter), instance, f"raporty {quarter}", summary,
                    echo, step=(i, len(report_quarters)))
    if "status_job" in job_names:
        echo("Stan danych jednostek i kwartałów (report/status; cus status)")
        run_job(defs, "status_job", None, instance, "stan danych", summary, echo, step=(1, 1))
    return summary
