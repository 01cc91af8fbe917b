"""Text cells -> typed values, the way Polish providers write them (vectorized polars).

One place for every parsing rule: decimal comma and space thousands (`1 234,56`), dot decimals
(`1234.56`), dates as ISO text, `dd.mm.yyyy`, spreadsheet datetimes or Excel serial numbers,
T/N and Tak/Nie flags, enum labels with their aliases, NIP with dashes or a `PL` prefix.
A cell that is present but cannot be parsed becomes null here; `typed_frame` reports it.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from stdnum.pl import nip as stdnum_nip

from core.contract import Column, normalize_label
from core.quarters import parse_quarter

EXCEL_EPOCH = date(1899, 12, 30)
MONEY = pl.Decimal(18, 2)
_SPACES = r"[\s\u00a0\u202f]"


def parse_date(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.Utf8).str.strip_chars()
    serial = (
        pl.when(text.str.contains(r"^\d{4,5}(\.0+)?$"))
        .then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
        .otherwise(None)
    )
    parsed = pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.date(),
        text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False).dt.date(),
        text.str.to_date("%d.%m.%Y", strict=False),
        text.str.to_date("%d-%m-%Y", strict=False),
        text.str.to_date("%d/%m/%Y", strict=False),
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial),
    )
    # a two-digit year ("1.07.21") parses as the year 21: not a date, a type error naming the format
    return pl.when(parsed.dt.year() >= 1900).then(parsed)


def normalize_number_text(expr: pl.Expr) -> pl.Expr:
    """`1 234,56` / `1.234,56` / `1,234.56` / `1234.56` -> `1234.56` (text)."""
    text = expr.cast(pl.Utf8).str.replace_all(_SPACES, "").str.replace(r"(?i)(zł|pln)$", "")
    european = text.str.contains(r"^-?\d{1,3}((\.\d{3})+,\d+|(\.\d{3}){2,})$")
    american = text.str.contains(r"^-?\d{1,3}((,\d{3})+\.\d+|(,\d{3}){2,})$")
    return (
        pl.when(european).then(text.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(american).then(text.str.replace_all(",", ""))
        .otherwise(text.str.replace(",", "."))
    )


# DECIMAL(18,2) holds 16 integer digits, BIGINT any 18-digit number: a longer cell is a `type` error
# (null here), never a failed cast of the whole partition. Leading zeros do not count.
MONEY_INTEGER_DIGITS = 16
INTEGER_DIGITS = 18


def parse_decimal(expr: pl.Expr) -> pl.Expr:
    """Money and quantities, exact to the grosz; more than 2 decimal places is an error (null)."""
    text = normalize_number_text(expr).str.replace(r"^(-?)0+(\d)", "${1}${2}")
    pattern = rf"^-?\d{{1,{MONEY_INTEGER_DIGITS}}}(\.\d{{1,2}})?$"
    return pl.when(text.str.contains(pattern)).then(text).otherwise(None).cast(MONEY, strict=False)


def parse_integer(expr: pl.Expr) -> pl.Expr:
    text = normalize_number_text(expr).str.replace(r"^(-?)0+(\d)", "${1}${2}")
    pattern = rf"^-?\d{{1,{INTEGER_DIGITS}}}(\.0+)?$"
    return (pl.when(text.str.contains(pattern)).then(text.str.replace(r"\.0+$", "")).otherwise(None)
            .cast(pl.Int64, strict=False))


def _map_unique(series: pl.Series, function) -> pl.Series:
    """Apply a Python function once per distinct value (fast on large, repetitive columns)."""
    uniques = series.drop_nulls().unique().to_list()
    mapping = {value: function(value) for value in uniques}
    return series.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def canonical_nip(text: str) -> str | None:
    """`PL 123-456-32-18` -> `1234563218` when the checksum holds, else None."""
    cleaned = str(text).strip().upper().removeprefix("PL").removesuffix(".0")
    cleaned = cleaned.replace("-", "").replace(" ", "")
    return cleaned if cleaned.isdigit() and stdnum_nip.is_valid(cleaned) else None


PARSERS = {"date": parse_date, "decimal": parse_decimal, "integer": parse_integer}  # vectorized: polars expressions


def typed_series(column: Column, series: pl.Series) -> pl.Series:
    """The typed values of one text column (null where absent or unparsable)."""
    kind = column.type
    if kind in PARSERS:
        return series.to_frame("v").select(PARSERS[kind](pl.col("v"))).to_series().alias(column.name)
    if kind == "flag_tn":
        lookup = column.value_lookup()
        mapped = _map_unique(series, lambda v: lookup.get(normalize_label(v)))
        return mapped.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean).alias(column.name)
    if kind in ("enum", "yes_no", "yes_no_refused"):
        lookup = column.value_lookup()
        return _map_unique(series, lambda v: lookup.get(normalize_label(v))).alias(column.name)
    if kind == "nip":
        return _map_unique(series, canonical_nip).alias(column.name)
    if kind == "quarter":
        return _map_unique(series, parse_quarter).alias(column.name)
    return series.alias(column.name)
