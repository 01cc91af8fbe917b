"""Which reports a change rewrites: the one rule for the landing sensor's chain, the batch run's own
reports step and `cus run` / `cus ingest` (docs/settlement.md: a correction changes every
cumulative figure after it).

A changed unit × quarter rewrites that unit's reports of the quarter and of every later quarter
with data, and the consolidated reports of those quarters; changed agreement data (budgets,
catalogues) feeds every quarter of the unit. Other units' reports do not change: a unit's report
reads only its own data.
"""

from __future__ import annotations

from pathlib import Path

from assets.partition_keys import split_partition_key
from core.registry import Unit

AGREEMENT = ""  # "quarter" of a unit's agreement data: every quarter of the unit


def changed_by_partition(partition_keys) -> dict[str, list[str]]:
    """unit -> changed quarters (`2021Q3`; [AGREEMENT] when its agreement data changed) of the keys
    `unit|2021Q3` / `unit`."""
    changed: dict[str, set[str]] = {}
    for key in partition_keys:
        unit, quarter = split_partition_key(key)
        changed.setdefault(unit, set()).add(quarter or AGREEMENT)
    return {unit: [AGREEMENT] if AGREEMENT in quarters else sorted(quarters) for unit, quarters in changed.items()}


def not_covered(changed: dict[str, list[str]], outdated: dict[str, list[str]]) -> dict[str, list[str]]:
    """The outdated quarters the change does not rewrite anyway (the changed unit's quarters from its first
    changed one on, every quarter of a unit whose agreement data changed)."""
    out = {}
    for unit, quarters in outdated.items():
        first = None if unit not in changed else "" if AGREEMENT in changed[unit] else min(changed[unit])
        rest = [q for q in quarters if first is None or q < first]
        if rest:
            out[unit] = rest
    return out


def quarters_to_report(changed: dict[str, list[str]], units, landing_root: Path) -> list[str]:
    """The changed quarters and every later quarter of the changed units that has a landing folder."""
    by_key: dict[str, Unit] = {u.key: u for u in units}
    out: set[str] = set()
    for unit_key, quarters in changed.items():
        unit = by_key.get(unit_key)
        if unit is None:
            continue
        first = min(quarters) if AGREEMENT not in quarters else unit.quarters[0]
        out |= {q for q in unit.quarters if q >= first and (Path(landing_root) / unit.key / q).is_dir()}
    return sorted(out)


def units_to_rewrite(changed: dict[str, list[str]], units) -> list[str] | None:
    """The changed units' keys; None when every unit of `units` changed (every report is rewritten)."""
    keys = sorted(changed)
    return None if set(keys) >= {u.key for u in units} else keys
