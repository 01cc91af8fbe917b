"""Benchmark: time, peak memory and disk for generating the sample data of the scale tiers.

    .venv/bin/python benchmarks/generate_tiers.py                     # pilot tier (4 units, scale 1.0)
    .venv/bin/python benchmarks/generate_tiers.py --tier today        # 100 units
    .venv/bin/python benchmarks/generate_tiers.py --units 4 20 --scale 0.5
    .venv/bin/python benchmarks/generate_tiers.py --tier national --out /big/disk   # 2 477 units, ~9 GB

Tiers (docs/domain.md §13): pilot = 4 units × (~1 500 participants, ~60 000 deliveries, ~3 000
documents); today = 100 units, same per unit; national = 2 477 units at scale 0.35 (≈ 1.3 mln
participants, ≈ 50 mln deliveries in total). Each tier runs in its own child process so the peak
resident memory (resource.getrusage ru_maxrss) is that tier's alone; it should stay flat as the
number of units grows, because the generator writes one unit at a time.
Prints numbers only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = {"pilot": (4, 1.0), "today": (100, 1.0), "national": (2477, 0.35)}


def run_single(units: int, scale: float, out: Path, seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipelines.tools.sample_data import generate

    started = time.perf_counter()
    summary = generate(out / "landing", seed=seed, units=units, scale=scale)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"units": units, "scale": scale, "seconds": round(seconds, 2), "files": summary.files,
            "rows": summary.rows, "bytes": size,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=sorted(TIERS), action="append", help="named tier (repeatable)")
    parser.add_argument("--units", type=int, nargs="*", help="unit counts to generate (instead of --tier)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale for --units (default 1.0)")
    parser.add_argument("--seed", type=int, default=2028)
    parser.add_argument("--out", help="folder for the data (default: a temporary folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--single", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.single is not None:  # child process: one tier, result as one JSON line
        print(json.dumps(run_single(args.single, args.scale, Path(args.out), args.seed)))
        return 0

    runs = [(n, args.scale) for n in args.units] if args.units else [TIERS[t] for t in (args.tier or ["pilot"])]
    base = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="cus_bench_"))
    print(f"{'units':>6} {'scale':>6} {'seconds':>8} {'peak MB':>8} {'files':>7} {'participants':>12} "
          f"{'deliveries':>11} {'documents':>10} {'disk MB':>8}")
    for units, scale in runs:
        out = base / f"units_{units}_scale_{scale}"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        child = subprocess.run([sys.executable, __file__, "--single", str(units), "--scale", str(scale),
                                "--seed", str(args.seed), "--out", str(out)], capture_output=True, text=True)
        if child.returncode:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        r = json.loads(child.stdout.strip().splitlines()[-1])
        rows = r["rows"]
        print(f"{units:>6} {scale:>6} {r['seconds']:>8} {r['peak_rss_mb']:>8} {r['files']:>7} "
              f"{rows.get('participants', 0):>12} {rows.get('deliveries', 0):>11} {rows.get('expenses', 0):>10} "
              f"{r['bytes'] / 2**20:>8.1f}")
        if not args.keep:
            shutil.rmtree(out)
    if not args.keep and not args.out:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
