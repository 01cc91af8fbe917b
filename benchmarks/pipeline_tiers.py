"""Benchmark: the whole pipeline (ONE batch run: ingest + validate + marts and indicators) on
sample data, side by side with the one-shot polars + DuckDB floor (benchmarks/floor.py) over the
same files: time, peak RSS and the ratio.

    .venv/bin/python benchmarks/pipeline_tiers.py                       # pilot tier: 4 units, scale 1.0
    .venv/bin/python benchmarks/pipeline_tiers.py --units 100           # the "today" tier
    .venv/bin/python benchmarks/pipeline_tiers.py --units 4 --scale 1.0 --reports 2022Q4

Runs in a temporary folder (own DAGSTER_HOME, warehouse, landing) with the same runner as
`cus run`, so the numbers are what a coordinator waits for. Prints numbers only (never a test).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _running_workers_peak_mb() -> float:
    """Peak RSS (VmHWM) of the worker processes still running: Great Expectations' validation worker of a
    small batch, kept for the next batch, and multiprocessing's resource tracker (~13 MB). (RUSAGE_CHILDREN cannot tell the workers that have ended: Linux carries a
    parent's peak over fork + exec into the child's.)"""
    running = 0.0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            running += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    return running


def _cpu_seconds() -> float:
    """CPU time (user + system, every thread) of this process, its ended children and its running ones
    (the GX worker or the validation service: /proc/<pid>/stat utime + stime)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # ended meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reports", help="also build the reports of this quarter, e.g. 2022Q4")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--service", action="store_true",
                        help="validate in a validation service started (and GX imported) before the run, as under "
                             "`cus ui` (the Dagster UI's runs); default: the run's own worker, as `cus run`")
    parser.add_argument("--batch-units", type=int, default=0,
                        help="ingest in batch runs of this many units (the marts and report tables once, in the last "
                             "run) — how the national tier is rebuilt within one machine's memory; 0 = one run")
    parser.add_argument("--landing", type=Path, help="copy this landing folder instead of generating sample data "
                                                     "(a folder kept by an earlier --keep run)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cus_bench_"))
    os.environ.update({
        "DAGSTER_HOME": str(work / "home"), "CUS_LANDING": str(work / "landing"),
        "CUS_WAREHOUSE": str(work / "cus.duckdb"), "CUS_REPORTS": str(work / "reports"),
        "CUS_PUBLISHED": str(work / "published"), "CUS_PSEUDONYM_KEY": "benchmark-key",
        "GX_ANALYTICS_ENABLED": "False",
    })
    (work / "home").mkdir()
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", work / "home" / "dagster.yaml")
    try:
        if args.service:
            from assets.staging.validation_service import start_service

            # It imports GX (~2 s) while this process imports Dagster and runs the floor (~3 s together).
            os.environ.update(start_service())
        import dagster as dg

        from core.quarters import quarter_to_partition_key
        from core.registry import REGISTRY_PATH, load_units
        from pipelines.definitions import build_definitions
        from pipelines.tools.runner import RunSummary, run_job, run_pipeline
        from pipelines.tools.sample_data import generate

        started = time.perf_counter()
        if args.landing:
            shutil.copytree(args.landing, work / "landing")
            registries = sorted(Path(args.landing).parent.glob("units_*.yaml"))  # written by the generator for >4 units
            registry = registries[0] if registries else REGISTRY_PATH
        else:
            summary = generate(work / "landing", units=args.units, scale=args.scale)
            registry = Path(summary.registry_path) if getattr(summary, "registry_path", None) else REGISTRY_PATH
        generated = time.perf_counter() - started
        os.environ["CUS_REGISTRY"] = str(registry)  # the runner, the jobs and the ops read the registry in use
        units = list(load_units(registry))[: args.units]
        defs = build_definitions(registry)
        instance = dg.DagsterInstance.get()
        lines: list[str] = []

        import json
        import subprocess

        floor = json.loads(subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py"), str(work / "landing"),
                                           "--json"], capture_output=True, text=True, check=True).stdout)

        started, cpu_started = time.perf_counter(), _cpu_seconds()
        size = args.batch_units or len(units)
        groups = [units[i:i + size] for i in range(0, len(units), size)]
        failed = False
        for number, group in enumerate(groups, start=1):
            result = run_pipeline(defs, instance, group, work / "landing", with_tables=number == len(groups),
                                  with_reports=False, echo=lines.append)
            failed = failed or not result.ok
            if len(groups) > 1:
                print(f"  batch run {number}/{len(groups)} ({len(group)} units): {time.perf_counter() - started:7.1f} s "
                      f"so far, peak RSS {_peak_mb():.0f} MB", flush=True)
        ingest = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started
        tables = RunSummary()

        reports = None
        if args.reports:
            started = time.perf_counter()
            run_job(defs, "reports_job", quarter_to_partition_key(args.reports), instance, "reports", tables,
                    lines.append)
            reports = time.perf_counter() - started

        import duckdb

        with duckdb.connect(os.environ["CUS_WAREHOUSE"], read_only=True) as conn:
            counts = dict(conn.sql(
                "SELECT 'deliveries', count(*) FROM staging.deliveries UNION ALL "
                "SELECT 'expenses', count(*) FROM staging.expenses UNION ALL "
                "SELECT 'participants', count(*) FROM staging.participants UNION ALL "
                "SELECT 'quarantined', count(*) FROM staging.quarantine WHERE severity = 'error'").fetchall())

        print(f"tier: {args.units} units × scale {args.scale}")
        print(f"rows (staging): {counts}")
        print(f"{'copy the landing folder:' if args.landing else 'generate sample data:':28s} {generated:8.1f} s")
        print(f"floor (polars + DuckDB):     {floor['seconds']:8.1f} s  peak RSS {floor['peak_rss_mb']} MB")
        runs = "one batch run" if len(groups) == 1 else f"{len(groups)} batch runs of ≤ {size} units"
        print(f"ingest + validate + indicators ({runs}): {ingest:8.1f} s  "
              f"({'FAILED' if failed else 'ok'}) = {ingest / max(floor['seconds'], 0.01):.1f}× the floor")
        cores = len(os.sched_getaffinity(0))
        print(f"CPU time (user + system, all processes): pipeline {cpu:8.1f} s, floor {floor['cpu_seconds']:.1f} s — "
              f"on {cores} cores no schedule of the pipeline's work ends before {cpu / cores:.1f} s "
              f"= {cpu / cores / max(floor['seconds'], 0.01):.1f}× the floor"
              + (" (GX imported before the run: --service)" if args.service else ""))
        if reports is not None:
            print(f"reports {args.reports} (HTML+PDF+XLSX): {reports:6.1f} s")
        print(f"peak memory (this process):  {_peak_mb():8.0f} MB; + its running worker processes "
              f"{_running_workers_peak_mb():.0f} MB (GX validation of a small batch; multiprocessing's resource tracker)")
        print(f"warehouse file:              {Path(os.environ['CUS_WAREHOUSE']).stat().st_size / 2**20:8.1f} MB")
        for line in lines:
            if "BŁĄD" in line:
                print(line)
    finally:
        if args.keep:
            print(f"folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
