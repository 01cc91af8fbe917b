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

from assets.partition_keys import unit_quarter_key
from assets.report.rebuild_scope import changed_by_partition, quarters_to_report, units_to_rewrite
from assets.staging.validation_process import start_validation_process
from core.landing import scan_landing
from core.registry import Unit, load_units
from pipelines.batch import BATCH_JOB, BATCH_REPORTS_OP
from pipelines.recovery import process_tags, recover
from pipelines.sensors import materializations, reports_run
from pipelines.tools.console_log import cli_console
from reports.formatting import count, number


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
            line = error.message.strip().splitlines()[-1] if error.message else error.cls_name
            messages.append(line.removeprefix(f"{dg.Failure.__module__}.{dg.Failure.__name__}: "))  # a step's own
    return "; ".join(messages) or "run failed"


def _progress(step: tuple[int, int] | None) -> str:
    """`[ 3/12  25%] ` — the position of a run in its stage (progress display of the CLI)."""
    if not step:
        return ""
    done, total = step
    width = len(str(total))
    return f"[{done:>{width}}/{total} {100 * done // max(total, 1):>3}%] "


def run_job(defs: dg.Definitions, job_name: str, partition_key, instance, label: str,
            summary: RunSummary, echo: Callable[[str], None], step: tuple[int, int] | None = None,
            run_config: dict | None = None, tags: dict | None = None) -> dg.ExecuteInProcessResult:
    # The console shows one line per run and the steps' own warnings (console_log.py); the full event log
    # is in the Dagster UI (DAGSTER_HOME).
    job = defs.resolve_job_def(job_name).with_logger_defs({"console": cli_console})
    started = time.monotonic()
    with_console = {"loggers": {"console": {}}, **(run_config or {})}  # a logger is made only when configured
    result = job.execute_in_process(run_config=with_console, partition_key=partition_key, instance=instance,
                                    raise_on_error=False,
                                    tags={"cus/started_by": "cli", **process_tags(), **(tags or {})})
    took = f"({number(time.monotonic() - started, 1)} s)"
    if result.success:
        summary.succeeded.append(label)
        echo(f"  {_progress(step)}ok     {label} {took}")
    else:
        summary.failed.append((label, _failure_text(result)))
        echo(f"  {_progress(step)}BŁĄD   {label}: {_failure_text(result)} {took}")
    return result


def landing_problems(landing_root: Path, units: list[Unit]) -> list[str]:
    """Entries under the landing root that are not read, for the chosen units (and entries of no
    unit of the registry): a run for one unit does not call the other units' folders unknown."""
    registry = load_units()
    chosen, known = {u.key for u in units}, {u.key for u in registry}
    return [p.message for p in scan_landing(landing_root, tuple(registry)).problems
            if p.unit in chosen or p.unit not in known]


def batch_partitions(units: list[Unit], landing_root: Path, quarters: list[str] | None, every_unit: bool) -> list[str]:
    """Partition keys a batch may read: all landed ones (empty list = every partition), or the chosen."""
    if every_unit and not quarters:
        return []
    keys = [unit.key for unit in units if not quarters and (Path(landing_root) / unit.key / "umowa").is_dir()]
    keys += [unit_quarter_key(unit.key, q) for unit in units for q in landed_quarters(landing_root, unit)
             if not quarters or q in quarters]
    return keys


def run_pipeline(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    units: list[Unit],
    landing_root: Path,
    quarters: list[str] | None = None,
    with_tables: bool = True,
    with_reports: bool = True,
    echo: Callable[[str], None] = print,
    force: bool = False,
    every_unit: bool | None = None,
) -> RunSummary:
    """One batch run: ingest + validate + marts and indicators (one transaction), then in the same run the
    reports the change touches (assets/report/rebuild_scope.py), then the status grid."""
    summary = RunSummary()
    start_validation_process()  # GX imports in its worker while the run starts and plans (killed if nothing is new)
    for line in recover(instance):
        echo(f"  Odzyskiwanie: {line}")
    job_names = {job.name for job in defs.jobs or []}
    for problem in landing_problems(Path(landing_root), units):
        echo(f"  Uwaga: {problem}")
    if every_unit is None:
        every_unit = quarters is None and {u.key for u in units} == {u.key for u in load_units()}
    partitions = batch_partitions(units, landing_root, quarters, every_unit)
    if every_unit is False and not partitions:
        echo("Brak plików do wczytania dla wybranych partycji.")
        return summary
    reports_in_run = with_reports and "reports_job" in job_names
    config = {"ops": {"ingest_batch": {"config": {"partitions": partitions, "force": force, "with_tables": with_tables}},
                      BATCH_REPORTS_OP: {"config": {"with_reports": reports_in_run}}}}
    echo(f"Wczytanie, walidacja, hurtownia i wskaźniki{', raporty' if reports_in_run else ''} (jeden przebieg; "
         f"{'wszystkie partycje' if not partitions else count(len(partitions), 'partycja', 'partycje', 'partycji')}, bez zmian pomijane)")
    result = run_job(defs, BATCH_JOB, None, instance, "ingest_batch_job", summary, echo, step=(1, 1),
                     run_config=config)
    ingested = _ingested(instance, result)
    echo(f"  wczytane partycje: {len(ingested)}" + (f" ({', '.join(ingested[:6])}{' …' if len(ingested) > 6 else ''})"
                                                   if ingested else " — brak nowych lub zmienionych plików"))
    if reports_in_run:
        written = _output(result, BATCH_REPORTS_OP)
        if written is not None:
            quarters = written["kwartały"]
            echo(f"  raporty (HTML, PDF, XLSX): {written['raporty']}" + (
                f" za {quarters[0]}–{quarters[-1]}" if quarters else " — bez zmian"))
        elif ingested:  # files refused: the batch failed before its reports step; the rest was committed
            changed, registry = changed_by_partition(ingested), load_units()
            quarters = quarters_to_report(changed, registry, landing_root)
            if quarters:
                run_reports(defs, instance, quarters, summary, echo, units_to_rewrite(changed, registry))
    if "status_job" in job_names:
        echo("Stan danych jednostek i kwartałów (report/status; cus status)")
        run_job(defs, "status_job", None, instance, "stan danych", summary, echo, step=(1, 1))
    return summary


def run_reports(defs: dg.Definitions, instance: dg.DagsterInstance, quarters: list[str], summary: RunSummary,
                echo: Callable[[str], None], rewrite_units: list[str] | None = None) -> dg.ExecuteInProcessResult:
    """ONE reports run over the quarters first..last, as the sensors request it (`reports_run`)."""
    partition_key, tags, run_config = reports_run(quarters, rewrite_units)
    label = f"raporty {quarters[0]}" if quarters[0] == quarters[-1] else f"raporty {quarters[0]}–{quarters[-1]}"
    if rewrite_units:
        label += f" ({', '.join(rewrite_units)} + zbiorczy)"
    return run_job(defs, "reports_job", partition_key, instance, label, summary, echo, step=(1, 1), tags=tags,
                   run_config=run_config)


def _output(result: dg.ExecuteInProcessResult, step: str) -> dict | None:
    for event in result.all_events:
        if event.is_successful_output and event.step_key == step:
            return result.output_for_node(step)
    return None


def _ingested(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    """Partition keys the batch wrote (also when some files were refused: the rest is committed; the
    batch's materializations are in the run's history, not in its result)."""
    output = _output(result, "ingest_batch")
    if output is not None:
        return list(output["partycje"])
    return sorted({partition for key, partition in materializations(instance, result.run_id)
                   if partition and key.path[0] == "raw"})
