"""Validation rules as data: the contract's rules plus the hand-written rule files of schemas/validation/.

Two sources, one `Rule` type:

- **contract rules**, derived at load time from `schemas/contract.yaml` (no generated file to keep
  in sync): `required`, `type`, `allowed_values`, `nip_checksum`, `range` (min/max), `unique_key`;
- **dataset rules**, `schemas/validation/<dataset>.yaml` (format: schemas/validation/README.md).

A rule becomes one or more Great Expectations expectations (`Rule.expectations`) and one Dagster
asset check (name = rule id). Rules that need more than one column (VAT = gross − net, EU split,
sex vs PESEL, …) are vectorized polars functions (`COMPUTE`, assets/staging/computed_rules.py)
that add the boolean helper column `chk__ok__<rule>` (True = the rule holds) and optionally
`chk__expected__<rule>` (text for the message); the expectation then checks that column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from assets.staging.computed_rules import COMPUTE
from core.contract import Column, Dataset
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
            id="extra_fields", check_name="wiersz_bez_nadmiarowych_kolumn", title="Wiersz ma tyle kolumn co nagłówek",
            description="Wiersz pliku CSV ma więcej wypełnionych pól niż nagłówek — zwykle separator (średnik lub "
                        "przecinek) wpisany w tekście bez cudzysłowu przesunął wartości — albo, w pliku z danymi "
                        "osobowymi, mniej pól niż pozostałe wiersze (brakująca komórka przesuwa np. nazwisko do "
                        "innej kolumny; wartości takiego wiersza nie są zapisywane); wiersz trafia do kwarantanny, "
                        "pozostałe są przyjmowane (nigdy nie są po cichu obcinane).",
            columns=(READ_ERROR,), compute="no_read_error",
            message="Wiersz ma inną liczbę kolumn niż nagłówek ({value}) — sprawdź, czy tekst nie zawiera "
                    "separatora (średnika lub przecinka; ujmij tekst w cudzysłów albo usuń separator) i czy w "
                    "wierszu nie brakuje komórki (w pliku uczestników także pustych komórek na końcu wiersza, które "
                    "niektóre programy pomijają — zapisz plik ze wzoru z `cus templates`). Wartości w wierszu mogą "
                    "być przesunięte, więc wiersz nie został przyjęty.",
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
            raise ValueError(f"{dataset.name}/{rule.id}: brak funkcji compute {rule.compute!r} w computed_rules.py")
    return rules


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
