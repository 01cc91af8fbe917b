"""A small hand-made warehouse for the mart/report tests: staging rows inserted by code.

Two units with short periods (registry entries built here; their rates, limits and thresholds are the
defaults of the real registry config/units.yaml, so changing a rule there changes these figures):
  testowo  2021Q1–2022Q2 (6 quarters), total 115 000,00 = 100 000,00 direct + 15% indirect;
           data for 2021Q1, 2021Q2 and 2021Q4 (2021Q3 has no files: zeros, cumulatives carried).
  drugie   2021Q1–2021Q4, total 11 500,00; threshold edge cases (35% commissioned, 70% advances).
Every expected figure in the tests is computed by hand in the test's comments, not by this code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import yaml

from assets.mart.mart_assets import build_mart
from assets.report.report_tables import build_reports
from assets.staging.typed import ensure_staging_tables, staging_columns
from core.contract import load_contract
from core.models import validation_tables_ddl
from core.registry import _unit, registry_path

D = Decimal



def registry_defaults() -> dict:
    """The `defaults` block of the registry in use (config/units.yaml): rates, limits, thresholds."""
    return dict(yaml.safe_load(registry_path().read_text(encoding="utf-8"))["defaults"])


DEFAULTS = registry_defaults()  # eu_rate 84,28%, indirect_rate 15%, limits 10%, thresholds 35% and 70%
UNIT_ENTRIES = [
    {"key": "testowo", "name": "CUS Testowo", "gmina": "Gmina Testowo", "voivodeship": "mazowieckie",
     "transformation": "GOPS → CUS", "agreement_no": "POWR.02.08.00-00-0099/20", "agreement_signed": "2020-12-01",
     "period_start": "2021-01-01", "period_end": "2022-06-30", "cus_start": "2021-04-01", "total": "115000.00"},
    {"key": "drugie", "name": "CUS Drugie", "gmina": "Gmina Drugie", "voivodeship": "podlaskie",
     "transformation": "GOPS → CUS", "agreement_no": "POWR.02.08.00-00-0098/20", "agreement_signed": "2020-12-01",
     "period_start": "2021-01-01", "period_end": "2021-12-31", "cus_start": "2021-01-01", "total": "11500.00"},
]
FILES = {"participants": "uczestnicy.csv", "deliveries": "swiadczenia.csv", "expenses": "wydatki.csv",
         "tranches": "transze.csv", "budget": "budzet.csv", "spending_plan": "harmonogram.csv",
         "services": "uslugi.csv", "indicator_targets": "wskazniki.csv", "milestones": "kamienie_milowe.csv"}


def test_units():
    return tuple(_unit(entry, DEFAULTS) for entry in UNIT_ENTRIES)


def registry_yaml() -> dict:
    return {"defaults": DEFAULTS, "units": UNIT_ENTRIES}


def source_file(unit: str, quarter: str | None, dataset: str) -> str:
    return f"{unit}/{quarter or 'umowa'}/{FILES[dataset]}"


def sha(unit: str, quarter: str | None, dataset: str, version: int = 1) -> str:
    return f"sha-{unit}-{quarter or 'umowa'}-{dataset}-v{version}"


def put(conn: duckdb.DuckDBPyConnection, dataset: str, unit: str, quarter: str | None, rows: list[dict],
        version: int = 1) -> None:
    """Replace the (unit, quarter) partition of staging.<dataset> with `rows` (like a staging run),
    and record the file version in raw.file_versions (older versions become not current)."""
    contract = load_contract()
    ensure_staging_tables(conn, list(contract.values()))
    columns = [name for name, _ in staging_columns(contract[dataset])]
    conn.execute(f"DELETE FROM staging.{dataset} WHERE unit = ? AND quarter IS NOT DISTINCT FROM ?", [unit, quarter])
    file, digest = source_file(unit, quarter, dataset), sha(unit, quarter, dataset, version)
    for number, row in enumerate(rows, start=2):
        unknown = set(row) - set(columns)
        assert not unknown, f"{dataset}: unknown columns {unknown}"
        values = {"unit": unit, "quarter": quarter, "source_file": file, "file_sha256": digest,
                  "row_number": number, "loaded_at": None, **row}
        names = [c for c in columns if c in values]
        conn.execute(f"INSERT INTO staging.{dataset} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                     [values[c] for c in names])
    _file_version(conn, unit, quarter, dataset, file, digest, version, len(rows))


def _file_version(conn, unit, quarter, dataset, file, digest, version, rows) -> None:
    from assets.raw.ingest import FILE_VERSIONS_SQL
    from core.warehouse import ensure_layers, run_sql_file

    ensure_layers(conn)
    run_sql_file(conn, FILE_VERSIONS_SQL)
    conn.execute("UPDATE raw.file_versions SET is_current = false WHERE unit = ? AND quarter IS NOT DISTINCT FROM ? "
                 "AND dataset = ?", [unit, quarter, dataset])
    conn.execute("INSERT INTO raw.file_versions VALUES (?, ?, ?, ?, ?, ?, 100, 'utf-8', ?, [], "
                 "TIMESTAMP '2021-04-10 10:00:00' + to_days(?), TIMESTAMP '2021-04-10 10:00:00' + to_days(?), true)",
                 [unit, quarter, dataset, file, digest, version, rows, version, version])


def validation(conn: duckdb.DuckDBPyConnection) -> None:
    """staging.validation_summary / staging.quarantine as docs/warehouse.md describes them."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    conn.execute(validation_tables_ddl())  # the one definition: schemas/warehouse/staging.yaml
    conn.execute("DELETE FROM staging.validation_summary")
    conn.execute("DELETE FROM staging.quarantine")
    conn.execute("""INSERT INTO staging.validation_summary VALUES
        ('testowo', '2021Q1', 'expenses', 'testowo/2021Q1/wydatki.csv', 'sha-testowo-2021Q1-expenses-v1', 3, 2, 1, 0, now()),
        ('testowo', '2021Q1', 'participants', 'testowo/2021Q1/uczestnicy.csv', 'x', 3, 3, 0, 1, now()),
        ('testowo', NULL, 'budget', 'testowo/umowa/budzet.csv', 'y', 4, 4, 0, 0, now())""")
    conn.execute("""INSERT INTO staging.quarantine VALUES
        ('testowo', '2021Q1', 'expenses', 'testowo/2021Q1/wydatki.csv', 'sha-testowo-2021Q1-expenses-v1', 4,
         'task_no', 'Nr zadania', 'required', 'error', 'brak wartości w kolumnie wymaganej', NULL, now()),
        ('testowo', '2021Q1', 'expenses', 'testowo/2021Q1/wydatki.csv', 'sha-testowo-2021Q1-expenses-v1', 4,
         'issue_date', 'Data wystawienia', 'type', 'error', 'nieprawidłowa data', '31.02.2021', now()),
        ('testowo', '2021Q1', 'participants', 'testowo/2021Q1/uczestnicy.csv', 'x', 3,
         'age_at_entry', 'Wiek', 'range', 'warning', 'wiek niezgodny z PESEL', NULL, now())""")


def expense(no, task, category, amount, commissioned=False, cross=False, fixed=False, issued=date(2021, 2, 1)):
    amount = D(amount)
    return {"document_no": no, "issuer_nip": "5260001246", "issue_date": issued, "payment_date": issued,
            "task_no": task, "cost_category": category, "item_name": f"Pozycja {no}", "gross_amount": amount,
            "net_amount": amount, "eligible_amount": amount, "vat_amount": D("0.00"),
            "cross_financing": cross, "fixed_asset": fixed, "commissioned": commissioned}


def participant(pid, key, sex, age, start, labour=None, education=None, degurba=None, poverty="nie",
                disability="nie", homeless="nie", migrant="nie", other="nie", path="nie", end=None,
                sex_from_pesel=None, age_from_pesel=None):
    return {"participant_id": pid, "person_key": key, "pesel_status": "ok" if key else "brak",
            "sex": sex, "sex_from_pesel": sex_from_pesel, "age_at_entry": age, "age_at_entry_from_pesel": age_from_pesel,
            "participant_type": "individual", "start_date": start, "end_date": end, "labour_status": labour,
            "education": education, "degurba": degurba, "poverty_risk": poverty, "disability": disability,
            "homeless": homeless, "minority_migrant": migrant, "other_disadvantaged": other, "completed_path": path}


def delivery(pid, code, units, value=None, ipus=None, day=date(2021, 2, 15)):
    return {"participant_id": pid, "service_code": code, "delivery_date": day, "units": D(units),
            "value": None if value is None else D(value), "ipus_no": ipus}


# ---- testowo -------------------------------------------------------------------------------

TESTOWO_Q2_EXPENSES = [expense("FV/3", 1, "1.1", "10000.33", commissioned=True, cross=True),
                       expense("FV/4", 1, "1.2", "2000.00")]
TESTOWO_Q2_PARTICIPANTS = [
    # P1 again (cumulative file): path completed, ended in 2021Q2 — the same participant, counted once
    participant("P1", "k1", "K", 30, date(2021, 2, 1), "unemployed_registered", "isced2", "3", poverty="tak",
                disability="tak", path="tak", end=date(2021, 6, 20)),
    # P4: sex and age only from PESEL
    participant("P4", "k4", None, None, date(2021, 5, 5), "unemployed_unregistered", "isced34", "2",
                poverty="tak", sex_from_pesel="M", age_from_pesel=45),
    # P5: the same person as P1 (same PESEL pseudonym k1) under another ID — counted once
    participant("P5", "k1", "K", 30, date(2021, 4, 10)),
]


def load_testowo(conn: duckdb.DuckDBPyConnection) -> None:
    u = "testowo"
    put(conn, "budget", u, None, [
        {"task_no": 1, "task_name": "Usługi opiekuńcze", "cost_category": "1.1", "category_name": "Opiekunki",
         "amount": D("60000.00"), "commissioned": True},
        {"task_no": 1, "task_name": "Usługi opiekuńcze", "cost_category": "1.2", "category_name": "Koordynacja",
         "amount": D("10000.00")},
        {"task_no": 2, "task_name": "Diagnoza i program", "cost_category": "2.1", "category_name": "Diagnoza",
         "amount": D("30000.00")},
        {"task_no": 0, "task_name": "Koszty pośrednie", "cost_category": "0.1", "category_name": "Koszty pośrednie",
         "amount": D("15000.00")},
    ])
    put(conn, "spending_plan", u, None, [
        {"plan_quarter": q, "planned_amount": D(a)} for q, a in
        [("2021Q1", "10000.00"), ("2021Q2", "20000.00"), ("2021Q3", "25000.00"), ("2021Q4", "25000.00"),
         ("2022Q1", "20000.00"), ("2022Q2", "15000.00")]])
    put(conn, "services", u, None, [
        {"service_code": "S1", "service_name": "Usługi opiekuńcze", "area": 4, "delivery_mode": "own",
         "unit_of_measure": "godzina", "unit_price": D("50.00")},
        {"service_code": "S2", "service_name": "Fizjoterapeuta mobilny", "area": 6, "delivery_mode": "ngo",
         "unit_of_measure": "wizyta", "unit_price": D("120.00")},
        {"service_code": "S3", "service_name": "Animacja lokalna", "area": 11, "delivery_mode": "pes",
         "unit_of_measure": "spotkanie", "unit_price": D("33.33")},
    ])
    put(conn, "indicator_targets", u, None, [
        {"indicator_code": c, "target_total": D(t), "target_women": None if w is None else D(w),
         "target_men": None if m is None else D(m)} for c, t, w, m in
        [("PROD_OSOBY_USLUGI", "10", "6", "4"), ("PROD_OSOBY_ZAGROZONE", "8", "5", "3"),
         ("PROD_OSOBY_IPUS", "4", "2", "2"), ("PROD_CUS", "1", None, None), ("PROD_KAMIENIE", "3", None, None),
         ("REZ_SCIEZKA", "5", "3", "2")]])
    put(conn, "milestones", u, None, [
        {"milestone_code": "KM1", "milestone_name": "Diagnoza", "planned_date": date(2021, 3, 31),
         "achieved_date": date(2021, 3, 20)},
        {"milestone_code": "KM2", "milestone_name": "Program usług", "planned_date": date(2021, 6, 30),
         "achieved_date": date(2021, 8, 15)},
        {"milestone_code": "KM3", "milestone_name": "Uruchomienie usług", "planned_date": date(2021, 9, 30),
         "achieved_date": None},
    ])
    # 2021Q1
    put(conn, "expenses", u, "2021Q1", [expense("FV/1", 1, "1.1", "4000.00", commissioned=True),
                                        expense("FV/2", 2, "2.1", "3000.00", fixed=True)])
    put(conn, "tranches", u, "2021Q1", [{"tranche_no": 1, "received_date": date(2021, 1, 20),
                                         "amount_total": D("10000.00"), "amount_eu": D("8428.00"),
                                         "amount_state": D("1572.00")}])
    put(conn, "participants", u, "2021Q1", [
        participant("P1", "k1", "K", 30, date(2021, 2, 1), "unemployed_registered", "isced2", "3", poverty="tak",
                    disability="tak"),
        participant("P2", "k2", "M", 60, date(2021, 3, 15), "employed", "isced58", "1", disability="odmowa"),
        participant("P3", None, "K", 20, date(2021, 3, 20), "inactive", "isced34", "2", poverty="tak",
                    homeless="tak"),
    ])
    put(conn, "deliveries", u, "2021Q1", [
        delivery("P1", "S1", "2", ipus="IPUS/1"),      # 2 × 50,00 = 100,00
        delivery("P2", "S2", "1", value="150.00"),     # value given: 150,00
        delivery(None, "S3", "3"),                     # community service: 3 × 33,33 = 99,99
    ])
    # 2021Q2
    put(conn, "expenses", u, "2021Q2", TESTOWO_Q2_EXPENSES)
    put(conn, "tranches", u, "2021Q2", [{"tranche_no": 2, "received_date": date(2021, 4, 20),
                                         "amount_total": D("20000.00"), "amount_eu": D("16856.00"),
                                         "amount_state": D("3144.00")}])
    put(conn, "participants", u, "2021Q2", TESTOWO_Q2_PARTICIPANTS)
    put(conn, "deliveries", u, "2021Q2", [
        delivery("P4", "S1", "1.5", ipus="IPUS/2", day=date(2021, 5, 10)),   # 75,00
        delivery("P1", "S2", "1", day=date(2021, 5, 11)),                    # 120,00
    ])
    # 2021Q3: no files at all.
    # 2021Q4
    put(conn, "expenses", u, "2021Q4", [expense("FV/5", 2, "2.1", "5000.00", issued=date(2021, 11, 5))])
    put(conn, "tranches", u, "2021Q4", [{"tranche_no": 3, "received_date": date(2021, 10, 20),
                                         "amount_total": D("10000.00"), "amount_eu": D("8428.00"),
                                         "amount_state": D("1572.00")}])
    put(conn, "participants", u, "2021Q4", [
        participant("P6", "k6", "K", 24, date(2021, 11, 1), "inactive", "isced34", "1"),
    ])
    put(conn, "deliveries", u, "2021Q4", [delivery("P6", "S1", "1", day=date(2021, 11, 2))])   # 50,00


def load_drugie(conn: duckdb.DuckDBPyConnection, expenses: list[dict] | None = None) -> None:
    u = "drugie"
    put(conn, "budget", u, None, [
        {"task_no": 1, "task_name": "Usługi", "cost_category": "1.1", "category_name": "Usługi",
         "amount": D("10000.00")},
        {"task_no": 0, "task_name": "Koszty pośrednie", "cost_category": "0.1", "category_name": "Koszty pośrednie",
         "amount": D("1500.00")},
    ])
    # 3 500,00 of 10 000,00 commissioned = exactly the 35% threshold
    put(conn, "expenses", u, "2021Q1", expenses if expenses is not None else [
        expense("D/1", 1, "1.1", "3500.00", commissioned=True), expense("D/2", 1, "1.1", "6500.00")])
    put(conn, "tranches", u, "2021Q1", [{"tranche_no": 1, "received_date": date(2021, 1, 15),
                                         "amount_total": D("10000.00"), "amount_eu": D("8428.00"),
                                         "amount_state": D("1572.00")}])


def build_all(conn: duckdb.DuckDBPyConnection) -> None:
    build_mart(conn, test_units())
    build_reports(conn, test_units())


def warehouse(path=":memory:") -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    validation(conn)
    load_testowo(conn)
    load_drugie(conn)
    build_all(conn)
    return conn


def rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    result = conn.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, r)) for r in result.fetchall()]
