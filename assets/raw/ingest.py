"""Load one landing file into its raw table: text as received + lineage, personal data removed.

`ingest_file` is the whole first step for one dataset of one partition; it either replaces the
partition's rows and records the file version, or raises and leaves the warehouse untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from assets.raw.landing_file import READ_ERROR, LandingFileError, LandingTable, read_landing_file
from assets.values import parse_date
from core.contract import Dataset
from core.key_fingerprint import ensure_key_fingerprint
from core.pesel import PESEL_FOUND_IN, pseudonymize, scrub_pesel, scrub_text
from core.warehouse import delete_insert, identifier, run_sql_file, transaction

FILE_VERSIONS_SQL = Path(__file__).with_name("file_versions.sql")
RECORD_VERSIONS_SQL = Path(__file__).with_name("record_versions.sql")
AGREEMENT_FOLDER = "umowa"

LINEAGE_COLUMNS = [
    ("unit", "VARCHAR"),
    ("quarter", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("file_sha256", "VARCHAR"),
    ("row_number", "BIGINT"),
    ("loaded_at", "TIMESTAMP"),
]
PESEL_DERIVED_COLUMNS = [
    ("person_key", "VARCHAR"),
    ("pesel_status", "VARCHAR"),
    ("birth_date", "DATE"),
    ("sex_from_pesel", "VARCHAR"),
    ("age_at_entry_from_pesel", "INTEGER"),
]
# After the contract columns: what the reading found in a row (NULL = nothing), read by the
# validation rules `extra_fields` and `pesel_outside_pesel_column` (assets/staging/rules.py).
READ_COLUMNS = [
    (READ_ERROR, "VARCHAR"),  # e.g. `15 pól zamiast 14`: more cells than the header (values shifted)
    (PESEL_FOUND_IN, "VARCHAR"),  # columns a PESEL was removed from, comma-separated
]


@dataclass
class IngestResult:
    dataset: str
    source_file: str
    sha256: str
    rows: int
    version_no: int
    new_version: bool
    encoding: str
    ignored_columns: list[str]
    missing_optional: list[str]
    pesel_status_counts: dict[str, int]
    totals_rows: list[int] = field(default_factory=list)  # "Razem" rows at the end of the file, skipped


def unknown_columns_warning(ingested: IngestResult) -> str | None:
    """A file's headers the contract does not know, with the optional columns it lacks: most often a
    renamed column, whose values were then not read (e.g. "Usługa zlecona (T/N)" as "Zlecona na
    zewnątrz": every document counted as not commissioned). None unless the file has both: an extra
    column alone (e.g. "Uwagi") is only recorded (`raw.file_versions.ignored_columns`, the metadata)."""
    if not (ingested.ignored_columns and ingested.missing_optional):
        return None
    return (f"Plik {ingested.source_file}: kolumny spoza wzoru pominięte ("
            + ", ".join(f"„{c}”" for c in ingested.ignored_columns) + "); brak kolumn "
            + ", ".join(f"„{c}”" for c in ingested.missing_optional)
            + " — przyjęto dla nich wartości puste lub domyślne. Jeśli to te same kolumny pod inną nazwą, popraw "
              "nagłówki (szablon: cus templates) i prześlij plik ponownie.")


def raw_columns(dataset: Dataset) -> list[tuple[str, str]]:
    columns = list(LINEAGE_COLUMNS)
    for column in dataset.stored_columns:
        columns += PESEL_DERIVED_COLUMNS if column.pii == "pesel" else [(column.name, "VARCHAR")]
    return columns + READ_COLUMNS


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, datasets: list[Dataset]) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    run_sql_file(conn, FILE_VERSIONS_SQL)
    for dataset in datasets:
        columns = ", ".join(f"{identifier(name)} {sql_type}" for name, sql_type in raw_columns(dataset))
        conn.execute(f"CREATE TABLE IF NOT EXISTS raw.{identifier(dataset.name)} ({columns})")
        for name, sql_type in READ_COLUMNS:  # warehouses created before these columns existed
            conn.execute(f"ALTER TABLE raw.{identifier(dataset.name)} ADD COLUMN IF NOT EXISTS {name} {sql_type}")


def landing_folder(landing_root: Path, unit: str, quarter: str | None) -> Path:
    return Path(landing_root) / unit / (quarter or AGREEMENT_FOLDER)


def find_landing_file(landing_root: Path, unit: str, quarter: str | None, dataset: Dataset) -> Path | None:
    """The dataset's file in the partition's folder (file names matched case-insensitively)."""
    folder = landing_folder(landing_root, unit, quarter)
    if not folder.is_dir():
        return None
    wanted = {name.lower() for name in dataset.file_names()}
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower() in wanted)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise LandingFileError(folder, f"w folderze są dwa pliki tego samego rodzaju: {names}.",
                               "Zostaw jeden plik (CSV albo XLSX) i uruchom wczytanie ponownie.")
    return found[0] if found else None


def record_refusal(conn: duckdb.DuckDBPyConnection, error: LandingFileError, landing_root: Path, unit: str,
                   quarter: str | None, dataset: Dataset, refused_at: datetime | None = None) -> None:
    """Keep the trace of a file refused as a whole (raw.file_refusals); the partition's data is untouched."""
    ensure_raw_tables(conn, [])
    path = Path(error.path)
    try:
        source_file = path.resolve().relative_to(Path(landing_root).resolve()).as_posix()
    except ValueError:
        source_file = path.name
    conn.execute("INSERT INTO raw.file_refusals VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [unit, quarter, dataset.name, source_file, error.problem, error.fix,
                  refused_at or datetime.now().replace(microsecond=0)])


def _with_pseudonyms(frame: pl.DataFrame, dataset: Dataset, secret: bytes) -> pl.DataFrame:
    pesel_columns = [c.name for c in dataset.stored_columns if c.pii == "pesel"]
    if not pesel_columns:
        return frame
    (pesel_column,) = pesel_columns
    start = frame.select(parse_date(pl.col("start_date"))).to_series() if "start_date" in frame.columns \
        else pl.Series([None] * frame.height, dtype=pl.Date)
    derived = pseudonymize(frame[pesel_column], start, secret)
    return pl.concat([frame.drop(pesel_column), derived], how="horizontal")


def _without_pesel(frame: pl.DataFrame, dataset: Dataset, secret: bytes) -> pl.DataFrame:
    """docs/domain.md §11 (personal data) for the cells outside the PESEL column: no PESEL is stored anywhere in clear.

    Every stored text column (all raw columns are text) loses its valid PESEL numbers: a marker in
    free text, the keyed pseudonym in participant ID columns (`person_id` in the contract).
    """
    columns = {c.name: c.person_id for c in dataset.stored_columns if c.pii != "pesel"}
    return scrub_pesel(frame, columns, secret)


@dataclass(frozen=True)
class LoadedFile:
    """One file of a batch as the raw step writes it: where it belongs and what was read."""

    unit: str
    quarter: str | None
    source_file: str  # path below the landing folder
    table: LandingTable


def record_versions(conn, dataset: Dataset, files: list[LoadedFile], loaded_at: datetime) -> list[tuple[int, bool]]:
    """Record the versions of many files of one dataset in one statement set (record_versions.sql):
    (version_no, new_version) of each file, in the order of `files`."""
    incoming = pl.DataFrame(
        {"unit": [f.unit for f in files], "quarter": [f.quarter for f in files], "dataset": dataset.name,
         "source_file": [f.source_file for f in files], "file_sha256": [f.table.sha256 for f in files],
         "size_bytes": [f.table.size_bytes for f in files], "encoding": [f.table.encoding for f in files],
         "rows_loaded": [f.table.frame.height for f in files],
         "ignored_columns": [list(f.table.ignored_columns) for f in files], "loaded_at": loaded_at},
        schema={"unit": pl.Utf8, "quarter": pl.Utf8, "dataset": pl.Utf8, "source_file": pl.Utf8,
                "file_sha256": pl.Utf8, "size_bytes": pl.Int64, "encoding": pl.Utf8, "rows_loaded": pl.Int64,
                "ignored_columns": pl.List(pl.Utf8), "loaded_at": pl.Datetime("us")})
    conn.register("incoming_files", incoming.to_arrow())
    try:
        rows = conn.execute(RECORD_VERSIONS_SQL.read_text(encoding="utf-8")).fetchall()
        conn.execute("DROP TABLE batch_file_versions")
    finally:
        conn.unregister("incoming_files")
    versions = {(unit, quarter): (version_no, new_version) for unit, quarter, _, version_no, new_version in rows}
    return [versions[(f.unit, f.quarter)] for f in files]


def record_version(conn, unit, quarter, dataset, source_file, table, loaded_at) -> tuple[int, bool]:
    (version,) = record_versions(conn, dataset, [LoadedFile(unit, quarter, source_file, table)], loaded_at)
    return version


def ingest_file(
    conn: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    path: Path,
    landing_root: Path,
    unit: str,
    quarter: str | None,
    secret: bytes,
    loaded_at: datetime | None = None,
    before_write: Callable[[LandingTable], None] | None = None,
) -> IngestResult:
    """Read, pseudonymize and replace the partition's raw rows; record the file version.

    `before_write(table)` runs file-level checks after reading and before anything is written
    (e.g. a file of another unit); it raises `LandingFileError` to refuse the file.
    """
    loaded_at = loaded_at or datetime.now().replace(microsecond=0)
    table = read_landing_file(path, dataset)
    if before_write is not None:
        before_write(table)
    source_file = Path(path).resolve().relative_to(Path(landing_root).resolve()).as_posix()
    frame = raw_frame(table, dataset, source_file, unit, quarter, secret, loaded_at)
    ensure_raw_tables(conn, [dataset])
    with transaction(conn):
        ensure_key_fingerprint(conn, secret)  # one warehouse = one key: another key is refused, nothing written
        delete_insert(conn, "raw", dataset.name, frame, {"unit": unit, "quarter": quarter})
        version_no, new_version = record_version(conn, unit, quarter, dataset, source_file, table, loaded_at)
    return ingest_result(dataset, source_file, table, frame, version_no, new_version)


def raw_frame(table: LandingTable, dataset: Dataset, source_file: str, unit: str, quarter: str | None, secret: bytes,
              loaded_at: datetime) -> pl.DataFrame:
    """The rows of a read file as stored in raw: PESEL pseudonymized, lineage columns added."""
    return raw_rows(with_lineage(LoadedFile(unit, quarter, source_file, table), secret, loaded_at), dataset, secret)


def with_lineage(file: LoadedFile, secret: bytes, loaded_at: datetime) -> pl.DataFrame:
    """The file's rows as read (text) + its lineage columns; the names of its ignored columns lose any PESEL."""
    table = file.table
    table.ignored_columns = [scrub_text(name, secret) for name in table.ignored_columns]
    return table.frame.with_columns(
        pl.lit(file.unit).alias("unit"),
        pl.lit(file.quarter, dtype=pl.Utf8).alias("quarter"),
        pl.lit(file.source_file).alias("source_file"),
        pl.lit(table.sha256).alias("file_sha256"),
        pl.lit(loaded_at).alias("loaded_at"),
    )


def raw_rows(frame: pl.DataFrame, dataset: Dataset, secret: bytes) -> pl.DataFrame:
    """Rows of one or many files of `dataset` (`with_lineage`) as stored in raw: no PESEL in clear,
    the PESEL column replaced by its pseudonym and derived columns — once for the whole frame."""
    return _with_pseudonyms(_without_pesel(frame, dataset, secret), dataset, secret)


def ingest_result(dataset: Dataset, source_file: str, table: LandingTable, frame: pl.DataFrame, version_no: int,
                  new_version: bool) -> IngestResult:
    statuses = frame["pesel_status"].value_counts().rows() if "pesel_status" in frame.columns else []
    return IngestResult(
        dataset=dataset.name, source_file=source_file, sha256=table.sha256, rows=frame.height,
        version_no=version_no, new_version=new_version, encoding=table.encoding,
        ignored_columns=table.ignored_columns, missing_optional=table.missing_optional,
        totals_rows=table.totals_rows,
        pesel_status_counts={status: count for status, count in statuses},
    )
