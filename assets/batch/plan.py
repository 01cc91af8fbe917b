"""Which landed files a batch reads: every changed partition, whole (all of its datasets' files).

A partition is unchanged when each of its landing files has the content (SHA-256) of the current
version in raw.file_versions; then nothing of it is read again. A changed partition is re-ingested
whole, as a one-partition run would (its other files are read again, with the same versions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assets.partition_keys import split_partition_key, unit_quarter_key
from assets.raw.ingest import find_landing_file, landing_folder
from assets.raw.landing_file import LandingFileError, file_sha256
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


def plan_batch(conn, landing_root: Path, units: tuple[Unit, ...], partitions: list[str] | None = None,
               force: bool = False) -> BatchPlan:
    """The files to ingest: of `partitions` (keys; None = every landed partition), the changed ones."""
    wanted = None if partitions is None else {split_partition_key(k) for k in partitions}
    loaded = current_versions(conn)
    plan = BatchPlan(files=[], unchanged=[], refused={})
    for unit, quarter in candidate_partitions(landing_root, units):
        if wanted is not None and (unit, quarter) not in wanted:
            continue
        key = unit_quarter_key(unit, quarter)
        files = []
        try:
            for dataset in load_contract().values():
                if (dataset.level == "agreement") != (quarter is None):
                    continue
                path = find_landing_file(landing_root, unit, quarter, dataset)
                if path is not None:
                    files.append(PlannedFile(unit, quarter, dataset, path, file_sha256(path)))
        except LandingFileError as error:
            plan.refused[key] = error
            continue
        if not files:
            continue
        if not force and all(loaded.get((f.unit, f.quarter, f.dataset.name)) == f.sha256 for f in files):
            plan.unchanged.append(key)
            continue
        plan.files += files
    return plan
