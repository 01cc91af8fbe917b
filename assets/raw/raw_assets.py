"""Raw ingestion assets: one per dataset of the contract (`raw/<dataset>`).

Quarter-level files are partitioned by unit × quarter, agreement files (umowa/) by unit.
"""


import dagster as dg

from assets.partition_keys import unit_and_quarter
from assets.raw.ingest import IngestResult, find_landing_file, ingest_file, landing_folder, record_refusal
from assets.raw.landing_file import LandingFileError, totals_note
from core.contract import Dataset, load_contract
from core.key_fingerprint import KeyMismatchError
from core.registry import Unit, load_units
from core.resources import LandingResource, PseudonymizerResource, WarehouseResource
from core.warehouse import WAREHOUSE_POOL


def _description(dataset: Dataset) -> str:
    where = "data/landing/<jednostka>/<RRRR>Q<n>/" if dataset.level == "quarter" else "data/landing/<jednostka>/umowa/"
    files = " lub ".join(dataset.file_names())
    return (
        f"{dataset.title} — surowe dane z pliku {files} ({where}), tekst jak w pliku, "
        "z kolumnami pochodzenia (plik, SHA-256, nr wiersza, czas wczytania). Imiona, nazwiska i kontakty "
        "nie są wczytywane; PESEL zastępowany pseudonimem."
    )


def raw_metadata(result: IngestResult) -> dict:
    metadata = {
        "dagster/row_count": result.rows,
        "plik": result.source_file,
        "sha256": result.sha256,
        "wersja pliku": result.version_no,
        "nowa wersja": result.new_version,
        "kodowanie": result.encoding,
        "pominięte kolumny": ", ".join(result.ignored_columns) or "—",
        "brakujące kolumny opcjonalne": ", ".join(result.missing_optional) or "—",
        "pominięte wiersze podsumowania": totals_note(result.totals_rows),
    }
    if result.pesel_status_counts:
        metadata["PESEL (status)"] = dg.MetadataValue.json(result.pesel_status_counts)
    return metadata


def build_raw_asset(dataset: Dataset, partitions_def: dg.PartitionsDefinition,
                    units: tuple[Unit, ...] | None = None) -> dg.AssetsDefinition:
    from assets.staging.file_checks import check_landing_file

    @dg.asset(
        name=dataset.name,
        key_prefix="raw",
        group_name="raw",
        partitions_def=partitions_def,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "polars"},
        description=_description(dataset),
        tags={"layer": "raw", "level": dataset.level},
    )
    def _raw(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
        pseudonymizer: PseudonymizerResource,
    ) -> dg.MaterializeResult:
        unit, quarter = unit_and_quarter(context)
        path = find_landing_file(landing.folder, unit, quarter, dataset)
        if path is None:
            folder = landing_folder(landing.folder, unit, quarter)
            context.log.info(f"Brak pliku {dataset.file_names()} w {folder}: dane partycji bez zmian.")
            return dg.MaterializeResult(metadata={"plik": "brak pliku — dane bez zmian", "dagster/row_count": 0})
        if pseudonymizer.is_demo and dataset.column_names_with_pii():
            context.log.warning("Klucz pseudonimizacji DEMO (dane przykładowe) — nie używać z danymi rzeczywistymi.")
        try:
            with warehouse.connect() as conn:
                folder = landing_folder(landing.folder, unit, quarter)
                result = ingest_file(
                    conn, dataset, path, landing.folder, unit, quarter, pseudonymizer.key,
                    before_write=lambda table: check_landing_file(conn, dataset, table, unit, quarter,
                                                                  units or load_units(), folder),
                )
        except LandingFileError as error:
            with warehouse.connect() as conn:  # the refusal is shown by report/status and `cus status`
                record_refusal(conn, error, landing.folder, unit, quarter, dataset)
            raise dg.Failure(description=str(error), metadata={"plik": error.path, "problem": error.problem,
                                                              "co zrobić": error.fix}) from error
        except KeyMismatchError as error:
            raise dg.Failure(description=str(error)) from error
        if result.totals_rows:
            context.log.info(f"{result.source_file}: {totals_note(result.totals_rows)}")
        return dg.MaterializeResult(metadata=raw_metadata(result))

    return _raw


def build_raw_assets(unit_quarter: dg.PartitionsDefinition, unit: dg.PartitionsDefinition,
                     units: tuple[Unit, ...] | None = None) -> list[dg.AssetsDefinition]:
    return [
        build_raw_asset(dataset, unit_quarter if dataset.level == "quarter" else unit, units)
        for dataset in load_contract().values()
    ]
