"""The asset `report/status` (group `aktualny_stan`): the unit × quarter status grid in the Dagster UI.

Its materialization metadata is the grid (Markdown), the legend, the count per status and one
detail table per unit with links to its reports (served by `cus ui`, see pipelines/tools/report_server.py).
`status_sensor` refreshes it after ingest, indicator and report runs finish.
"""

from datetime import datetime

import dagster as dg

from assets.report.report_files import REPORT_FILES_KEY, registry_units
from assets.report.status import (
    counts,
    grid_markdown,
    report_files,
    report_links,
    unit_detail_markdown,
    unit_quarter_status,
)
from core.contract import load_contract
from core.registry import Unit
from core.resources import ReportsResource, WarehouseResource
from core.warehouse import WAREHOUSE_POOL
from reports import queries

STATUS_KEY = dg.AssetKey(["report", "status"])
STATUS_GROUP = "aktualny_stan"  # first in the UI's list of groups (alphabetical)
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)


def build_status_asset(units: tuple[Unit, ...] | None = None) -> dg.AssetsDefinition:
    quarterly = [d.name for d in load_contract().values() if d.level == "quarter"]

    @dg.asset(
        key=STATUS_KEY,
        group_name=STATUS_GROUP,
        deps=[dg.AssetKey(["staging", name]) for name in quarterly] + [REPORT_FILES_KEY],
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        tags={"layer": "report"},
        description=(
            "Stan danych każdej jednostki w każdym kwartale: otrzymano, brak (kwartał zamknięty albo trwa), "
            "nie dotyczy (poza okresem realizacji projektu), plik odrzucony, wiersze w kwarantannie, raport gotowy. "
            "Tabela w metadanych ostatniej materializacji; dla każdej jednostki szczegóły kwartałów i odnośniki "
            "do raportów. Odświeżana po wczytaniu plików, przeliczeniu wskaźników i wygenerowaniu raportów."
        ),
    )
    def status(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               reports: ReportsResource) -> dg.MaterializeResult:
        registry = tuple(units or registry_units())
        if warehouse.file.exists():
            try:
                with queries.read_only(warehouse.file) as conn:
                    grid = unit_quarter_status(conn, registry, reports.folder)
            except queries.WarehouseBusy as error:
                raise dg.Failure(str(error)) from error
        else:
            context.log.info(f"Brak hurtowni {warehouse.file}: żaden plik nie został jeszcze wczytany.")
            grid = unit_quarter_status(None, registry, reports.folder)
        links = report_links(reports.base_url, reports.folder, report_files(reports.folder, registry))
        metadata: dict = {
            "stan jednostek i kwartałów": dg.MetadataValue.md(grid_markdown(grid)),
            "dagster/row_count": grid.height,
            "stan na": datetime.now().strftime("%d.%m.%Y %H:%M"),
        }
        metadata.update({f"liczba: {name}": n for name, n in counts(grid).items()})
        for unit in registry:
            metadata[f"szczegóły: {unit.name}"] = dg.MetadataValue.md(unit_detail_markdown(grid, unit.key, links))
        return dg.MaterializeResult(metadata=metadata)

    return status


def build_status_sensor(monitored_jobs: list, status_job) -> dg.SensorDefinition:
    """One refresh of `report/status` after runs of the monitored jobs finish (a burst = one refresh)."""
    names = [job.name for job in monitored_jobs]

    @dg.sensor(
        name="status_sensor",
        job=status_job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Po zakończeniu wczytania plików, przeliczenia wskaźników lub raportów odświeża stan danych "
                    "jednostek i kwartałów (report/status) — raz na serię przebiegów.",
    )
    def status_sensor(context: dg.SensorEvaluationContext):
        after = datetime.fromisoformat(context.cursor) if context.cursor else None
        finished = [r for r in context.instance.get_run_records(
            filters=dg.RunsFilter(statuses=list(FINISHED), updated_after=after),
            limit=100, order_by="update_timestamp", ascending=False) if r.dagster_run.job_name in names]
        if not finished:
            return dg.SkipReason("Brak nowych zakończonych przebiegów.")
        in_flight = context.instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.QUEUED,
                                            dg.DagsterRunStatus.STARTING]), limit=100)
        if any(r.dagster_run.job_name in names for r in in_flight):
            return dg.SkipReason("Czekam na koniec przebiegów w toku.")
        records = finished
        latest = records[0].update_timestamp
        context.update_cursor(latest.isoformat())
        return dg.RunRequest(run_key=f"stan-{latest.isoformat()}")

    return status_sensor
