"""Write one quarter's reports: per unit and consolidated, each as HTML, PDF and XLSX.

    <reports root>/<YYYY>Q<n>/<unit>/raport_<unit>_<YYYY>Q<n>.{html,pdf,xlsx}
    <reports root>/<YYYY>Q<n>/zbiorczy/raport_zbiorczy_<YYYY>Q<n>.{html,pdf,xlsx}

The warehouse is read once (read-only) into `ReportInputs`; rendering happens after the
connection is closed. Files are written under a temporary name and renamed, so a reader never
sees half a report. One Chromium prints all PDFs of the quarter (reports/pdf.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.registry import Unit
from reports.builder import CONSOLIDATED, ReportInputs, build_report
from reports.html import render_html
from reports.model import Report
from reports.pdf import PdfPrinter
from reports.settings import ReportSettings, default_settings
from reports.versioning import stamp_version
from reports.workbooks import WorkbookWriter, write_workbook


@dataclass
class ReportFiles:
    unit_key: str  # unit key or "zbiorczy"
    title: str
    html: Path
    xlsx: Path
    pdf: Path | None = None
    suppressed_cells: int = 0
    report: Report | None = field(default=None, repr=False)

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.html, self.pdf, self.xlsx) if p is not None]


def report_folder(root: Path, quarter: str, unit_key: str) -> Path:
    return Path(root) / quarter / unit_key


def report_stem(quarter: str, unit_key: str) -> str:
    return f"raport_{unit_key}_{quarter}"


def units_in_quarter(units: list[Unit] | tuple[Unit, ...], quarter: str) -> list[Unit]:
    """Units whose project period includes (part of) the quarter: they owe a report for it."""
    return [u for u in units if quarter in u.quarters]


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(report: Report, root: Path, printer: PdfPrinter | None = None,
                 workbooks: WorkbookWriter | None = None) -> ReportFiles:
    """HTML and XLSX now; with a `printer` the PDF is queued on it (`pdf` is where it is being
    printed; `printer.drain()` waits for it); with `workbooks` a large XLSX may be written in its
    worker process (`workbooks.drain()` waits for it)."""
    folder = report_folder(root, report.quarter, report.unit_key)
    folder.mkdir(parents=True, exist_ok=True)
    stamp_version(report, folder)  # reports/versioning.py: +1 when the content changed since the last build
    stem = report_stem(report.quarter, report.unit_key)
    html = folder / f"{stem}.html"
    _write_text_atomic(html, render_html(report))
    xlsx = folder / f"{stem}.xlsx"
    if workbooks is None:
        write_workbook(report, xlsx)
    else:
        workbooks.write(report, xlsx)
    pdf = None
    if printer is not None:
        pdf = folder / f"{stem}.pdf"
        printer.submit_report(report, pdf)
    return ReportFiles(report.unit_key, report.title, html, xlsx, pdf, report.suppressed_cells, report)


def build_quarter_reports(inputs: ReportInputs, settings: ReportSettings | None = None,
                          generated_at: datetime | None = None, only_units: list[str] | None = None,
                          consolidated: bool = True) -> list[Report]:
    """Per-unit reports (in registry order) followed by the consolidated one. `only_units`: the
    reports of just these units (+ the consolidated one, which still sums every unit's inputs);
    `consolidated=False`: without it."""
    settings = settings or default_settings()
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    reports = [build_report(inputs, "unit", u.key, settings, generated_at) for u in inputs.units
               if only_units is None or u.key in only_units]
    if inputs.units and consolidated:
        reports.append(build_report(inputs, "consolidated", None, settings, generated_at))
    return reports


def write_quarter_reports(inputs: ReportInputs, root: Path, settings: ReportSettings | None = None,
                          with_pdf: bool = True, only_units: list[str] | None = None,
                          printer: PdfPrinter | None = None,
                          workbooks: WorkbookWriter | None = None, consolidated: bool = True) -> list[ReportFiles]:
    """Every report of the quarter (or those of `only_units` + the consolidated one); the PDFs are
    printed by one browser, `settings.pdf_parallel_pages` pages at a time, while the next reports'
    HTML and XLSX are written. `printer`: a browser already open for several quarters (left open;
    the PDFs may still be printing on return — `printer.drain()` waits for them); `workbooks`: the
    run's workbook writer (large XLSX in its worker process — `workbooks.drain()` waits for them);
    `consolidated=False`: the units' reports only."""
    settings = settings or default_settings()
    reports = build_quarter_reports(inputs, settings, only_units=only_units, consolidated=consolidated)
    if not with_pdf:
        return [write_report(r, Path(root), None, workbooks) for r in reports]
    if printer is not None:  # the caller waits (`printer.drain()`): the next quarter is built meanwhile
        return [write_report(r, Path(root), printer, workbooks) for r in reports]
    with PdfPrinter(parallel=settings.pdf_parallel_pages, timeout=settings.pdf_timeout_seconds) as own:
        files = [write_report(r, Path(root), own, workbooks) for r in reports]
        own.drain()
        return files


__all__ = ["CONSOLIDATED", "ReportFiles", "build_quarter_reports", "report_folder", "report_stem",
           "units_in_quarter", "write_quarter_reports", "write_report"]
