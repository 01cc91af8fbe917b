"""The data contract (schemas/contract.yaml) as Python objects.

Parsing, validation, documentation and the provider templates all read the contract through
this module, so a header, alias or allowed value is changed in one place: the YAML file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from core.paths import SCHEMAS_DIR

CONTRACT_PATH = SCHEMAS_DIR / "contract.yaml"


@lru_cache(maxsize=65536)  # called for every header candidate and coded value of every file
def normalize_label(text: str) -> str:
    """Fold a header or value for tolerant matching: case, accents, ł, dashes, spaces, dots."""
    text = str(text).replace("\ufeff", "").strip().casefold()
    text = text.replace("ł", "l").replace("–", "-").replace("—", "-")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = " ".join(text.replace("\u00a0", " ").split())
    return text.rstrip(".:").strip()


@dataclass(frozen=True)
class AllowedValue:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    commissioned: bool = False  # a delivery mode commissioned to an external provider


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[AllowedValue, ...] = ()
    pii: str | None = None
    sensitive: bool = False
    person_id: bool = False  # identifies a participant (a PESEL in it becomes the keyed pseudonym, not a marker)
    min: float | None = None
    max: float | None = None

    @property
    def stored(self) -> bool:
        """False for columns that never enter the warehouse (names, contacts)."""
        return self.pii != "drop"

    def value_lookup(self) -> dict[str, str]:
        """Normalized label/alias/code -> canonical code, for enum-like columns."""
        lookup: dict[str, str] = {}
        for value in self.values:
            for text in (value.code, value.label, *value.aliases):
                lookup[normalize_label(text)] = value.code
        return lookup

    def labels(self) -> list[str]:
        return [value.label for value in self.values]


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str
    formats: tuple[str, ...]
    level: str  # "quarter" or "agreement"
    title: str
    label: str  # short Polish name: "świadczenia"
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)
    every_quarter: bool = False  # sent for every quarter of a unit's period (schemas/contract.yaml)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def stored_columns(self) -> list[Column]:
        return [c for c in self.columns if c.stored]

    def header_lookup(self) -> dict[str, Column]:
        """Normalized header or alias -> column."""
        lookup: dict[str, Column] = {}
        for column in self.columns:
            for text in (column.header, column.name, *column.aliases):
                lookup[normalize_label(text)] = column
        return lookup

    def column_names_with_pii(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def file_names(self) -> list[str]:
        return [f"{self.file}.{fmt}" for fmt in self.formats]

    @property
    def landing_path(self) -> str:
        """The file as a unit sends it, relative to its folder: `wydatki.csv`, `umowa/budzet.csv`."""
        return ("umowa/" if self.level == "agreement" else "") + self.file_names()[0]


def _values(spec: dict | None, types: dict, type_name: str) -> tuple[AllowedValue, ...]:
    spec = spec or types.get(type_name, {}).get("values") or {}
    out = []
    for code, value in spec.items():
        code = str(code).lower() if isinstance(code, bool) else str(code)
        out.append(AllowedValue(code=code, label=str(value["label"]), aliases=tuple(map(str, value.get("aliases", []))),
                                commissioned=bool(value.get("commissioned", False))))
    return tuple(out)


@lru_cache(maxsize=4)
def load_contract(path: Path = CONTRACT_PATH) -> dict[str, Dataset]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    types = raw.get("types", {})
    datasets = {}
    for name, spec in raw["datasets"].items():
        columns = tuple(
            Column(
                name=c["name"],
                header=c["header"],
                type=c["type"],
                required=bool(c.get("required", False)),
                aliases=tuple(c.get("aliases", [])),
                values=_values(c.get("values"), types, c["type"]),
                pii=c.get("pii"),
                sensitive=bool(c.get("sensitive", False)),
                person_id=bool(c.get("person_id", False)),
                min=c.get("min"),
                max=c.get("max"),
            )
            for c in spec["columns"]
        )
        datasets[name] = Dataset(
            name=name,
            file=spec["file"],
            formats=tuple(spec["formats"]),
            level=spec["level"],
            title=spec["title"],
            label=spec["label"],
            key=tuple(spec.get("key", [])),
            columns=columns,
            every_quarter=bool(spec.get("every_quarter", False)),
        )
    return datasets


def dataset(name: str) -> Dataset:
    return load_contract()[name]


def quarter_datasets() -> list[Dataset]:
    return [d for d in load_contract().values() if d.level == "quarter"]


def agreement_datasets() -> list[Dataset]:
    return [d for d in load_contract().values() if d.level == "agreement"]


def delivery_modes() -> dict[str, str]:
    """Mode of delivery -> its Polish label (services.delivery_mode of the contract)."""
    return {v.code: v.label for v in dataset("services").column("delivery_mode").values}


def commissioned_modes() -> tuple[str, ...]:
    """Modes of delivery commissioned to external providers (PES, NGO, social clause)."""
    return tuple(v.code for v in dataset("services").column("delivery_mode").values if v.commissioned)
