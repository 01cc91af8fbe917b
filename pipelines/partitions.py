"""Partitions: reporting quarter (quarterly time windows) × unit (registry keys)."""

from __future__ import annotations

import dagster as dg

from pipelines.quarters import next_quarter, partition_key_to_quarter, quarter_of, quarter_start
from pipelines.registry import Unit

QUARTER_CRON = "0 0 1 1,4,7,10 *"


def quarter_partitions(units: tuple[Unit, ...]) -> dg.TimeWindowPartitionsDefinition:
    first = min(u.period_start for u in units)
    last = max(u.period_end for u in units)

    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=QUARTER_CRON,
        start=quarter_start(quarter_of(first)).isoformat(),
        end=quarter_start(next_quarter(quarter_of(last))).isoformat(),
        fmt="%Y-%m-%d",
    )


def unit_partitions(units: tuple[Unit, ...]) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition([u.key for u in units])


def unit_quarter_partitions(units: tuple[Unit, ...]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition({"quarter": quarter_partitions(units), "unit": unit_partitions(units)})


def unit_and_quarter(context) -> tuple[str, str | None]:
    """(unit, `2021Q1`) of a unit × quarter run, (unit, None) of a unit run."""
    key = context.partition_key
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims["unit"], partition_key_to_quarter(dims["quarter"])
    return str(key), None
