"""The code location: assembles assets, checks, jobs, sensors, schedules and resources.

Everything unit-specific comes from the registry (config/units.yaml, or the file named by
CUS_REGISTRY), so a new unit needs no code change.
"""


import warnings
from pathlib import Path

import dagster as dg

from assets.mart.mart_assets import build_mart_assets
from assets.raw.raw_assets import build_raw_assets
from assets.report.report_files import build_report_file_assets, build_report_schedules
from assets.report.report_tables import build_report_table_assets
from assets.report.status_asset import build_status_asset, build_status_sensor
from assets.staging.staging_assets import build_staging_assets
from core.registry import load_units, registry_path
from core.resources import LandingResource, PseudonymizerResource, PublishedResource, ReportsResource, WarehouseResource
from pipelines.batch import ingest_batch_job
from pipelines.partitions import quarter_partitions, unit_partitions, unit_quarter_partitions
from pipelines.sensors import (
    build_indicators_sensor,
    build_landing_sensor,
    build_publish_sensors,
    build_reports_after_batch_sensor,
)

# Partitioned asset-check specs and MultiToSingleDimensionPartitionMapping are marked beta/preview in
# Dagster 1.13 (pinned); their warnings would repeat on every load in the UI log and the CLI.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=dg.EnvVar("CUS_WAREHOUSE")),
        "landing": LandingResource(root=dg.EnvVar("CUS_LANDING")),
        "reports": ReportsResource(root=dg.EnvVar("CUS_REPORTS")),
        "pseudonymizer": PseudonymizerResource(secret=dg.EnvVar("CUS_PSEUDONYM_KEY")),
        "published": PublishedResource(root=dg.EnvVar("CUS_PUBLISHED")),
    }


def build_definitions(registry: Path | None = None, resources: dict | None = None) -> dg.Definitions:
    units = load_units(registry)
    by_unit_quarter = unit_quarter_partitions(units)
    by_unit = unit_partitions(units)

    ingestion = build_raw_assets(by_unit_quarter, by_unit, units) + build_staging_assets(by_unit_quarter, by_unit, units)
    quarter_assets = [a for a in ingestion if a.partitions_def == by_unit_quarter]
    agreement_assets = [a for a in ingestion if a.partitions_def == by_unit]
    warehouse_tables = build_mart_assets() + build_report_table_assets()
    report_files = build_report_file_assets(quarter_partitions(units), units)
    status = build_status_asset(units)

    ingest_quarter_job = dg.define_asset_job(
        "ingest_quarter_job",
        selection=dg.AssetSelection.assets(*quarter_assets),
        partitions_def=by_unit_quarter,
        description="Wczytanie i walidacja plików kwartalnych jednostki (jednostka × kwartał). "
        "Use it to re-run one unit × quarter after a correction.",
    )
    ingest_agreement_job = dg.define_asset_job(
        "ingest_agreement_job",
        selection=dg.AssetSelection.assets(*agreement_assets),
        partitions_def=by_unit,
        description="Wczytanie i walidacja danych umowy jednostki (budżet, harmonogram, usługi, wskaźniki, kamienie milowe).",
    )
    indicators_job = dg.define_asset_job(
        "indicators_job",
        selection=dg.AssetSelection.assets(*warehouse_tables),
        executor_def=dg.in_process_executor,  # SQL steps: no subprocess per step re-paying the imports
        description="Przeliczenie hurtowni (mart) i wskaźników (report) dla wszystkich jednostek i kwartałów.",
    )
    reports_job = dg.define_asset_job(
        "reports_job",
        selection=dg.AssetSelection.assets(*report_files),
        partitions_def=quarter_partitions(units),
        executor_def=dg.in_process_executor,  # one process; one browser prints the run's PDFs
        description="Raporty kwartalne dla ministerstwa (HTML, PDF, XLSX) dla każdej jednostki i zbiorczy.",
    )
    status_job = dg.define_asset_job(
        "status_job",
        selection=dg.AssetSelection.assets(status),
        executor_def=dg.in_process_executor,  # one read-only step after every burst of runs
        description="Stan danych każdej jednostki w każdym kwartale (report/status).",
    )
    jobs = [ingest_batch_job, ingest_quarter_job, ingest_agreement_job, indicators_job, reports_job]
    return dg.Definitions(
        assets=ingestion + warehouse_tables + report_files + [status],
        jobs=[*jobs, status_job],
        schedules=build_report_schedules(reports_job, units),
        sensors=[build_landing_sensor(units, ingest_batch_job),
                 *build_reports_after_batch_sensor(ingest_batch_job, reports_job, units),
                 build_indicators_sensor([ingest_quarter_job, ingest_agreement_job], indicators_job),
                 *build_publish_sensors(jobs), build_status_sensor(jobs, status_job)],
        resources=resources or default_resources(),
    )


defs = build_definitions(registry_path())
