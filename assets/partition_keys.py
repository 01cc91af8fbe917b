"""Partition keys a coordinator can read: `starachowice|2021Q3` (unit × quarter), `starachowice` (agreement).

The unit × quarter keys are one static dimension holding only the pairs of the registry (the
quarters inside each unit's project period), so the UI never counts a quarter outside a unit's
period as missing, and a fifth unit needs only its registry entry.
"""

from __future__ import annotations

import dagster as dg

SEPARATOR = "|"
AGREEMENT = "umowa"


def unit_quarter_key(unit: str, quarter: str | None) -> str:
    """`starachowice|2021Q3`; the agreement partition of a unit is its key alone."""
    return unit if quarter is None else f"{unit}{SEPARATOR}{quarter}"


def split_partition_key(key: str) -> tuple[str, str | None]:
    """(unit, `2021Q3`) of a unit × quarter key, (unit, None) of a unit key (also `unit|umowa`)."""
    unit, _, quarter = str(key).partition(SEPARATOR)
    return unit, (quarter if quarter and quarter != AGREEMENT else None)


def unit_and_quarter(context) -> tuple[str, str | None]:
    """(unit, `2021Q1`) of a unit × quarter run, (unit, None) of a unit run."""
    key = context.partition_key
    if isinstance(key, dg.MultiPartitionKey):  # runs recorded before the single-dimension keys
        dims = key.keys_by_dimension
        from core.quarters import partition_key_to_quarter

        return dims["unit"], partition_key_to_quarter(dims["quarter"])
    return split_partition_key(key)
