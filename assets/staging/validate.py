"""Validate one partition: raw text rows -> accepted typed rows, quarantine rows, summary, check results.

Pure function of its inputs (`validate_partition`); the staging asset reads the raw partition and
the reference lists from the warehouse, calls it, and writes the three outputs in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import polars as pl

from assets.staging.rules import (
    COMPUTE,
    CONTRACT,
    ERROR,
    PESEL_FOUND_IN,
    READ_ERROR,
    READ_RULES,
    WARNING,
    WHOLE_ROW,
    Rule,
    column_of,
    content_columns,
    contract_checks,
    is_private,
    rules_for,
)
from assets.staging.suites import run_suite
from assets.staging.typed import PARSE_MESSAGES, staging_columns, typed_rows
from core.contract import Dataset
from core.models import validation_polars_schema
from core.quarters import quarter_end, quarter_start
from core.registry import Unit
from reports.formatting import percent
from reports.formatting import pl_date as date_pl  # babel: the one Polish formatter
from reports.formatting import plain_money as money_pl

MAX_EXAMPLES = 5
HIDDEN = "(wartość ukryta — dane osobowe)"

QUARANTINE_SCHEMA = validation_polars_schema("quarantine")  # schemas/warehouse/staging.yaml


@dataclass
class RuleResult:
    rule: Rule
    passed: bool
    failing_rows: int
    checked_rows: int
    examples: list[dict] = field(default_factory=list)  # row_number, header, value (None when private)
    observed: object = None


@dataclass
class Validation:
    accepted: pl.DataFrame  # staging rows (typed), empty when the file is refused
    quarantine: pl.DataFrame
    summary: dict
    results: list[RuleResult]
    refused: bool  # a blocking dataset-level rule failed: staging keeps its earlier rows


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


def _latest_date_text(params: dict) -> str:
    if "latest_date" not in params:
        return "—"
    if params["latest_date"] < params["quarter_end"]:
        return f"dzisiejsza data ({date_pl(params['today'])}) — data z przyszłości"
    return f"koniec kwartału sprawozdawczego {params['quarter']} ({date_pl(params['quarter_end'])})"


def _static_text(template: str, dataset: Dataset, column: str, params: dict) -> str:
    col = column_of(dataset, column)
    bounds = ""
    if col is not None and (col.min is not None or col.max is not None):
        if col.max is None:
            bounds = f"dozwolone ≥ {col.min:g}"
        elif col.min is None:
            bounds = f"dozwolone ≤ {col.max:g}"
        else:
            bounds = f"dozwolone od {col.min:g} do {col.max:g}"
    parse_error = ""
    if col is not None:
        parse_error = (f"niedozwolona wartość; dozwolone: {', '.join(col.labels())}" if col.values
                       else PARSE_MESSAGES.get(col.type, "nieprawidłowa wartość"))
    values = {
        "header": col.header if col is not None else column,
        "quarter": params.get("quarter") or "—",
        "period_start": date_pl(params.get("period_start")), "period_end": date_pl(params.get("period_end")),
        "quarter_start": date_pl(params.get("quarter_start")), "quarter_end": date_pl(params.get("quarter_end")),
        "today": date_pl(params.get("today")), "total": money_pl(params.get("total")),
        "eu_rate": percent(params.get("eu_rate", 0), 2),
        "bounds": bounds, "parse_error": parse_error, "latest_date": _latest_date_text(params),
    }
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def _gx_columns(rules: list[Rule]) -> set[str]:
    names = set()
    for rule in rules:
        for expectation in rule.expectations():
            for key in ("column", "column_A", "column_B"):
                if key in expectation.kwargs:
                    names.add(expectation.kwargs[key])
            names.update(expectation.kwargs.get("column_list", []))
    return names


def _to_pandas(frame: pl.DataFrame, columns: set[str]):
    """The frame GX validates: row_number + the columns the expectations read; decimals as floats,
    dates as Python dates (compared with date parameters)."""
    import pandas as pd

    selected = frame.select(["row_number"] + sorted(c for c in columns if c in frame.columns and c != "row_number"))
    dates = [c for c, t in selected.schema.items() if t == pl.Date]
    decimals = [c for c, t in selected.schema.items() if isinstance(t, pl.Decimal)]
    selected = selected.with_columns([pl.col(c).cast(pl.Float64) for c in decimals])
    pdf = selected.drop(dates).to_pandas()
    for name in dates:
        pdf[name] = pd.Series(selected[name].to_list(), dtype=object)
    return pdf


def prepare_frame(dataset: Dataset, raw: pl.DataFrame, typed: pl.DataFrame, type_errors: pl.DataFrame,
                  rules: list[Rule], params: dict) -> pl.DataFrame:
    """Typed rows + helper columns chk__* the expectations read (never stored)."""
    absent = [pl.lit(None, dtype=pl.Utf8).alias(c) for c in (READ_ERROR, PESEL_FOUND_IN) if c not in typed.columns]
    typed = typed.with_columns(absent) if absent else typed  # raw frames made without the reading step
    frame = typed.with_columns(pl.struct(content_columns(dataset, raw)).is_first_distinct().alias("chk__first_copy"))
    helpers = []
    for column in dataset.stored_columns:
        if column.name in raw.columns:
            helpers.append(raw[column.name].alias(f"chk__text__{column.name}"))
            bad = type_errors.filter(pl.col("column") == column.name)["row_number"]
            helpers.append((~raw["row_number"].is_in(bad.implode())).alias(f"chk__parsed__{column.name}"))
    frame = frame.with_columns(helpers)
    for rule in rules:
        if rule.compute == CONTRACT:
            checks = contract_checks(dataset, rule)
            frame = frame.with_columns([expr.fill_null(True).alias(f"chk__ok__{rule.id}__{name}")
                                        for name, expr in checks.items()])
            frame = frame.with_columns(pl.all_horizontal(f"chk__ok__{rule.id}__{name}" for name in checks)
                                       .alias(f"chk__ok__{rule.id}"))
        elif rule.compute:
            out = COMPUTE[rule.compute](frame, {**params, "key": dataset.key})
            frame = frame.with_columns(out["ok"].fill_null(True).alias(f"chk__ok__{rule.id}"))
            if "expected" in out.columns:
                frame = frame.with_columns(out["expected"].alias(f"chk__expected__{rule.id}"))
    return frame


def _failures(dataset: Dataset, raw: pl.DataFrame, frame: pl.DataFrame, rule: Rule, column: str, rows: list[int],
              params: dict) -> pl.DataFrame:
    template = _static_text(rule.message, dataset, column, params)
    failing = pl.DataFrame({"row_number": rows}, schema={"row_number": pl.Int64})
    private = rule.hide_value or is_private(dataset, column)
    text = (raw.select("row_number", pl.col(column).cast(pl.Utf8).alias("value"))
            if column in raw.columns and not private else
            raw.select("row_number", pl.lit(None, dtype=pl.Utf8).alias("value")))
    expected_col = f"chk__expected__{rule.id}"
    expected = (frame.select("row_number", pl.col(expected_col).alias("expected")) if expected_col in frame.columns
                else frame.select("row_number", pl.lit(None, dtype=pl.Utf8).alias("expected")))
    out = failing.join(text, on="row_number", how="left").join(expected, on="row_number", how="left")
    shown = pl.lit(HIDDEN) if private else pl.col("value").fill_null("(puste)")
    out = out.with_columns(pl.lit(template).alias("message"))
    if "{value}" in template:
        out = out.with_columns(pl.col("message").str.replace_all("{value}", shown, literal=True))
    if "{expected}" in template:
        out = out.with_columns(pl.col("message").str.replace_all("{expected}", pl.col("expected").fill_null("—"),
                                                                 literal=True))
    message = pl.col("message")
    col = column_of(dataset, column)
    header = WHOLE_ROW.get(column) or (col.header if col else column)
    return out.select(
        "row_number", pl.lit(None if column in WHOLE_ROW else column, dtype=pl.Utf8).alias("column_name"),
        pl.lit(header).alias("header"),
        pl.lit(rule.id).alias("rule"), pl.lit(rule.severity).alias("severity"), message.alias("message"), "value",
    )


def validate_partition(dataset: Dataset, raw: pl.DataFrame, unit: Unit, quarter: str | None,
                       references: dict[str, list] | None = None, today: date | None = None,
                       checked_at: datetime | None = None) -> Validation:
    """Type, validate with Great Expectations, split accepted / quarantined rows (raw = one partition)."""
    today = today or date.today()
    checked_at = checked_at or datetime.now().replace(microsecond=0)
    raw = raw.sort("row_number")
    rules = rules_for(dataset)
    params = {**partition_parameters(unit, quarter, today), **(references or {})}
    typed = typed_rows(dataset, raw)
    frame = prepare_frame(dataset, raw, typed.frame, typed.errors, rules, params)
    row_rules = [r for r in rules if r.level == "row"]
    dataset_level = [r for r in rules if r.level == "dataset"]
    gx_params = {k: v for k, v in params.items() if not isinstance(v, Decimal)}

    outcomes = run_suite(f"{dataset.name}__row", row_rules, _to_pandas(frame, _gx_columns(row_rules)), gx_params)
    parts, by_rule = [], {r.id: [] for r in rules}
    skipped = {r.id for r in rules if r.skip_when_reference_empty
               and any(not params.get(ref["parameter"]) for ref in r.references)}
    for outcome in outcomes:
        by_rule[outcome.rule].append(outcome)
        rule = next(r for r in rules if r.id == outcome.rule)
        if not outcome.unexpected_rows or rule.id in skipped:
            continue
        if rule.compute == CONTRACT:  # which of the rule's columns failed in each row
            failing = frame.filter(pl.col("row_number").is_in(outcome.unexpected_rows))
            for name in rule.columns:
                rows = failing.filter(~pl.col(f"chk__ok__{rule.id}__{name}"))["row_number"].to_list()
                if rows:
                    parts.append(_failures(dataset, raw, frame, rule, name, rows, params))
        else:
            parts.append(_failures(dataset, raw, frame, rule, outcome.column, outcome.unexpected_rows, params))
    failures = pl.concat(parts) if parts else pl.DataFrame(
        schema={k: QUARANTINE_SCHEMA[k] for k in ("row_number", "column_name", "header", "rule", "severity",
                                                  "message", "value")})
    # A row whose cells are shifted (more cells than the header) is reported by the reading rules only:
    # the other rules would judge values that sit in the wrong columns.
    unreadable = frame.filter(pl.col(READ_ERROR).is_not_null())["row_number"]
    if unreadable.len():
        failures = failures.filter(~pl.col("row_number").is_in(unreadable.implode()) | pl.col("rule").is_in(READ_RULES))
    rejected = set(failures.filter(pl.col("severity") == ERROR)["row_number"].to_list())
    accepted_frame = frame.filter(~pl.col("row_number").is_in(list(rejected)))

    refused, dataset_failures = False, []
    observed_by_rule = {rule_id: "nie sprawdzano: brak danych odniesienia" for rule_id in skipped}
    if dataset_level:
        dataset_outcomes = run_suite(f"{dataset.name}__dataset", dataset_level,
                                     _to_pandas(accepted_frame, _gx_columns(dataset_level)), gx_params)
        for outcome in dataset_outcomes:
            by_rule[outcome.rule].append(outcome)
            rule = next(r for r in rules if r.id == outcome.rule)
            observed = accepted_frame[outcome.column].sum() if outcome.column in accepted_frame.columns else None
            observed_by_rule[rule.id] = observed
            if outcome.success:
                continue
            refused = refused or rule.severity == ERROR
            total = params.get("total")
            message = _static_text(rule.message, dataset, outcome.column, params)
            difference = (observed - total) if isinstance(observed, Decimal) and total is not None else None
            message = (message.replace("{observed}", money_pl(observed) if isinstance(observed, Decimal) else str(observed))
                       .replace("{expected}", money_pl(total)).replace("{difference}", money_pl(difference)))
            col = column_of(dataset, outcome.column)
            dataset_failures.append({"row_number": None, "column_name": outcome.column,
                                     "header": col.header if col else outcome.column, "rule": rule.id,
                                     "severity": rule.severity, "message": message, "value": None})
    if dataset_failures:
        failures = pl.concat([failures, pl.DataFrame(dataset_failures, schema=failures.schema)])

    lineage = raw.select("row_number", "unit", "quarter", "source_file", "file_sha256").head(1)
    first = lineage.row(0, named=True) if lineage.height else {}
    quarantine = failures.with_columns(
        pl.lit(first.get("unit")).alias("unit"), pl.lit(first.get("quarter"), dtype=pl.Utf8).alias("quarter"),
        pl.lit(dataset.name).alias("dataset"), pl.lit(first.get("source_file")).alias("source_file"),
        pl.lit(first.get("file_sha256")).alias("file_sha256"), pl.lit(checked_at).alias("checked_at"),
    ).select([pl.col(k).cast(v) for k, v in QUARANTINE_SCHEMA.items()]).sort("row_number", "rule", "column_name",
                                                                            nulls_last=True)

    names = [name for name, _ in staging_columns(dataset)]
    accepted = (accepted_frame.select([n for n in names if n in accepted_frame.columns])
                if not refused else accepted_frame.clear().select([n for n in names if n in accepted_frame.columns]))
    warned = set(failures.filter(pl.col("severity") == WARNING)["row_number"].drop_nulls().to_list()) - rejected
    received = raw.height
    summary = {
        "unit": first.get("unit"), "quarter": first.get("quarter"), "dataset": dataset.name,
        "source_file": first.get("source_file"), "file_sha256": first.get("file_sha256"),
        "received": received, "accepted": 0 if refused else received - len(rejected),
        "quarantined": received if refused else len(rejected), "warnings": len(warned), "checked_at": checked_at,
    }

    results = []
    for rule in rules:
        rule_failures = failures.filter(pl.col("rule") == rule.id)
        failing_rows = rule_failures["row_number"].drop_nulls().n_unique()
        outcomes_of_rule = by_rule[rule.id]
        checked = max((o.element_count for o in outcomes_of_rule), default=received)
        examples = [
            {"wiersz": r["row_number"], "kolumna": r["header"],
             "wartość": None if is_private(dataset, r["column_name"]) else r["value"]}
            for r in rule_failures.head(MAX_EXAMPLES).iter_rows(named=True)
        ]
        passed = rule_failures.height == 0
        results.append(RuleResult(rule=rule, passed=passed, failing_rows=failing_rows or (0 if passed else received),
                                  checked_rows=checked, examples=examples, observed=observed_by_rule.get(rule.id)))
    return Validation(accepted=accepted, quarantine=quarantine, summary=summary, results=results, refused=refused)
