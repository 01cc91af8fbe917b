"""Amounts that round differently under each rounding rule (issue 14, item 2).

EU part = amount × 84,28% rounded DOWN to the grosz; indirect costs = direct × 15% rounded HALF UP.
Every amount below gives a different grosz under the other rule (floor vs half up, half up vs half
even), so swapping a rule in core/money.py or assets/mart/money_macros.sql fails a test. Rates are
the registry's (config/units.yaml); the expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

from decimal import Decimal as D

import duckdb
import pytest
from mart_fixtures import DEFAULTS, build_all, expense, load_drugie, validation

from core import money

EU_RATE, INDIRECT_RATE = D(DEFAULTS["eu_rate"]), D(DEFAULTS["indirect_rate"])

EU_CASES = [  # amount, exact product, rounded down (half up would give the next grosz)
    ("0.03", "0.025284", "0.02"),
    ("1150.97", "970.037516", "970.03"),
    ("2489370.50", "2098041.457400", "2098041.45"),
    ("99999999.99", "84279999.991572", "84279999.99"),
]
INDIRECT_CASES = [  # direct, exact product, rounded half up (floor, and for exact halves half even, differ)
    ("0.05", "0.0075", "0.01"),
    ("1000.84", "150.1260", "150.13"),
    ("1000.30", "150.0450", "150.05"),  # an exact half: half even would give 150,04
    ("19000.33", "2850.0495", "2850.05"),
]


@pytest.mark.parametrize("amount, exact, expected", EU_CASES)
def test_eu_part_rounds_down_in_python_and_sql(amount, exact, expected):
    assert D(amount) * EU_RATE == D(exact)
    assert money.eu_part(D(amount), EU_RATE) == D(expected)
    assert money.national_part(D(amount), EU_RATE) == D(amount) - D(expected)
    conn = duckdb.connect()
    build_all_macros(conn)
    assert conn.execute("SELECT mart.eu_part(?::DECIMAL(18,2), ?), mart.national_part(?::DECIMAL(18,2), ?)",
                        [amount, EU_RATE, amount, EU_RATE]).fetchone() == (D(expected), D(amount) - D(expected))


@pytest.mark.parametrize("direct, exact, expected", INDIRECT_CASES)
def test_indirect_costs_round_half_up_in_python_and_sql(direct, exact, expected):
    assert D(direct) * INDIRECT_RATE == D(exact)
    assert money.indirect_costs(D(direct), INDIRECT_RATE) == D(expected)
    conn = duckdb.connect()
    build_all_macros(conn)
    assert conn.execute("SELECT mart.indirect_costs(?::DECIMAL(18,2), ?)",
                        [direct, INDIRECT_RATE]).fetchone()[0] == D(expected)


def test_settlement_of_a_quarter_whose_figures_depend_on_both_roundings():
    # drugie 2021Q1: one document of 1 000,84 direct costs
    #   indirect 1 000,84 × 15% = 150,126 -> 150,13 (half up; floor would be 150,12)
    #   eligible 1 000,84 + 150,13 = 1 150,97
    #   EU 1 150,97 × 84,28% = 970,037516 -> 970,03 (down; half up would be 970,04); national 180,94
    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", "1000.84")])
    build_all(conn)
    got = conn.execute("SELECT direct_quarter, indirect_quarter, eligible_quarter, eu_quarter, national_quarter "
                       "FROM report.settlement WHERE unit = 'drugie' AND quarter = '2021Q1'").fetchone()
    assert got == (D("1000.84"), D("150.13"), D("1150.97"), D("970.03"), D("180.94"))


def build_all_macros(conn: duckdb.DuckDBPyConnection) -> None:
    from assets.mart.sql_tables import MONEY_MACROS_SQL

    conn.execute("CREATE SCHEMA IF NOT EXISTS mart")
    conn.execute(MONEY_MACROS_SQL.read_text(encoding="utf-8"))
