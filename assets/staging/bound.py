"""Expectations whose bounds depend on the partition, evaluated per row so one suite fits a batch.

A rule file may write `{$PARAMETER: period_start}` (the unit's period, the reporting quarter, a
reference list read from the warehouse). Great Expectations takes one value per parameter per
validation, but a batch holds many units × quarters. So before the batch is validated, every such
expectation is evaluated on its partition's rows into a boolean helper column
`chk__bound__<rule>__<column>` (True = holds; an empty cell holds, as in Great Expectations), and
the batch suite checks that column (`bound_expectations`). The helper columns of all partitions
are computed in one polars pass: each row reads its own partition's values (`BatchParameters`).
The expectation types the rule files use with parameters are supported; another one is a
rule-file error, never a silent pass.
"""

from __future__ import annotations

import polars as pl

from assets.staging.batch_params import BatchParameters
from assets.staging.rules import Expectation, Rule

PARAMETER = "$PARAMETER"
SUPPORTED = ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
             "expect_column_values_to_not_be_in_set", "expect_column_sum_to_be_between")


def is_bound(expectation: Expectation) -> bool:
    return any(isinstance(v, dict) and PARAMETER in v for v in expectation.kwargs.values())


def helper_column(rule: Rule, column: str) -> str:
    return f"chk__bound__{rule.id}__{column}"


def bound_expectations(rule: Rule) -> list[Expectation]:
    """The rule's expectations for a batch: parameterised ones read their helper column instead."""
    out = []
    for expectation in rule.expectations():
        if not is_bound(expectation):
            out.append(expectation)
            continue
        if expectation.type not in SUPPORTED:
            raise ValueError(f"reguła {rule.id}: {expectation.type} z parametrem partycji nie jest obsługiwane "
                             f"(obsługiwane: {', '.join(SUPPORTED)})")
        out.append(Expectation(expectation.column, "expect_column_values_to_be_in_set",
                               {"column": helper_column(rule, expectation.column), "value_set": [True]}))
    return out


def _value(kwarg, params: dict):
    if isinstance(kwarg, dict) and PARAMETER in kwarg:
        return params[kwarg[PARAMETER]]
    return kwarg


def _row_value(kwarg, params: BatchParameters):
    """A constant of the rule file, or the row's partition value of a `$PARAMETER`."""
    if isinstance(kwarg, dict) and PARAMETER in kwarg:
        return params.value(kwarg[PARAMETER])
    return None if kwarg is None else pl.lit(kwarg)


def holds(expectation: Expectation, frame: pl.DataFrame, params: BatchParameters) -> pl.Expr:
    """The row-wise result of one parameterised expectation on a batch frame (True = holds)."""
    kwargs = expectation.kwargs
    column = pl.col(kwargs["column"])
    if expectation.type == "expect_column_values_to_be_between":
        ok = pl.lit(True)
        low, high = _row_value(kwargs.get("min_value"), params), _row_value(kwargs.get("max_value"), params)
        if low is not None:
            ok = ok & ((column > low) if kwargs.get("strict_min") else (column >= low))
        if high is not None:
            ok = ok & ((column < high) if kwargs.get("strict_max") else (column <= high))
        return column.is_null() | ok
    if expectation.type in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        dtype = frame.schema[kwargs["column"]]
        value_set = kwargs["value_set"]

        def as_text(values: list) -> pl.Series:  # the values as the column holds them, then as text
            return pl.Series(values, dtype=dtype).cast(pl.Utf8)

        cells = column.cast(pl.Utf8)
        if isinstance(value_set, dict) and PARAMETER in value_set:
            inside = params.member(value_set[PARAMETER], cells, as_text)
        else:
            inside = cells.is_in(as_text(list(value_set or [])).implode())
        return column.is_null() | (inside if expectation.type.endswith("_to_be_in_set") else ~inside)
    raise ValueError(f"{expectation.type}: wyrażenie wierszowe nieobsługiwane")


def bind_row_rules(frame: pl.DataFrame, rules: list[Rule], params: BatchParameters) -> pl.DataFrame:
    """Add the helper columns of every parameterised row-level expectation of `rules` (all partitions)."""
    helpers = [holds(e, frame, params).fill_null(True).alias(helper_column(rule, e.column))
               for rule in rules for e in rule.expectations() if is_bound(e)]
    return frame.with_columns(helpers) if helpers else frame


def dataset_rule_holds(expectation: Expectation, frame: pl.DataFrame, params: dict) -> tuple[bool, object]:
    """(holds, observed) of a dataset-level expectation on one partition's accepted rows."""
    kwargs = {k: _value(v, params) for k, v in expectation.kwargs.items()}
    if expectation.type != "expect_column_sum_to_be_between":
        raise ValueError(f"{expectation.type}: reguła na poziomie pliku nieobsługiwana")
    observed = frame[kwargs["column"]].sum() if kwargs["column"] in frame.columns else None
    value = float(observed or 0)
    ok = (kwargs.get("min_value") is None or value >= kwargs["min_value"]) and \
         (kwargs.get("max_value") is None or value <= kwargs["max_value"])
    return ok, observed
