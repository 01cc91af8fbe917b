"""Benchmark: what one per-partition event costs in Dagster's run history (SQLite): `context.log_event`
with Dagster's own event log, the same with the project's pooled one (core/event_log_storage.py,
250 events per commit), and the batch's set-based path (`log_events_bulk`, core/event_log_batch.py).

    .venv/bin/python benchmarks/event_log.py            # 300 materializations + 300 check results each
    .venv/bin/python benchmarks/event_log.py --events 150000 --bulk-only   # a large batch's path only

A batch run logs a materialization per unit × quarter × dataset and a check result per rule
(about 3 000 events for the pilot), so this cost multiplies. Prints numbers only (never a test).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DAGSTER_DEFAULT = "telemetry:\n  enabled: false\n"
PROJECT = (ROOT / ".dagster_home" / "dagster.yaml").read_text(encoding="utf-8")


def _child(n: int, bulk: bool) -> None:
    import dagster as dg

    from core.event_log_batch import GROUP_SIZE, event_serializer, log_events_bulk

    def log_events(context, events) -> None:
        if bulk:  # as the batch does: a second process serializes when the step logs many events
            with event_serializer(n) as serializer:
                log_events_bulk(context, events, serializer)
            return
        group = getattr(context.instance.event_log_storage, "grouped_writes", contextlib.nullcontext)
        events = list(events)
        for start in range(0, len(events), GROUP_SIZE):  # the pooled storage: one commit per GROUP_SIZE events
            with group():
                for event in events[start:start + GROUP_SIZE]:
                    context.log_event(event)

    partitions = dg.StaticPartitionsDefinition([f"p{i}" for i in range(n)])

    @dg.asset(partitions_def=partitions)
    def asset():
        return None

    timings: dict[str, float] = {}

    @dg.op
    def log_partition_events(context):
        started = time.perf_counter()
        log_events(context, (dg.AssetMaterialization(asset_key="asset", partition=f"p{i}", metadata={"rows": i})
                             for i in range(n)))
        timings["materialization"] = time.perf_counter() - started
        started = time.perf_counter()
        log_events(context, (dg.AssetCheckEvaluation(asset_key=dg.AssetKey("asset"), check_name="rule",
                                                     passed=True, partition=f"p{i}", metadata={"rows": i})
                             for i in range(n)))
        timings["check"] = time.perf_counter() - started

    @dg.job(logger_defs={})
    def job():
        log_partition_events()

    job.execute_in_process(instance=dg.DagsterInstance.get())
    for kind, seconds in timings.items():
        print(f"{kind} {seconds / n * 1000:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--bulk-only", action="store_true", help="only the batch's path (for many events)")
    parser.add_argument("--child", choices=["per-event", "bulk"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.events, bulk=args.child == "bulk")
        return
    print(f"{args.events} materializations + {args.events} check results, one run, ms per event")
    variants = (("log_event, Dagster's SqliteEventLogStorage", DAGSTER_DEFAULT, "per-event"),
                ("log_event, project's pooled storage", PROJECT, "per-event"),
                ("log_events_bulk, project's pooled storage", PROJECT, "bulk"))
    for name, config, mode in variants[2:] if args.bulk_only else variants:
        with tempfile.TemporaryDirectory(prefix="cus_events_") as home:
            Path(home, "dagster.yaml").write_text(config, encoding="utf-8")
            env = {**os.environ, "DAGSTER_HOME": home, "PYTHONPATH": str(ROOT)}
            output = subprocess.run([sys.executable, __file__, "--child", mode, "--events", str(args.events)], env=env,
                                    capture_output=True, text=True, check=True).stdout
            numbers = dict(line.split() for line in output.splitlines() if line[:1].isalpha() and len(line.split()) == 2)
            print(f"{name:44s} materialization {numbers['materialization']:>7s} ms   check {numbers['check']:>7s} ms")


if __name__ == "__main__":
    main()
