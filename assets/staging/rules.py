"""Validation rules as data: the contract's rules plus the hand-written rule files of schemas/validation/.

Two sources, one `Rule` type:

- **contract rules**, derived at load time from `schemas/contract.yaml` (no generated file to keep
  in sync): `required`, `type`, `allowed_values`, `nip_checksum`, `range` (min/max), `unique_key`;
- **dataset rules**, `schemas/validation/<dataset>.yaml` (format: schemas/validation/README.md).

A rule becomes one or more Great Expectations expectations (`Rule.expectations`) and one Dagster
asset check (name = rule id). Rules that need more than one column (VAT = gross − net, EU split,
sex vs PESEL, …) are vectorized polars functions here (`COMPUTE`) that add the boolean helper
column `chk__ok__<rule>` (True = the rule holds) and optionally `chk__expected__<rule>` (text for
the message); the expectation then checks that column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from core.contract import Column, Dataset, load_contract
from core.money import eu_part
from core.paths import SCHEMAS_DIR

VALIDATION_DIR = SCHEMAS_DIR / "validation"
ERROR, WARNING = "error", "warning"
ENUM_TYPES = ("enum", "yes_no", "yes_no_refused", "flag_tn")
CONTRACT = "contract"  # compute of the contract rules: per-column helpers (contract_checks)
# Columns whose values never appear in quarantine, metadata or logs (personal / special-category data).
PII_DERIVED = ("pesel", "person_key", "birth_date", "sex_from_pesel", "age_at_entry_from_pesel")
# Raw columns written by the reading step (assets/raw/ingest.py READ_COLUMNS); NULL = nothing found.
READ_ERROR, PESEL_FOUND_IN = "read_error", "pesel_found_in"
# Rule columns that are not a cell of the file: quarantine `column_name` NULL, this `header`.
WHOLE_ROW = {READ_ERROR: "(cały wiersz)"}
# A Dagster check name: ASCII letters, digits and _ (Polish words without diacritics).
CHECK_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# The reading rules (`read_rules`): the only ones reported for a row with a read error.
READ_RULES = ("extra_fields", "pesel_outside_pesel_column")


@dataclass(frozen=True)
class Expectation:
    column: str  # the contract column the provider must fix (quarantine `column_name`)
    type: str  # GX expectation type, e.g. expect_column_values_to_be_between
    kwargs: dict


@dataclass(frozen=True)
class Rule:
    id: str  # internal rule id: staging.quarantine `rule`, tests, docs
    title: str
    description: str
    check_name: str = ""  # the Dagster asset check name the coordinator sees: a Polish identifier
    severity: str = ERROR
    blocking: bool = False
    level: str = "row"  # row | dataset
    columns: tuple[str, ...] = ()
    compute: str | None = None
    references: tuple[dict, ...] = ()
    expect: dict | None = None
    message: str = ""
    skip_when_reference_empty: bool = False  # e.g. no budget loaded yet: the rule cannot be checked
    hide_value: bool = False  # quarantine `value` NULL whatever the column (e.g. a cell that held a PESEL)

    def expectations(self) -> list[Expectation]:
        if self.compute:
            return [Expectation(self.columns[0], "expect_column_values_to_be_in_set",
                                {"column": f"chk__ok__{self.id}", "value_set": [True]})]
        kind, kwargs = self.expect["type"], dict(self.expect.get("kwargs", {}))
        if "column" in kwargs or "column_A" in kwargs or "column_list" in kwargs:
            return [Expectation(self.columns[0], kind, kwargs)]
        return [Expectation(column, kind, {**kwargs, "column": column}) for column in self.columns]

    @property
    def check_description(self) -> str:
        """Plain Polish text (the UI shows check descriptions without Markdown)."""
        kind = "blokująca" if self.blocking else ("błąd: wiersz do kwarantanny" if self.severity == ERROR
                                                  else "ostrzeżenie: wiersz przyjęty")
        return f"{self.title} ({kind}). {self.description}"


def _parsed(column: str) -> str:
    return f"chk__parsed__{column}"


def contract_rules(dataset: Dataset) -> list[Rule]:
    """Rules every dataset gets from the contract: required, types, allowed values, NIP, min/max, key.

    Each is checked per column by a vectorized helper `chk__ok__<rule>__<column>`; Great Expectations
    checks their conjunction `chk__ok__<rule>` (one expectation per rule keeps a partition fast).
    """
    stored = [c for c in dataset.stored_columns if c.pii != "pesel"]
    rules = []
    required = [c for c in stored if c.required]
    if required:
        rules.append(Rule(
            id="required", check_name="wymagane_wartosci_uzupelnione", title="Wymagane wartości",
            description="Kolumny wymagane w każdym wierszu mają wartość.",
            columns=tuple(c.name for c in required), compute=CONTRACT,
            message="Kolumna „{header}” jest wymagana, a w tym wierszu jest pusta. Uzupełnij wartość.",
        ))
    groups = {
        "type": ([c for c in stored if c.type in ("date", "decimal", "integer", "quarter")],
                 "wartosci_poprawnego_typu", "Typy wartości", "Daty, kwoty i liczby dają się odczytać."),
        "allowed_values": ([c for c in stored if c.type in ENUM_TYPES], "wartosci_z_listy_dozwolonych",
                           "Dozwolone wartości",
                           "Wartości kolumn słownikowych należą do listy dozwolonych (z aliasami)."),
        "nip_checksum": ([c for c in stored if c.type == "nip"], "nip_cyfra_kontrolna", "NIP: suma kontrolna",
                         "NIP ma 10 cyfr i poprawną cyfrę kontrolną (dopuszczalne kreski i prefiks PL)."),
    }
    for rule_id, (columns, check_name, title, description) in groups.items():
        if columns:
            rules.append(Rule(
                id=rule_id, check_name=check_name, title=title, description=description,
                columns=tuple(c.name for c in columns),
                compute=CONTRACT,
                message="Kolumna „{header}”: {parse_error}; otrzymano „{value}”. Popraw wartość w pliku.",
            ))
    bounded = [c for c in stored if c.min is not None or c.max is not None]
    if bounded:
        rules.append(Rule(
            id="range", check_name="wartosci_w_dozwolonym_zakresie",
            title="Wartości w dozwolonym zakresie (np. kwoty nieujemne)",
            description="Liczby i kwoty mieszczą się w granicach z kontraktu danych (kwoty ≥ 0).",
            columns=tuple(c.name for c in bounded), compute=CONTRACT,
            message="Kolumna „{header}”: wartość „{value}” spoza dozwolonego zakresu ({bounds}). Popraw wartość.",
        ))
    rules += read_rules(dataset)
    if dataset.key:
        headers = ", ".join(dataset.column(k).header for k in dataset.key)
        rules.append(Rule(
            id="unique_key", check_name="unikalny_klucz_wiersza", title=f"Unikalny klucz wiersza ({headers})",
            description=f"W pliku nie ma dwóch różnych wierszy o tym samym kluczu ({headers}); oba trafiają "
                        "do kwarantanny, bo nie wiadomo, który jest właściwy.",
            columns=tuple(dataset.key), compute="unique_key",
            message=f"W pliku jest więcej niż jeden wiersz o tym samym kluczu ({headers}) i różnej treści. "
                    "Zostaw jeden właściwy wiersz.",
        ))
    return rules


def read_rules(dataset: Dataset) -> list[Rule]:
    """Rules on what the reading step found in a row (same for every dataset: one reader for all files)."""
    stored = [c for c in dataset.stored_columns if c.pii != "pesel"]
    pesel_where = ("w kolumnie „PESEL” pliku uczestników" if any(c.pii == "pesel" for c in dataset.columns)
                   else "w pliku uczestników (kolumna „PESEL”)")
    return [
        Rule(
            id="extra_fields", check_name="wiersz_bez_nadmiarowych_kolumn", title="Wiersz ma więcej kolumn niż nagłówek",
            description="Wiersz pliku CSV ma więcej wypełnionych pól niż nagłówek — zwykle średnik (separator) "
                        "wpisany w tekście bez cudzysłowu przesunął wartości; wiersz trafia do kwarantanny, "
                        "pozostałe są przyjmowane (nigdy nie są po cichu obcinane).",
            columns=(READ_ERROR,), compute="no_read_error",
            message="Wiersz ma więcej kolumn niż nagłówek ({value}) — sprawdź, czy tekst nie zawiera średnika; "
                    "ujmij go w cudzysłów albo usuń średnik. Wartości w wierszu są przesunięte, więc wiersz "
                    "nie został przyjęty.",
        ),
        Rule(
            id="pesel_outside_pesel_column", check_name="pesel_tylko_w_kolumnie_pesel",
            title="Numer PESEL poza kolumną PESEL",
            description="Ostrzeżenie: w kolumnie innej niż „PESEL” był poprawny numer PESEL; przed zapisem w "
                        "hurtowni zastąpiono go znacznikiem „[PESEL usunięty]” (w identyfikatorze uczestnika — "
                        "pseudonimem, więc powiązania działają). Wiersz przyjęty, wartość nie jest pokazywana.",
            severity=WARNING, columns=tuple(c.name for c in stored), compute=CONTRACT, hide_value=True,
            message="Kolumna „{header}” zawierała numer PESEL — nie zapisano go (w identyfikatorze uczestnika "
                    "zastąpiono go pseudonimem). Jako identyfikator uczestnika używaj własnego numeru "
                    f"(np. ELB/2021/0001), a numer PESEL wpisuj tylko {pesel_where}, nigdy w innych kolumnach.",
        ),
    ]


def contract_checks(dataset: Dataset, rule: Rule) -> dict[str, pl.Expr]:
    """Per-column `ok` expressions of a contract rule (on the frame of `prepare_frame`)."""
    out = {}
    for name in rule.columns:
        if rule.id == "required":
            out[name] = pl.col(f"chk__text__{name}").is_not_null()
        elif rule.id == "pesel_outside_pesel_column":
            found = pl.col(PESEL_FOUND_IN).fill_null("")
            out[name] = ~found.str.contains(rf"(^|,){name}(,|$)")
        elif rule.id == "range":
            column = dataset.column(name)
            value = pl.col(name).cast(pl.Float64)
            ok = pl.lit(True)
            if column.min is not None:
                ok = ok & (value >= column.min)
            if column.max is not None:
                ok = ok & (value <= column.max)
            out[name] = value.is_null() | ok
        else:  # type, allowed_values, nip_checksum: the cell is empty or could be parsed
            out[name] = pl.col(f"chk__parsed__{name}")
    return out


def _rule_from_yaml(spec: dict) -> Rule:
    return Rule(
        id=spec["id"], check_name=spec.get("check_name", ""), title=spec["title"],
        description=" ".join(str(spec["description"]).split()),
        severity=spec.get("severity", ERROR), blocking=bool(spec.get("blocking", False)),
        level=spec.get("level", "row"), columns=tuple(spec.get("columns", ())), compute=spec.get("compute"),
        references=tuple(spec.get("references", ())), expect=spec.get("expect"), message=spec.get("message", ""),
        skip_when_reference_empty=bool(spec.get("skip_when_reference_empty", False)),
        hide_value=bool(spec.get("hide_value", False)),
    )


@lru_cache(maxsize=32)
def dataset_rules(name: str, folder: Path = VALIDATION_DIR) -> tuple[Rule, ...]:
    path = Path(folder) / f"{name}.yaml"
    if not path.exists():
        return ()
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert spec["dataset"] == name, f"{path}: dataset {spec['dataset']!r} != {name!r}"
    return tuple(_rule_from_yaml(r) for r in spec.get("rules", []))


def rules_for(dataset: Dataset) -> list[Rule]:
    rules = contract_rules(dataset) + list(dataset_rules(dataset.name))
    for field_name in ("id", "check_name"):
        values = [getattr(r, field_name) for r in rules]
        duplicates = {v for v in values if values.count(v) > 1}
        if duplicates:
            raise ValueError(f"{dataset.name}: powtórzone pola {field_name} reguł {sorted(duplicates)}")
    for rule in rules:
        if not CHECK_NAME_RE.match(rule.check_name):
            raise ValueError(f"{dataset.name}/{rule.id}: check_name {rule.check_name!r} musi być polskim "
                             "identyfikatorem bez znaków diakrytycznych (małe litery a-z, cyfry, _).")
    names = {c.name for c in dataset.columns} | set(PII_DERIVED) | {READ_ERROR}
    for rule in rules:
        unknown = [c for c in rule.columns if c not in names]
        if unknown:
            raise ValueError(f"{dataset.name}/{rule.id}: nieznane kolumny {unknown}")
        if rule.compute and rule.compute != CONTRACT and rule.compute not in COMPUTE:
            raise ValueError(f"{dataset.name}/{rule.id}: brak funkcji compute {rule.compute!r} w rules.py")
    return rules


# ----------------------------------------------------------------- computed rules (vectorized)

def _money_text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8).str.replace(r"\.", ",")


AMOUNTS = ("gross_amount", "net_amount", "eligible_amount", "vat_amount")


def _is_correction() -> pl.Expr:
    return pl.col("correction").fill_null(False)


def _size(name: str) -> pl.Expr:
    """The amount as the claim compares it: a correction document's negative amounts by their size
    (docs/settlement.md: a correction lowers costs, its internal relations are those of an invoice)."""
    return pl.when(_is_correction()).then(pl.col(name).abs()).otherwise(pl.col(name))


def vat_consistent(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """SL2014 "W tym VAT" = VAT included in the eligible amount: 0 ≤ VAT ≤ gross − net and VAT ≤ eligible
    (0 when VAT is recoverable: eligible = net while gross ≠ net)."""
    vat, limit = _size("vat_amount"), pl.min_horizontal(_size("gross_amount") - _size("net_amount"),
                                                         _size("eligible_amount"))
    # a negative limit means wrong signs or net > gross: reported by their own rules, not twice here
    ok = vat.is_null() | limit.is_null() | (limit < 0) | ((vat >= 0) & (vat <= limit))
    return frame.select(ok.alias("ok"), _money_text(pl.max_horizontal(limit, pl.lit(0)).cast(pl.Decimal(18, 2)))
                        .alias("expected"))


def eligible_le_gross(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    ok = _size("eligible_amount").is_null() | _size("gross_amount").is_null() | (
        _size("eligible_amount") <= _size("gross_amount"))
    return frame.select(ok.alias("ok"))


def net_le_gross(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    ok = _size("net_amount").is_null() | _size("gross_amount").is_null() | (_size("net_amount") <= _size("gross_amount"))
    return frame.select(ok.alias("ok"))


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


def negative_only_on_correction(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """A negative amount is allowed only on a document marked "Faktura korygująca" = T."""
    negative = pl.any_horizontal(pl.col(n) < 0 for n in AMOUNTS if n in frame.columns).fill_null(False)
    ok = ~negative | _is_correction()
    return frame.select(ok.alias("ok"), _negative_columns(frame, True).alias("expected"))


def correction_one_sign(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
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


def _in_list(frame: pl.DataFrame, column: str, allowed: list) -> pl.DataFrame:
    ok = pl.col(column).is_null() | pl.col(column).cast(pl.Utf8).is_in([str(v) for v in allowed])
    return frame.select(ok.alias("ok"), pl.lit(_listing(allowed)).alias("expected"))


def indicator_targets_file_codes() -> list[str]:
    """Codes of schemas/indicators.yaml whose target comes from umowa/wskazniki.csv (`target: file`)."""
    path = SCHEMAS_DIR / "indicators.yaml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]
    return [c["code"] for c in catalogue if c.get("target") == "file"]


def indicator_in_catalogue(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    return _in_list(frame, "indicator_code", indicator_targets_file_codes())


def service_in_catalogue(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    return _in_list(frame, "service_code", sorted(params.get("service_catalogue") or []))


def task_in_budget(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    return _in_list(frame, "task_no", sorted(params.get("budget_tasks") or []))


def category_in_budget(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """The (task, cost category) pair is a line of the agreement's budget; `expected` = the categories
    of that task (or of the whole budget when the task itself is unknown: task_in_budget says so)."""
    pairs = [str(p).split("/", 1) for p in params.get("budget_lines") or []]
    by_task: dict[str, list[str]] = {}
    for task, category in pairs:
        by_task.setdefault(task, []).append(category)
    keys = pl.DataFrame({"chk_task": list(by_task), "chk_allowed": [_listing(sorted(v)) for v in by_task.values()]},
                        schema={"chk_task": pl.Utf8, "chk_allowed": pl.Utf8})
    rows = frame.select(pl.col("task_no").cast(pl.Utf8).alias("chk_task"), pl.col("cost_category"))
    joined = rows.with_row_index("i").join(keys, on="chk_task", how="left").sort("i")
    pair = pl.col("chk_task") + "/" + pl.col("cost_category")
    known = [f"{t}/{c}" for t, c in pairs]
    ok = pl.col("chk_task").is_null() | pl.col("cost_category").is_null() | pl.col("chk_allowed").is_null() | \
        pair.is_in(known)
    return joined.select(ok.alias("ok"), pl.col("chk_allowed").fill_null(_listing(sorted({c for _, c in pairs})))
                         .alias("expected"))


def tranche_sum(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    parts = pl.col("amount_eu") + pl.col("amount_state")
    ok = parts.is_null() | pl.col("amount_total").is_null() | (parts == pl.col("amount_total"))
    return frame.select(ok.alias("ok"), _money_text(parts).alias("expected"))


def tranche_eu_share(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    rate = Decimal(str(params["eu_rate"]))
    expected = [None if t is None else eu_part(t, rate) for t in frame["amount_total"].to_list()]
    out = pl.DataFrame({"expected_value": pl.Series(expected, dtype=pl.Decimal(18, 2)), "eu": frame["amount_eu"]})
    return out.select(
        (pl.col("eu").is_null() | pl.col("expected_value").is_null() | (pl.col("eu") == pl.col("expected_value")))
        .alias("ok"),
        _money_text(pl.col("expected_value")).alias("expected"),
    )


def pesel_missing_allowed(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    ok = (pl.col("pesel_status") != "missing") | (pl.col("no_pesel") == "tak")
    return frame.select(ok.fill_null(True).alias("ok"))


def sex_matches_pesel(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    ok = pl.col("sex").is_null() | pl.col("sex_from_pesel").is_null() | (pl.col("sex") == pl.col("sex_from_pesel"))
    return frame.select(ok.alias("ok"))


def age_matches_pesel(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    age, derived = pl.col("age_at_entry"), pl.col("age_at_entry_from_pesel")
    ok = age.is_null() | derived.is_null() | (age == derived.cast(pl.Int64))
    return frame.select(ok.alias("ok"), derived.cast(pl.Utf8).alias("expected"))


def unique_key(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """Different rows sharing the key: all of them fail (exact repeats are `duplicate_row`'s job)."""
    key = list(params["key"])
    firsts = frame.filter(pl.col("chk__first_copy")).group_by(key).agg(pl.len().alias("n"))
    joined = (frame.select(key + ["chk__first_copy"]).with_row_index("i")
              .join(firsts, on=key, how="left").sort("i"))
    any_null = pl.any_horizontal(pl.col(k).is_null() for k in key)
    ok = ~pl.col("chk__first_copy") | any_null | (pl.col("n").fill_null(1) <= 1)
    return joined.select(ok.alias("ok"))


def no_read_error(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    return frame.select(pl.col(READ_ERROR).is_null().alias("ok"))


COMPUTE = {
    "no_read_error": no_read_error,
    "vat_consistent": vat_consistent,
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


def content_columns(dataset: Dataset, frame: pl.DataFrame) -> list[str]:
    """The data columns of a row (no lineage): what makes two rows exact duplicates."""
    names = []
    for column in dataset.stored_columns:
        if column.pii == "pesel":
            names += [c for c in ("person_key", "pesel_status") if c in frame.columns]
        elif column.name in frame.columns:
            names.append(column.name)
    return names


def column_of(dataset: Dataset, name: str) -> Column | None:
    for column in dataset.columns:
        if column.name == name:
            return column
    return None


def is_private(dataset: Dataset, name: str) -> bool:
    """True for columns whose values must never be shown (PESEL, derived data, special categories)."""
    column = column_of(dataset, name)
    return name in PII_DERIVED or (column is not None and (column.pii is not None or column.sensitive))
