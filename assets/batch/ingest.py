"""Ingest a batch of partitions in set-based passes, published whole in ONE transaction.

1. every planned file is read in parallel (threads; reading and pseudonymizing release the GIL in
   polars and hashlib) and checked at file level before anything is written;
2. dataset by dataset (agreement data first, then participants before deliveries, as the staging
   dependencies require), the raw rows of all partitions are replaced in one delete + insert, then
   validated with one Great Expectations run (`validate_batch`) and staging, quarantine and the
   summary written the same way;
3. optionally the marts and report tables are rebuilt in the same transaction.

A kill at any moment leaves every unit × quarter entirely as before (nothing committed) or entirely
new across raw, staging and the marts. A refused file (unreadable, another unit's) leaves its
partition's dataset as it was and is reported; the rest of the batch goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from assets.batch.plan import BatchPlan, PlannedFile
from assets.raw.ingest import (
    IngestResult,
    ensure_raw_tables,
    ingest_result,
    landing_folder,
    raw_frame,
    record_refusal,
    record_version,
)
from assets.raw.landing_file import LandingFileError, LandingTable, read_landing_file
from assets.staging.file_checks import check_landing_file
from assets.staging.rules import rules_for
from assets.staging.staging_assets import IN_SCOPE, SUMMARY_SCHEMA, ensure_validation_tables, load_references_many
from assets.staging.suites import prepare_in_background
from assets.staging.typed import ensure_staging_tables
from assets.staging.validate import PartitionInput, Validation, validate_batch
from core.contract import Dataset, load_contract
from core.key_fingerprint import ensure_key_fingerprint
from core.registry import Unit
from core.warehouse import identifier, query_frame, replace_partitions, transaction

Key = tuple[str, str | None]


@dataclass
class BatchResult:
    raw: dict[tuple[Key, str], IngestResult] = field(default_factory=dict)  # ((unit, quarter), dataset)
    validations: dict[tuple[Key, str], Validation] = field(default_factory=dict)
    refused: dict[tuple[Key, str], LandingFileError] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)  # mart/report table -> rows, when rebuilt

    @property
    def partitions(self) -> list[Key]:
        return sorted({k for k, _ in [*self.raw, *self.refused]}, key=lambda k: (k[0], k[1] or ""))


def dataset_order() -> list[Dataset]:
    """Agreement datasets, then quarter datasets in contract order (participants before deliveries)."""
    datasets = list(load_contract().values())
    return [d for d in datasets if d.level == "agreement"] + [d for d in datasets if d.level == "quarter"]


def read_files(files: list[PlannedFile], workers: int | None = None) -> dict[PlannedFile, LandingTable | LandingFileError]:
    def read(planned: PlannedFile) -> LandingTable | LandingFileError:
        try:
            return read_landing_file(planned.path, planned.dataset)
        except LandingFileError as error:
            return error

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        return dict(zip(files, pool.map(read, files), strict=True))


def ingest_batch(conn, plan: BatchPlan, landing_root: Path, units: tuple[Unit, ...], secret: bytes,
                 rebuild_tables: Callable[[object], dict[str, int]] | None = None, today: date | None = None,
                 loaded_at: datetime | None = None) -> BatchResult:
    """Ingest and validate every planned file, then (optionally) rebuild the tables: all in one transaction."""
    loaded_at = loaded_at or datetime.now().replace(microsecond=0)
    prepare_in_background()
    tables = read_files(plan.files)
    result = BatchResult()
    datasets = dataset_order()
    ensure_raw_tables(conn, datasets)
    ensure_staging_tables(conn, datasets)
    ensure_validation_tables(conn)
    by_key = {u.key: u for u in units}
    with transaction(conn):
        ensure_key_fingerprint(conn, secret)  # one warehouse = one key: another key is refused, nothing written
        for dataset in datasets:
            planned = [f for f in plan.files if f.dataset.name == dataset.name]
            accepted = _check_files(conn, dataset, planned, tables, landing_root, units, result)
            if accepted:
                written = _write_raw(conn, dataset, accepted, landing_root, secret, loaded_at, result)
                _validate_and_write(conn, dataset, _as_stored(conn, dataset, written), by_key, today, result)
        if rebuild_tables is not None:
            result.tables = rebuild_tables(conn)
    return result


def _check_files(conn, dataset, planned, tables, landing_root, units, result) -> list[tuple[PlannedFile, LandingTable]]:
    accepted = []
    for f in planned:
        table = tables[f]
        if isinstance(table, LandingTable):
            try:
                check_landing_file(conn, dataset, table, f.unit, f.quarter, units,
                                   landing_folder(landing_root, f.unit, f.quarter))
            except LandingFileError as error:
                table = error
        if isinstance(table, LandingFileError):
            result.refused[((f.unit, f.quarter), dataset.name)] = table
            # the refusal is shown by report/status and `cus status`; the partition's data is untouched
            record_refusal(conn, table, landing_root, f.unit, f.quarter, dataset)
        else:
            accepted.append((f, table))
    return accepted


def _write_raw(conn, dataset, accepted, landing_root, secret, loaded_at, result: BatchResult) -> pl.DataFrame:
    frames = []
    for f, table in accepted:
        source_file = Path(f.path).resolve().relative_to(Path(landing_root).resolve()).as_posix()
        frame = raw_frame(table, dataset, source_file, f.unit, f.quarter, secret, loaded_at)
        frames.append(frame)
        version_no, new_version = record_version(conn, f.unit, f.quarter, dataset, source_file, table, loaded_at)
        result.raw[((f.unit, f.quarter), dataset.name)] = ingest_result(dataset, source_file, table, frame,
                                                                        version_no, new_version)
    written = pl.concat(frames, how="diagonal_relaxed")
    replace_partitions(conn, "raw", dataset.name, written, [(f.unit, f.quarter) for f, _ in accepted])
    return written


def _validate_and_write(conn, dataset: Dataset, raw: dict[Key, pl.DataFrame], units: dict[str, Unit], today,
                        result) -> None:
    rules = rules_for(dataset)
    # a file without data rows leaves staging as it was; quarters in order within each unit
    keys = sorted(raw, key=lambda k: (k[0], k[1] or ""))
    if not keys:
        return
    references = load_references_many(conn, rules, keys)
    parts = [PartitionInput(units[u], q, raw[(u, q)], references[(u, q)]) for u, q in keys]
    validations = validate_batch(dataset, parts, today=today or date.today(),
                                 chain=_own_references(conn, dataset, rules, keys))
    for key, validation in zip(keys, validations, strict=True):
        result.validations[(key, dataset.name)] = validation
    written = [k for k, v in zip(keys, validations, strict=True) if not v.refused]
    accepted = [v.accepted for v in validations if not v.refused]
    if written:
        replace_partitions(conn, "staging", dataset.name, pl.concat(accepted, how="diagonal_relaxed"), written)
    replace_partitions(conn, "staging", "quarantine", pl.concat([v.quarantine for v in validations]), keys,
                       {"dataset": dataset.name})
    summary = pl.DataFrame([v.summary for v in validations], schema=SUMMARY_SCHEMA)
    replace_partitions(conn, "staging", "validation_summary", summary, keys, {"dataset": dataset.name})


def _own_references(conn, dataset: Dataset, rules, keys: list[Key]):
    """References to the dataset's own rows (e.g. a document number unique in the unit), as one-partition
    runs in quarter order would see them: the batch's earlier quarters of the unit with their NEW accepted
    rows, every other quarter as stored before the batch. None when no rule reads its own dataset."""
    own = [ref for rule in rules for ref in rule.references if ref["dataset"] == dataset.name]
    if not own:
        return None
    stored: dict[tuple[str, str], list[tuple[str | None, object]]] = {}
    for unit in sorted({u for u, _ in keys}):
        for ref in own:
            column = identifier(ref["column"])
            stored[(unit, ref["parameter"])] = conn.execute(
                f"SELECT quarter, {column} FROM staging.{identifier(dataset.name)} WHERE unit = ? AND {column} IS NOT NULL",
                [unit]).fetchall()

    def chain(index: int, done: list[Validation]) -> dict[str, list]:
        unit, quarter = keys[index]
        earlier = {keys[j][1]: v for j, v in enumerate(done) if keys[j][0] == unit and not v.refused}
        out = {}
        for ref in own:
            in_scope = IN_SCOPE[ref["scope"]]
            values = {v for q, v in stored[(unit, ref["parameter"])] if q not in earlier and in_scope(q, quarter)}
            for q, validation in earlier.items():
                if in_scope(q, quarter):
                    values.update(validation.accepted[ref["column"]].drop_nulls().to_list())
            out[ref["parameter"]] = sorted(values)
        return out

    return chain


def _as_stored(conn, dataset: Dataset, written: pl.DataFrame) -> dict[Key, pl.DataFrame]:
    """The batch's raw rows per partition exactly as the warehouse holds them (the table's column order
    and types, rows in file order): the same frame a one-partition run reads back, without reading it."""
    schema = query_frame(conn, f"SELECT * FROM raw.{identifier(dataset.name)} LIMIT 0").schema
    frame = written.select([(pl.col(name) if name in written.columns else pl.lit(None)).cast(dtype).alias(name)
                            for name, dtype in schema.items()]).sort("unit", "quarter", "row_number", nulls_last=False)
    return {(part["unit"][0], part["quarter"][0]): part
            for part in frame.partition_by("unit", "quarter", maintain_order=True)}
