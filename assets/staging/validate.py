"""Validate one partition: raw text rows -> accepted typed rows, quarantine rows, summary, check results.

Pure function of its inputs (`validate_partition`); the staging asset reads the raw partition and
the reference lists from the warehouse, calls it, and writes the three outputs in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import polars as pl

from assets.staging.batch_params import BatchParameters
from assets.staging.bound import bind_row_rules, bound_expectations, dataset_rule_holds, helper_column, is_bound
from assets.staging.prepare import Partition, Prepared, prepare_batch, skipped_rules
from assets.staging.rules import (
    CONTRACT,
    ERROR,
    READ_ERROR,
    READ_RULES,
    WARNING,
    WHOLE_ROW,
    Rule,
    column_of,
    is_private,
    rules_for,
)
from assets.staging.suites import ExpectationOutcome
from assets.staging.typed import PARSE_MESSAGES, staging_columns
from assets.staging.validation_process import submit_frame
from core.contract import Dataset
from core.models import validation_polars_schema
from core.registry import Unit
from reports.formatting import percent
from reports.formatting import pl_date as date_pl  # babel: the one Polish formatter
from reports.formatting import plain_money as money_pl

MAX_EXAMPLES = 5
HIDDEN = "(wartość ukryta — dane osobowe)"

QUARANTINE_SCHEMA = validation_polars_schema("quarantine")  # schemas/warehouse/staging.yaml
# The quarantine of a partition without failures (most of a batch), shared: an empty polars frame
# still costs ~5 KB, and a national batch holds ~300 000 partition results until its events are logged.
NO_QUARANTINE = pl.DataFrame(schema=QUARANTINE_SCHEMA)


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
        for expectation in bound_expectations(rule):
            for key in ("column", "column_A", "column_B"):
                if key in expectation.kwargs:
                    names.add(expectation.kwargs[key])
            names.update(expectation.kwargs.get("column_list", []))
    return names


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
    """One partition: a batch of one (the staging asset of a single unit × quarter)."""
    (result,) = validate_batch(dataset, raw, [Partition(unit, quarter, references or {})], today, checked_at)
    return result


# References of a partition that depend on the results of the batch's earlier partitions (a rule that
# compares with the dataset's own other quarters): (index of the partition, results so far) -> parameters.
Chain = Callable[[int, list[Validation]], dict[str, list]]


def validate_batch(dataset: Dataset, raw: pl.DataFrame, partitions: list[Partition], today: date | None = None,
                   checked_at: datetime | None = None, chain: Chain | None = None) -> list[Validation]:
    """Type, validate and split accepted / quarantined rows of many partitions of one dataset.

    `raw` holds the rows of every partition, with `chk__part` = the partition's index in `partitions`
    (`prepare.with_partition_index`; not needed for one partition).
    1. all partitions are typed and get their helper columns in one pass, each row with its own
       partition's parameters (`prepare.prepare_batch`);
    2. Great Expectations runs ONCE over the whole batch (the row-level rules);
    3. partition after partition (in the given order): the rules whose references `chain` gives are
       evaluated again with them, then its quarantine rows, dataset-level rules, summary and checks.
    """
    return start_batch(dataset, raw, partitions, today, checked_at, chain).finish()


@dataclass
class PendingBatch:
    """A batch typed and its Great Expectations run started (`start_batch`); `finish` gives its results."""

    dataset: Dataset
    rules: list[Rule]
    prepared: list[Prepared]
    outcomes: Callable[[], list[list[ExpectationOutcome]]]
    checked_at: datetime
    chain: Chain | None

    def finish(self) -> list[Validation]:
        """Steps 3 of `validate_batch` (waits for the Great Expectations run)."""
        results: list[Validation] = []
        for i, (p, outs) in enumerate(zip(self.prepared, self.outcomes(), strict=True)):
            if self.chain is not None:
                p, outs = _rebind(self.rules, p, outs, self.chain(i, results))
            results.append(_partition_result(self.dataset, self.rules, p, outs, self.checked_at))
        return results


def start_batch(dataset: Dataset, raw: pl.DataFrame, partitions: list[Partition], today: date | None = None,
                checked_at: datetime | None = None, chain: Chain | None = None) -> PendingBatch:
    """Steps 1 and 2 of `validate_batch`; Great Expectations runs in the validation worker meanwhile, when
    one is started (assets/staging/validation_process.py), so the caller can prepare the next dataset."""
    today = today or date.today()
    checked_at = checked_at or datetime.now().replace(microsecond=0)
    rules = rules_for(dataset)
    row_rules = [r for r in rules if r.level == "row"]
    prepared = prepare_batch(dataset, raw, partitions, rules, today)
    return PendingBatch(dataset, rules, prepared, _run_batch_suite(dataset, row_rules, prepared), checked_at, chain)


def _rebind(rules: list[Rule], p: Prepared, outcomes: list[ExpectationOutcome],
            references: dict[str, list]) -> tuple[Prepared, list[ExpectationOutcome]]:
    """Evaluate again the rules that read `references` (their GX outcome used provisional values)."""
    params = {**p.params, **references}
    rebound = [r for r in rules if r.level == "row" and any(ref["parameter"] in references for ref in r.references)]
    frame = bind_row_rules(p.frame, rebound, BatchParameters({p.part: params}))
    replaced = {}
    for rule in rebound:
        for expectation in rule.expectations():
            if is_bound(expectation):
                rows = frame.filter(~pl.col(helper_column(rule, expectation.column)))["row_number"].to_list()
                replaced[(rule.id, expectation.column)] = rows
    outcomes = [ExpectationOutcome(rule=o.rule, column=o.column, success=not replaced[(o.rule, o.column)],
                                   element_count=o.element_count, unexpected_rows=replaced[(o.rule, o.column)])
                if (o.rule, o.column) in replaced else o for o in outcomes]
    return Prepared(part=p.part, params=params, raw=p.raw, frame=frame, skipped=skipped_rules(rules, params)), outcomes


# Rows per Great Expectations run: GX validates a pandas copy of the batch, so memory follows the rows
# of one run; a batch of many units is validated in chunks of whole partitions (one chunk for the pilot).
GX_CHUNK_ROWS = 1_000_000


def _run_batch_suite(dataset: Dataset, row_rules: list[Rule],
                     prepared: list[Prepared]) -> Callable[[], list[list[ExpectationOutcome]]]:
    """One suite run over every partition's rows (in chunks of at most GX_CHUNK_ROWS rows of whole
    partitions), started; calling the result gives the outcomes split back per partition with the
    partition's own row numbers."""
    if not row_rules or not prepared:
        return lambda: [[] for _ in prepared]
    runs: list[Callable[[], list[list[ExpectationOutcome]]]] = []
    chunk: list[Prepared] = []
    rows = 0
    for p in prepared:
        if chunk and rows + p.frame.height > GX_CHUNK_ROWS:
            runs.append(_run_chunk(dataset, row_rules, chunk))
            chunk, rows = [], 0
        chunk.append(p)
        rows += p.frame.height
    runs.append(_run_chunk(dataset, row_rules, chunk))
    return lambda: [outcomes for run in runs for outcomes in run()]


def _run_chunk(dataset: Dataset, row_rules: list[Rule],
               prepared: list[Prepared]) -> Callable[[], list[list[ExpectationOutcome]]]:
    """GX sees the row's position in the chunk as `row_number`; failures are mapped back to
    (partition, file row) when the result is called."""
    columns = _gx_columns(row_rules)
    frames = [p.frame.select([c for c in p.frame.columns if c in columns])
              .with_columns(pl.lit(i, dtype=pl.Int32).alias("batch_part"), p.frame["row_number"].alias("file_row"))
              for i, p in enumerate(prepared)]
    batch = pl.concat(frames, how="diagonal_relaxed").with_row_index("row_number").with_columns(
        pl.col("row_number").cast(pl.Int64))
    positions = batch.select("batch_part", "file_row")
    pending = submit_frame(f"{dataset.name}__row", row_rules, batch, columns)
    del batch
    heights = [p.frame.height for p in prepared]

    def split() -> list[list[ExpectationOutcome]]:
        by_part: list[list[ExpectationOutcome]] = [[] for _ in heights]
        for outcome in pending():
            failing: dict[int, list[int]] = {}
            if outcome.unexpected_rows:
                for part, file_row in positions[sorted(outcome.unexpected_rows)].iter_rows():
                    failing.setdefault(part, []).append(file_row)
            for i, height in enumerate(heights):
                rows = failing.get(i, [])
                by_part[i].append(ExpectationOutcome(rule=outcome.rule, column=outcome.column, success=not rows,
                                                     element_count=height, unexpected_rows=rows))
        return by_part

    return split


def _row_failures(dataset: Dataset, rules: list[Rule], p: Prepared, outcomes: list[ExpectationOutcome]) -> pl.DataFrame:
    parts = []
    for outcome in outcomes:
        rule = next(r for r in rules if r.id == outcome.rule)
        if not outcome.unexpected_rows or rule.id in p.skipped:
            continue
        if rule.compute == CONTRACT:  # which of the rule's columns failed in each row
            failing = p.frame.filter(pl.col("row_number").is_in(outcome.unexpected_rows))
            for name in rule.columns:
                rows = failing.filter(~pl.col(f"chk__ok__{rule.id}__{name}"))["row_number"].to_list()
                if rows:
                    parts.append(_failures(dataset, p.raw, p.frame, rule, name, rows, p.params))
        else:
            parts.append(_failures(dataset, p.raw, p.frame, rule, outcome.column, outcome.unexpected_rows, p.params))
    failures = pl.concat(parts) if parts else pl.DataFrame(
        schema={k: QUARANTINE_SCHEMA[k] for k in ("row_number", "column_name", "header", "rule", "severity",
                                                  "message", "value")})
    # A row whose cells are shifted (more cells than the header) is reported by the reading rules only:
    # the other rules would judge values that sit in the wrong columns.
    unreadable = p.frame["row_number"].filter(p.frame[READ_ERROR].is_not_null())
    if unreadable.len():
        failures = failures.filter(~pl.col("row_number").is_in(unreadable.implode()) | pl.col("rule").is_in(READ_RULES))
    return failures


def _dataset_failures(dataset: Dataset, rules: list[Rule], p: Prepared, accepted: pl.DataFrame,
                      by_rule: dict[str, list], observed_by_rule: dict) -> tuple[list[dict], bool]:
    """Rules on the whole file's accepted rows (e.g. the budget adds up to the agreement total)."""
    failures, refused = [], False
    for rule in (r for r in rules if r.level == "dataset"):
        for expectation in rule.expectations():
            ok, observed = dataset_rule_holds(expectation, accepted, p.params)
            by_rule[rule.id].append(ExpectationOutcome(rule=rule.id, column=expectation.column, success=ok,
                                                       element_count=accepted.height, unexpected_rows=[]))
            observed_by_rule[rule.id] = observed
            if ok:
                continue
            refused = refused or rule.severity == ERROR
            total = p.params.get("total")
            message = _static_text(rule.message, dataset, expectation.column, p.params)
            difference = (observed - total) if isinstance(observed, Decimal) and total is not None else None
            message = (message.replace("{observed}", money_pl(observed) if isinstance(observed, Decimal) else str(observed))
                       .replace("{expected}", money_pl(total)).replace("{difference}", money_pl(difference)))
            col = column_of(dataset, expectation.column)
            failures.append({"row_number": None, "column_name": expectation.column,
                             "header": col.header if col else expectation.column, "rule": rule.id,
                             "severity": rule.severity, "message": message, "value": None})
    return failures, refused


def _partition_result(dataset: Dataset, rules: list[Rule], p: Prepared, outcomes: list[ExpectationOutcome],
                      checked_at: datetime) -> Validation:
    by_rule: dict[str, list] = {r.id: [] for r in rules}
    for outcome in outcomes:
        by_rule[outcome.rule].append(outcome)
    failures = _row_failures(dataset, rules, p, outcomes)
    rejected = set(failures.filter(pl.col("severity") == ERROR)["row_number"].to_list())
    accepted_frame = p.frame.filter(~pl.col("row_number").is_in(list(rejected))) if rejected else p.frame
    observed_by_rule: dict = {rule_id: "nie sprawdzano: brak danych odniesienia" for rule_id in p.skipped}
    dataset_failures, refused = _dataset_failures(dataset, rules, p, accepted_frame, by_rule, observed_by_rule)
    if dataset_failures:
        failures = pl.concat([failures, pl.DataFrame(dataset_failures, schema=failures.schema)])

    raw = p.raw
    lineage = raw.select("row_number", "unit", "quarter", "source_file", "file_sha256").head(1)
    first = lineage.row(0, named=True) if lineage.height else {}
    clean = failures.height == 0  # most partitions of a batch: nothing to split per rule or to quarantine
    quarantine = NO_QUARANTINE if clean else failures.with_columns(
        pl.lit(first.get("unit")).alias("unit"), pl.lit(first.get("quarter"), dtype=pl.Utf8).alias("quarter"),
        pl.lit(dataset.name).alias("dataset"), pl.lit(first.get("source_file")).alias("source_file"),
        pl.lit(first.get("file_sha256")).alias("file_sha256"), pl.lit(checked_at).alias("checked_at"),
    ).select([pl.col(k).cast(v) for k, v in QUARANTINE_SCHEMA.items()]).sort("row_number", "rule", "column_name",
                                                                            nulls_last=True)

    names = [name for name, _ in staging_columns(dataset)]
    accepted = (accepted_frame.select([n for n in names if n in accepted_frame.columns])
                if not refused else accepted_frame.clear().select([n for n in names if n in accepted_frame.columns]))
    warned = set() if clean else (
        set(failures.filter(pl.col("severity") == WARNING)["row_number"].drop_nulls().to_list()) - rejected)
    received = raw.height
    summary = {
        "unit": first.get("unit"), "quarter": first.get("quarter"), "dataset": dataset.name,
        "source_file": first.get("source_file"), "file_sha256": first.get("file_sha256"),
        "received": received, "accepted": 0 if refused else received - len(rejected),
        "quarantined": received if refused else len(rejected), "warnings": len(warned), "checked_at": checked_at,
    }

    results = []
    failures_by_rule = {} if clean else failures.partition_by("rule", as_dict=True)
    for rule in rules:
        checked = max((o.element_count for o in by_rule[rule.id]), default=received)
        if (rule.id,) not in failures_by_rule:  # the rule found nothing here
            results.append(RuleResult(rule=rule, passed=True, failing_rows=0, checked_rows=checked,
                                      observed=observed_by_rule.get(rule.id)))
            continue
        rule_failures = failures_by_rule[(rule.id,)]
        failing_rows = rule_failures["row_number"].drop_nulls().n_unique()
        examples = [
            {"wiersz": r["row_number"], "kolumna": r["header"],
             "wartość": None if is_private(dataset, r["column_name"]) else r["value"],
             "komunikat": r["message"]}
            for r in rule_failures.head(MAX_EXAMPLES).iter_rows(named=True)
        ]
        passed = rule_failures.height == 0
        results.append(RuleResult(rule=rule, passed=passed, failing_rows=failing_rows or (0 if passed else received),
                                  checked_rows=checked, examples=examples, observed=observed_by_rule.get(rule.id)))
    return Validation(accepted=accepted, quarantine=quarantine, summary=summary, results=results, refused=refused)
