"""The unit registry (config/units.yaml): every CUS unit and its agreement settings.

A new unit is a YAML entry plus its landing folder; nothing in code names a unit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from core.paths import CONFIG_DIR
from core.quarters import quarters_between

REGISTRY_PATH = CONFIG_DIR / "units.yaml"
REGISTRY_ENV = "CUS_REGISTRY"  # another registry file (benchmarks, a deployment's own list)


def registry_path() -> Path:
    """The registry in use: the file named by CUS_REGISTRY, else config/units.yaml. Read at call time."""
    return Path(os.environ.get(REGISTRY_ENV) or REGISTRY_PATH)
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Unit:
    key: str
    name: str
    gmina: str
    voivodeship: str
    transformation: str
    agreement_no: str
    agreement_signed: date | None
    period_start: date
    period_end: date
    cus_start: date
    total: Decimal
    eu_rate: Decimal
    indirect_rate: Decimal
    cross_financing_limit: Decimal
    fixed_assets_limit: Decimal
    commissioned_threshold: Decimal
    advance_spent_threshold: Decimal
    programme: str
    call: str

    @property
    def quarters(self) -> list[str]:
        """Reporting quarters of the project period (claims are due for each)."""
        return quarters_between(self.period_start, self.period_end)


_DECIMALS = ("total", "eu_rate", "indirect_rate", "cross_financing_limit", "fixed_assets_limit",
             "commissioned_threshold", "advance_spent_threshold")
_DATES = ("agreement_signed", "period_start", "period_end", "cus_start")


class RegistryError(ValueError):
    pass


def _unit(entry: dict, defaults: dict) -> Unit:
    merged = {**defaults, **entry}
    key = str(merged.get("key", ""))
    if not _KEY_RE.match(key):
        raise RegistryError(f"Nieprawidłowy klucz jednostki {key!r}: dozwolone małe litery ASCII, cyfry i '_'.")
    fields = {}
    for name in Unit.__dataclass_fields__:
        if name not in merged and name not in ("agreement_signed", "gmina", "voivodeship", "transformation", "cus_start"):
            raise RegistryError(f"Jednostka {key}: brak pola {name!r} w config/units.yaml.")
        value = merged.get(name)
        if name in _DECIMALS:
            value = Decimal(str(value))
        elif name in _DATES:
            value = date.fromisoformat(str(value)) if value else None
        elif value is None:
            value = ""
        fields[name] = value
    if fields["cus_start"] is None:
        fields["cus_start"] = fields["period_start"]
    return Unit(**fields)


@lru_cache(maxsize=4)
def load_units(path: Path | None = None) -> tuple[Unit, ...]:
    """The units of the registry `path` (default: `registry_path()`)."""
    path = path or registry_path()
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    units = tuple(_unit(entry, raw.get("defaults", {})) for entry in raw["units"])
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise RegistryError(f"Powtórzony klucz jednostki w {path}: {keys}")
    return units


def unit_by_key(key: str, path: Path | None = None) -> Unit:
    for unit in load_units(path):
        if unit.key == key:
            return unit
    raise RegistryError(f"Nieznana jednostka {key!r} (brak w {path}).")


def all_quarters(path: Path = REGISTRY_PATH) -> list[str]:
    units = load_units(path)
    return quarters_between(min(u.period_start for u in units), max(u.period_end for u in units))
