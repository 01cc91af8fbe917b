"""Jobs that are not asset selections: `publish_job` refreshes the read-only SQL copy
(assets/publish/) after a run that changed the warehouse (requested by `publish_sensor`,
pipelines/sensors.py)."""

import dagster as dg
from pydantic import Field

from assets.publish import PublishError, publish
from core.paths import published_dir
from core.resources import WarehouseResource
from core.warehouse import WAREHOUSE_POOL

PUBLISH_OP = "publish_warehouse"


class PublishConfig(dg.Config):
    published_dir: str = Field(default="", description="Folder kopii; puste = CUS_PUBLISHED (domyślnie data/published).")
    force: bool = Field(default=False, description="Publikuj także, gdy hurtownia się nie zmieniła.")
    trigger_run_id: str = Field(default="", description="Przebieg, po którym publikujemy (wypełnia sensor).")


@dg.op(
    name=PUBLISH_OP,
    pool=WAREHOUSE_POOL,
    description=(
        "Publikuje schematy mart i report (oraz wyniki walidacji) do kopii tylko do odczytu bez danych "
        "osobowych: data/published/current.duckdb. Publishes a read-only copy without personal data "
        "for ad hoc SQL; in the warehouse pool, so it never reads while a writer runs."
    ),
)
def publish_warehouse(context: dg.OpExecutionContext, config: PublishConfig, warehouse: WarehouseResource):
    try:
        result = publish(warehouse.file, published_dir(config.published_dir), force=config.force,
                         run_id=config.trigger_run_id or context.run_id, echo=context.log.info)
    except PublishError as error:
        raise dg.Failure(description=str(error)) from error
    if result.skipped:
        context.log.info(f"Bez publikacji: {result.reason}.")
    context.add_output_metadata({
        "kopia": str(result.path) if result.path else "—",
        "pominięto": result.skipped,
        "tabele": len(result.tables),
        "wiersze": dg.MetadataValue.json(result.row_counts),
        "pominięte kolumny (dane osobowe)": dg.MetadataValue.json(result.dropped_columns),
        "pominięte tabele (poziom osoby)": dg.MetadataValue.json(result.withheld),
    })
    return str(result.path) if result.path else ""


def build_publish_job() -> dg.JobDefinition:
    @dg.job(
        name="publish_job",
        description=(
            "Kopia hurtowni do zapytań SQL ad hoc (mart, report, wyniki walidacji; bez danych osobowych). "
            "Uruchamiana przez publish_sensor po udanym przebiegu. Read-only copy for analysts' ad hoc SQL."
        ),
        tags={"cus/kind": "publish"},
        executor_def=dg.in_process_executor,  # one step: no subprocess re-paying the imports
    )
    def publish_job():
        publish_warehouse()

    return publish_job
