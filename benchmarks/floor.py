"""The floor: a plain one-shot polars + DuckDB script over the same landing files as the pipeline.

    .venv/bin/python benchmarks/floor.py data/landing            # prints time, peak RSS, headline figures
    .venv/bin/python benchmarks/floor.py data/landing --json      # one JSON line (used by other benchmarks)

What it does is the least any pipeline must do: read every quarterly file (CSV in UTF-8 or
Windows-1250, `;` or `,`, decimal comma; participants XLSX with a header block) and the
agreement's service catalogue in parallel, and compute the headline figures per unit × quarter in
DuckDB — persons, deliveries and their value, eligible direct costs, indirect costs at 15 % and
the EU / national split. It does no validation, no pseudonymisation, no lineage, no
orchestration and writes nothing, so the pipeline's benchmarks print their time as a multiple
of this one (DESIGN targets: pilot ingest + validate + indicators ≤ 6× the floor).
Prints numbers only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

QUARTER_FILES = {"swiadczenia.csv": "deliveries", "wydatki.csv": "expenses", "uczestnicy.csv": "participants",
                 "uczestnicy.xlsx": "participants"}
COLUMNS = {
    "deliveries": {"Identyfikator uczestnika": "participant_id", "Kod usługi": "service_code",
                   "Liczba jednostek": "units", "Wartość": "value"},
    "expenses": {"Kwota wydatków kwalifikowalnych": "eligible", "Nr zadania": "task_no"},
    "participants": {"Identyfikator uczestnika": "participant_id", "Płeć": "sex"},
    "services": {"Kod usługi": "service_code", "Cena jednostkowa": "price"},
}


def _text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _csv(path: Path, dataset: str) -> pl.DataFrame:
    text = _text(path)
    header = text.split("\n", 1)[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    frame = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, truncate_ragged_lines=True)
    return _select(frame, dataset)


def _xlsx(path: Path, dataset: str) -> pl.DataFrame:
    sheet = pl.read_excel(path, has_header=False, infer_schema_length=0)
    first = sheet.columns[0]
    header_row = next(i for i, v in enumerate(sheet[first].to_list()) if v == "Identyfikator uczestnika")
    names = [str(v) for v in sheet.row(header_row)]
    frame = sheet.slice(header_row + 1).rename(dict(zip(sheet.columns, names, strict=True)))
    return _select(frame, dataset)


def _select(frame: pl.DataFrame, dataset: str) -> pl.DataFrame:
    wanted = COLUMNS[dataset]
    return frame.select([pl.col(h).cast(pl.Utf8).alias(n) for h, n in wanted.items() if h in frame.columns])


def read_one(item: tuple[str, str | None, str, Path]) -> tuple[str, pl.DataFrame]:
    unit, quarter, dataset, path = item
    frame = _xlsx(path, dataset) if path.suffix == ".xlsx" else _csv(path, dataset)
    return dataset, frame.with_columns(pl.lit(unit).alias("unit"), pl.lit(quarter).alias("quarter"))


def landing_items(root: Path) -> list[tuple[str, str | None, str, Path]]:
    items = []
    for unit_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for folder in sorted(p for p in unit_dir.iterdir() if p.is_dir()):
            if folder.name == "umowa":
                if (folder / "uslugi.csv").is_file():
                    items.append((unit_dir.name, None, "services", folder / "uslugi.csv"))
                continue
            for file in sorted(folder.iterdir()):
                if file.name in QUARTER_FILES:
                    items.append((unit_dir.name, folder.name, QUARTER_FILES[file.name], file))
    return items


HEADLINE_SQL = """
WITH deliveries AS (
    SELECT d.unit, d.quarter, count(*) AS deliveries,
           sum(coalesce(try_cast(replace(replace(d.value, ' ', ''), ',', '.') AS DECIMAL(18, 2)),
                        try_cast(replace(d.units, ',', '.') AS DECIMAL(18, 2))
                        * try_cast(replace(replace(s.price, ' ', ''), ',', '.') AS DECIMAL(18, 2)))) AS value
    FROM deliveries AS d LEFT JOIN services AS s USING (unit, service_code)
    GROUP BY d.unit, d.quarter
),
expenses AS (
    SELECT unit, quarter,
           sum(try_cast(replace(replace(eligible, ' ', ''), ',', '.') AS DECIMAL(18, 2))) AS direct
    FROM expenses WHERE task_no IS DISTINCT FROM '0' GROUP BY unit, quarter
),
persons AS (
    SELECT unit, quarter, count(DISTINCT participant_id) AS persons FROM participants GROUP BY unit, quarter
),
claims AS (
    SELECT e.unit, e.quarter, e.direct, round(e.direct * 0.15, 2) AS indirect,
           e.direct + round(e.direct * 0.15, 2) AS eligible
    FROM expenses AS e
)
SELECT c.unit, c.quarter, p.persons, d.deliveries, d.value, c.direct, c.indirect, c.eligible,
       floor(c.eligible * 0.8428 * 100) / 100 AS eu_part,
       c.eligible - floor(c.eligible * 0.8428 * 100) / 100 AS national_part
FROM claims AS c
LEFT JOIN deliveries AS d USING (unit, quarter)
LEFT JOIN persons AS p USING (unit, quarter)
ORDER BY c.unit, c.quarter
"""


def run(root: Path, workers: int = 2) -> dict:
    started, cpu_started = time.perf_counter(), time.process_time()
    items = landing_items(root)
    frames: dict[str, list[pl.DataFrame]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for dataset, frame in pool.map(read_one, items):
            frames.setdefault(dataset, []).append(frame)
    read = time.perf_counter() - started
    conn = duckdb.connect()
    for dataset, parts in frames.items():
        conn.register(dataset, pl.concat(parts, how="diagonal_relaxed").to_arrow())
    headline = conn.sql(HEADLINE_SQL).fetchall()
    seconds = time.perf_counter() - started
    rows = {name: sum(f.height for f in parts) for name, parts in frames.items()}
    return {"seconds": round(seconds, 2), "cpu_seconds": round(time.process_time() - cpu_started, 2),
            "read_seconds": round(read, 2), "files": len(items), "rows": rows,
            "unit_quarters": len(headline), "peak_rss_mb": round(peak_rss_mb()),
            "eligible_total": str(sum((r[7] or 0) for r in headline))}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.landing, args.workers)
    if args.json:
        print(json.dumps(result))
        return
    print(f"floor (polars + DuckDB, one shot): {result['seconds']:.2f} s "
          f"(reading {result['read_seconds']:.2f} s; CPU {result['cpu_seconds']:.2f} s), {result['files']} files, peak RSS {result['peak_rss_mb']} MB")
    print(f"rows: {result['rows']}; unit × quarter claims: {result['unit_quarters']}; "
          f"eligible total {result['eligible_total']}")


if __name__ == "__main__":
    sys.exit(main())
