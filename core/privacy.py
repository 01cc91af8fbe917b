"""The publishing policy (schemas/publish.yaml): which warehouse tables and columns may leave the
warehouse, and why not. One rule for the published SQL copy (assets/publish/) and the Dagster
metadata previews (assets/preview.py); the personal-data rules behind it: docs/domain.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from core.paths import SCHEMAS_DIR

POLICY_PATH = SCHEMAS_DIR / "publish.yaml"


class PolicyError(ValueError):
    """schemas/publish.yaml is missing a rule or holds a malformed one (Polish message)."""


@dataclass(frozen=True)
class PublishPolicy:
    version: int
    published_schemas: tuple[str, ...]
    raw_published: tuple[str, ...]
    staging_table_pattern: re.Pattern
    dropped_columns: dict[str, str]  # column -> reason, in every table
    dropped_staging_columns: dict[str, str]  # column -> reason, in staging tables
    person_ids: tuple[str, ...]
    profile_columns: dict[str, str]  # column -> reason, in tables at person grain
    withheld_tables: dict[str, str]  # "schema.table" -> reason
    withheld_schema: str
    withheld_pattern: re.Pattern
    withheld_reason: str
    masked_schemas: tuple[str, ...]
    message_columns: tuple[str, ...]
    quoted_value: str  # regular expression (DuckDB/RE2 syntax) of a quoted cell value
    quoted_value_mask: str
    suppressed_groups: tuple[tuple[str, ...], ...]
    series_keys: tuple[str, ...]
    suppression_note: str  # {n} = threshold − 1
    area_person_columns: tuple[str, ...]
    area_note: str  # {areas}, {n}
    raw: dict  # the file as read (hashed into the publishing fingerprint)

    def column_policy(self, schema: str, columns: list[str]) -> dict[str, str]:
        """Columns to drop -> reason, for a table of `schema` with these columns."""
        dropped = {c: self.dropped_columns[c] for c in columns if c in self.dropped_columns}
        if schema == "staging":
            dropped.update({c: self.dropped_staging_columns[c] for c in columns if c in self.dropped_staging_columns})
        if any(c in self.person_ids for c in columns):
            dropped.update({c: self.profile_columns[c] for c in columns if c in self.profile_columns})
        return dropped

    def withheld(self, schema: str, table: str) -> str | None:
        """Why a table is never published (person grain), else None."""
        qualified = f"{schema}.{table}"
        if qualified in self.withheld_tables:
            return self.withheld_tables[qualified]
        if schema == self.withheld_schema and self.withheld_pattern.search(table):
            return self.withheld_reason
        return None

    def is_published(self, schema: str, table: str) -> bool:
        if self.withheld(schema, table) is not None:
            return False
        if schema in self.published_schemas:
            return True
        if schema == "raw":
            return table in self.raw_published
        return schema == "staging" and bool(self.staging_table_pattern.match(table))


def _require(raw: dict, path: Path, *keys: str):
    value = raw
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise PolicyError(f"{path}: brak reguły `{'.'.join(keys)}` — uzupełnij plik polityki publikacji.")
        value = value[key]
    return value


def _reasons(raw: dict, path: Path, key: str) -> dict[str, str]:
    value = _require(raw, path, key)
    if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise PolicyError(f"{path}: `{key}` musi mapować kolumnę/tabelę na powód (tekst), np. `pesel: \"PESEL\"`.")
    return {str(k): str(v) for k, v in value.items()}


def _pattern(raw: dict, path: Path, *keys: str) -> re.Pattern:
    text = _require(raw, path, *keys)
    try:
        return re.compile(text)
    except re.error as error:
        raise PolicyError(f"{path}: `{'.'.join(keys)}` nie jest poprawnym wyrażeniem regularnym ({error}).") from error


@lru_cache(maxsize=4)
def load_policy(path: Path = POLICY_PATH) -> PublishPolicy:
    """The policy of schemas/publish.yaml; a missing or malformed rule raises PolicyError."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PolicyError(f"{path}: nie można odczytać polityki publikacji ({error}).") from error
    masked = _require(raw, path, "masked_messages")
    suppression = _require(raw, path, "suppression")
    return PublishPolicy(
        version=int(_require(raw, path, "version")),
        published_schemas=tuple(_require(raw, path, "published_schemas")),
        raw_published=tuple(_require(raw, path, "raw_published")),
        staging_table_pattern=_pattern(raw, path, "staging_table_pattern"),
        dropped_columns=_reasons(raw, path, "dropped_columns"),
        dropped_staging_columns=_reasons(raw, path, "dropped_staging_columns"),
        person_ids=tuple(_require(raw, path, "person_ids")),
        profile_columns=_reasons(raw, path, "profile_columns"),
        withheld_tables=_reasons(raw, path, "withheld_tables"),
        withheld_schema=str(_require(raw, path, "withheld_pattern", "schema")),
        withheld_pattern=_pattern(raw, path, "withheld_pattern", "table"),
        withheld_reason=str(_require(raw, path, "withheld_pattern", "reason")),
        masked_schemas=tuple(_require(masked, path, "schemas")),
        message_columns=tuple(_require(masked, path, "columns")),
        quoted_value=str(_require(masked, path, "pattern")),
        quoted_value_mask=str(_require(masked, path, "replacement")),
        suppressed_groups=tuple(tuple(g) for g in _require(suppression, path, "groups")),
        series_keys=tuple(_require(suppression, path, "series_keys")),
        suppression_note=str(_require(suppression, path, "reason")),
        area_person_columns=tuple(_require(suppression, path, "area_person_columns")),
        area_note=str(_require(suppression, path, "area_reason")),
        raw=raw,
    )


def column_policy(schema: str, columns: list[str]) -> dict[str, str]:
    """Columns to drop -> reason, for a table with these columns (the whole personal-data rule)."""
    return load_policy().column_policy(schema, columns)


def withheld_reason(schema: str, table: str) -> str | None:
    """Why a table is not published (person grain), else None."""
    return load_policy().withheld(schema, table)


def is_published_table(schema: str, table: str) -> bool:
    return load_policy().is_published(schema, table)
