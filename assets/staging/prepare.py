"""Typed rows + rule columns of MANY partitions of one dataset in one set-based pass.

A batch's raw rows arrive as one frame whose column `chk__part` tells the row's partition (an
index into the batch's partition list). The frame is typed once, the helper columns `chk__*` the
expectations read are computed once (a rule that depends on the partition reads the row's own
values through `BatchParameters`; one that looks at other rows — the row key, exact repeats —
groups by the partition), and the result is cut into per-partition slices (no copy: rows are
sorted by partition) for the per-partition results of `validate.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl

from assets.staging.batch_params import PART, SEPARATOR, BatchParameters
from assets.staging.bound import bind_row_rules
from assets.staging.rules import COMPUTE, CONTRACT, PESEL_FOUND_IN, READ_ERROR, Rule, content_columns, contract_checks
from assets.staging.typed import typed_columns, typed_frame, unparsed
from core.contract import Dataset
from core.quarters import quarter_end, quarter_start
from core.registry import Unit


@dataclass
class Partition:
    """One partition of a batch: its unit, quarter and the reference lists of its rules."""

    unit: Unit
    quarter: str | None
    references: dict[str, list] = field(default_factory=dict)


@dataclass
class Prepared:
    part: int  # index of the partition in the batch (`chk__part`)
    params: dict
    raw: pl.DataFrame  # the partition's raw rows, in file order
    frame: pl.DataFrame  # typed rows + helper columns chk__* (parameters of this partition bound)
    skipped: set[str]  # rules not checked: their reference data is absent


def partition_parameters(unit: Unit, quarter: str | None, today: date) -> dict:
    """Suite parameters of one partition (README: `Suite parameters`)."""
    half_grosz = Decimal("0.005")
    params = {
        "period_start": unit.period_start, "period_end": unit.period_end, "today": today,
        "agreement_total_min": float(unit.total - half_grosz), "agreement_total_max": float(unit.total + half_grosz),
        "eu_rate": unit.eu_rate, "total": unit.total,
    }
    if quarter:
        params.update(quarter=quarter, quarter_start=quarter_start(quarter), quarter_end=quarter_end(quarter),
                      latest_date=min(quarter_end(quarter), today))  # not after the quarter, not in the future
    return params


def with_partition_index(raw: pl.DataFrame, keys: list[tuple[str, str | None]]) -> pl.DataFrame:
    """`raw` (rows of the partitions `keys`, by unit and quarter) with `chk__part` = the key's index
    (one new column: the other columns are not copied)."""
    index = {f"{unit}{SEPARATOR}{quarter or ''}": i for i, (unit, quarter) in enumerate(keys)}
    key = pl.concat_str([pl.col("unit"), pl.col("quarter").fill_null("")], separator=SEPARATOR)
    return raw.with_columns(key.replace_strict(index, return_dtype=pl.Int64).alias(PART))


def _in_partition_order(raw: pl.DataFrame) -> bool:
    """Rows already by partition, then file row (a batch writes its files in partition order)."""
    order = raw.select((pl.col(PART) * 2**32 + pl.col("row_number")).is_sorted().alias("sorted") if raw.height
                       else pl.lit(True).alias("sorted"))
    return bool(order.item())


def skipped_rules(rules: list[Rule], params: dict) -> set[str]:
    return {r.id for r in rules if r.skip_when_reference_empty
            and any(not params.get(ref["parameter"]) for ref in r.references)}


def prepare_frame(dataset: Dataset, raw: pl.DataFrame, rules: list[Rule], params: BatchParameters) -> pl.DataFrame:
    """Typed rows + helper columns chk__* the expectations read (never stored), for every partition."""
    typed = typed_frame(dataset, raw)
    absent = [pl.lit(None, dtype=pl.Utf8).alias(c) for c in (READ_ERROR, PESEL_FOUND_IN) if c not in typed.columns]
    typed = typed.with_columns(absent) if absent else typed  # raw frames made without the reading step
    # an exact repeat of an earlier row of the same file
    frame = typed.with_columns(pl.struct(params.over() + content_columns(dataset, raw)).is_first_distinct()
                               .alias("chk__first_copy"))
    helpers = []
    for column in typed_columns(dataset, raw):
        helpers.append(raw[column.name].alias(f"chk__text__{column.name}"))
        helpers.append(~unparsed(column, raw[column.name], typed[column.name]).alias(f"chk__parsed__{column.name}"))
    frame = frame.with_columns(helpers)
    for rule in rules:
        if rule.compute == CONTRACT:
            checks = contract_checks(dataset, rule)
            frame = frame.with_columns([expr.fill_null(True).alias(f"chk__ok__{rule.id}__{name}")
                                        for name, expr in checks.items()])
            frame = frame.with_columns(pl.all_horizontal(f"chk__ok__{rule.id}__{name}" for name in checks)
                                       .alias(f"chk__ok__{rule.id}"))
        elif rule.compute:
            out = COMPUTE[rule.compute](frame, params)
            frame = frame.with_columns(out["ok"].fill_null(True).alias(f"chk__ok__{rule.id}"))
            if "expected" in out.columns:
                frame = frame.with_columns(out["expected"].alias(f"chk__expected__{rule.id}"))
    return frame


def prepare_batch(dataset: Dataset, raw: pl.DataFrame, partitions: list[Partition], rules: list[Rule],
                  today: date) -> list[Prepared]:
    """Every partition typed and given its helper columns in one pass; one slice per partition.

    `raw` holds the rows of `partitions` with `chk__part` (`with_partition_index`); a frame of
    one partition may come without it."""
    if PART not in raw.columns:
        if len(partitions) != 1:
            raise ValueError("wiersze wielu partycji bez kolumny chk__part")
        raw = raw.with_columns(pl.lit(0, dtype=pl.Int64).alias(PART))
    if not _in_partition_order(raw):
        raw = raw.sort(PART, "row_number")
    by_part = {i: {**partition_parameters(p.unit, p.quarter, today), **p.references} for i, p in enumerate(partitions)}
    params = BatchParameters(by_part, tuple(dataset.key or ()))
    frame = prepare_frame(dataset, raw, rules, params)
    frame = bind_row_rules(frame, [r for r in rules if r.level == "row"], params)
    counts = dict(raw.group_by(PART).len().iter_rows())
    prepared, offset = [], 0
    for i in range(len(partitions)):
        rows = counts.get(i, 0)
        prepared.append(Prepared(part=i, params=by_part[i], raw=raw.slice(offset, rows),
                                 frame=frame.slice(offset, rows), skipped=skipped_rules(rules, by_part[i])))
        offset += rows
    return prepared
