"""Benchmark: what one per-partition event costs in Dagster's run history (SQLite), with Dagster's
own event log and with the project's pooled one (core/event_log_storage.py).

    .venv/bin/python benchmarks/event_log.py            # 300 materializations + 300 check results each

A batch run logs a materialization per unit × quarter × dataset and a check result per rule
(about 3 000 events for the pilot), so this cost multiplies. Prints numbers only (never a test).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DAGSTER_DEFAULT = "telemetry:\n  enabled: false\n"
PROJECT = (ROOT / ".dagster_home" / "dagster.yaml").read_text(encoding="utf-8")


def _child(n: int) -> None:
    import dagster as dg

    from core.event_log_storage import log_events_grouped

    partitions = dg.StaticPartitionsDefinition([f"p{i}" for i in range(n)])

    @dg.asset(partitions_def=partitions)
    def asset():
        return None

    timings: dict[str, float] = {}

    @dg.op
    def log_events(context):
        started = time.perf_counter()
        log_events_grouped(context, (dg.AssetMaterialization(asset_key="asset", partition=f"p{i}", metadata={"rows": i})
                                     for i in range(n)))
        timings["materialization"] = time.perf_counter() - started
        started = time.perf_counter()
        log_events_grouped(context, (dg.AssetCheckEvaluation(asset_key=dg.AssetKey("asset"), check_name="rule",
                                                             passed=True, partition=f"p{i}", metadata={"rows": i})
                                     for i in range(n)))
        timings["check"] = time.perf_counter() - started

    @dg.job(logger_defs={})
    def job():
        log_events()

    job.execute_in_process(instance=dg.DagsterInstance.get())
    for kind, seconds in timings.items():
        print(f"{kind} {seconds / n * 1000:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.events)
        return
    print(f"{args.events} materializations + {args.events} check results, one run, ms per event")
    for name, config in (("Dagster's SqliteEventLogStorage", DAGSTER_DEFAULT), ("project's pooled storage", PROJECT)):
        with tempfile.TemporaryDirectory(prefix="cus_events_") as home:
            Path(home, "dagster.yaml").write_text(config, encoding="utf-8")
            env = {**os.environ, "DAGSTER_HOME": home, "PYTHONPATH": str(ROOT)}
            output = subprocess.run([sys.executable, __file__, "--child", "--events", str(args.events)], env=env,
                                    capture_output=True, text=True, check=True).stdout
            numbers = dict(line.split() for line in output.splitlines() if line[:1].isalpha() and len(line.split()) == 2)
            print(f"{name:34s} materialization {numbers['materialization']:>7s} ms   check {numbers['check']:>7s} ms")


if __name__ == "__main__":
    main()
