"""Landing files made by code for the validation tests, and a harness that runs raw + staging end to end.

A valid baseline for Elbląg (period 01.01.2021–31.07.2023), reporting quarter 2021Q3: a service
catalogue, a budget summing to the agreement total, participants, deliveries, expenses, tranches.
Each bad-input test starts from it and breaks one thing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb
import landing_fixtures
from landing_fixtures import EXPENSE_HEADERS, PARTICIPANT_HEADERS, participant_row

from core.money import eu_part
from core.pesel import make_pesel
from core.registry import unit_by_key

UNIT = "elblag"
QUARTER = "2021Q3"

DELIVERY_HEADERS = ["Identyfikator uczestnika", "Kod usługi", "Data realizacji", "Liczba jednostek", "Wartość",
                    "Numer IPUS"]
SERVICE_HEADERS = ["Kod usługi", "Nazwa usługi", "Obszar (1–14)", "Sposób realizacji", "Realizator",
                   "NIP realizatora", "Jednostka miary", "Cena jednostkowa"]
BUDGET_HEADERS = ["Nr zadania", "Nazwa zadania", "Kategoria kosztów", "Nazwa kategorii", "Kwota", "Cross-financing",
                  "Środek trwały", "Usługa zlecona"]
TRANCHE_HEADERS = ["Nr transzy", "Data wpływu", "Kwota ogółem", "W tym EFS", "W tym budżet państwa"]

# Literal PESELs (valid checksums) where tests/pseudonym_vectors.py holds their HMAC pseudonyms.
PESEL_A = "80051710121"  # born 1980-05-17, woman
PESEL_B = "75020320250"  # born 1975-02-03, man
PESEL_C = make_pesel(date(1962, 9, 30), sex="K", serial=303)
PESEL_CHILD = "05231440485"  # born 2005-03-14, woman; 0... : loses its zero as a number


def write_csv(path: Path, headers: list[str], rows: list[list], sep: str = ";", encoding: str = "utf-8",
              trailing: str = "") -> Path:
    """A CSV as an accounting export writes it (fields with the separator or quotes are quoted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes((buffer.getvalue() + trailing).encode(encoding))
    return path


def write_participants_xlsx(path: Path, rows: list[list], agreement: str = "POWR.02.08.00-00-0001/20",
                            unit_name: str = "Elbląskie Centrum Usług Społecznych", trailing_empty: int = 2) -> Path:
    """The SL2014 sheet with a header block (unit, agreement, period) above the table."""
    return landing_fixtures.write_participants_xlsx(
        path, rows, trailing_empty=trailing_empty,
        header_lines=(f"Beneficjent: {unit_name}", f"Umowa: {agreement}", "Okres sprawozdawczy: 2021Q3"))


def folder(landing: Path, unit: str = UNIT, quarter: str | None = QUARTER) -> Path:
    return landing / unit / (quarter or "umowa")


# ------------------------------------------------------------------------------------ row builders

def expense(doc: str, issue: str = "02.08.2021", gross: str = "1 230,00", net: str = "1 000,00",
            eligible: str = "1 230,00", vat: str = "230,00", task: object = 1, nip: str = "526-000-12-46",
            item: str = "Usługa opiekuńcza", payment: str = "", category: str = "1.1") -> list:
    return [doc, nip, issue, payment, task, category, item, gross, net, eligible, vat, "N", "N", "T"]


def participant(pid: str, pesel: object = PESEL_A, sex: str = "Kobieta", start: object = "05.07.2021", **extra) -> list:
    return participant_row(pid, "Imię", "Nazwisko", pesel, sex, start, **extra)


def delivery(pid: str = "ELB/0001", code: str = "OPK", day: str = "12.08.2021", units: str = "2",
             value: str = "100,00", ipus: str = "") -> list:
    return [pid, code, day, units, value, ipus]


def tranche(no: int, total: str, day: str = "15.07.2021", eu: str | None = None, state: str | None = None) -> list:
    amount = Decimal(total)
    eu_value = Decimal(eu) if eu is not None else eu_part(amount, unit_by_key(UNIT).eu_rate)
    state_value = Decimal(state) if state is not None else amount - eu_value
    return [no, day, f"{amount:.2f}".replace(".", ","), f"{eu_value:.2f}".replace(".", ","),
            f"{state_value:.2f}".replace(".", ",")]


BUDGET_ROWS = [  # Elbląg: 2 173 900,00 direct + 326 085,00 indirect (15%) = 2 499 985,00
    [1, "Utworzenie CUS", "1.1", "Wynagrodzenia", "1 000 000,00", "N", "N", "N"],
    [2, "Usługi społeczne", "2.1", "Usługi zlecone", "1 173 900,00", "N", "N", "T"],
    [0, "Koszty pośrednie", "0", "Koszty pośrednie", "326 085,00", "N", "N", "N"],
]
SERVICE_ROWS = [
    ["OPK", "Usługi opiekuńcze", 4, "samodzielnie", "CUS Elbląg", "", "godzina", "50,00"],
    ["FIZ", "Mobilny fizjoterapeuta", 5, "zlecenie NGO", "Fundacja Zdrowie", "526-000-12-46", "wizyta", "120,00"],
]


def write_services(landing: Path, rows=None, unit: str = UNIT) -> Path:
    return write_csv(folder(landing, unit, None) / "uslugi.csv", SERVICE_HEADERS, rows or SERVICE_ROWS, sep=";")


def write_budget(landing: Path, rows=None, unit: str = UNIT) -> Path:
    return write_csv(folder(landing, unit, None) / "budzet.csv", BUDGET_HEADERS, rows or BUDGET_ROWS, sep=";")


def write_participants(landing: Path, rows=None, quarter: str = QUARTER, unit: str = UNIT) -> Path:
    rows = rows if rows is not None else [participant("ELB/0001", PESEL_A, "Kobieta"),
                                          participant("ELB/0002", PESEL_B, "Mężczyzna"),
                                          participant("ELB/0003", PESEL_C, "K")]
    return write_csv(folder(landing, unit, quarter) / "uczestnicy.csv", PARTICIPANT_HEADERS, rows, sep=";")


def write_deliveries(landing: Path, rows=None, quarter: str = QUARTER, unit: str = UNIT) -> Path:
    rows = rows if rows is not None else [delivery("ELB/0001"), delivery("ELB/0002", "FIZ", "20.08.2021", "1", "120,00"),
                                          delivery("", "OPK", "01.09.2021", "10", "500,00")]
    return write_csv(folder(landing, unit, quarter) / "swiadczenia.csv", DELIVERY_HEADERS, rows, sep=";")


def write_expenses(landing: Path, rows=None, quarter: str = QUARTER, unit: str = UNIT, **options) -> Path:
    rows = rows if rows is not None else [expense("FV/1/2021"), expense("FV/2/2021", gross="500,00", net="500,00",
                                                                        eligible="500,00", vat="0,00")]
    return write_csv(folder(landing, unit, quarter) / "wydatki.csv", EXPENSE_HEADERS, rows, sep=";", **options)


def write_tranches(landing: Path, rows=None, quarter: str = QUARTER, unit: str = UNIT) -> Path:
    rows = rows if rows is not None else [tranche(1, "249998.50")]
    return write_csv(folder(landing, unit, quarter) / "transze.csv", TRANCHE_HEADERS, rows, sep=";")


# ------------------------------------------------------------------------------------ harness

@lru_cache(maxsize=1)
def all_assets() -> dict[str, dg.AssetsDefinition]:
    from assets.raw.raw_assets import build_raw_assets
    from assets.staging.staging_assets import build_staging_assets
    from core.registry import load_units
    from pipelines.partitions import unit_partitions, unit_quarter_partitions

    units = load_units()
    by_unit_quarter, by_unit = unit_quarter_partitions(units), unit_partitions(units)
    built = build_raw_assets(by_unit_quarter, by_unit, units) + build_staging_assets(by_unit_quarter, by_unit, units)
    return {a.key.to_user_string(): a for a in built}


def partition_key(unit: str, quarter: str | None):
    from assets.partition_keys import unit_quarter_key

    return unit_quarter_key(unit, quarter)


@dataclass
class RunOutcome:
    success: bool
    failure: str | None  # the Polish message of a failed step (dg.Failure description)
    failed_steps: list[str] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)  # check name -> {passed, severity, metadata}
    materialized: list[str] = field(default_factory=list)
    metadata: dict[str, dict] = field(default_factory=dict)  # asset key -> materialization metadata values


class Pipeline:
    """raw + staging assets run with `dagster.materialize` on a temporary warehouse."""

    def __init__(self, tmp_path: Path, resources: dict):
        self.landing = Path(resources["landing"].root)
        self.db = Path(resources["warehouse"].path)
        self.resources = resources
        self.instance = dg.DagsterInstance.ephemeral()

    def run(self, dataset: str, unit: str = UNIT, quarter: str | None = QUARTER, raw: bool = True) -> RunOutcome:
        assets = all_assets()
        selection = ([assets[f"raw/{dataset}"]] if raw else []) + [assets[f"staging/{dataset}"]]
        result = dg.materialize(selection, partition_key=partition_key(unit, quarter), resources=self.resources,
                                instance=self.instance, raise_on_error=False)
        outcome = RunOutcome(success=result.success, failure=None)
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                outcome.failed_steps.append(event.step_key)
                data = event.step_failure_data
                if outcome.failure is None:
                    outcome.failure = (data.user_failure_data.description if data.user_failure_data
                                       else data.error.message if data.error else None)
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.event_specific_data
                outcome.checks[evaluation.check_name] = {
                    "passed": evaluation.passed, "severity": evaluation.severity.value,
                    "metadata": {k: v.value for k, v in evaluation.metadata.items()},
                }
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                outcome.materialized.append(event.asset_key.to_user_string())
                materialization = event.event_specific_data.materialization
                outcome.metadata[event.asset_key.to_user_string()] = {
                    k: v.value for k, v in materialization.metadata.items()}
        return outcome

    def load_baseline(self, *datasets: str) -> None:
        """Write and load the valid baseline files of the given datasets (in dependency order)."""
        writers = {"services": (write_services, None), "budget": (write_budget, None),
                   "participants": (write_participants, QUARTER), "deliveries": (write_deliveries, QUARTER),
                   "expenses": (write_expenses, QUARTER), "tranches": (write_tranches, QUARTER)}
        for name in datasets:
            writer, quarter = writers[name]
            writer(self.landing)
            outcome = self.run(name, quarter=quarter)
            assert outcome.success, (name, outcome.failure)

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as conn:
            return conn.execute(query, params or []).fetchall()

    def quarantine(self, dataset: str, quarter: str | None = QUARTER, unit: str = UNIT) -> list[tuple]:
        """(row_number, column_name, rule, severity, value) of the partition's quarantine, sorted."""
        return self.sql("SELECT row_number, column_name, rule, severity, value FROM staging.quarantine "
                        "WHERE dataset = ? AND unit = ? AND quarter IS NOT DISTINCT FROM ? "
                        "ORDER BY row_number NULLS LAST, rule, column_name", [dataset, unit, quarter])

    def messages(self, dataset: str, rule: str, quarter: str | None = QUARTER) -> list[str]:
        return [r[0] for r in self.sql("SELECT message FROM staging.quarantine WHERE dataset = ? AND rule = ? AND "
                                       "quarter IS NOT DISTINCT FROM ? ORDER BY row_number", [dataset, rule, quarter])]

    def summary(self, dataset: str, quarter: str | None = QUARTER, unit: str = UNIT) -> tuple | None:
        rows = self.sql("SELECT received, accepted, quarantined, warnings FROM staging.validation_summary "
                        "WHERE dataset = ? AND unit = ? AND quarter IS NOT DISTINCT FROM ?", [dataset, unit, quarter])
        return rows[0] if rows else None

    def staged(self, dataset: str, columns: str, quarter: str | None = QUARTER, unit: str = UNIT) -> list[tuple]:
        return self.sql(f"SELECT {columns} FROM staging.{dataset} WHERE unit = ? AND quarter IS NOT DISTINCT FROM ? "
                        "ORDER BY row_number", [unit, quarter])
