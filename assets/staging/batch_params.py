"""The parameters of many partitions for one frame of a batch (set-based validation).

A batch frame holds the rows of many unit × quarter partitions of one dataset; its column
`chk__part` says which partition a row belongs to (an index into `BatchParameters.by_part`).
A rule whose bound depends on the partition (the unit's period, the quarter, a reference list)
reads it here as a per-row expression, so one polars pass evaluates it for every partition —
and a frame of one partition (no `chk__part` needed) gets plain literals, as before batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

PART = "chk__part"  # the row's partition: a key of BatchParameters.by_part
SEPARATOR = "\x1f"  # between the partition and a value in the membership keys (never in a cell or a key)


@dataclass(frozen=True)
class BatchParameters:
    by_part: dict[int, dict] = field(default_factory=dict)  # partition index -> its parameters
    key: tuple[str, ...] = ()  # the dataset's row key (contract `key`)

    @classmethod
    def of(cls, params: BatchParameters | dict) -> BatchParameters:
        """A dict of one partition's parameters (rules called on one partition's frame) or a batch."""
        if isinstance(params, BatchParameters):
            return params
        return cls({0: params}, tuple(params.get("key") or ()))

    @property
    def single(self) -> bool:
        return len(self.by_part) <= 1

    def part(self) -> pl.Expr:
        """The row's partition index (a literal for a frame of one partition)."""
        if self.single:
            return pl.lit(next(iter(self.by_part), 0), dtype=pl.Int64)
        return pl.col(PART).cast(pl.Int64)

    def over(self) -> list[str]:
        """Columns that split the frame into its partitions (for `over` and group keys)."""
        return [] if self.single else [PART]

    def _per_part(self, values: dict[int, object], dtype=None) -> pl.Expr:
        distinct = set(map(repr, values.values()))
        if len(distinct) <= 1:
            value = next(iter(values.values()), None)
            return pl.lit(value, dtype=dtype) if dtype is not None else pl.lit(value)
        series = pl.Series(list(values.values()), dtype=dtype)
        return pl.col(PART).replace_strict(list(values), series, return_dtype=series.dtype)

    def value(self, name: str) -> pl.Expr:
        """A scalar parameter (e.g. period_start) as the row's value."""
        return self._per_part({part: params.get(name) for part, params in self.by_part.items()})

    def text(self, name: str, render: Callable[[list], str]) -> pl.Expr:
        """`render(list parameter)` of the row's partition, e.g. the allowed values named in a message."""
        return self._per_part({part: render(params.get(name) or []) for part, params in self.by_part.items()},
                              pl.Utf8)

    def row_values(self, frame: pl.DataFrame, name: str) -> list:
        """The Python value of a scalar parameter for every row of `frame` (exact, e.g. a Decimal rate)."""
        if self.single:
            return [next(iter(self.by_part.values()), {}).get(name)] * frame.height
        return [self.by_part[part][name] for part in frame[PART].to_list()]

    def member(self, name: str, cell_text: pl.Expr, value_text: Callable[[list], pl.Series]) -> pl.Expr:
        """True where the row's `cell_text` is one of its partition's `name` values (`value_text` turns
        the list into text the same way `cell_text` is written); null where the cell is null."""
        if self.single:
            params = next(iter(self.by_part.values()), {})
            return cell_text.is_in(value_text(list(params.get(name) or [])).implode())
        keys = [pl.Series([f"{part}{SEPARATOR}"] * len(values), dtype=pl.Utf8) + value_text(list(values))
                for part, values in ((part, params.get(name) or []) for part, params in self.by_part.items())
                if values]
        allowed = pl.concat(keys) if keys else pl.Series([], dtype=pl.Utf8)
        return pl.concat_str([pl.col(PART).cast(pl.Utf8), pl.lit(SEPARATOR), cell_text]).is_in(allowed.implode())
