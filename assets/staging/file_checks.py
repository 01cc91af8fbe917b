"""File-level check "a file of another unit in the wrong folder" (schemas/validation/file_checks.yaml).

Called by the raw step after the file is read and BEFORE the partition's raw rows are replaced
(`ingest_file(..., before_write=...)`), so a refused file leaves raw and staging as they were.
Raises `LandingFileError` (-> `dg.Failure` in the raw asset) naming the file and the fix.
"""

from __future__ import annotations

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
from core.registry import Unit
from core.warehouse import table_exists

FILE_CHECKS_PATH = VALIDATION_DIR / "file_checks.yaml"


@lru_cache(maxsize=2)
def file_checks(path: Path = FILE_CHECKS_PATH) -> dict[str, dict]:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {check["id"]: check for check in spec["file_checks"]}


def _refuse(table: LandingTable, check_id: str, **values) -> None:
    check = file_checks()[check_id]
    problem, fix = check["problem"], check["fix"]
    for name, value in values.items():
        problem = problem.replace("{" + name + "}", str(value))
        fix = fix.replace("{" + name + "}", str(value))
    raise LandingFileError(table.path, problem, fix)


def header_block_text(table: LandingTable, dataset: Dataset) -> str:
    """The text of the rows above the table's header row (project / agreement lines), folded."""
    path = Path(table.path)
    if path.suffix.lower() == ".xlsx":
        rows = [list(r) for r in _frame_from_xlsx(path).head(HEADER_SEARCH_ROWS).iter_rows()]
    else:  # the same lines and cells the reader found the header in
        text, _ = decode_text(path, path.read_bytes())
        _, rows, _ = csv_head_rows(text)
    header_index = _find_header_row(rows, dataset, path)
    cells = [str(c) for row in rows[:header_index] for c in row if c is not None and str(c).strip()]
    return normalize_label(" ".join(cells))


def _mentions(text: str, unit: Unit) -> str | None:
    for candidate in (unit.agreement_no, unit.name):
        if candidate and normalize_label(candidate) in text:
            return candidate
    return None


def check_landing_file(conn, dataset: Dataset, table: LandingTable, unit_key: str, quarter: str | None,
                       units: tuple[Unit, ...], folder: Path | str) -> None:
    """Refuse a file that belongs to another unit (see file_checks.yaml for the three signals)."""
    checks = file_checks()
    by_key = {u.key: u for u in units}
    unit = by_key.get(unit_key)
    common = {"unit": unit_key, "unit_name": unit.name if unit else unit_key, "folder": folder,
              "quarter": quarter or "umowa"}

    if dataset.name in checks["same_file_as_other_unit"]["applies_to"] and table_exists(conn, "raw", "file_versions"):
        other = conn.execute(
            "SELECT unit FROM raw.file_versions WHERE dataset = ? AND file_sha256 = ? AND unit <> ? ORDER BY unit LIMIT 1",
            [dataset.name, table.sha256, unit_key],
        ).fetchone()
        if other:
            other_unit = by_key.get(other[0])
            _refuse(table, "same_file_as_other_unit", other_unit=other[0],
                    other_name=other_unit.name if other_unit else other[0], **common)

    if dataset.name in checks["header_names_other_unit"]["applies_to"]:
        text = header_block_text(table, dataset)
        if text and not (unit and _mentions(text, unit)):
            for other_unit in units:
                found = other_unit.key != unit_key and _mentions(text, other_unit)
                if found:
                    _refuse(table, "header_names_other_unit", found=found, other_unit=other_unit.key,
                            other_name=other_unit.name, **common)

    if unit and dataset.name in checks["all_dates_outside_period"]["applies_to"]:
        date_columns = [c.name for c in dataset.stored_columns if c.type == "date" and c.name in table.frame.columns]
        if date_columns:
            dates = table.frame.select(pl.concat_list([parse_date(pl.col(c)) for c in date_columns])
                                       .alias("d")).explode("d").drop_nulls()["d"]
            inside = dates.is_between(unit.period_start, unit.period_end).sum()
            if dates.len() and inside == 0:
                _refuse(table, "all_dates_outside_period", dates=dates.len(), first_date=date_pl(dates.min()),
                        last_date=date_pl(dates.max()), period_start=date_pl(unit.period_start),
                        period_end=date_pl(unit.period_end), **common)
