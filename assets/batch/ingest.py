"""Ingest a batch of partitions in set-based passes, published whole in ONE transaction.

Dataset by dataset (`dataset_order`: after the datasets whose staging rows its rules read, e.g.
deliveries after participants and services):
1. the dataset's planned files are read in parallel (threads; a large batch in worker processes,
   reading the next pass while this one is written: `read_passes`) and checked at file level before
   anything is written;
2. their rows become ONE frame with unit, quarter, file and row as columns: PESEL scrubbed and
   pseudonymized once for the whole frame, every file version recorded in one statement set, the
   raw rows of all partitions replaced in one delete + insert — run by a writer thread while
   step 3 types the frame (DuckDB writes on both cores without the GIL; typing is mostly Python);
3. the frame is typed and validated set-based (`start_batch`: one pass for the rule columns, one
   Great Expectations run), then staging, quarantine and the summary written the same way. A small
   batch's GX runs in its worker process (assets/staging/validation_process.py) while this process
   loads the next datasets; a dataset's results are written before a dataset that reads them loads;
4. a large batch's frames are released before the next pass is read (memory follows the largest
   pass, not the batch); a small batch holds at most one pending pass per dataset.
Then, optionally, the marts and report tables are rebuilt in the same transaction.

A kill at any moment leaves every unit × quarter entirely as before (nothing committed) or entirely
new across raw, staging and the marts. A refused file (unreadable, another unit's) leaves its
partition's dataset as it was and is reported; the rest of the batch goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from assets.batch.plan import BatchPlan, PlannedFile, datasets_read
from assets.mart.incremental import mark_changed
from assets.raw.ingest import (
    IngestResult,
    LoadedFile,
    ensure_raw_tables,
    ingest_result,
    landing_folder,
    raw_rows,
    record_refusal,
    record_versions,
    with_lineage,
)
from assets.raw.landing_file import LandingFileError, LandingTable, read_landing_file
from assets.staging.file_checks import FileToCheck, check_landing_files
from assets.staging.prepare import Partition, with_partition_index
from assets.staging.rules import rules_for
from assets.staging.staging_assets import IN_SCOPE, SUMMARY_SCHEMA, ensure_validation_tables, load_references_many
from assets.staging.typed import ensure_staging_tables
from assets.staging.validate import PendingBatch, Validation, start_batch
from assets.staging.validation_process import (
    prepare_in_background,
    start_validation_process,
    stop_validation_process,
)
from core.contract import Dataset, load_contract
from core.key_fingerprint import ensure_key_fingerprint
from core.registry import Unit
from core.warehouse import identifier, query_frame, replace_partitions, transaction
from core.worker_processes import worker_processes

if TYPE_CHECKING:
    from assets.batch.tables import TablesBuilt

Key = tuple[str, str | None]


@dataclass
class BatchResult:
    raw: dict[tuple[Key, str], IngestResult] = field(default_factory=dict)  # ((unit, quarter), dataset)
    validations: dict[tuple[Key, str], Validation] = field(default_factory=dict)
    refused: dict[tuple[Key, str], LandingFileError] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)  # mart/report table -> rows, when rebuilt
    table_scopes: dict[str, list[str] | None] = field(default_factory=dict)  # table -> units rebuilt (None: whole)

    @property
    def partitions(self) -> list[Key]:
        return sorted({k for k, _ in [*self.raw, *self.refused]}, key=lambda k: (k[0], k[1] or ""))


def dataset_order() -> list[Dataset]:
    """Every dataset after the datasets its rules read (their staging rows are its reference lists: e.g.
    deliveries after participants and services); at each depth first those that other datasets read, so
    their Great Expectations runs finish early; then contract order."""
    datasets = list(load_contract().values())
    reads = {d.name: datasets_read(d) - {d.name} for d in datasets}
    read_by_others = {name for names in reads.values() for name in names}
    depth: dict[str, int] = {}

    def depth_of(name: str, path: tuple[str, ...] = ()) -> int:
        if name in path:
            raise ValueError(f"reguły walidacji odwołują się do siebie w kółko: {' → '.join((*path, name))}")
        if name not in depth:
            depth[name] = 1 + max((depth_of(other, (*path, name)) for other in reads[name]), default=-1)
        return depth[name]

    position = {d.name: i for i, d in enumerate(datasets)}
    return sorted(datasets, key=lambda d: (depth_of(d.name), d.name not in read_by_others, position[d.name]))


def read_file(planned: PlannedFile) -> LandingTable | LandingFileError:
    try:
        return read_landing_file(planned.path, planned.dataset)
    except LandingFileError as error:
        return error


def read_files(files: list[PlannedFile], workers: int | None = None) -> dict[PlannedFile, LandingTable | LandingFileError]:
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        return dict(zip(files, pool.map(read_file, files), strict=True))


def read_passes(passes: list[list[PlannedFile]], small: bool) -> Iterator[dict[PlannedFile, LandingTable | LandingFileError]]:
    """The read files of each pass, in order; a large batch (`small` False: `is_small`) reads pass k + 1
    in worker processes while the caller works on pass k."""
    if not passes:
        return
    if small:
        # a small batch: every pass read at once in threads, while the caller validates the first ones
        # (its first validation waits for Great Expectations' worker to import)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            reads = [[pool.submit(read_file, f) for f in files] for files in passes]
            for files, futures in zip(passes, reads, strict=True):
                yield dict(zip(files, (future.result() for future in futures), strict=True))
        return
    with worker_processes(os.cpu_count() or 2) as pool:
        ahead = pool.map(read_file, passes[0], chunksize=8)
        for index, files in enumerate(passes):
            current = ahead
            if index + 1 < len(passes):
                ahead = pool.map(read_file, passes[index + 1], chunksize=8)
            yield dict(zip(files, current, strict=True))


def is_small(files: list[PlannedFile]) -> bool:
    """A batch of fewer landing bytes than READ_AHEAD_FROM_BYTES (a correction, the pilot)."""
    return sum(Path(f.path).stat().st_size for f in files) < READ_AHEAD_FROM_BYTES


def ingest_batch(conn, plan: BatchPlan, landing_root: Path, units: tuple[Unit, ...], secret: bytes,
                 rebuild_tables: Callable[[object], TablesBuilt] | None = None, today: date | None = None,
                 loaded_at: datetime | None = None) -> BatchResult:
    """Ingest and validate every planned file, then (optionally) rebuild the tables: all in one transaction."""
    loaded_at = loaded_at or datetime.now().replace(microsecond=0)
    # A small batch validates in Great Expectations' worker process (its import on the other core); a large
    # one in this process: its time is the data's, and a second process would hold a copy of the largest
    # validated chunk (~0,7 GB at 100 units) — the national tier's memory is close to its limit.
    small = is_small(plan.files)
    if small:
        start_validation_process()
    else:
        stop_validation_process()
        prepare_in_background()
    result = BatchResult()
    datasets = dataset_order()
    ensure_raw_tables(conn, datasets)
    ensure_staging_tables(conn, datasets)
    ensure_validation_tables(conn)
    by_key = {u.key: u for u in units}
    with transaction(conn), ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-writer") as writer:
        ensure_key_fingerprint(conn, secret)  # one warehouse = one key: another key is refused, nothing written
        passes = [(dataset, chunk) for dataset in datasets
                  for chunk in unit_chunks([f for f in plan.files if f.dataset.name == dataset.name])]
        # A small batch's Great Expectations runs in its worker while this process loads the next passes;
        # a pass's results are written before a pass that reads them as references is loaded.
        started: list[_StartedPass] = []
        try:
            for (dataset, chunk), tables in zip(passes, read_passes([chunk for _, chunk in passes], small),
                                                strict=True):
                # the datasets this one reads as references, and its own earlier pass: one pending pass
                # per dataset at most, so memory follows the batch's largest passes, not all of them
                needed = datasets_read(dataset) | {dataset.name}
                _finish([s for s in started if s.dataset.name in needed], conn, started, result)
                accepted = _check_files(conn, dataset, chunk, tables, landing_root, units, result)
                del tables
                if accepted:
                    written, keys = _raw_rows(conn, dataset, accepted, landing_root, secret, loaded_at, result)
                    del accepted  # the files' frames: the rows are in `written` now
                    stored = _as_stored(conn, dataset, written)
                    inputs = _validation_inputs(conn, dataset, stored, by_key)
                    # the raw rows are inserted (DuckDB, without the GIL) while the pass is typed (Python,
                    # one core); the connection is the writer's until then
                    with _in_background(writer, replace_partitions, conn, "raw", dataset.name, written, keys):
                        this = _StartedPass(dataset, inputs, _start_validation(dataset, stored, inputs, today))
                        if not small:  # a large batch validates here, one pass at a time
                            this.wait()
                    started.append(this)
                    del written, stored
                    if not small:
                        _finish(started, conn, started, result)
            _finish(started, conn, started, result)
        except BaseException:
            if started:  # their suites may still be queued in the worker: it goes (the next batch starts one)
                stop_validation_process()
            raise
        mark_changed(conn, {unit for (unit, _), _ in result.validations}, loaded_at)
        if rebuild_tables is not None:
            built = rebuild_tables(conn)
            result.tables, result.table_scopes = built.rows, built.scopes
    return result


# Landing bytes of one set-based pass: a dataset of a large batch (100 units, every gmina) is read,
# written and validated in passes of whole units of about this size, so memory follows this size
# (about 20× it at the peak), not the batch; the pilot is one pass per dataset.
CHUNK_BYTES = 48 * 2**20

# A batch with more landing bytes than this reads its files in worker processes, one pass ahead of the
# pass being validated and written: reading a file is mostly Python (the csv module, per-file polars
# calls) that holds the GIL, so threads barely use the second core — the national tier's 115 818 small
# files. Smaller batches (a correction, the pilot) read in threads: starting the workers (~1 s) would
# cost more than it saves; they validate in Great Expectations' worker process (`ingest_batch`).
READ_AHEAD_FROM_BYTES = 4 * CHUNK_BYTES


def unit_chunks(files: list[PlannedFile], limit: int | None = None) -> list[list[PlannedFile]]:
    """The files of one dataset in passes of whole units (a unit's quarters are validated together:
    rules that compare a quarter with the unit's other quarters see the batch's earlier quarters)."""
    limit = limit or CHUNK_BYTES
    by_unit: dict[str, list[PlannedFile]] = {}
    for f in files:
        by_unit.setdefault(f.unit, []).append(f)
    chunks: list[list[PlannedFile]] = []
    current: list[PlannedFile] = []
    size = 0
    for unit_files in by_unit.values():
        unit_size = sum(Path(f.path).stat().st_size for f in unit_files)
        if current and size + unit_size > limit:
            chunks.append(current)
            current, size = [], 0
        current += unit_files
        size += unit_size
    return chunks + [current] if current else chunks


def _check_files(conn, dataset, planned, tables, landing_root, units, result) -> list[tuple[PlannedFile, LandingTable]]:
    """The files that are read and pass the file-level checks (all of them checked at once); the others
    are recorded as refused and leave their partition's data as it was."""
    read = [f for f in planned if isinstance(tables[f], LandingTable)]
    refusals = check_landing_files(conn, dataset, [
        FileToCheck(tables[f], f.unit, f.quarter, landing_folder(landing_root, f.unit, f.quarter)) for f in read],
        units)
    for i, error in refusals.items():
        tables[read[i]] = error
    accepted = []
    for f in planned:
        table = tables[f]
        if isinstance(table, LandingFileError):
            result.refused[((f.unit, f.quarter), dataset.name)] = table
            # the refusal is shown by report/status and `cus status`; the partition's data is untouched
            record_refusal(conn, table, landing_root, f.unit, f.quarter, dataset)
        else:
            accepted.append((f, table))
    return accepted


def _raw_rows(conn, dataset, accepted, landing_root, secret, loaded_at, result: BatchResult) -> tuple[pl.DataFrame, list[Key]]:
    """The raw rows of every accepted file as one frame (to be written at once) and their partitions; the
    file versions are recorded in one statement set."""
    root = Path(landing_root).resolve()
    files = [LoadedFile(f.unit, f.quarter, Path(f.path).resolve().relative_to(root).as_posix(), table)
             for f, table in sorted(accepted, key=lambda item: (item[0].unit, item[0].quarter or ""))]
    # in partition order: the frame needs no sorting for validation
    written = raw_rows(pl.concat([with_lineage(file, secret, loaded_at) for file in files], how="diagonal_relaxed"),
                       dataset, secret)
    versions = record_versions(conn, dataset, files, loaded_at)
    offset = 0
    for file, (version_no, new_version) in zip(files, versions, strict=True):
        rows = file.table.frame.height
        result.raw[((file.unit, file.quarter), dataset.name)] = ingest_result(
            dataset, file.source_file, file.table, written.slice(offset, rows), version_no, new_version)
        offset += rows
    return written, [(f.unit, f.quarter) for f in files]


@contextmanager
def _in_background(writer: ThreadPoolExecutor, write: Callable, *args) -> Iterator[None]:
    """`write(*args)` in the writer thread while the caller's block runs (which must not use the
    connection); on leaving, the write has finished, and its error is raised."""
    future = writer.submit(write, *args)
    try:
        yield
    finally:
        wait([future])  # also when the block failed: the transaction's rollback needs the connection
    future.result()


@dataclass
class _ValidationInputs:
    keys: list[Key]  # the pass's partitions with rows, quarters in order within each unit
    partitions: list[Partition]
    chain: Callable | None


def _validation_inputs(conn, dataset: Dataset, raw: pl.DataFrame, units: dict[str, Unit]) -> _ValidationInputs:
    """What validating the pass needs from the warehouse (read before the raw rows are written)."""
    rules = rules_for(dataset)
    # a file without data rows leaves staging as it was
    keys = sorted({(u, q) for u, q in raw.select("unit", "quarter").unique().iter_rows()},
                  key=lambda k: (k[0], k[1] or ""))
    if not keys:
        return _ValidationInputs([], [], None)
    references = load_references_many(conn, rules, keys)
    return _ValidationInputs(keys, [Partition(units[u], q, references[(u, q)]) for u, q in keys],
                             _own_references(conn, dataset, rules, keys))


def _start_validation(dataset: Dataset, raw: pl.DataFrame, inputs: _ValidationInputs, today) -> PendingBatch | None:
    """The pass's raw rows of `dataset` (all partitions in one frame) typed and their Great Expectations
    run started; no warehouse access."""
    if not inputs.keys:
        return None
    return start_batch(dataset, with_partition_index(raw, inputs.keys), inputs.partitions,
                       today=today or date.today(), chain=inputs.chain)


@dataclass
class _StartedPass:
    dataset: Dataset
    inputs: _ValidationInputs
    validation: PendingBatch | None
    results: list[Validation] | None = None

    def wait(self) -> list[Validation]:
        """The pass's validation results (waiting for its Great Expectations run once)."""
        if self.results is None:
            self.results = self.validation.finish() if self.validation is not None else []
            self.validation = None
        return self.results


def _finish(passes: list[_StartedPass], conn, started: list[_StartedPass], result: BatchResult) -> None:
    """Wait for the validation of `passes` (in the order they were started) and write their results;
    they leave `started`."""
    for done in list(passes):
        validations = done.wait()
        started.remove(done)
        _write_validations(conn, done.dataset, done.inputs, validations, result)


def _write_validations(conn, dataset: Dataset, inputs: _ValidationInputs, validations: list[Validation],
                       result: BatchResult) -> None:
    """Staging, quarantine and summary of the pass; the accepted rows are released once written (the
    events need the rest)."""
    keys = inputs.keys
    if not keys:
        return
    for key, validation in zip(keys, validations, strict=True):
        result.validations[(key, dataset.name)] = validation
    written = [k for k, v in zip(keys, validations, strict=True) if not v.refused]
    accepted = [v.accepted for v in validations if not v.refused]
    if written:
        replace_partitions(conn, "staging", dataset.name, pl.concat(accepted, how="diagonal_relaxed"), written)
    del accepted
    replace_partitions(conn, "staging", "quarantine", pl.concat([v.quarantine for v in validations]), keys,
                       {"dataset": dataset.name})
    summary = pl.DataFrame([v.summary for v in validations], schema=SUMMARY_SCHEMA)
    replace_partitions(conn, "staging", "validation_summary", summary, keys, {"dataset": dataset.name})
    written_rows = validations[0].accepted.clear()  # one empty frame for all (~10 KB each, ~300 000 nationally)
    for validation in validations:
        validation.accepted = written_rows  # written: the events read summary and checks


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


def _as_stored(conn, dataset: Dataset, written: pl.DataFrame) -> pl.DataFrame:
    """The batch's raw rows exactly as the warehouse holds them (the table's column order and types,
    rows in file order): the frame one-partition runs read back, without reading it."""
    schema = query_frame(conn, f"SELECT * FROM raw.{identifier(dataset.name)} LIMIT 0").schema
    return written.select([(pl.col(name) if name in written.columns else pl.lit(None)).cast(dtype).alias(name)
                           for name, dtype in schema.items()])
