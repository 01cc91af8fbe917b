"""Report workbooks (XLSX) written under a temporary name and renamed; the large ones in a worker process.

A consolidated report's workbook keeps every row per unit — 100 units: every expense document
(~22 500 rows) and the per-unit tables the page shows only as totals — ~2–3 s of xlsxwriter per
quarter, in Python, on the thread that also builds the next report and renders its HTML.
`WorkbookWriter` hands workbooks of at least `OFFLOAD_FROM_ROWS` table rows to one worker process
(started at the first such workbook), so they are written on the other core; smaller ones — every
unit's, all of the pilot's — are written at once: the worker's start (~1 s) would cost more than
they take. `drain()` waits for the worker's files and raises its errors.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path

from core.worker_processes import worker_processes
from reports.model import Report
from reports.xlsx import write_xlsx

OFFLOAD_FROM_ROWS = 5_000


def write_workbook(report: Report, path: Path) -> Path:
    """The report's workbook at `path`, never seen half-written."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.xlsx")
    write_xlsx(report, tmp)
    os.replace(tmp, path)
    return path


def table_rows(report: Report) -> int:
    return sum(len(table.rows) for section in report.sections for table in section.tables)


class WorkbookWriter:
    """Writes the workbooks of a run: large ones in a worker process, the others at once."""

    def __init__(self, offload_from_rows: int | None = None) -> None:
        self._offload_from = OFFLOAD_FROM_ROWS if offload_from_rows is None else offload_from_rows
        self._stack = ExitStack()
        self._pool = None
        self._pending: list[Future] = []
        self.offloaded = 0  # workbooks handed to the worker process

    def __enter__(self) -> WorkbookWriter:
        return self

    def __exit__(self, error_type, _error, _traceback) -> None:
        try:
            if error_type is None:
                self.drain()
        finally:
            self._stack.close()  # waits for the worker's files in any case

    def write(self, report: Report, path: Path) -> None:
        if table_rows(report) < self._offload_from:
            write_workbook(report, path)
            return
        if self._pool is None:
            self._pool = self._stack.enter_context(worker_processes(1))
        self._pending.append(self._pool.submit(write_workbook, report, path))
        self.offloaded += 1

    def drain(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
