"""The warehouse tables described once, as data: schemas/warehouse/<layer>.yaml (+ columns.yaml).

One file per layer, in the spirit of dbt's schema.yml: per table its Polish description, its grain,
every column with its description (`~` = the shared meaning of schemas/warehouse/columns.yaml) and
its checks (SQL returning the offending rows). From it come the warehouse `COMMENT ON` statements
(`comment_statements`), the Dagster asset descriptions and checks (assets/mart/sql_tables.py), the
published copy's column docs (`column_descriptions`) and the tables section of docs/warehouse.md
(pipelines/tools/warehouse_docs.py). The staging validation tables also carry their column types:
the DDL, the polars frames written into them and the mart's empty relation all come from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from core.paths import SCHEMAS_DIR

MODELS_DIR = SCHEMAS_DIR / "warehouse"
LAYERS = ("raw", "staging", "mart", "report")
SHARED_COLUMNS_FILE = "columns.yaml"
VALIDATION_TABLES = ("quarantine", "validation_summary")  # staging tables written by every staging asset

POLARS_TYPES = {"VARCHAR": pl.Utf8, "BIGINT": pl.Int64, "INTEGER": pl.Int32, "BOOLEAN": pl.Boolean,
                "DATE": pl.Date, "TIMESTAMP": pl.Datetime("us")}


class ModelsError(ValueError):
    """A schemas/warehouse file is wrong: the message names the file, table and the fix."""


@dataclass(frozen=True)
class Check:
    """One property of a built table: `sql` returns the offending rows (none = passed)."""

    name: str
    description: str
    sql: str
    blocking: bool = True


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    type: str | None = None  # only where this file defines the table (staging validation tables)
    not_null: bool = False


@dataclass(frozen=True)
class TableDoc:
    layer: str
    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    checks: tuple[Check, ...] = ()
    per_unit: bool = False  # `rebuild: per_unit`: a correction rebuilds only the changed units' rows

    @property
    def qualified(self) -> str:
        return f"{self.layer}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _text(value, where: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelsError(f"{path.name}: {where} — brak opisu (tekst po polsku, bez markdown).")
    if "**" in value or "`" in value:
        raise ModelsError(f"{path.name}: {where} — opis bez markdown (usuń ** i `).")
    return value.strip()


@cache
def shared_columns(models_dir: Path = MODELS_DIR) -> dict[str, str]:
    path = models_dir / SHARED_COLUMNS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["columns"]
    return {name: _text(text, f"kolumna {name}", path) for name, text in data.items()}


def _column(layer: str, table: str, name: str, spec, path: Path, shared: dict[str, str]) -> Column:
    typed = isinstance(spec, dict)
    text = spec.get("description") if typed else spec
    where = f"{layer}.{table}.{name}"
    if text is None:
        if name not in shared:
            raise ModelsError(f"{path.name}: {where} ma ~ (opis wspólny), a kolumny {name} nie ma w "
                              f"{SHARED_COLUMNS_FILE}: wpisz opis w tabeli albo dodaj kolumnę do {SHARED_COLUMNS_FILE}.")
        text = shared[name]
    description = _text(text, where, path)
    if typed:
        return Column(name, description, type=str(spec["type"]).upper(), not_null=bool(spec.get("not_null", False)))
    return Column(name, description)


@cache
def layer_tables(layer: str, models_dir: Path = MODELS_DIR) -> tuple[TableDoc, ...]:
    """The tables of schemas/warehouse/<layer>.yaml, in file order."""
    if layer not in LAYERS:
        raise ModelsError(f"nieznana warstwa {layer!r}; warstwy: {', '.join(LAYERS)}")
    path = models_dir / f"{layer}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    shared = shared_columns(models_dir)
    tables = []
    for name, spec in (data.get("tables") or {}).items():
        columns = tuple(_column(layer, name, col, col_spec, path, shared)
                        for col, col_spec in (spec.get("columns") or {}).items())
        if not columns:
            raise ModelsError(f"{path.name}: {layer}.{name} nie ma kolumn: wypisz każdą kolumnę tabeli z opisem.")
        checks = tuple(Check(c["name"], _text(c.get("description"), f"{layer}.{name} sprawdzenie {c['name']}", path),
                             c["sql"].strip(), bool(c.get("blocking", True)))
                       for c in spec.get("checks") or ())
        tables.append(TableDoc(layer, name, _text(spec.get("description"), f"{layer}.{name}", path),
                               _text(spec.get("grain"), f"{layer}.{name} grain", path), columns, checks,
                               _per_unit(layer, name, spec, columns, path)))
    return tuple(tables)


REBUILD_MODES = ("full", "per_unit")


def _per_unit(layer: str, table: str, spec: dict, columns: tuple[Column, ...], path: Path) -> bool:
    """`rebuild: per_unit` (default `full`): every row belongs to one unit (a `unit` column) and is
    computed from that unit's rows only, so the rows of the changed units can be rebuilt alone
    (assets/mart/incremental.py)."""
    mode = spec.get("rebuild", "full")
    if mode not in REBUILD_MODES:
        raise ModelsError(f"{path.name}: {layer}.{table} rebuild: {mode!r} — dozwolone: {', '.join(REBUILD_MODES)}.")
    if mode == "per_unit" and not any(c.name == "unit" for c in columns):
        raise ModelsError(f"{path.name}: {layer}.{table} rebuild: per_unit wymaga kolumny unit (wiersz = jedna jednostka).")
    return mode == "per_unit"


def table_doc(layer: str, name: str) -> TableDoc:
    for table in layer_tables(layer):
        if table.name == name:
            return table
    raise ModelsError(f"{layer}.yaml: brak tabeli {layer}.{name} — dodaj jej opis, ziarno i kolumny "
                      f"do schemas/warehouse/{layer}.yaml.")


def all_tables() -> tuple[TableDoc, ...]:
    return tuple(t for layer in LAYERS for t in layer_tables(layer))


def column_descriptions() -> dict[tuple[str, str, str], str]:
    """{(schema, table, column): Polish description} of every described warehouse column."""
    return {(t.layer, t.name, c.name): c.description for t in all_tables() for c in t.columns}


def table_descriptions() -> dict[tuple[str, str], str]:
    """{(schema, table): Polish description} of every described warehouse table."""
    return {(t.layer, t.name): t.description for t in all_tables()}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(table: TableDoc, present: set[str] | None = None) -> str:
    """`COMMENT ON TABLE/COLUMN` for the table and its columns (only those in `present`, if given)."""
    lines = [f"COMMENT ON TABLE {table.qualified} IS {_literal(table.description)};"]
    lines += [f"COMMENT ON COLUMN {table.qualified}.{c.name} IS {_literal(c.description)};"
              for c in table.columns if present is None or c.name in present]
    return "\n".join(lines)


# ------------------------------------------------------------------ staging validation tables

def validation_columns(table: str) -> list[tuple[str, str]]:
    """[(column, SQL type)] of staging.quarantine / staging.validation_summary."""
    if table not in VALIDATION_TABLES:
        raise ModelsError(f"staging.{table} nie jest tabelą walidacji ({', '.join(VALIDATION_TABLES)})")
    return [(c.name, c.type) for c in table_doc("staging", table).columns]


def validation_polars_schema(table: str) -> dict[str, pl.DataType]:
    """The polars schema of the frames written into staging.<table>."""
    return {name: POLARS_TYPES[sql_type] for name, sql_type in validation_columns(table)}


def validation_tables_ddl() -> str:
    """CREATE TABLE IF NOT EXISTS + COMMENT ON of both validation tables (schema staging must exist)."""
    statements = []
    for name in VALIDATION_TABLES:
        table = table_doc("staging", name)
        columns = ",\n".join(f"    {c.name} {c.type}{' NOT NULL' if c.not_null else ''}" for c in table.columns)
        statements.append(f"CREATE TABLE IF NOT EXISTS staging.{name} (\n{columns}\n);")
        statements.append(comment_statements(table))
    return "\n".join(statements)
