"""Reading a run's partition key: (unit, quarter) of a unit × quarter run, (unit, None) of a unit run."""

from __future__ import annotations

import dagster as dg

from core.quarters import partition_key_to_quarter


def unit_and_quarter(context) -> tuple[str, str | None]:
    """(unit, `2021Q1`) of a unit × quarter run, (unit, None) of a unit run."""
    key = context.partition_key
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims["unit"], partition_key_to_quarter(dims["quarter"])
    return str(key), None
