"""File-level checks "a file of another unit or quarter in the wrong folder" (schemas/validation/file_checks.yaml).

Called by the raw step after the file is read and BEFORE the partition's raw rows are replaced
(`ingest_file(..., before_write=...)`), so a refused file leaves raw and staging as they were.
Raises `LandingFileError` (-> `dg.Failure` in the raw asset) naming the file and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from assets.raw.landing_file import (
    HEADER_SEARCH_ROWS,
    LandingFileError,
    LandingTable,
    _find_header_row,
    _frame_from_xlsx,
    csv_head_rows,
    decode_text,
)
from assets.staging.rules import VALIDATION_DIR
from assets.staging.validate import date_pl
from assets.values import parse_date
from core.contract import Dataset, normalize_label
from core.quarters import quarter_start
from core.registry import Unit
from core.warehouse import table_exists

FILE_CHECKS_PATH = VALIDATION_DIR / "file_checks.yaml"
OTHER_UNIT_SQL = Path(__file__).with_name("loaded_for_other_unit.sql")
OTHER_QUARTER_SQL = Path(__file__).with_name("loaded_for_other_quarter.sql")


@lru_cache(maxsize=2)
def file_checks(path: Path = FILE_CHECKS_PATH) -> dict[str, dict]:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {check["id"]: check for check in spec["file_checks"]}


def _refusal(table: LandingTable, check_id: str, **values) -> LandingFileError:
    check = file_checks()[check_id]
    problem, fix = check["problem"], check["fix"]
    for name, value in values.items():
        problem = problem.replace("{" + name + "}", str(value))
        fix = fix.replace("{" + name + "}", str(value))
    return LandingFileError(table.path, problem, fix)


def header_block_text(table: LandingTable, dataset: Dataset) -> str:
    """The text of the rows above the table's header row (project / agreement lines), folded."""
    if table.header_block is not None:  # kept by the reader
        return _folded(table.header_block)
    path = Path(table.path)
    if path.suffix.lower() == ".xlsx":
        rows = [list(r) for r in _frame_from_xlsx(path).head(HEADER_SEARCH_ROWS).iter_rows()]
    else:  # the same lines and cells the reader found the header in
        text, _ = decode_text(path, path.read_bytes())
        _, rows, _ = csv_head_rows(text)
    return _folded(rows[:_find_header_row(rows, dataset, path)])


def _folded(rows: list[list]) -> str:
    cells = [str(c) for row in rows for c in row if c is not None and str(c).strip()]
    return normalize_label(" ".join(cells))


def _mentions(text: str, unit: Unit) -> str | None:
    for candidate in (unit.agreement_no, unit.name):
        if candidate and normalize_label(candidate) in text:
            return candidate
    return None


@dataclass(frozen=True)
class FileToCheck:
    table: LandingTable
    unit: str
    quarter: str | None
    folder: Path | str  # the landing folder it was found in (named in the message)


def check_landing_file(conn, dataset: Dataset, table: LandingTable, unit_key: str, quarter: str | None,
                       units: tuple[Unit, ...], folder: Path | str) -> None:
    """Refuse a file that belongs to another unit (see file_checks.yaml for the three signals)."""
    refused = check_landing_files(conn, dataset, [FileToCheck(table, unit_key, quarter, folder)], units)
    if refused:
        raise refused[0]


def check_landing_files(conn, dataset: Dataset, files: list[FileToCheck],
                        units: tuple[Unit, ...]) -> dict[int, LandingFileError]:
    """The refusal of every refused file of `files` (by index): the checks of file_checks.yaml in their
    order, each for all files at once (one query, one date pass)."""
    checks = file_checks()
    by_key = {u.key: u for u in units}
    refused: dict[int, LandingFileError] = {}

    def refuse(i: int, check_id: str, **values) -> None:
        f = files[i]
        unit = by_key.get(f.unit)
        refused.setdefault(i, _refusal(f.table, check_id, unit=f.unit, unit_name=unit.name if unit else f.unit,
                                       folder=f.folder, quarter=f.quarter or "umowa", **values))

    if dataset.name in checks["same_file_as_other_unit"]["applies_to"] and table_exists(conn, "raw", "file_versions"):
        for i, other in _loaded_elsewhere(conn, dataset, files, OTHER_UNIT_SQL).items():
            other_unit = by_key.get(other)
            refuse(i, "same_file_as_other_unit", other_unit=other, other_name=other_unit.name if other_unit else other)

    if dataset.name in checks["header_names_other_unit"]["applies_to"]:
        for i, f in enumerate(files):
            text = header_block_text(f.table, dataset)
            unit = by_key.get(f.unit)
            if i in refused or not text or (unit and _mentions(text, unit)):
                continue
            for other_unit in units:
                found = other_unit.key != f.unit and _mentions(text, other_unit)
                if found:
                    refuse(i, "header_names_other_unit", found=found, other_unit=other_unit.key,
                           other_name=other_unit.name)
                    break

    if dataset.name in checks["same_file_as_other_quarter"]["applies_to"] and table_exists(conn, "raw", "file_versions"):
        for i, other_quarter in _loaded_elsewhere(conn, dataset, files, OTHER_QUARTER_SQL).items():
            if i not in refused and files[i].table.frame.height:  # a header-only file is the same every quarter
                refuse(i, "same_file_as_other_quarter", other_quarter=other_quarter)

    if dataset.name in checks["all_dates_before_quarter"]["applies_to"]:
        dated = [i for i, f in enumerate(files) if i not in refused and f.quarter]
        for i, count, first, last in _dates_all_before_quarter(dataset, files, dated):
            refuse(i, "all_dates_before_quarter", dates=count, first_date=date_pl(first), last_date=date_pl(last),
                   quarter_start=date_pl(quarter_start(files[i].quarter)))

    if dataset.name in checks["all_dates_outside_period"]["applies_to"]:
        dated = [i for i, f in enumerate(files) if i not in refused and f.unit in by_key]
        for i, count, first, last in _dates_all_outside_period(dataset, files, dated, by_key):
            unit = by_key[files[i].unit]
            refuse(i, "all_dates_outside_period", dates=count, first_date=date_pl(first), last_date=date_pl(last),
                   period_start=date_pl(unit.period_start), period_end=date_pl(unit.period_end))
    return refused


def _loaded_elsewhere(conn, dataset: Dataset, files: list[FileToCheck], sql: Path) -> dict[int, str]:
    """index -> where (unit or quarter) the content of that file is loaded already, by the query `sql`
    over the files' hashes (`files_to_check`) and raw.file_versions."""
    incoming = pl.DataFrame({"file": range(len(files)), "file_sha256": [f.table.sha256 for f in files],
                             "unit": [f.unit for f in files], "quarter": [f.quarter for f in files]},
                            schema={"file": pl.Int64, "file_sha256": pl.Utf8, "unit": pl.Utf8, "quarter": pl.Utf8})
    conn.register("files_to_check", incoming.to_arrow())
    try:
        rows = conn.execute(sql.read_text(encoding="utf-8"), {"dataset": dataset.name}).fetchall()
    finally:
        conn.unregister("files_to_check")
    return dict(rows)


def _file_dates(dataset: Dataset, files: list[FileToCheck], dated: list[int]) -> pl.DataFrame | None:
    """(file, d): every date of the files `dated` (their date columns), None when they have none."""
    columns = [c.name for c in dataset.stored_columns if c.type == "date"]
    if not columns or not dated:
        return None
    frames = [files[i].table.frame.select([pl.col(c) for c in columns if c in files[i].table.frame.columns])
              .with_columns(pl.lit(i, dtype=pl.Int64).alias("file")) for i in dated]
    present = [c for c in columns if any(c in frame.columns for frame in frames)]
    if not present:
        return None
    return (pl.concat(frames, how="diagonal_relaxed")
            .select("file", pl.concat_list([parse_date(pl.col(c)) for c in present]).alias("d"))
            .explode("d").drop_nulls("d"))


def _dates_all_before_quarter(dataset: Dataset, files: list[FileToCheck], dated: list[int]):
    """(index, dates, first, last) of the files every date of which lies before their quarter."""
    dates = _file_dates(dataset, files, dated)
    if dates is None:
        return []
    starts = pl.DataFrame({"file": dated, "start": [quarter_start(files[i].quarter) for i in dated]},
                          schema={"file": pl.Int64, "start": pl.Date})
    stats = dates.join(starts, on="file").group_by("file").agg(
        pl.len().alias("n"), (pl.col("d") >= pl.col("start")).sum().alias("in_or_after"),
        pl.col("d").min().alias("first"), pl.col("d").max().alias("last"))
    return stats.filter(pl.col("in_or_after") == 0).sort("file").select("file", "n", "first", "last").rows()


def _dates_all_outside_period(dataset: Dataset, files: list[FileToCheck], dated: list[int], units: dict[str, Unit]):
    """(index, dates, first, last) of the files none of whose dates is in their unit's project period."""
    dates = _file_dates(dataset, files, dated)
    if dates is None:
        return []
    periods = pl.DataFrame({"file": dated, "start": [units[files[i].unit].period_start for i in dated],
                            "end": [units[files[i].unit].period_end for i in dated]},
                           schema={"file": pl.Int64, "start": pl.Date, "end": pl.Date})
    dates = dates.join(periods, on="file")
    stats = dates.group_by("file").agg(pl.len().alias("n"), pl.col("d").is_between(pl.col("start"), pl.col("end"))
                                       .sum().alias("inside"), pl.col("d").min().alias("first"),
                                       pl.col("d").max().alias("last"))
    return stats.filter(pl.col("inside") == 0).sort("file").select("file", "n", "first", "last").rows()
