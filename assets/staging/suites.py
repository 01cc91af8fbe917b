"""Great Expectations: rules -> an expectation suite per dataset, run on a partition's pandas frame.

GX is imported lazily (several seconds) and once per process; one ephemeral context holds one
suite and one validation definition per dataset and level (row / dataset). Per-partition values
(period dates, reference lists) are passed as `expectation_parameters` ({"$PARAMETER": name}).
Analytics and progress bars are off.

Where it runs (a worker process for small batches, else the calling process): validation_process.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass

import polars as pl

from assets.staging.bound import bound_expectations
from assets.staging.rules import Rule
from core.deferred_modules import defer

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_number"],
                 "return_unexpected_index_query": False, "partial_unexpected_count": 0}

# Imported by GX at start-up for expectations and renderers no rule file uses (KL divergence, KS tests,
# Altair charts): ~1 s of its import, deferred to a first use that does not come (core/deferred_modules.py).
GX_UNUSED_MODULES = ("scipy.stats", "altair")

_lock = threading.Lock()
_state: dict = {}


@dataclass
class ExpectationOutcome:
    rule: str
    column: str
    success: bool
    element_count: int
    unexpected_rows: list[int]
    observed: object = None
    error: str | None = None


def gx_loaded() -> bool:
    """Whether Great Expectations is imported in this process (by `_gx`)."""
    return "context" in _state


def import_gx() -> None:
    """Import Great Expectations and create its context in this process (once)."""
    _gx()


def _gx():
    """(gx module, ephemeral context), created once per process."""
    with _lock:
        if "context" not in _state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            defer(*GX_UNUSED_MODULES)
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            source = context.data_sources.add_pandas("cus_staging")
            _state.update(gx=gx, context=context, source=source, definitions={})
        return _state["gx"], _state


def validate_here(name: str, rules: list[Rule], frame: pl.DataFrame) -> list[ExpectationOutcome]:
    """`run_suite` on a `gx_frame` in this process."""
    return run_suite(name, rules, to_pandas(frame), {})


def gx_frame(frame: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    """`row_number` (the row's position in the batch) + the columns the expectations read."""
    return frame.select(["row_number"] + sorted(c for c in columns if c in frame.columns and c != "row_number"))


def to_pandas(selected: pl.DataFrame):
    """The frame GX validates (a `gx_frame`) in pandas: decimals as floats, dates as Python dates."""
    import pandas as pd

    dates = [c for c, t in selected.schema.items() if t == pl.Date]
    decimals = [c for c, t in selected.schema.items() if isinstance(t, pl.Decimal)]
    selected = selected.with_columns([pl.col(c).cast(pl.Float64) for c in decimals])
    pdf = selected.drop(dates).to_pandas()
    for name in dates:
        pdf[name] = pd.Series(selected[name].to_list(), dtype=object)
    return pdf


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def _validation_definition(name: str, rules: list[Rule]):
    """The suite of `rules`, made once per content: a process that outlives a change of the rule files
    (the validation service of `cus ui`) makes the changed suite anew."""
    gx, state = _gx()
    expectations = [(rule.id, e.column, e.type, e.kwargs) for rule in rules for e in bound_expectations(rule)]
    typed = json.dumps(expectations, sort_keys=True, default=lambda value: f"{type(value).__qualname__}:{value!r}")
    digest = hashlib.sha256(typed.encode()).hexdigest()[:12]  # a date and its text are different rules
    name = f"{name}__{digest}"
    with _lock:
        if name in state["definitions"]:
            return state["definitions"][name]
        suite = gx.ExpectationSuite(name=name)
        for rule in rules:
            for expectation in bound_expectations(rule):
                cls = getattr(gx.expectations, _class_name(expectation.type))
                suite.add_expectation(cls(**expectation.kwargs, meta={"rule": rule.id, "column": expectation.column}))
        suite = state["context"].suites.add(suite)
        batch = state["source"].add_dataframe_asset(name).add_batch_definition_whole_dataframe("partition")
        definition = state["context"].validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        state["definitions"][name] = definition
        return definition


def run_suite(name: str, rules: list[Rule], frame, parameters: dict) -> list[ExpectationOutcome]:
    """Validate a pandas frame (with a `row_number` column) against the rules' expectations."""
    if not rules:
        return []
    definition = _validation_definition(name, rules)
    # What ValidationDefinition.run does minus storing the result in the (ephemeral) results store:
    # serializing every result to JSON costs about a third of a small partition's validation time,
    # and the results are kept in staging.quarantine / the Dagster checks instead.
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=definition.batch_definition, batch_parameters={"dataframe": frame},
                          result_format=RESULT_FORMAT)
    result = validator.validate_expectation_suite(definition.suite, parameters)
    outcomes = []
    for item in result.results:
        meta = item.expectation_config.meta or {}
        details = item.result or {}
        raised = (item.exception_info or {}).get("raised_exception")
        if raised:
            message = (item.exception_info or {}).get("exception_message")
            raise RuntimeError(f"Great Expectations: reguła {meta.get('rule')} ({meta.get('column')}): {message}")
        rows = [int(entry["row_number"]) for entry in details.get("unexpected_index_list") or []]
        outcomes.append(ExpectationOutcome(
            rule=meta["rule"], column=meta["column"], success=bool(item.success),
            element_count=int(details.get("element_count") or len(frame)), unexpected_rows=rows,
            observed=details.get("observed_value"),
        ))
    expected = sum(len(bound_expectations(r)) for r in rules)
    if len(outcomes) != expected:  # GX merges identical expectations: rule files must not repeat one
        raise RuntimeError(f"Great Expectations: {len(outcomes)} wyników zamiast {expected} w zestawie {name}")
    return outcomes
