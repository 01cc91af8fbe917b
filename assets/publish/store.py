"""The published folder: copies, the `current.duckdb` link, the manifest, the publish lock and
cleanup of old copies, and the read-only connection analysts' tools use.

    <published_dir>/cus_<UTC time>.duckdb      (read-only: mode 0444)
    <published_dir>/current.duckdb             symlink to the newest copy, switched atomically
    <published_dir>/current.json               what was published, when, from which warehouse
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

CURRENT_LINK = "current.duckdb"
MANIFEST = "current.json"
COPY_PREFIX = "cus_"
KEEP = 3


class PublishError(RuntimeError):
    """A publishing problem, with a one-line Polish message for the coordinator."""


def warehouse_fingerprint(warehouse_path: Path) -> str:
    """Size and modification time of the warehouse file and its WAL: changes after every write."""
    parts = []
    for path in (Path(warehouse_path), Path(f"{warehouse_path}.wal")):
        if path.exists():
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def current_copy(published_dir: Path) -> Path | None:
    """The copy `current.duckdb` points to, or None when nothing has been published yet."""
    link = Path(published_dir) / CURRENT_LINK
    if not link.exists():
        return None
    return link.resolve()


def read_manifest(published_dir: Path) -> dict:
    path = Path(published_dir) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@contextmanager
def publish_lock(published_dir: Path) -> Iterator[None]:
    """One publisher at a time (the sensor's run and `cus publish` may meet)."""
    with open(Path(published_dir) / ".publish.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)



def copy_name(published_dir: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    path = Path(published_dir) / f"{COPY_PREFIX}{stamp}.duckdb"
    n = 1
    while path.exists():
        path = Path(published_dir) / f"{COPY_PREFIX}{stamp}_{n}.duckdb"
        n += 1
    return path


def switch_current(published_dir: Path, copy: Path, manifest: dict) -> None:
    """Point current.duckdb at `copy` and rewrite current.json, each with an atomic rename."""
    link = Path(published_dir) / CURRENT_LINK
    tmp_link = Path(published_dir) / f".{CURRENT_LINK}.{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(copy.name)
    os.replace(tmp_link, link)
    tmp_manifest = Path(published_dir) / f".{MANIFEST}.{os.getpid()}"
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp_manifest, Path(published_dir) / MANIFEST)


def cleanup_old_copies(published_dir: Path, keep: int, current: Path) -> list[str]:
    copies = sorted(Path(published_dir).glob(f"{COPY_PREFIX}*.duckdb"), key=lambda p: p.name, reverse=True)
    deleted = []
    for old in copies[keep:]:
        if old.resolve() == current.resolve():
            continue
        old.unlink(missing_ok=True)
        Path(f"{old}.wal").unlink(missing_ok=True)
        deleted.append(old.name)
    # leftovers of a publish that crashed half-way (older than an hour, so never one in progress)
    for partial in Path(published_dir).glob(f".{COPY_PREFIX}*.duckdb.partial*"):
        if time.time() - partial.stat().st_mtime > 3600:
            partial.unlink(missing_ok=True)
    return deleted


def connect_published(published_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current copy, with file access and ATTACH disabled."""
    copy = current_copy(Path(published_dir))
    if copy is None or not copy.exists():
        raise PublishError(
            f"Brak opublikowanej kopii w {published_dir}: uruchom `cus publish` (albo potok `cus run`)."
        )
    return duckdb.connect(str(copy), read_only=True,
                          config={"enable_external_access": False, "lock_configuration": True})


