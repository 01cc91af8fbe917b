"""Raw text rows -> typed rows of the staging layer, with the cells that could not be parsed.

The staging table of a dataset has the raw lineage columns, then every stored contract column
in its type: date -> DATE, decimal -> DECIMAL(18,2), integer -> BIGINT, flag_tn -> BOOLEAN,
enum / yes_no / yes_no_refused -> canonical code (VARCHAR), nip -> 10 digits, quarter -> `2021Q1`,
string -> VARCHAR. Participants carry the PESEL-derived columns of the raw layer instead of PESEL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.raw.ingest import LINEAGE_COLUMNS, PESEL_DERIVED_COLUMNS
from assets.values import PARSERS, typed_series
from core.contract import Column, Dataset

SQL_TYPES = {
    "date": "DATE",
    "decimal": "DECIMAL(18,2)",
    "integer": "BIGINT",
    "flag_tn": "BOOLEAN",
}

# Polish messages for cells that are present but unreadable, by column type.
PARSE_MESSAGES = {
    "date": "nieprawidłowa data (oczekiwano RRRR-MM-DD lub DD.MM.RRRR)",
    "decimal": "nieprawidłowa kwota lub liczba (np. 1234,56 lub 1 234,56; najwyżej 2 miejsca po przecinku)",
    "integer": "oczekiwano liczby całkowitej",
    "flag_tn": "dozwolone wartości: T lub N",
    "nip": "nieprawidłowy NIP (błędna suma kontrolna lub format)",
    "quarter": "nieprawidłowy kwartał (oczekiwano np. 2021Q1)",
}


def staging_columns(dataset: Dataset) -> list[tuple[str, str]]:
    columns = list(LINEAGE_COLUMNS)
    for column in dataset.stored_columns:
        if column.pii == "pesel":
            columns += PESEL_DERIVED_COLUMNS
        else:
            columns.append((column.name, SQL_TYPES.get(column.type, "VARCHAR")))
    return columns


def _parse_message(column: Column) -> str:
    if column.values:
        return f"niedozwolona wartość; dozwolone: {', '.join(column.labels())}"
    return PARSE_MESSAGES.get(column.type, "nieprawidłowa wartość")


@dataclass
class TypedRows:
    frame: pl.DataFrame  # typed, same rows and order as the raw frame
    errors: pl.DataFrame  # row_number, column, header, rule, message, value


ERROR_SCHEMA = {"row_number": pl.Int64, "column": pl.Utf8, "header": pl.Utf8, "rule": pl.Utf8,
                "message": pl.Utf8, "value": pl.Utf8}


def typed_columns(dataset: Dataset, raw: pl.DataFrame) -> list[Column]:
    """The stored columns that are typed (PESEL is replaced by its derived columns in raw)."""
    return [c for c in dataset.stored_columns if c.pii != "pesel" and c.name in raw.columns]


def unparsed(column: Column, text: pl.Expr, typed: pl.Expr) -> pl.Expr:
    """True where the cell is present but could not be read as the column's type (a `type` error)."""
    if column.type == "string":
        return pl.lit(False)
    return text.is_not_null() & typed.is_null()


def typed_frame(dataset: Dataset, raw: pl.DataFrame) -> pl.DataFrame:
    """`raw` with every stored column in its type (same rows, order and other columns)."""
    columns = typed_columns(dataset, raw)
    # dates and numbers as expressions of one pass (polars runs them side by side), the rest per column
    parsed = [PARSERS[c.type](pl.col(c.name)).alias(c.name) for c in columns if c.type in PARSERS]
    return raw.with_columns(parsed + [typed_series(c, raw[c.name]) for c in columns if c.type not in PARSERS])


def typed_rows(dataset: Dataset, raw: pl.DataFrame) -> TypedRows:
    """Type every stored column; a present-but-unparsable cell is an error row (`rule` = `type`).

    `raw` may hold many partitions (a batch): every column is typed once over all of them."""
    columns = typed_columns(dataset, raw)
    typed = typed_frame(dataset, raw)
    errors = []
    for column in columns:
        bad = raw.select("row_number", pl.col(column.name).alias("value")).filter(
            unparsed(column, raw[column.name], typed[column.name]))
        if bad.height:
            errors.append(bad.with_columns(
                pl.lit(column.name).alias("column"), pl.lit(column.header).alias("header"),
                pl.lit("type").alias("rule"), pl.lit(_parse_message(column)).alias("message"),
            ))
    frame = pl.concat(errors, how="diagonal").select(list(ERROR_SCHEMA)) if errors else pl.DataFrame(schema=ERROR_SCHEMA)
    return TypedRows(frame=typed, errors=frame)


def ensure_staging_tables(conn, datasets: list[Dataset]) -> None:
    """CREATE TABLE IF NOT EXISTS staging.<dataset> with the typed columns above."""
    from core.warehouse import identifier

    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    for dataset in datasets:
        columns = ", ".join(f"{identifier(name)} {sql_type}" for name, sql_type in staging_columns(dataset))
        conn.execute(f"CREATE TABLE IF NOT EXISTS staging.{identifier(dataset.name)} ({columns})")
