"""What a batch tells Dagster: per unit × quarter materializations and check results, as one-partition runs do.

The batch run is not a run of the partitioned assets (Dagster cannot launch one run for an
arbitrary set of partitions), so it logs, for every partition it wrote, the `raw/<dataset>` and
`staging/<dataset>` materializations with the same metadata, and one check evaluation per rule
with the partition — the partition grid and each check's history look as after one-partition runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from assets.batch.ingest import BatchResult
from assets.partition_keys import unit_quarter_key
from assets.preview import partition_previews
from assets.raw.raw_assets import raw_metadata
from assets.staging.staging_assets import check_results, staging_metadata

Event = dg.AssetMaterialization | dg.AssetCheckEvaluation


def partition_events(conn, result: BatchResult) -> Iterator[Event]:
    for ((unit, quarter), dataset), ingested in sorted(result.raw.items(), key=_order):
        yield dg.AssetMaterialization(asset_key=["raw", dataset], partition=unit_quarter_key(unit, quarter),
                                      metadata=raw_metadata(ingested))
    previews = {}
    for dataset in sorted({dataset for (_key, dataset) in result.validations}):
        keys = [key for (key, name) in result.validations if name == dataset]
        previews.update({(key, dataset): text for key, text in
                         partition_previews(conn, "staging", dataset, keys, order_by="row_number").items()})
    for ((unit, quarter), dataset), validation in sorted(result.validations.items(), key=_order):
        key = unit_quarter_key(unit, quarter)
        preview = previews.get(((unit, quarter), dataset))
        yield dg.AssetMaterialization(asset_key=["staging", dataset], partition=key,
                                      metadata=staging_metadata(validation, preview))
        for check in check_results(validation):
            yield dg.AssetCheckEvaluation(asset_key=dg.AssetKey(["staging", dataset]), check_name=check.check_name,
                                          passed=check.passed, metadata=check.metadata, severity=check.severity,
                                          description=check.description, partition=key)


def expected_events(result: BatchResult) -> int:
    """How many events `partition_events` gives: one materialization per raw and staging partition,
    one check result per rule of each validated partition."""
    return len(result.raw) + sum(1 + len(v.results) for v in result.validations.values())


def table_events(conn, result: BatchResult) -> Iterator[Event]:
    """The mart and report tables rebuilt in the batch's transaction, with their SQL checks."""
    from assets.batch.tables import TABLES
    from assets.mart.sql_tables import run_checks

    for table in TABLES:
        rows = result.tables.get(f"{table.layer}.{table.name}")
        if rows is None:
            continue
        metadata = {"dagster/row_count": rows}
        if table.doc is not None and table.doc.per_unit:  # assets/mart/incremental.py
            units = result.table_scopes.get(f"{table.layer}.{table.name}")
            metadata["przebudowa"] = "cała tabela" if units is None else "wiersze jednostek: " + (", ".join(units) or "—")
        yield dg.AssetMaterialization(asset_key=table.key, metadata=metadata)
        for check in run_checks(conn, table):
            yield dg.AssetCheckEvaluation(asset_key=table.key, check_name=check.check_name, passed=check.passed,
                                          metadata=check.metadata, severity=check.severity)


def _order(item) -> tuple:
    ((unit, quarter), dataset), _ = item
    return unit, quarter or "", dataset
