"""Rules that need more than one column, as vectorized polars functions (`COMPUTE`, rule files' `compute`).

Each returns, for every row of the frame, `ok` (True = the rule holds) and optionally `expected`
(text for the message). `params` is a `BatchParameters` (assets/staging/batch_params.py): the
frame may hold many partitions, so a rule that depends on the partition (the unit's EU rate, its
budget lines, the service catalogue, the row key within a file) reads the row's partition there.
A dict of one partition's parameters is accepted too.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import yaml

from assets.raw.landing_file import READ_ERROR
from assets.staging.batch_params import BatchParameters
from core.contract import load_contract
from core.money import eu_part
from core.paths import SCHEMAS_DIR


def _money_text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8).str.replace(r"\.", ",")


AMOUNTS = ("gross_amount", "net_amount", "eligible_amount", "vat_amount")


def _is_correction() -> pl.Expr:
    return pl.col("correction").fill_null(False)


def _size(name: str) -> pl.Expr:
    """The amount as the claim compares it: a correction document's negative amounts by their size
    (docs/settlement.md: a correction lowers costs, its internal relations are those of an invoice)."""
    return pl.when(_is_correction()).then(pl.col(name).abs()).otherwise(pl.col(name))


def _at_most(value: pl.Expr, limit: pl.Expr) -> pl.Expr:
    """`value ≤ limit`, holding when either is missing (a missing amount is its own rule's error)."""
    return value.is_null() | limit.is_null() | (value <= limit)


def vat_consistent(frame: pl.DataFrame, params) -> pl.DataFrame:
    """SL2014 "W tym VAT" = VAT included in the eligible amount: 0 ≤ VAT ≤ gross − net and VAT ≤ eligible
    (0 when VAT is recoverable: eligible = net while gross ≠ net)."""
    vat, limit = _size("vat_amount"), pl.min_horizontal(_size("gross_amount") - _size("net_amount"),
                                                         _size("eligible_amount"))
    # a negative limit means wrong signs or net > gross: reported by their own rules, not twice here
    ok = vat.is_null() | limit.is_null() | (limit < 0) | ((vat >= 0) & (vat <= limit))
    return frame.select(ok.alias("ok"), _money_text(pl.max_horizontal(limit, pl.lit(0)).cast(pl.Decimal(18, 2)))
                        .alias("expected"))


def vat_declared_in_eligible(frame: pl.DataFrame, params) -> pl.DataFrame:
    """The eligible amount holds at most the net amount plus its declared VAT ("W tym VAT"): eligible −
    VAT ≤ net, so VAT inside the eligible amount is always declared (recoverable VAT never enters it
    unnoticed: eligible = gross with "W tym VAT" 0 while gross ≠ net is an error)."""
    eligible, limit = _size("eligible_amount"), _size("net_amount") + _size("vat_amount").fill_null(0)
    # eligible > gross is reported by `eligible_le_gross`, not twice here
    ok = _at_most(eligible, limit) | (eligible > _size("gross_amount")).fill_null(False)
    return frame.select(ok.alias("ok"), _money_text(limit.cast(pl.Decimal(18, 2))).alias("expected"))


def eligible_within_project_value(frame: pl.DataFrame, params) -> pl.DataFrame:
    """One document's eligible amount is at most the value of the whole project (the unit's `total`):
    above it the amount is a typo (digits added, a decimal separator lost), never a cost."""
    limit = BatchParameters.of(params).value("total").cast(pl.Decimal(18, 2))
    return frame.select(_at_most(_size("eligible_amount"), limit).alias("ok"), _money_text(limit).alias("expected"))


def eligible_le_gross(frame: pl.DataFrame, params) -> pl.DataFrame:
    return frame.select(_at_most(_size("eligible_amount"), _size("gross_amount")).alias("ok"))


def net_le_gross(frame: pl.DataFrame, params) -> pl.DataFrame:
    return frame.select(_at_most(_size("net_amount"), _size("gross_amount")).alias("ok"))


def _negative_columns(frame: pl.DataFrame, negative: bool) -> pl.Expr:
    """`Kwota …: -50,00; …` of the amounts that are negative (negative=True) or positive."""
    parts = []
    for name in AMOUNTS:
        if name not in frame.columns:
            continue
        header = load_contract()["expenses"].column(name).header
        hit = (pl.col(name) < 0) if negative else (pl.col(name) > 0)
        parts.append(pl.when(hit).then(pl.lit(f"„{header}” ") + _money_text(pl.col(name))))
    return pl.concat_str(parts, separator="; ", ignore_nulls=True) if parts else pl.lit("")


def negative_only_on_correction(frame: pl.DataFrame, params) -> pl.DataFrame:
    """A negative amount is allowed only on a document marked "Faktura korygująca" = T."""
    negative = pl.any_horizontal(pl.col(n) < 0 for n in AMOUNTS if n in frame.columns).fill_null(False)
    ok = ~negative | _is_correction()
    return frame.select(ok.alias("ok"), _negative_columns(frame, True).alias("expected"))


def correction_one_sign(frame: pl.DataFrame, params) -> pl.DataFrame:
    """A correction's amounts are all ≤ 0 (lowers costs) or all ≥ 0 (raises them), never mixed."""
    names = [n for n in AMOUNTS if n in frame.columns]
    negative = pl.any_horizontal(pl.col(n) < 0 for n in names).fill_null(False)
    positive = pl.any_horizontal(pl.col(n) > 0 for n in names).fill_null(False)
    ok = ~(_is_correction() & negative & positive)
    return frame.select(ok.alias("ok"), _negative_columns(frame, False).alias("expected"))


MAX_LISTED = 40  # allowed values named in a message (a longer list ends with "…")


def _listing(values) -> str:
    shown = [str(v) for v in values]
    return ", ".join(shown[:MAX_LISTED]) + (", …" if len(shown) > MAX_LISTED else "") if shown else "(brak)"


def _as_text(values: list) -> pl.Series:
    return pl.Series([str(v) for v in values], dtype=pl.Utf8)


def _in_list(frame: pl.DataFrame, column: str, params, name: str, order=sorted) -> pl.DataFrame:
    """The cell is empty or one of the partition's `name` values; `expected` lists them."""
    params = BatchParameters.of(params)
    ok = pl.col(column).is_null() | params.member(name, pl.col(column).cast(pl.Utf8), _as_text)
    return frame.select(ok.alias("ok"), params.text(name, lambda values: _listing(order(values))).alias("expected"))


def indicator_targets_file_codes() -> list[str]:
    """Codes of schemas/indicators.yaml whose target comes from umowa/wskazniki.csv (`target: file`)."""
    path = SCHEMAS_DIR / "indicators.yaml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]
    return [c["code"] for c in catalogue if c.get("target") == "file"]


def indicator_in_catalogue(frame: pl.DataFrame, params) -> pl.DataFrame:
    codes = indicator_targets_file_codes()
    return _in_list(frame, "indicator_code", {"codes": codes}, "codes", order=list)


def service_in_catalogue(frame: pl.DataFrame, params) -> pl.DataFrame:
    return _in_list(frame, "service_code", params, "service_catalogue")


def task_in_budget(frame: pl.DataFrame, params) -> pl.DataFrame:
    return _in_list(frame, "task_no", params, "budget_tasks")


def category_in_budget(frame: pl.DataFrame, params) -> pl.DataFrame:
    """The (task, cost category) pair is a line of the agreement's budget; `expected` = the categories
    of that task (or of the whole budget when the task itself is unknown: task_in_budget says so)."""
    params = BatchParameters.of(params)
    lines, known, whole_budget = [], [], {}
    for part, values in params.by_part.items():
        pairs = [str(p).split("/", 1) for p in values.get("budget_lines") or []]
        by_task: dict[str, list[str]] = {}
        for task, category in pairs:
            by_task.setdefault(task, []).append(category)
        lines += [(part, task, _listing(sorted(categories))) for task, categories in by_task.items()]
        known += [f"{part}/{task}/{category}" for task, category in pairs]
        whole_budget[part] = _listing(sorted({c for _, c in pairs}))
    keys = pl.DataFrame(lines, schema={"chk_part": pl.Int64, "chk_task": pl.Utf8, "chk_allowed": pl.Utf8},
                        orient="row")
    rows = frame.select(params.part().alias("chk_part"), pl.col("task_no").cast(pl.Utf8).alias("chk_task"),
                        pl.col("cost_category"))
    joined = rows.with_row_index("i").join(keys, on=["chk_part", "chk_task"], how="left").sort("i")
    pair = pl.concat_str([pl.col("chk_part").cast(pl.Utf8), pl.col("chk_task"), pl.col("cost_category")],
                         separator="/")
    ok = pl.col("chk_task").is_null() | pl.col("cost_category").is_null() | pl.col("chk_allowed").is_null() | \
        pair.is_in(pl.Series(known, dtype=pl.Utf8).implode())
    fallback = pl.col("chk_part").replace_strict(list(whole_budget), list(whole_budget.values()), return_dtype=pl.Utf8)
    return joined.select(ok.alias("ok"), pl.col("chk_allowed").fill_null(fallback).alias("expected"))


def tranche_sum(frame: pl.DataFrame, params) -> pl.DataFrame:
    parts = pl.col("amount_eu") + pl.col("amount_state")
    ok = parts.is_null() | pl.col("amount_total").is_null() | (parts == pl.col("amount_total"))
    return frame.select(ok.alias("ok"), _money_text(parts).alias("expected"))


def tranche_eu_share(frame: pl.DataFrame, params) -> pl.DataFrame:
    rates = BatchParameters.of(params).row_values(frame, "eu_rate")  # the unit's rate, exact
    expected = [None if t is None else eu_part(t, Decimal(str(rate)))
                for t, rate in zip(frame["amount_total"].to_list(), rates, strict=True)]
    out = pl.DataFrame({"expected_value": pl.Series(expected, dtype=pl.Decimal(18, 2)), "eu": frame["amount_eu"]})
    return out.select(
        (pl.col("eu").is_null() | pl.col("expected_value").is_null() | (pl.col("eu") == pl.col("expected_value")))
        .alias("ok"),
        _money_text(pl.col("expected_value")).alias("expected"),
    )


def pesel_missing_allowed(frame: pl.DataFrame, params) -> pl.DataFrame:
    ok = (pl.col("pesel_status") != "missing") | (pl.col("no_pesel") == "tak")
    return frame.select(ok.fill_null(True).alias("ok"))


def sex_matches_pesel(frame: pl.DataFrame, params) -> pl.DataFrame:
    ok = pl.col("sex").is_null() | pl.col("sex_from_pesel").is_null() | (pl.col("sex") == pl.col("sex_from_pesel"))
    return frame.select(ok.alias("ok"))


def age_matches_pesel(frame: pl.DataFrame, params) -> pl.DataFrame:
    age, derived = pl.col("age_at_entry"), pl.col("age_at_entry_from_pesel")
    ok = age.is_null() | derived.is_null() | (age == derived.cast(pl.Int64))
    return frame.select(ok.alias("ok"), derived.cast(pl.Utf8).alias("expected"))


def unique_key(frame: pl.DataFrame, params) -> pl.DataFrame:
    """Different rows sharing the key in one file: all of them fail (exact repeats are `duplicate_row`'s job)."""
    params = BatchParameters.of(params)
    key = list(params.key)
    firsts = pl.col("chk__first_copy").cast(pl.UInt32).sum().over(params.over() + key)  # distinct rows of the key
    any_null = pl.any_horizontal(pl.col(k).is_null() for k in key)
    ok = ~pl.col("chk__first_copy") | any_null | (firsts <= 1)
    return frame.select(ok.alias("ok"))


def no_read_error(frame: pl.DataFrame, params) -> pl.DataFrame:
    return frame.select(pl.col(READ_ERROR).is_null().alias("ok"))


COMPUTE = {
    "no_read_error": no_read_error,
    "vat_consistent": vat_consistent,
    "vat_declared_in_eligible": vat_declared_in_eligible,
    "eligible_within_project_value": eligible_within_project_value,
    "eligible_le_gross": eligible_le_gross,
    "net_le_gross": net_le_gross,
    "negative_only_on_correction": negative_only_on_correction,
    "correction_one_sign": correction_one_sign,
    "tranche_sum": tranche_sum,
    "tranche_eu_share": tranche_eu_share,
    "pesel_missing_allowed": pesel_missing_allowed,
    "sex_matches_pesel": sex_matches_pesel,
    "age_matches_pesel": age_matches_pesel,
    "unique_key": unique_key,
    "indicator_in_catalogue": indicator_in_catalogue,
    "service_in_catalogue": service_in_catalogue,
    "task_in_budget": task_in_budget,
    "category_in_budget": category_in_budget,
}


