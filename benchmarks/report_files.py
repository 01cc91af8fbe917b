"""Benchmark: the quarterly report files (HTML, PDF, XLSX) of every quarter — or of the quarters
given — from an existing warehouse, as the asset `report/quarterly_reports` writes them.

    .venv/bin/python benchmarks/report_files.py                          # data/warehouse/cus.duckdb, every quarter
    .venv/bin/python benchmarks/report_files.py --quarters 2022Q4 --out /tmp/raporty
    .venv/bin/python benchmarks/report_files.py --warehouse other.duckdb --no-pdf

Prints numbers only: seconds per quarter and in all, the number of reports, MB in all and per
format, the largest HTML. Run `cus demo` (or `cus run` on landed files) first for a warehouse.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from core.registry import load_units
    from reports import queries
    from reports.generate import units_in_quarter, write_quarter_reports
    from reports.pdf import PdfPrinter
    from reports.settings import default_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=str(ROOT / "data" / "warehouse" / "cus.duckdb"))
    parser.add_argument("--quarters", nargs="*", help="np. 2022Q4 (domyślnie: każdy kwartał projektów)")
    parser.add_argument("--out", help="folder raportów (domyślnie: tymczasowy)")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()
    units = load_units()
    quarters = args.quarters or sorted({q for u in units for q in u.quarters})
    out = Path(args.out or tempfile.mkdtemp(prefix="cus-report-bench-"))
    settings = default_settings()
    started = time.perf_counter()
    count = 0
    printer = None
    if not args.no_pdf:  # one browser for every quarter, as the asset's run over a range of quarters
        printer = PdfPrinter(parallel=settings.pdf_parallel_pages, timeout=settings.pdf_timeout_seconds).__enter__()
    for quarter in quarters:
        covered = units_in_quarter(units, quarter)
        if not covered:
            continue
        t0 = time.perf_counter()
        with queries.read_only(Path(args.warehouse)) as conn:
            inputs = queries.load_report_inputs(conn, quarter, covered)
        read = time.perf_counter() - t0
        files = write_quarter_reports(inputs, out, settings, with_pdf=not args.no_pdf, printer=printer)
        count += len(files)
        print(f"{quarter}: {len(files)} raportów, odczyt {read:.2f} s, razem {time.perf_counter() - t0:.1f} s")
    if printer is not None:
        printer.drain()
        printer.close()
    elapsed = time.perf_counter() - started
    sizes: dict[str, list[int]] = {}
    for path in out.rglob("raport_*"):
        sizes.setdefault(path.suffix, []).append(path.stat().st_size)
    total = sum(sum(v) for v in sizes.values())
    print(f"raporty: {count}, czas: {elapsed:.1f} s ({elapsed / max(count, 1):.2f} s na raport)")
    print(f"rozmiar: {total / 1e6:.1f} MB w {out}")
    for suffix, values in sorted(sizes.items()):
        print(f"  {suffix}: {len(values)} plików, {sum(values) / 1e6:.1f} MB, "
              f"średnio {sum(values) / len(values) / 1e6:.2f} MB, największy {max(values) / 1e6:.2f} MB")
    print(f"szczyt pamięci (ten proces): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
