"""Partitions: unit × reporting quarter (`starachowice|2021Q3`), unit (agreement data), quarter (reports).

The unit × quarter partitions are one static dimension whose keys are only the registry's valid
pairs (assets/partition_keys.py), not a cross product of every unit with every quarter.
"""

from __future__ import annotations

import dagster as dg

# Dagster 1.13 has no public name for a run over a partition range (its backfills and the UI's
# "launch a range" write these tags); the one place the project uses them.
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.partition_keys import unit_quarter_key
from core.quarters import next_quarter, quarter_of, quarter_start
from core.registry import Unit

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


def unit_quarter_keys(units: tuple[Unit, ...]) -> list[str]:
    return [unit_quarter_key(u.key, q) for u in units for q in u.quarters]


def unit_quarter_partitions(units: tuple[Unit, ...]) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(unit_quarter_keys(units))


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of ONE run over the partitions first..last (a single-run backfill policy asset handles
    them in one step); empty when first == last (give that run `partition_key=first`)."""
    if first == last:
        return {}
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
