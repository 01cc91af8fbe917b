"""`ingest_batch_job`: one run ingests every changed landed file (any set of unit × quarter partitions).

Started by the landing sensor (one run per burst of files), by `cus run` / `cus ingest` and from
the Launchpad (config `partitions: ["starachowice|2021Q3"]`, `force: true` re-reads unchanged
files). Its second step, `batch_reports`, writes the reports the change touches
(assets/report/rebuild_scope.py) in the same run when `with_reports` is set — the landing sensor
and the CLI set it, so a dropped file becomes rewritten reports without another run; a Launchpad
run without it is followed by a reports run (pipelines/sensors.py). The in-process executor runs
both steps in the run's own process.
"""

import time

import dagster as dg

from assets.batch.events import expected_events, partition_events, table_events
from assets.batch.ingest import ingest_batch
from assets.batch.plan import plan_batch
from assets.batch.tables import rebuild_tables
from assets.partition_keys import unit_quarter_key
from assets.raw.ingest import unknown_columns_warning
from assets.report.rebuild_scope import (
    changed_by_partition,
    not_covered,
    quarters_to_report,
    units_to_rewrite,
)
from assets.report.report_files import (
    REPORT_FILES_KEY,
    ReportFilesConfig,
    close_printer_early,
    start_printer_early,
    write_quarters,
)
from assets.report.status import outdated_reports
from assets.staging.validation_process import stop_validation_process
from core.event_log_batch import event_serializer, log_events_bulk
from core.key_fingerprint import KeyMismatchError
from core.quarters import quarter_to_partition_key
from core.registry import load_units
from core.resources import LandingResource, PseudonymizerResource, ReportsResource, WarehouseResource
from core.warehouse import WAREHOUSE_POOL
from reports.formatting import count

BATCH_JOB = "ingest_batch_job"
BATCH_REPORTS_OP = "batch_reports"


class BatchConfig(dg.Config):
    partitions: list[str] = []  # keys `unit|2021Q3` or `unit` (agreement); empty = every landed partition
    force: bool = False  # read the files again even when their content is already loaded
    with_tables: bool = True  # rebuild the marts and report tables in the same transaction


@dg.op(
    name="ingest_batch",
    pool=WAREHOUSE_POOL,
    description="Wczytanie, walidacja i przeliczenie wskaźników dla wszystkich zmienionych plików naraz "
                "(jednostka × kwartał); wynik każdej partycji widoczny w jej zasobach i sprawdzeniach.",
)
def ingest_batch_op(context: dg.OpExecutionContext, config: BatchConfig, warehouse: WarehouseResource,
                    landing: LandingResource, pseudonymizer: PseudonymizerResource) -> dict:
    units = load_units()
    with warehouse.connect() as conn:
        plan = plan_batch(conn, landing.folder, units, config.partitions or None, config.force)
        if plan.unchanged:
            context.log.info(f"Bez zmian (pliki już wczytane w tej treści): {count(len(plan.unchanged), 'partycja', 'partycje', 'partycji')}.")
        if not plan.files:
            stop_validation_process()  # started with the command (pipelines/tools/runner.py): nothing to validate
            context.log.info("Brak nowych lub zmienionych plików — nic do wczytania.")
            refused = {key: str(error) for key, error in plan.refused.items()}
            _fail_if_refused(refused)
            return {"partycje": [], "bez zmian": plan.unchanged}
        if pseudonymizer.is_demo:
            context.log.warning("Klucz pseudonimizacji DEMO (dane przykładowe) — nie używać z danymi rzeczywistymi.")
        if _prints_reports(context):
            start_printer_early()  # the browser starts on the other core while this step works on one
        try:
            result = ingest_batch(conn, plan, landing.folder, units, pseudonymizer.key,
                                  rebuild_tables=rebuild_tables if config.with_tables else None)
        except KeyMismatchError as error:  # another key than the warehouse's: nothing was written
            close_printer_early()
            raise dg.Failure(description=str(error)) from error
        except BaseException:
            close_printer_early()  # no reports follow a failed batch
            raise
        started = time.perf_counter()
        with event_serializer(expected_events(result)) as serializer:
            logged = log_events_bulk(context, partition_events(conn, result), serializer)
        logged += log_events_bulk(context, table_events(conn, result))
        context.log.debug(f"Materializacje i wyniki sprawdzeń partycji i tabel zapisane w historii zbiorczo: {logged} "
                          f"({time.perf_counter() - started:.1f} s z podglądami danych).")
    for ingested in result.raw.values():
        warning = unknown_columns_warning(ingested)
        if warning:
            context.log.warning(warning)
    refused = {key: str(error) for key, error in plan.refused.items()}
    in_order = sorted(result.refused.items(), key=lambda item: (item[0][0][0], item[0][0][1] or "", item[0][1]))
    refused.update({f"{unit_quarter_key(*key)} {dataset}": str(error) for (key, dataset), error in in_order})
    partitions = [unit_quarter_key(*key) for key in result.partitions]
    context.log.info(f"Wczytano {count(len(partitions), 'partycję', 'partycje', 'partycji')} w jednej transakcji; "
                     f"tabele: {len(result.tables)}.")
    _fail_if_refused(refused)
    return {"partycje": partitions, "bez zmian": plan.unchanged}


def _prints_reports(context: dg.OpExecutionContext) -> bool:
    """Whether this run's reports step writes reports with PDFs (its run config)."""
    step = (context.run_config.get("ops") or {}).get(BATCH_REPORTS_OP) or {}
    config = step.get("config") or {}
    return bool(config.get("with_reports", False)) and bool(config.get("with_pdf", True))


def _fail_if_refused(refused: dict[str, str]) -> None:
    if refused:
        raise dg.Failure(description="Pliki odrzucone (pozostałe partycje wczytane): " + " | ".join(refused.values()),
                         metadata={key: text for key, text in refused.items()})


class BatchReportsConfig(dg.Config):
    with_reports: bool = False  # write the reports of the changed units and quarters in this run
    with_pdf: bool = True


@dg.op(
    name=BATCH_REPORTS_OP,
    pool=WAREHOUSE_POOL,
    description="Raporty kwartalne (HTML, PDF, XLSX), które zmieniają wczytane pliki: jednostki z nowymi danymi "
                "za ich kwartał i każdy późniejszy kwartał z danymi oraz raporty zbiorcze tych kwartałów — w tym "
                "samym przebiegu (with_reports: true; ustawia je czujnik plików i cus run).",
)
def batch_reports_op(context: dg.OpExecutionContext, config: BatchReportsConfig, ingested: dict,
                     warehouse: WarehouseResource, reports: ReportsResource, landing: LandingResource) -> dict:
    if not config.with_reports:
        context.log.info("Raporty poza tym przebiegiem (with_reports: false): zleci je reports_after_batch_sensor.")
        return {"kwartały": [], "raporty": 0}
    units = load_units()
    changed = changed_by_partition(ingested["partycje"])
    written = _write_reports(context, changed, units, config, warehouse, reports, landing, "po wczytaniu plików")
    # then the reports still older than their files (a run killed while writing reports, `cus run --no-reports`):
    # looked for after the change's own reports, so the coordinator of the change does not wait for it
    outdated = {}
    if warehouse.file.exists():
        with warehouse.connect(read_only=True) as conn:
            outdated = not_covered(changed, outdated_reports(conn, units, reports.folder, landing.folder))
    if outdated:
        context.log.warning("Raporty starsze niż wczytane pliki (np. po przerwanym przebiegu albo cus run "
                            "--no-reports) — przebudowuję je: " + "; ".join(
                                f"{unit} {', '.join(quarters)}" for unit, quarters in sorted(outdated.items())))
        more = _write_reports(context, outdated, units, config, warehouse, reports, landing, "nieaktualnych")
        written = {"kwartały": sorted(set(written["kwartały"]) | set(more["kwartały"])),
                   "raporty": written["raporty"] + more["raporty"]}
    if not written["kwartały"]:
        close_printer_early()
        context.log.info("Żaden kwartał się nie zmienił — raporty bez zmian.")
    return written


def _write_reports(context: dg.OpExecutionContext, changed: dict[str, list[str]], units, config: BatchReportsConfig,
                   warehouse: WarehouseResource, reports: ReportsResource, landing: LandingResource, why: str) -> dict:
    """The reports `changed` rewrites (assets/report/rebuild_scope.py), with a materialization per quarter."""
    quarters = quarters_to_report(changed, units, landing.folder)
    if not quarters:
        return {"kwartały": [], "raporty": 0}
    rewrite = units_to_rewrite(changed, units)
    files_config = ReportFilesConfig(rewrite_units=rewrite or [], with_pdf=config.with_pdf)
    done = write_quarters(context, quarters, files_config, warehouse, reports, landing, None)
    for quarter, metadata in zip(quarters, done, strict=True):
        context.log_event(dg.AssetMaterialization(
            asset_key=REPORT_FILES_KEY, partition=quarter_to_partition_key(quarter), metadata=metadata,
            description=f"Raporty {why} ({', '.join(rewrite) if rewrite else 'wszystkie jednostki'} + zbiorczy)."))
    return {"kwartały": quarters, "raporty": sum(m["raporty"] for m in done)}


@dg.job(name=BATCH_JOB, executor_def=dg.in_process_executor,
        description="Wczytanie i walidacja zmienionych plików wielu partycji w jednym przebiegu, z przeliczeniem "
                    "hurtowni i wskaźników w tej samej transakcji (każda jednostka × kwartał cała stara albo cała "
                    "nowa). Konfiguracja `partitions`: wybrane partycje, np. [\"starachowice|2021Q3\"]; "
                    "`force: true` wczytuje ponownie pliki bez zmian; batch_reports `with_reports: true` pisze w tym "
                    "samym przebiegu raporty, które zmieniają wczytane pliki.")
def ingest_batch_job():
    batch_reports_op(ingest_batch_op())
