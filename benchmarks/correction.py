"""Benchmark: a coordinator's correction from the command line — one re-sent unit × quarter file →
validation, warehouse and indicators → that unit's reports from that quarter on (+ the
consolidated ones), as `cus ingest --demo --unit starachowice --quarter 2021Q3` does it.

    .venv/bin/python benchmarks/correction.py --workdir /tmp/cb     # reuses coordinator_path.py's prepared demo
    .venv/bin/python benchmarks/correction.py                       # temp folder, prepared from scratch (~1 min)

Prepares (or reuses) the pilot demo in a work folder exactly as benchmarks/coordinator_path.py
does, copies the re-sent `starachowice/2021Q3/wydatki.csv` over the landing file (with a work
folder that already holds it: the original content goes back — the same chain), runs the CLI and
prints: seconds until every report file of the unit for 2021Q3 and each later quarter is rewritten
(the issue's target: "that unit's reports from that quarter on"), and until the consolidated reports
of those quarters are rewritten too, the CLI's own step times, the whole command (incl. status grid and
published copy), peak RSS, and the floor — benchmarks/floor.py over the same unit's landing files
(agreement + every quarter: a correction's cumulative figures read them all) — with the ratio.
Numbers only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import coordinator_path as demo  # noqa: E402  (the same prepared demo and the same re-sent file)

BIN, DATASET_FILE, QUARTER, UNIT = demo.BIN, demo.DATASET_FILE, demo.QUARTER, demo.UNIT


def floor(work: Path) -> dict:
    """floor.py over the corrected unit's landing files only."""
    with tempfile.TemporaryDirectory(prefix="cus-correction-floor-") as tmp:
        shutil.copytree(work / "landing" / UNIT, Path(tmp) / UNIT)
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py"), tmp, "--json"],
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_cli(work: Path, env: dict[str, str]) -> tuple[float, float | None, float | None, str, int]:
    """(seconds of the command, seconds until the last report file of the unit was rewritten (the
    target), the same for every expected file incl. the consolidated reports, output, peak RSS in MB
    of the largest child process so far)."""
    expected = demo.report_files(work / "reports", work / "landing")
    source = demo.choose_drop(work)
    shutil.copy(source, work / "landing" / UNIT / QUARTER / DATASET_FILE)
    started = time.time()
    process = subprocess.Popen([str(BIN / "cus"), "ingest", "--demo", "--unit", UNIT, "--quarter", QUARTER],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate()
    took = time.time() - started
    fresh = [p for p in expected if p.is_file() and p.stat().st_mtime > started]
    reports_at = max(p.stat().st_mtime for p in fresh) - started if len(fresh) == len(expected) and fresh else None
    own = demo.unit_files(expected)
    unit_at = max(p.stat().st_mtime for p in own) - started if reports_at is not None and own else None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024  # the largest process waited for
    if process.returncode != 0:
        print(output)
        raise SystemExit(f"cus ingest zakończył się kodem {process.returncode}")
    print(f"przepisane pliki raportów: {len(fresh)}/{len(expected)}")
    return took, unit_at, reports_at, output, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="folder roboczy (przygotowany = ponownie użyty); domyślnie tymczasowy")
    parser.add_argument("--runs", type=int, default=2, help="ile razy powtórzyć korektę (na zmianę plik i oryginał)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cus-correction-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **demo.settings(work)}
    print(f"obciążenie na starcie (loadavg 1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"rdzenie: {os.cpu_count()}")
    demo.prepare(work, env)
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    base = floor(work)
    print(f"floor (polars + DuckDB, pliki jednostki {UNIT}): {base['seconds']:.2f} s, {base['files']} plików, "
          f"szczyt RSS {base['peak_rss_mb']} MB")
    for attempt in range(1, args.runs + 1):
        took, unit_at, reports_at, output, peak = run_cli(work, env)
        steps = re.findall(r"ok\s+(\S+(?: \S+)?) \(([\d,]+) s\)", output)
        print(f"przebieg {attempt}: raporty jednostki {UNIT} przepisane po {unit_at:.1f} s (cel ≤ 15 s; "
              f"{unit_at / base['seconds']:.0f}× floor), z raportami zbiorczymi po {reports_at:.1f} s, "
              f"całe polecenie {took:.1f} s (z tabelą stanu i kopią do SQL), szczyt RSS {peak} MB"
              if unit_at is not None else f"przebieg {attempt}: raporty NIE zostały przepisane ({took:.1f} s)")
        print("  kroki CLI: " + ", ".join(f"{name} {seconds} s" for name, seconds in steps))
    print(f"obciążenie na końcu (loadavg 1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
