"""Publishing the warehouse for ad hoc SQL: a read-only copy without personal data.

Analysts never open the live warehouse (DuckDB holds one writer *or* readers per file, so an open
SQL client would make a pipeline run fail on the lock, and vice versa). After each successful run
that changed the warehouse, `publish()` writes a fresh DuckDB file

    <published_dir>/cus_<UTC time>.duckdb      (read-only: mode 0444)
    <published_dir>/current.duckdb             symlink to the newest copy, switched atomically
    <published_dir>/current.json               what was published, when, from which warehouse

with the `mart` and `report` schemas, the validation results of `staging` (without the rejected
cell values), `raw.file_versions`, the warehouse's scalar macros (money rules, Polish formatting),
the lineage table macros of assets/report/sql/lineage_macros.sql (on published columns), and a `meta` schema
describing every table and column and what was left out. Older copies are deleted (the newest
`KEEP` stay, so a client that opened one a moment ago keeps working). A copy is made again when
the warehouse changed or the publishing rules did (`policy_fingerprint`).

Personal data is removed by rule (`docs/sql.md` explains it to analysts):

- tables at person grain (`PERSON_GRAIN_TABLES`, `PERSON_GRAIN_PATTERN`: `mart.dim_participant`, `mart.person_count`, any table
  named after participants/persons) are not published at all — even without identifiers, a row
  per person with sex, age band, dates and categories of a small gmina identifies people, and a
  row per person and sensitive code is an unsuppressed count of 1. Persons are published only as
  aggregates (`report.indicators`, `report.participant_profile`);
- identifier and free-text columns (`DROPPED_COLUMNS`) are dropped everywhere; the validation
  results lose the rejected cell values (`DROPPED_STAGING_COLUMNS`); a table that still holds a
  person identifier loses its sensitive-category columns (`PROFILE_COLUMNS`);
- sensitive breakdowns (rows with `sensitive` = true) get the reports' disclosure control
  (`reports.suppression.sequential_disclosure`, one rule for reports and copy): counts from 1 to
  threshold−1 (`reports/config.yaml`, 5) are NULL together with the other counts of the same
  total/women/men triple, so none can be recovered by subtraction within the row; and per series
  (unit × code over the quarters) a cumulative triple that changed by 1..threshold−1 since the last
  published quarter is NULL too, with the quarter values next to a hidden cumulative, so none can
  be recovered by differencing quarters; persons served in the sensitive areas of the Act
  (`sensitive_service_areas` of reports/config.yaml: 6 disability support, 12 housing) from 1 to
  threshold−1 are NULL;
- validation messages quote the rejected cell (`otrzymano „…”`): the quote is masked (`QUOTED_VALUE`);
- of `raw`, only `raw.file_versions` (file names, hashes, versions: lineage) is published.

The rules are applied to whatever the warehouse holds, so a new table is published without code
changes — and `docs/sql.md` must then document it (`tests/test_sql_docs.py` fails until
`cus publish --write-docs` regenerates the list). Columns without a warehouse COMMENT get one from
`COLUMN_DESCRIPTIONS` here, so every published column is described in the copy itself.

Dagster side: `publish_sensor` (a run-status sensor) requests `publish_job` after a successful run;
the job's single op is in the `warehouse` concurrency pool, so it never reads while a writer runs.
"""

import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.warehouse import WAREHOUSE_POOL

PUBLISHED_SCHEMAS = ("mart", "report")
# Validation results of the staging layer that coordinators query (quarantine = rejected rows
# with the rule and the message; the summary = counts per dataset and partition).
STAGING_TABLE_PATTERN = re.compile(r"^(quarantine|validation)(_.*)?$|.*_(quarantine|validation|rejects?|errors)$")
META_SCHEMA = "meta"
CURRENT_LINK = "current.duckdb"
MANIFEST = "current.json"
COPY_PREFIX = "cus_"
KEEP = 3
LOCK_TIMEOUT_S = 120.0

# Columns that never leave the warehouse, with the reason shown in docs/sql.md.
DROPPED_COLUMNS: dict[str, str] = {
    "person_key": "pseudonim PESEL (identyfikator osoby)",
    "pesel": "PESEL",
    "pesel_status": "status PESEL uczestnika",
    "participant_id": "identyfikator uczestnika nadany przez jednostkę",
    "birth_date": "data urodzenia",
    "first_name": "imię",
    "last_name": "nazwisko",
    "phone": "telefon",
    "email": "e-mail",
    "postal_code": "kod pocztowy miejsca zamieszkania",
    "locality": "miejscowość zamieszkania",
    "street": "adres",
    "address": "adres",
    "ipus_no": "numer indywidualnego planu usług (IPUS) — wskazuje osobę",
    "item_name": "opis z dokumentu księgowego (tekst dowolny, może zawierać nazwiska)",
    "comment": "uwagi (tekst dowolny)",
    "notes": "uwagi (tekst dowolny)",
    "remarks": "uwagi (tekst dowolny)",
}
# Validation results (staging) also lose the content of the rejected cell or row: a rejected
# PESEL or a name typed into the wrong column would otherwise be published as it was sent.
DROPPED_STAGING_COLUMNS: dict[str, str] = {
    "value": "treść odrzuconej komórki (może zawierać dane osobowe)",
    "raw_value": "treść odrzuconej komórki (może zawierać dane osobowe)",
    "cell_value": "treść odrzuconej komórki (może zawierać dane osobowe)",
    "row_text": "treść odrzuconego wiersza (może zawierać dane osobowe)",
    "raw_row": "treść odrzuconego wiersza (może zawierać dane osobowe)",
    "sample": "przykładowe wartości (mogą zawierać dane osobowe)",
    "examples": "przykładowe wartości (mogą zawierać dane osobowe)",
    "unexpected_values": "przykładowe wartości (mogą zawierać dane osobowe)",
}
# Validation messages quote the rejected cell (`otrzymano „…”`, `wartość „…” spoza…`; private
# columns are already hidden by the validator). A PESEL or a name in a shifted column would be
# quoted as sent, so the copy replaces every quoted cell value in message/reason columns.
QUOTED_VALUE = r"(otrzymano|wartość|wartości|value) „[^”]*”"
QUOTED_VALUE_MASK = r"\1 „…”"
MESSAGE_COLUMNS = ("message", "reason")
# Columns that identify a person: a table holding one is at person grain.
PERSON_IDS = ("person_key", "participant_id", "pesel")
# Sensitive categories and quasi-identifiers dropped from tables at person grain (aggregates keep
# their counts; the report tables suppress small cells).
PROFILE_COLUMNS: dict[str, str] = {
    "disability": "niepełnosprawność (dane szczególnej kategorii)",
    "minority_migrant": "mniejszość / migrant (dane szczególnej kategorii)",
    "homeless": "bezdomność",
    "other_disadvantaged": "inna niekorzystna sytuacja społeczna",
    "poverty_risk": "zagrożenie ubóstwem lub wykluczeniem",
    "age_at_entry": "wiek (quasi-identyfikator na poziomie osoby)",
    "age_at_entry_from_pesel": "wiek z PESEL (quasi-identyfikator na poziomie osoby)",
    "sex_from_pesel": "płeć z PESEL (duplikat kolumny sex)",
    "municipality": "gmina zamieszkania (quasi-identyfikator na poziomie osoby)",
    "county": "powiat zamieszkania (quasi-identyfikator na poziomie osoby)",
    "country": "kraj (quasi-identyfikator na poziomie osoby)",
}
# Tables at person grain: never published (see the module docstring). A future mart table named
# after participants/persons (`mart.participant_history`) is withheld by the pattern as well.
PERSON_GRAIN_TABLES: dict[str, str] = {
    "mart.dim_participant": "jeden wiersz na uczestnika (dane osobowe) — dostępne agregaty: report.participant_profile, "
                            "report.indicators",
    "mart.person_count": "jeden wiersz na osobę i kod wskaźnika (także kategorie wrażliwe) — dostępne agregaty: "
                         "report.indicators, report.participant_profile",
}
PERSON_GRAIN_PATTERN = re.compile(r"^(dim_|fact_)?(participants?|persons?|people|uczestnicy|osoby)(_|$)")
PERSON_GRAIN_REASON = "tabela na poziomie osoby (dane osobowe) — publikowane są tylko agregaty"
# Lineage: which file versions produced the figures (no personal data: file names and hashes).
RAW_PUBLISHED = ("file_versions",)
# Disclosure control for sensitive breakdowns: counts published together (total = women + men).
SUPPRESSED_GROUPS = (("quarter_total", "quarter_women", "quarter_men"),
                     ("cumulative_total", "cumulative_women", "cumulative_men"))
# Person counts by area of the Act: NULL from 1 to threshold−1 in the sensitive areas (6, 12).
AREA_PERSON_COLUMNS = ("persons", "quarter_persons", "cumulative_persons")
AREA_SUPPRESSION_NOTE = (" Liczba osób (persons) w obszarach {areas} (wspieranie osób niepełnosprawnych, mieszkalnictwo — "
                         "kategorie wrażliwe) od 1 do {n} jest ukryta (NULL).")
# A series of a sensitive category: the quarters of one unit × code (the order is `quarter`).
SERIES_KEYS = ("unit", "code")
SUPPRESSION_NOTE = (" W kategoriach wrażliwych (sensitive) liczby od 1 do {n} są ukryte (NULL) razem z pozostałymi liczbami "
                    "trójki ogółem/K/M; trójka narastająca jest ukryta także wtedy, gdy zmieniła się od ostatniego "
                    "opublikowanego kwartału jednostki o 1 do {n} (różnica kwartałów ujawniłaby małą liczbę), a wartość "
                    "w kwartale — gdy ukryto wartość narastającą tego lub poprzedniego kwartału.")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sensitive_service_areas() -> tuple[int, ...]:
    """Areas of the Act whose person counts are sensitive (reports/config.yaml), 6 and 12 by default."""
    try:
        from reports.settings import default_settings

        return tuple(int(a) for a in default_settings().sensitive_service_areas)
    except Exception:  # the copy must still be protected when the reports package is broken
        return (6, 12)


def suppression_threshold() -> int:
    """The reports' threshold (reports/config.yaml), 5 when it cannot be read."""
    try:
        from reports.settings import default_settings

        return int(default_settings().suppression_threshold)
    except Exception:  # the copy must still be protected when the reports package is broken
        return 5


# --------------------------------------------------------------------------------------------
# Descriptions for published columns that have no COMMENT in the warehouse (Polish, as the rest
# of the copy). Key: column name, or "schema.table.column" where the meaning differs by table.

TABLE_DESCRIPTIONS: dict[str, str] = {
    "staging.quarantine": "Wiersze/komórki odrzucone (error) lub przyjęte z ostrzeżeniem (warning) przez walidację, "
                          "z regułą i komunikatem; bez treści odrzuconej komórki (dane osobowe).",
    "staging.validation_summary": "Wynik walidacji: jednostka × kwartał × zbiór — wiersze otrzymane, przyjęte, "
                                  "w kwarantannie, ostrzeżenia.",
    "raw.file_versions": "Wersje plików landing (pochodzenie danych): jedna wersja jednego pliku; is_current = "
                         "wersja, z której pochodzą obecne liczby.",
}
COLUMN_DESCRIPTIONS: dict[str, str] = {
    "unit": "Klucz jednostki (ASCII), np. elblag — mart.dim_unit.",
    "quarter": "Kwartał sprawozdawczy, np. 2021Q3 (folder pliku); NULL = dane umowy.",
    "source_file": "Plik źródłowy (ścieżka względem folderu landing).",
    "file_sha256": "SHA-256 wersji pliku (raw.file_versions).",
    "row_number": "Numer wiersza w pliku źródłowym.",
    "dataset": "Zbiór danych: participants, deliveries, expenses, tranches, budget, spending_plan, services, "
               "indicator_targets, milestones.",
    "checked_at": "Czas walidacji.",
    "received": "Wiersze otrzymane w pliku.",
    "accepted": "Wiersze przyjęte (w tym z ostrzeżeniem).",
    "quarantined": "Wiersze odrzucone (kwarantanna).",
    "warnings": "Wiersze przyjęte z ostrzeżeniem.",
    "source_files": "Pliki źródłowe partycji.",
    "header": "Nagłówek kolumny w pliku (polski).",
    "severity": "error = wiersz odrzucony, warning = wiersz przyjęty z ostrzeżeniem (report.flags: także info).",
    "rule": "Identyfikator reguły walidacji / sygnału.",
    "message": "Komunikat (polski), bez danych osobowych.",
    "column_name": "Kolumna (nazwa wewnętrzna), której dotyczy reguła; NULL = cały wiersz.",
    "reason": "Przyczyna: komunikat walidacji (polski), inaczej identyfikator reguły.",
    "rows": "Liczba różnych wierszy z tą przyczyną.",
    "code": "Kod (wskaźnika, kategorii profilu lub kamienia milowego).",
    "name": "Nazwa.",
    "kind": "Rodzaj wskaźnika: produkt, rezultat, profil.",
    "definition": "Definicja wskaźnika (polska).",
    "sort_order": "Kolejność w raporcie.",
    "by_sex": "Wskaźnik z podziałem na płeć (K/M).",
    "age_group": "1 = poniżej 25, 2 = 25–54, 3 = powyżej 54 lat; NULL dla innych kategorii.",
    "sensitive": "Kategoria wrażliwa (niepełnosprawność, bezdomność, mniejszość/migrant, inna niekorzystna sytuacja).",
    "measure_unit": "Jednostka miary: osoby, szt., %.",
    "target_total": "Wartość docelowa ogółem z umowy.",
    "target_women": "Wartość docelowa — kobiety.",
    "target_men": "Wartość docelowa — mężczyźni.",
    "quarter_total": "Liczba osób zliczonych w kwartale.",
    "quarter_women": "W kwartale — kobiety.",
    "quarter_men": "W kwartale — mężczyźni.",
    "cumulative_total": "Narastająco do końca kwartału.",
    "cumulative_women": "Narastająco — kobiety.",
    "cumulative_men": "Narastająco — mężczyźni.",
    "task_no": "Nr zadania budżetu (0 = koszty pośrednie).",
    "task_name": "Nazwa zadania (z budżetu umowy).",
    "cost_category": "Kategoria kosztów budżetu.",
    "category_name": "Nazwa kategorii kosztów (z budżetu umowy).",
    "budget": "Budżet (suma linii budżetu umowy), zł.",
    "quarter_amount": "Wydatki kwalifikowalne bezpośrednie zadeklarowane w kwartale, zł.",
    "cumulative_amount": "Wydatki kwalifikowalne bezpośrednie narastająco, zł.",
    "service_code": "Kod usługi (katalog uslugi.csv).",
    "service_name": "Nazwa usługi (katalog).",
    "area": "Obszar usług społecznych 1–14 (art. 2 ust. 1 ustawy o CUS).",
    "mode": "Sposób realizacji: own (samodzielnie), pes, ngo, social_clause (zamówienie z klauzulą społeczną).",
    "commissioned": "Usługa zlecona podmiotowi zewnętrznemu (PES, NGO, klauzula społeczna).",
    "deliveries": "Liczba świadczeń.",
    "units": "Liczba jednostek usługi.",
    "quarter_value": "Wartość świadczeń w kwartale, zł.",
    "cumulative_value": "Wartość świadczeń narastająco, zł.",
    "cumulative_deliveries": "Liczba świadczeń narastająco.",
    "planned_date": "Data planowana.",
    "achieved_date": "Data osiągnięcia (NULL = nieosiągnięty).",
    "planned_quarter": "Kwartał daty planowanej.",
    "achieved_quarter": "Kwartał osiągnięcia.",
    "on_time": "Osiągnięty nie później niż w dacie planowanej (NULL = nieosiągnięty).",
    "start_date": "Pierwszy dzień.",
    "end_date": "Ostatni dzień.",
    "year": "Rok.",
    "quarter_no": "Numer kwartału w roku (1–4).",
    "cross_financing": "Cross-financing (T/N).",
    "fixed_asset": "Środek trwały (T/N).",
    "provider": "Realizator usługi (podmiot, nie osoba fizyczna).",
    "provider_nip": "NIP realizatora.",
    "unit_of_measure": "Jednostka miary usługi (np. godzina).",
    "gmina": "Gmina jednostki.",
    "voivodeship": "Województwo.",
    "transformation": "Przekształcenie (np. MOPS → CUS).",
    "agreement_signed": "Data podpisania umowy o dofinansowanie.",
    "programme": "Program (PO WER 2014–2020, działanie 2.8).",
    "call": "Nabór (konkurs).",
    "delivery_date": "Data realizacji świadczenia.",
    "issuer_nip": "NIP wystawcy dokumentu.",
    "issue_date": "Data wystawienia dokumentu.",
    "payment_date": "Data zapłaty.",
    "gross_amount": "Kwota dokumentu brutto, zł.",
    "net_amount": "Kwota dokumentu netto, zł.",
    "vat_amount": "W tym VAT, zł.",
    "tranche_no": "Numer transzy.",
    "received_date": "Data wpływu transzy.",
    "received_eu": "Transze narastająco — część EFS, zł.",
    "received_state": "Transze narastająco — budżet państwa, zł.",
    "received_quarter": "Transze otrzymane w kwartale, zł.",
    "commissioned_quarter": "Wydatki z Usługa zlecona = T zadeklarowane w kwartale, zł.",
    "direct_quarter": "Wydatki kwalifikowalne bezpośrednie zadeklarowane w kwartale, zł.",
    "quarter_share": "Udział usług zleconych w kosztach bezpośrednich kwartału, DECIMAL(9,4) (prezentacja).",
    "planned_cumulative": "Plan narastająco, zł.",
    "actual_cumulative": "Wykonanie narastająco, zł (NULL po ostatnim kwartale z danymi).",
    "quarter_index": "Numer kwartału w okresie projektu (1 = pierwszy).",
    "quarter_count": "Liczba kwartałów okresu projektu.",
    "quarters_remaining": "Kwartały pozostałe do końca projektu po tym kwartale.",
    "has_data": "Jednostka przesłała pliki za ten kwartał.",
    "documents_quarter": "Liczba dokumentów księgowych zadeklarowanych w kwartale.",
    "indirect_rate": "Stawka ryczałtowa kosztów pośrednich, DECIMAL(9,4).",
    "eu_rate": "Udział EFS (0.8428), DECIMAL(9,4).",
    "eu_quarter": "Część EFS kwartału = różnica narastających, zł.",
    "national_quarter": "Część budżetu państwa kwartału = różnica narastających, zł.",
    "budget_direct": "Budżet kosztów bezpośrednich (zadania ≥ 1), zł.",
    "budget_indirect": "Budżet kosztów pośrednich (zadanie 0), zł.",
    "cross_financing_limit": "Limit cross-financingu (udział), DECIMAL(9,4).",
    "fixed_assets_limit": "Limit środków trwałych (udział), DECIMAL(9,4).",
    "burn_quarters": "Liczba kwartałów (≤ 4), z których liczono tempo wydatków.",
    "projected_share": "projected_total / budget_total, DECIMAL(9,4).",
    # staging.quarantine / validation_summary
    "staging.quarantine.row_number": "Numer wiersza w pliku źródłowym (wiersz danych; NULL = cały plik).",
    # raw.file_versions
    "version_no": "Numer wersji pliku (1 = pierwsza przesłana; kolejne = korekty).",
    "size_bytes": "Rozmiar pliku w bajtach.",
    "encoding": "Wykryte kodowanie pliku (utf-8, cp1250…).",
    "rows_loaded": "Wiersze wczytane z tej wersji.",
    "ignored_columns": "Nadmiarowe kolumny pliku pominięte przy wczytaniu (nagłówki).",
    "first_loaded_at": "Pierwsze wczytanie tej wersji.",
    "last_loaded_at": "Ostatnie wczytanie tej wersji.",
    "is_current": "Wersja bieżąca (z niej pochodzą obecne liczby).",
    # table-specific meanings
    "report.finance_by_category.budget": "Budżet linii (zadanie × kategoria), zł.",
    "report.finance_by_category.pct": "cumulative_amount / budget, DECIMAL(9,4).",
    "report.data_quality.received": "Wiersze otrzymane (staging.validation_summary).",
    "mart.indicator_catalogue.name": "Nazwa wskaźnika (polska).",
    "report.indicators.name": "Nazwa wskaźnika (polska).",
    "mart.milestone.code": "Kod kamienia milowego.",
    "mart.milestone.name": "Nazwa kamienia milowego.",
    "report.milestones.code": "Kod kamienia milowego.",
    "report.milestones.name": "Nazwa kamienia milowego.",
    "mart.unit_quarter.start_date": "Pierwszy dzień kwartału.",
    "mart.unit_quarter.end_date": "Ostatni dzień kwartału.",
    "mart.budget_line.cross_financing": "Linia budżetu w ramach cross-financingu.",
    "mart.budget_line.fixed_asset": "Linia budżetu na środki trwałe.",
    "mart.budget_line.commissioned": "Linia budżetu na usługi zlecone.",
    "mart.fact_delivery.commissioned": "Usługa zlecona (sposób realizacji pes, ngo lub social_clause).",
    "mart.fact_delivery.unit": "Klucz jednostki (ASCII), np. elblag — mart.dim_unit.",
    "report.services_by_mode.commissioned": "Sposób realizacji oznacza zlecenie (pes, ngo, social_clause).",
    "report.participant_profile.code": "Kod kategorii profilu uczestników (mart.indicator_catalogue, kind = profil).",
    "report.participant_profile.quarter_total": "Osoby zliczone w kwartale rozpoczęcia udziału.",
    "mart.indicator_catalogue.code": "Kod wskaźnika lub kategorii profilu (schemas/indicators.yaml).",
    "mart.indicator_target.code": "Kod wskaźnika (mart.indicator_catalogue).",
}


def describe(schema: str, table: str, column: str, comment: str | None) -> str | None:
    """The published description of a column: its warehouse COMMENT, else this module's text."""
    return (comment or COLUMN_DESCRIPTIONS.get(f"{schema}.{table}.{column}")
            or COLUMN_DESCRIPTIONS.get(column))


class PublishError(RuntimeError):
    """A publishing problem, with a one-line Polish message for the coordinator."""


@dataclass
class PublishedTable:
    schema: str
    name: str
    rows: int
    columns: list[str]
    dropped: dict[str, str] = field(default_factory=dict)  # column -> reason

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class PublishResult:
    path: Path | None  # the copy `current.duckdb` points to
    published_at: str
    tables: list[PublishedTable] = field(default_factory=list)
    skipped: bool = False
    reason: str = ""
    source_fingerprint: str = ""
    deleted: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)  # "schema.table" -> reason (person grain)

    @property
    def row_counts(self) -> dict[str, int]:
        return {t.qualified: t.rows for t in self.tables}

    @property
    def dropped_columns(self) -> dict[str, list[str]]:
        return {t.qualified: sorted(t.dropped) for t in self.tables if t.dropped}


def rows_pl(n: int) -> str:
    """'1 wiersz', '3 wiersze', '5 wierszy' (Polish plural)."""
    if n == 1:
        return "1 wiersz"
    few = 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
    return f"{n} {'wiersze' if few else 'wierszy'}"


def quote_ident(name: str) -> str:
    """Quote a catalog identifier (names come from the warehouse catalog, never from users)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A string literal for COMMENT ON (DuckDB does not bind parameters there)."""
    return "'" + text.replace("'", "''") + "'"


def column_policy(schema: str, columns: list[str]) -> dict[str, str]:
    """Columns to drop -> reason, for a table with these columns (the whole personal-data rule)."""
    dropped = {c: DROPPED_COLUMNS[c] for c in columns if c in DROPPED_COLUMNS}
    if schema == "staging":
        dropped.update({c: DROPPED_STAGING_COLUMNS[c] for c in columns if c in DROPPED_STAGING_COLUMNS})
    if any(c in PERSON_IDS for c in columns):
        dropped.update({c: PROFILE_COLUMNS[c] for c in columns if c in PROFILE_COLUMNS})
    return dropped


def withheld_reason(schema: str, table: str) -> str | None:
    """Why a table of a published schema is not published (person grain), else None."""
    qualified = f"{schema}.{table}"
    if qualified in PERSON_GRAIN_TABLES:
        return PERSON_GRAIN_TABLES[qualified]
    if schema == "mart" and PERSON_GRAIN_PATTERN.search(table):  # report tables are aggregates
        return PERSON_GRAIN_REASON
    return None


def is_published_table(schema: str, table: str) -> bool:
    if withheld_reason(schema, table) is not None:
        return False
    if schema in PUBLISHED_SCHEMAS:
        return True
    if schema == "raw":
        return table in RAW_PUBLISHED
    return schema == "staging" and bool(STAGING_TABLE_PATTERN.match(table))


# Bump when the copying code changes what a copy holds (the constants below are hashed anyway).
POLICY_VERSION = 3  # 3: sequential disclosure control over quarters; sensitive service areas


def policy_fingerprint() -> str:
    """Hash of the publishing rules: a copy made under other rules (an older release, another
    threshold) is republished even when the warehouse did not change."""
    import hashlib

    rules = [POLICY_VERSION, DROPPED_COLUMNS, DROPPED_STAGING_COLUMNS, PERSON_IDS, PROFILE_COLUMNS, PERSON_GRAIN_TABLES,
             PERSON_GRAIN_PATTERN.pattern, RAW_PUBLISHED, STAGING_TABLE_PATTERN.pattern, SUPPRESSED_GROUPS, SERIES_KEYS,
             AREA_PERSON_COLUMNS, sensitive_service_areas(),
             suppression_threshold(), QUOTED_VALUE, lineage_macro_statements(), TABLE_DESCRIPTIONS, COLUMN_DESCRIPTIONS,
             META_DOCS]
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def warehouse_fingerprint(warehouse_path: Path) -> str:
    """Size and modification time of the warehouse file and its WAL: changes after every write."""
    parts = []
    for path in (Path(warehouse_path), Path(f"{warehouse_path}.wal")):
        if path.exists():
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def current_copy(published_dir: Path) -> Path | None:
    """The copy `current.duckdb` points to, or None when nothing has been published yet."""
    link = Path(published_dir) / CURRENT_LINK
    if not link.exists():
        return None
    return link.resolve()


def read_manifest(published_dir: Path) -> dict:
    path = Path(published_dir) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@contextmanager
def _publish_lock(published_dir: Path) -> Iterator[None]:
    """One publisher at a time (the sensor's run and `cus publish` may meet)."""
    with open(Path(published_dir) / ".publish.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _attach_read_only(conn: duckdb.DuckDBPyConnection, warehouse_path: Path, timeout_s: float,
                      say: Callable[[str], None] = lambda _text: None) -> None:
    """ATTACH the warehouse READ_ONLY, waiting while a writer holds the file lock."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    waiting = False
    while True:
        try:
            conn.execute(f"ATTACH {_literal(str(warehouse_path))} AS wh (READ_ONLY)")
            return
        except duckdb.IOException as error:
            if "lock" in str(error).lower() and not waiting:
                waiting = True
                say(f"  hurtownia zajęta przez przebieg zapisujący — czekam na jego koniec (do {timeout_s:.0f} s)…")
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise PublishError(
                    f"Hurtownia {warehouse_path} jest zajęta przez inny proces zapisujący "
                    f"(czekano {timeout_s:.0f} s) — spróbuj ponownie po zakończeniu przebiegu."
                ) from error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _all_source_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = 'wh' ORDER BY schema_name, table_name"
    ).fetchall()


def _source_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return [(s, t, c) for s, t, c in _all_source_tables(conn) if is_published_table(s, t)]


def _mask_quoted_values(conn: duckdb.DuckDBPyConnection, target: str, names: list[str]) -> None:
    """Replace the quoted rejected cell in validation messages with „…” (see QUOTED_VALUE)."""
    for column in MESSAGE_COLUMNS:
        if column in names:
            col = quote_ident(column)
            conn.execute(f"UPDATE {target} SET {col} = regexp_replace({col}, ?, ?, 'g') "
                         f"WHERE regexp_matches({col}, ?)", [QUOTED_VALUE, QUOTED_VALUE_MASK, QUOTED_VALUE])


def _suppress_sensitive(conn: duckdb.DuckDBPyConnection, target: str, names: list[str], threshold: int) -> int:
    """Sequential disclosure control on sensitive rows (`reports.suppression.sequential_disclosure`,
    the reports' rule): per series (unit × code) over the quarters, a cumulative triple is NULL
    when one of its counts is small or changed by 1..threshold−1 since the last published quarter;
    a quarter triple when it is small or either cumulative around it is hidden. Returns the rows touched."""
    from reports.suppression import disclosure_by_series

    if "sensitive" not in names:
        return 0
    groups = [[c for c in group if c in names] for group in SUPPRESSED_GROUPS]
    if not any(groups):
        return 0
    series_keys = tuple(c for c in SERIES_KEYS if c in names)
    has_quarter = "quarter" in names
    selected = list(series_keys) + (["quarter"] if has_quarter else []) + [c for g in groups for c in g]
    result = conn.execute(f"SELECT rowid, {', '.join(quote_ident(c) for c in selected)} FROM {target} WHERE sensitive")
    rows = [dict(zip(["_rowid", *selected], r)) for r in result.fetchall()]
    if not has_quarter:  # no series: every row is its own first quarter
        series_keys = ("_rowid",)
        for r in rows:
            r["quarter"] = ""
    decided = disclosure_by_series(rows, threshold, series_keys)
    hide: dict[int, list[str]] = {}
    for r in rows:
        cumulative_published, quarter_published = decided[(*(r[k] for k in series_keys), r["quarter"])]
        columns = []
        for group, published in zip(groups, (quarter_published, cumulative_published)):
            if not published:
                columns += group
        if columns:
            hide[r["_rowid"]] = columns
    for columns in {tuple(c) for c in hide.values()}:
        ids = [rowid for rowid, cols in hide.items() if tuple(cols) == columns]
        sets = ", ".join(f"{quote_ident(c)} = NULL" for c in columns)
        conn.execute(f"UPDATE {target} SET {sets} WHERE list_contains(?, rowid)", [ids])
    return len(hide)


def _suppress_sensitive_areas(conn: duckdb.DuckDBPyConnection, target: str, names: list[str], threshold: int,
                              areas: tuple[int, ...]) -> int:
    """Persons served in a sensitive area of the Act (6: disability, 12: housing; reports/config.yaml)
    from 1 to threshold−1 are NULL, in every table with `area` and person counts (the reports' rule,
    reports.suppression.hide_small_area_persons). Returns the rows touched."""
    columns = [c for c in AREA_PERSON_COLUMNS if c in names]
    if "area" not in names or not columns or not areas:
        return 0
    touched = 0
    for column in columns:
        col = quote_ident(column)
        touched += conn.execute(f"UPDATE {target} SET {col} = NULL WHERE list_contains(?, CAST(area AS INTEGER)) "
                                f"AND {col} > 0 AND {col} < ?", [list(areas), threshold]).fetchone()[0]
    return touched


def _source_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str, str | None]]:
    return conn.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = 'wh' AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()


def _meta_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"CREATE SCHEMA {META_SCHEMA}")
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.publication (published_at TIMESTAMP WITH TIME ZONE, source_file VARCHAR, "
        "source_fingerprint VARCHAR, run_id VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.tables (schema_name VARCHAR, table_name VARCHAR, row_count BIGINT, "
        "description VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.columns (schema_name VARCHAR, table_name VARCHAR, column_name VARCHAR, "
        "data_type VARCHAR, description VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.dropped_columns (schema_name VARCHAR, table_name VARCHAR, "
        "column_name VARCHAR, reason VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.withheld_tables (schema_name VARCHAR, table_name VARCHAR, reason VARCHAR)"
    )


META_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "publication": (
        "Kiedy i z czego powstała ta kopia. When and from what this copy was published.",
        {
            "published_at": "czas publikacji (UTC) / publication time",
            "source_file": "plik hurtowni, z którego skopiowano dane / warehouse file copied",
            "source_fingerprint": "rozmiar i czas modyfikacji hurtowni w chwili kopii / warehouse size and mtime",
            "run_id": "przebieg Dagster, po którym opublikowano (puste dla `cus publish`) / Dagster run that triggered it",
        },
    ),
    "tables": (
        "Spis opublikowanych tabel z liczbą wierszy i opisem. Published tables with row counts.",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "row_count": "liczba wierszy w tej kopii / rows in this copy",
            "description": "opis tabeli / table description",
        },
    ),
    "columns": (
        "Spis kolumn opublikowanych tabel z typem i opisem. Published columns with type and description.",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "column_name": "kolumna / column",
            "data_type": "typ DuckDB / DuckDB type",
            "description": "opis kolumny / column description",
        },
    ),
    "dropped_columns": (
        "Kolumny hurtowni pominięte w kopii (dane osobowe) i powód. Warehouse columns left out (personal data).",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "column_name": "pominięta kolumna / dropped column",
            "reason": "powód pominięcia / why it was dropped",
        },
    ),
    "withheld_tables": (
        "Tabele hurtowni niepublikowane w kopii (poziom osoby) i powód. Warehouse tables not published (person grain).",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "reason": "powód / why it is not published",
        },
    ),
}


def _comment_meta(conn: duckdb.DuckDBPyConnection) -> None:
    for table, (description, columns) in META_DOCS.items():
        conn.execute(f"COMMENT ON TABLE {META_SCHEMA}.{table} IS {_literal(description)}")
        for column, text in columns.items():
            conn.execute(f"COMMENT ON COLUMN {META_SCHEMA}.{table}.{column} IS {_literal(text)}")


def _copy_name(published_dir: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    path = Path(published_dir) / f"{COPY_PREFIX}{stamp}.duckdb"
    n = 1
    while path.exists():
        path = Path(published_dir) / f"{COPY_PREFIX}{stamp}_{n}.duckdb"
        n += 1
    return path


def _switch_current(published_dir: Path, copy: Path, manifest: dict) -> None:
    """Point current.duckdb at `copy` and rewrite current.json, each with an atomic rename."""
    link = Path(published_dir) / CURRENT_LINK
    tmp_link = Path(published_dir) / f".{CURRENT_LINK}.{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(copy.name)
    os.replace(tmp_link, link)
    tmp_manifest = Path(published_dir) / f".{MANIFEST}.{os.getpid()}"
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp_manifest, Path(published_dir) / MANIFEST)


def _cleanup(published_dir: Path, keep: int, current: Path) -> list[str]:
    copies = sorted(Path(published_dir).glob(f"{COPY_PREFIX}*.duckdb"), key=lambda p: p.name, reverse=True)
    deleted = []
    for old in copies[keep:]:
        if old.resolve() == current.resolve():
            continue
        old.unlink(missing_ok=True)
        Path(f"{old}.wal").unlink(missing_ok=True)
        deleted.append(old.name)
    # leftovers of a publish that crashed half-way (older than an hour, so never one in progress)
    for partial in Path(published_dir).glob(f".{COPY_PREFIX}*.duckdb.partial*"):
        if time.time() - partial.stat().st_mtime > 3600:
            partial.unlink(missing_ok=True)
    return deleted


def publish(
    warehouse_path: str | Path,
    published_dir: str | Path,
    *,
    force: bool = False,
    keep: int = KEEP,
    run_id: str | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    echo: Callable[[str], None] | None = None,
) -> PublishResult:
    """Copy the publishable tables of the warehouse into a new read-only DuckDB file and switch
    `current.duckdb` to it. Skipped when the warehouse has not changed since the last copy
    (unless `force`). Raises `PublishError` with a one-line Polish message."""
    warehouse_path = Path(warehouse_path)
    published_dir = Path(published_dir)
    say = echo or (lambda _text: None)
    if not warehouse_path.is_file():
        raise PublishError(f"Brak hurtowni {warehouse_path}: najpierw wczytaj dane (cus run).")
    published_dir.mkdir(parents=True, exist_ok=True)
    keep = max(1, keep)
    with _publish_lock(published_dir):
        fingerprint = warehouse_fingerprint(warehouse_path)
        previous = read_manifest(published_dir)
        existing = current_copy(published_dir)
        policy = policy_fingerprint()
        if (not force and existing is not None and existing.exists()
                and previous.get("source_fingerprint") == fingerprint
                and previous.get("source_file") == str(warehouse_path.resolve())
                and previous.get("policy") == policy):
            return PublishResult(path=existing, published_at=previous.get("published_at", ""), skipped=True,
                                 reason="hurtownia bez zmian od ostatniej publikacji", source_fingerprint=fingerprint)

        now = datetime.now(UTC)
        final = _copy_name(published_dir, now)
        partial = published_dir / f".{final.name}.partial{os.getpid()}"
        partial.unlink(missing_ok=True)
        tables: list[PublishedTable] = []
        try:
            conn = duckdb.connect(str(partial))
            try:
                _attach_read_only(conn, warehouse_path, lock_timeout_s, say)
                fingerprint = warehouse_fingerprint(warehouse_path)  # as of the moment we hold the read lock
                _meta_tables(conn)
                threshold = suppression_threshold()
                areas = sensitive_service_areas()
                withheld = [(s_, t_, withheld_reason(s_, t_)) for s_, t_, _c in _all_source_tables(conn)
                            if withheld_reason(s_, t_) is not None]
                for s_, t_, why in withheld:
                    conn.execute(f"INSERT INTO {META_SCHEMA}.withheld_tables VALUES (?, ?, ?)", [s_, t_, why])
                    say(f"  pominięto tabelę {s_}.{t_}: {why}")
                sources = _source_tables(conn)
                for i, (schema, table, comment) in enumerate(sources, start=1):
                    columns = _source_columns(conn, schema, table)
                    names = [c[0] for c in columns]
                    dropped = column_policy(schema, names)
                    kept = [c for c in columns if c[0] not in dropped]
                    if not kept:
                        continue
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
                    select = ", ".join(quote_ident(c[0]) for c in kept)
                    target = f"{quote_ident(schema)}.{quote_ident(table)}"
                    conn.execute(f"CREATE TABLE {target} AS SELECT {select} FROM wh.{target}")
                    rows = conn.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                    kept_names = [c[0] for c in kept]
                    suppressed = _suppress_sensitive(conn, target, kept_names, threshold)
                    suppressed += _suppress_sensitive_areas(conn, target, kept_names, threshold, areas)
                    if schema in ("staging", "report"):
                        _mask_quoted_values(conn, target, kept_names)
                    comment = comment or TABLE_DESCRIPTIONS.get(f"{schema}.{table}")
                    if "sensitive" in kept_names and any(c in kept_names for g in SUPPRESSED_GROUPS for c in g):
                        comment = (comment or "") + SUPPRESSION_NOTE.format(n=threshold - 1)
                    if "area" in kept_names and any(c in kept_names for c in AREA_PERSON_COLUMNS) and areas:
                        comment = (comment or "") + AREA_SUPPRESSION_NOTE.format(
                            areas=", ".join(str(a) for a in areas), n=threshold - 1)
                    if comment:
                        conn.execute(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
                    kept = [(n, d, describe(schema, table, n, c)) for n, d, c in kept]
                    for name, data_type, col_comment in kept:
                        if col_comment:
                            conn.execute(f"COMMENT ON COLUMN {target}.{quote_ident(name)} IS {_literal(col_comment)}")
                        conn.execute(f"INSERT INTO {META_SCHEMA}.columns VALUES (?, ?, ?, ?, ?)",
                                     [schema, table, name, data_type, col_comment])
                    for name, reason in dropped.items():
                        conn.execute(f"INSERT INTO {META_SCHEMA}.dropped_columns VALUES (?, ?, ?, ?)",
                                     [schema, table, name, reason])
                    conn.execute(f"INSERT INTO {META_SCHEMA}.tables VALUES (?, ?, ?, ?)", [schema, table, rows, comment])
                    tables.append(PublishedTable(schema, table, rows, [c[0] for c in kept], dropped))
                    say(f"  [{i}/{len(sources)}] {schema}.{table}: {rows_pl(rows)}"
                        + (f" (pominięto: {', '.join(dropped)})" if dropped else "")
                        + (f" (ukryte małe liczebności: {rows_pl(suppressed)})" if suppressed else ""))
                _copy_scalar_macros(conn, say)
                conn.execute("DETACH wh")
                _create_lineage_macros(conn, say)
                conn.execute(f"INSERT INTO {META_SCHEMA}.publication VALUES (?, ?, ?, ?)",
                             [now, str(warehouse_path.resolve()), fingerprint, run_id])
                _comment_meta(conn)
                conn.execute("CHECKPOINT")
            finally:
                conn.close()
            Path(f"{partial}.wal").unlink(missing_ok=True)
            os.chmod(partial, 0o444)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            Path(f"{partial}.wal").unlink(missing_ok=True)
            raise
        manifest = {
            "file": final.name,
            "published_at": now.isoformat(),
            "source_file": str(warehouse_path.resolve()),
            "source_fingerprint": fingerprint,
            "policy": policy,
            "run_id": run_id,
            "tables": {t.qualified: t.rows for t in tables},
            "dropped_columns": {t.qualified: t.dropped for t in tables if t.dropped},
            "withheld_tables": {f"{s_}.{t_}": why for s_, t_, why in withheld},
        }
        _switch_current(published_dir, final, manifest)
        deleted = _cleanup(published_dir, keep, final)
    return PublishResult(path=final, published_at=now.isoformat(), tables=tables,
                         source_fingerprint=fingerprint, deleted=deleted,
                         withheld={f"{s_}.{t_}": why for s_, t_, why in withheld})


# Lineage in the copy: the warehouse's own macro file. Its macros select the facts' columns with
# `*`, so in the copy they return the published columns only; report.lineage_persons reads the
# person-grain tables, which are withheld, so it fails to create here and is skipped.
LINEAGE_MACROS_FILE = Path(__file__).resolve().parent.parent / "assets" / "report" / "sql" / "lineage_macros.sql"


def lineage_macro_statements() -> dict[str, str]:
    """macro name -> its CREATE statement, from assets/report/sql/lineage_macros.sql."""
    statements = {}
    for statement in LINEAGE_MACROS_FILE.read_text(encoding="utf-8").split(";"):
        match = re.search(r"CREATE OR REPLACE MACRO report\.(\w+)", statement)
        if match:
            statements[match.group(1)] = statement.strip()
    return statements


def _copy_scalar_macros(conn: duckdb.DuckDBPyConnection, say: Callable[[str], None]) -> list[str]:
    """Copy the warehouse's scalar macros of the published schemas (money rules mart.eu_part,
    mart.national_part, mart.indirect_costs…, Polish formatting report.pl_money…): pure expressions
    only — a macro with a subquery could read a table that is not published."""
    rows = conn.execute(
        "SELECT schema_name, function_name, parameters, macro_definition FROM duckdb_functions() "
        "WHERE database_name = 'wh' AND function_type = 'macro' AND NOT internal ORDER BY schema_name, function_name"
    ).fetchall()
    pending = [(s, n, p, d) for s, n, p, d in rows
               if s in PUBLISHED_SCHEMAS and d and "SELECT" not in d.upper() and _IDENT.match(n)
               and all(_IDENT.match(x) for x in p)]
    created: list[str] = []
    while pending:  # a macro may call another (national_part -> eu_part): retry until no progress
        failed = []
        for schema, name, params, definition in pending:
            try:
                conn.execute(f"CREATE MACRO {quote_ident(schema)}.{quote_ident(name)}({', '.join(params)}) "
                             f"AS {definition}")
                created.append(f"{schema}.{name}")
            except duckdb.Error:
                failed.append((schema, name, params, definition))
        if len(failed) == len(pending):
            for schema, name, *_ in failed:
                say(f"  makro {schema}.{name} pominięte (nie da się go odtworzyć w kopii)")
            break
        pending = failed
    return created


def _create_lineage_macros(conn: duckdb.DuckDBPyConnection, say: Callable[[str], None]) -> list[str]:
    """Create the lineage macros whose tables and columns were published; skip the others."""
    created = []
    for name, sql in lineage_macro_statements().items():
        try:
            conn.execute(sql)
            created.append(name)
        except duckdb.Error as error:  # a table or column it reads was not published
            say(f"  makro report.{name} pominięte: {str(error).splitlines()[0]}")
    return created


def connect_published(published_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current copy, with file access and ATTACH disabled."""
    copy = current_copy(Path(published_dir))
    if copy is None or not copy.exists():
        raise PublishError(
            f"Brak opublikowanej kopii w {published_dir}: uruchom `cus publish` (albo potok `cus run`)."
        )
    return duckdb.connect(str(copy), read_only=True,
                          config={"enable_external_access": False, "lock_configuration": True})


# --------------------------------------------------------------------------------------------
# docs/sql.md: the generated list of tables and columns

DOCS_BEGIN = "<!-- BEGIN GENERATED: published tables (cus publish --write-docs) -->"
DOCS_END = "<!-- END GENERATED: published tables -->"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def render_table_docs(conn: duckdb.DuckDBPyConnection, descriptions: dict | None = None) -> str:
    """Markdown for every table and column of a published copy (descriptions from its COMMENTs,
    else from `descriptions` = {"schema.table": (table text, {column: text})})."""
    descriptions = descriptions or {}
    out: list[str] = []
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY schema_name = 'meta', schema_name, table_name"
    ).fetchall()
    dropped = {}
    if tables and any(s == META_SCHEMA and t == "dropped_columns" for s, t, _ in tables):
        for s, t, c, r in conn.execute(
            f"SELECT schema_name, table_name, column_name, reason FROM {META_SCHEMA}.dropped_columns ORDER BY ALL"
        ).fetchall():
            dropped.setdefault(f"{s}.{t}", []).append(f"`{c}` ({r})")
    schema = None
    for s, t, comment in tables:
        if s != schema:
            schema = s
            out.append(f"### Schemat `{s}`\n")
        qualified = f"{s}.{t}"
        table_text, column_texts = descriptions.get(qualified, (None, {}))
        out.append(f"#### `{qualified}`\n")
        text = comment or table_text
        out.append((_cell(text) or "_(brak opisu / no description)_") + "\n")
        out.append("| kolumna | typ | opis |")
        out.append("|---|---|---|")
        for name, data_type, col_comment in conn.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [s, t],
        ).fetchall():
            out.append(f"| `{name}` | {data_type} | {_cell(col_comment or column_texts.get(name))} |")
        if qualified in dropped:
            out.append(f"\nPominięte (dane osobowe): {', '.join(dropped[qualified])}.")
        out.append("")
    macros = conn.execute(
        "SELECT DISTINCT schema_name, function_name, parameters FROM duckdb_functions() "
        "WHERE database_name = current_database() AND function_type IN ('macro', 'table_macro') AND NOT internal "
        "ORDER BY schema_name, function_name"
    ).fetchall()
    if macros:
        out.append("### Makra\n")
        for s, name, params in macros:
            out.append(f"- `{s}.{name}({', '.join(params)})`")
        out.append("")
    if any(s == META_SCHEMA and t == "withheld_tables" for s, t, _ in tables):
        withheld = conn.execute(
            f"SELECT schema_name, table_name, reason FROM {META_SCHEMA}.withheld_tables ORDER BY ALL").fetchall()
        if withheld:
            out.append("### Tabele hurtowni niepublikowane (dane osobowe)\n")
            for s, t, reason in withheld:
                out.append(f"- `{s}.{t}` — {_cell(reason)}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def generated_section(text: str) -> str | None:
    if DOCS_BEGIN not in text or DOCS_END not in text:
        return None
    return text.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0].strip("\n") + "\n"


def write_table_docs(docs_path: Path, conn: duckdb.DuckDBPyConnection, descriptions: dict | None = None) -> bool:
    """Replace the generated section of docs/sql.md; True when the file changed."""
    docs_path = Path(docs_path)
    text = docs_path.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise PublishError(f"{docs_path}: brak znaczników sekcji generowanej ({DOCS_BEGIN} … {DOCS_END}).")
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    new = f"{head}{DOCS_BEGIN}\n\n{render_table_docs(conn, descriptions)}\n{DOCS_END}{tail}"
    if new != text:
        docs_path.write_text(new, encoding="utf-8")
        return True
    return False


def documented_columns(markdown: str) -> dict[str, set[str]]:
    """{"schema.table": {columns}} as listed in the generated section of docs/sql.md."""
    section = generated_section(markdown) or ""
    found: dict[str, set[str]] = {}
    current = None
    for line in section.splitlines():
        if m := re.match(r"^#### `([^`]+)`", line):
            current = m.group(1)
            found[current] = set()
        elif current and (m := re.match(r"^\| `([^`]+)` \|", line)):
            found[current].add(m.group(1))
    return found


# --------------------------------------------------------------------------------------------
# Dagster: the publish job and the run-status sensor that requests it


def build_publish_job():
    import dagster as dg
    from pydantic import Field

    from core.resources import WarehouseResource

    class PublishConfig(dg.Config):
        published_dir: str = Field(default="", description="Folder kopii; puste = CUS_PUBLISHED (domyślnie data/published).")
        force: bool = Field(default=False, description="Publikuj także, gdy hurtownia się nie zmieniła.")
        trigger_run_id: str = Field(default="", description="Przebieg, po którym publikujemy (wypełnia sensor).")

    @dg.op(
        name="publish_warehouse",
        pool=WAREHOUSE_POOL,
        description=(
            "Publikuje schematy mart i report (oraz wyniki walidacji) do kopii tylko do odczytu bez danych "
            "osobowych: data/published/current.duckdb. Publishes a read-only copy without personal data "
            "for ad hoc SQL; in the warehouse pool, so it never reads while a writer runs."
        ),
    )
    def publish_warehouse(context: dg.OpExecutionContext, config: PublishConfig, warehouse: WarehouseResource):
        folder = resolve_published_dir(config.published_dir)
        try:
            result = publish(warehouse.file, folder, force=config.force,
                             run_id=config.trigger_run_id or context.run_id, echo=context.log.info)
        except PublishError as error:
            raise dg.Failure(description=str(error)) from error
        if result.skipped:
            context.log.info(f"Bez publikacji: {result.reason}.")
        metadata = {
            "kopia": str(result.path) if result.path else "—",
            "pominięto": result.skipped,
            "tabele": len(result.tables),
            "wiersze": dg.MetadataValue.json(result.row_counts),
            "pominięte kolumny (dane osobowe)": dg.MetadataValue.json(result.dropped_columns),
            "pominięte tabele (poziom osoby)": dg.MetadataValue.json(result.withheld),
        }
        context.add_output_metadata(metadata)
        return str(result.path) if result.path else ""

    @dg.job(
        name="publish_job",
        description=(
            "Kopia hurtowni do zapytań SQL ad hoc (mart, report, wyniki walidacji; bez danych osobowych). "
            "Uruchamiana przez publish_sensor po udanym przebiegu. Read-only copy for analysts' ad hoc SQL."
        ),
        tags={"cus/kind": "publish"},
    )
    def publish_job():
        publish_warehouse()

    return publish_job


def resolve_published_dir(configured: str | None) -> Path:
    """Configured folder, else CUS_PUBLISHED, else data/published (relative to the project)."""
    from core.paths import DEFAULT_PUBLISHED_DIR, PROJECT_ROOT

    text = configured or os.environ.get("CUS_PUBLISHED") or str(DEFAULT_PUBLISHED_DIR)
    path = Path(text)
    return path if path.is_absolute() else PROJECT_ROOT / path


WAREHOUSE_PREFIXES = ("raw", "staging", "mart", "report")


def run_changed_warehouse(instance, run_id: str) -> bool:
    """Did the run materialize any warehouse asset (key starting with a layer name)?"""
    import dagster as dg

    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    for record in records:
        key = record.event_log_entry.dagster_event.asset_key if record.event_log_entry.dagster_event else None
        if key is not None and key.path and key.path[0] in WAREHOUSE_PREFIXES:
            return True
    return False


def build_publish_sensors(jobs: list) -> list:
    """`publish_sensor`: after every successful run in this code location that materialized a
    warehouse asset (jobs below, or assets materialized from the UI), request `publish_job`."""
    import dagster as dg

    from core.resources import PublishedResource

    publish_job = build_publish_job()
    job_names = ", ".join(getattr(j, "name", str(j)) for j in jobs) or "—"

    @dg.run_status_sensor(
        name="publish_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=publish_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Po każdym udanym przebiegu, który zmienił hurtownię, zleca publish_job: nowa kopia "
            "data/published/current.duckdb do zapytań SQL (cus sql) bez danych osobowych. "
            f"After every successful run that changed the warehouse (jobs: {job_names}, or assets "
            "materialized from the UI), publishes the read-only copy for ad hoc SQL."
        ),
    )
    def publish_sensor(context: dg.RunStatusSensorContext, published: PublishedResource):
        run = context.dagster_run
        if run.job_name == publish_job.name:
            return dg.SkipReason("przebieg publikacji / the publish run itself")
        if not run_changed_warehouse(context.instance, run.run_id):
            return dg.SkipReason(f"przebieg {run.run_id[:8]} nie zmienił hurtowni / run did not change the warehouse")
        return dg.RunRequest(
            run_key=f"publish-after-{run.run_id}",
            run_config={"ops": {"publish_warehouse": {"config": {
                "published_dir": str(published.folder), "trigger_run_id": run.run_id}}}},
            tags={"cus/after_run": run.run_id, "cus/after_job": run.job_name},
        )

    return [publish_sensor]
