"""Which landed files a batch reads: every changed partition, whole (all of its datasets' files).

A partition is unchanged when each of its landing files has the content (SHA-256) of the current
version in raw.file_versions; then nothing of it is read again. A changed partition is re-ingested
whole, as a one-partition run would (its other files are read again, with the same versions).

A changed file that other datasets' rules read as a reference list (participants for deliveries; the
agreement's service catalogue and budget for deliveries, expenses and the narrative) changes the
verdicts on rows of later quarters too: the unit's partitions of later quarters (every quarter, for
agreement data) are validated again in the same batch, so the warehouse does not depend on the order
in which files came.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assets.partition_keys import split_partition_key, unit_quarter_key
from assets.raw.ingest import find_landing_file, landing_folder
from assets.raw.landing_file import LandingFileError, file_sha256
from assets.staging.rules import rules_for
from core.contract import Dataset, load_contract
from core.registry import Unit
from core.warehouse import table_exists


@dataclass(frozen=True)
class PlannedFile:
    unit: str
    quarter: str | None
    dataset: Dataset
    path: Path
    sha256: str

    @property
    def partition(self) -> str:
        return unit_quarter_key(self.unit, self.quarter)


@dataclass
class BatchPlan:
    files: list[PlannedFile]
    unchanged: list[str]  # partition keys skipped: every file already loaded with this content
    refused: dict[str, LandingFileError]  # partition key -> a file problem found while planning

    @property
    def partitions(self) -> list[str]:
        return sorted({f.partition for f in self.files})


def candidate_partitions(landing_root: Path, units: tuple[Unit, ...]) -> list[tuple[str, str | None]]:
    """(unit, quarter or None) of every partition folder that exists: umowa/ and the unit's quarters."""
    out = []
    for unit in units:
        if landing_folder(landing_root, unit.key, None).is_dir():
            out.append((unit.key, None))
        out += [(unit.key, q) for q in unit.quarters if landing_folder(landing_root, unit.key, q).is_dir()]
    return out


def current_versions(conn) -> dict[tuple[str, str | None, str], str]:
    if not table_exists(conn, "raw", "file_versions"):
        return {}
    rows = conn.execute("SELECT unit, quarter, dataset, file_sha256 FROM raw.file_versions WHERE is_current").fetchall()
    return {(u, q, d): h for u, q, d, h in rows}


def datasets_read(dataset: Dataset) -> set[str]:
    """The datasets whose staging rows the rules of `dataset` read as reference lists (may include itself)."""
    return {ref["dataset"] for rule in rules_for(dataset) for ref in rule.references}


def read_by_others() -> set[str]:
    """Datasets whose rows other datasets' rules read (participants, services, budget, …)."""
    return {name for d in load_contract().values() for name in datasets_read(d) - {d.name}}


def _partition_files(landing_root: Path, unit: str, quarter: str | None) -> list[PlannedFile]:
    """The partition's landing files (raises LandingFileError for a file problem found while planning)."""
    files = []
    for dataset in load_contract().values():
        if (dataset.level == "agreement") != (quarter is None):
            continue
        path = find_landing_file(landing_root, unit, quarter, dataset)
        if path is not None:
            files.append(PlannedFile(unit, quarter, dataset, path, file_sha256(path)))
    return files


def plan_batch(conn, landing_root: Path, units: tuple[Unit, ...], partitions: list[str] | None = None,
               force: bool = False) -> BatchPlan:
    """The files to ingest: of `partitions` (keys; None = every landed partition), the changed ones, and
    the later partitions of a unit whose reference data changed."""
    wanted = None if partitions is None else {split_partition_key(k) for k in partitions}
    loaded = current_versions(conn)
    referenced = read_by_others()
    plan = BatchPlan(files=[], unchanged=[], refused={})
    candidates = candidate_partitions(landing_root, units)
    found: dict[tuple[str, str | None], list[PlannedFile]] = {}

    def files_of(unit: str, quarter: str | None) -> list[PlannedFile]:
        """The partition's files, hashed once; a file problem refuses the partition (no files)."""
        if (unit, quarter) not in found:
            try:
                found[unit, quarter] = _partition_files(landing_root, unit, quarter)
            except LandingFileError as error:
                plan.refused[unit_quarter_key(unit, quarter)] = error
                found[unit, quarter] = []
        return found[unit, quarter]

    changed_from: dict[str, str] = {}  # unit -> first quarter whose reference data changed ("": agreement, every one)
    for unit, quarter in candidates:
        if wanted is not None and (unit, quarter) not in wanted:
            continue
        files = files_of(unit, quarter)
        if not files:
            continue
        changed = [f for f in files if loaded.get((f.unit, f.quarter, f.dataset.name)) != f.sha256]
        if not changed and not force:
            plan.unchanged.append(unit_quarter_key(unit, quarter))
            continue
        plan.files += files
        if any(f.dataset.name in referenced for f in changed):  # a file read again unchanged (force) changes nothing
            first = quarter or ""  # agreement data: sorts before every quarter
            changed_from[unit] = min(changed_from.get(unit, first), first)
    planned = {(f.unit, f.quarter) for f in plan.files}
    for unit, quarter in candidates:
        if quarter is None or unit not in changed_from or quarter <= changed_from[unit] or (unit, quarter) in planned:
            continue
        files = files_of(unit, quarter)
        if files:
            key = unit_quarter_key(unit, quarter)
            plan.files += files
            if key in plan.unchanged:
                plan.unchanged.remove(key)
    return plan
