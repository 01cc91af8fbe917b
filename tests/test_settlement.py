"""Settlement figures on the hand-made fixture (tests/mart_fixtures.py): money rules in SQL and
Python, indirect costs, EU/national split, limits, 70% rule, commissioned share, plan vs actual,
burn-rate projection, a corrected re-sent quarter. Expectations computed by hand in comments."""

import random
from datetime import date
from decimal import Decimal

import pytest
from mart_fixtures import TESTOWO_Q2_EXPENSES, D, build_all, expense, load_drugie, put, rows, test_units, warehouse

from core import money


@pytest.fixture(scope="module")
def wh():
    conn = warehouse()
    yield conn
    conn.close()


def by_quarter(conn, table, unit, columns):
    data = rows(conn, f"SELECT quarter, {columns} FROM report.{table} WHERE unit = ? ORDER BY quarter", [unit])
    return {r.pop("quarter"): r for r in data}


# ---- money rules: SQL macros == core/money.py ----------------------------------------------

SEED_SPLITS = [  # docs/domain.md §2: total -> EU (down to the grosz) + national (remainder)
    ("2489370.50", "2098041.45", "391329.05"),
    ("3125000.00", "2633750.00", "491250.00"),
    ("2499985.00", "2106987.35", "392997.65"),
    ("3124766.20", "2633552.95", "491213.25"),
]


def test_seed_totals_split_in_python_and_sql(wh):
    for total, eu, national in SEED_SPLITS:
        assert money.eu_part(D(total), D("0.8428")) == D(eu)
        assert money.national_part(D(total), D("0.8428")) == D(national)
        assert wh.execute("SELECT mart.eu_part(?::DECIMAL(18,2), 0.8428), mart.national_part(?::DECIMAL(18,2), 0.8428)",
                          [total, total]).fetchone() == (D(eu), D(national))
    # indirect costs of the seed direct costs (all four totals = direct + 15%)
    assert money.indirect_costs(D("2173900.00"), D("0.15")) == D("326085.00")
    assert wh.execute("SELECT mart.indirect_costs(2173900.00, 0.15)").fetchone()[0] == D("326085.00")


def test_dim_unit_carries_the_split_of_every_registry_total():
    import duckdb

    from assets.mart.mart_assets import build_mart
    from core.registry import load_units

    conn = duckdb.connect()
    build_mart(conn, load_units())
    got = {r[0]: r[1:] for r in conn.execute("SELECT total, total_eu, total_national FROM mart.dim_unit").fetchall()}
    assert got == {D(t): (D(e), D(n)) for t, e, n in SEED_SPLITS}


def test_money_macros_agree_with_python_on_many_amounts(wh):
    rng = random.Random(20210101)
    amounts = [Decimal(rng.randint(0, 999_999_999)) / 100 for _ in range(3000)]
    amounts += [D("0.01"), D("0.05"), D("0.10"), D("0.03"), D("1.00"), D("99999999.99"), D("0.00"),
                D("2173900.03"), D("1.70"), D("19000.33"), D("24000.33")]
    rates = [D("0.8428"), D("0.15"), D("0.25"), D("0.20"), D("0.10")]
    wh.execute("CREATE OR REPLACE TEMP TABLE amounts (amount DECIMAL(18,2), rate DECIMAL(9,4))")
    wh.executemany("INSERT INTO amounts VALUES (?, ?)", [[a, r] for a in amounts for r in rates])
    got = wh.execute("SELECT amount, rate, mart.eu_part(amount, rate), mart.national_part(amount, rate), "
                     "mart.indirect_costs(amount, rate) FROM amounts").fetchall()
    assert len(got) == len(amounts) * len(rates)
    for amount, rate, eu, national, indirect in got:
        assert eu == money.eu_part(amount, rate), (amount, rate)
        assert national == money.national_part(amount, rate), (amount, rate)
        assert eu + national == amount
        assert indirect == money.indirect_costs(amount, rate), (amount, rate)


def test_half_up_and_down_rounding_edges(wh):
    # 0,05 × 15% = 0,0075 -> 0,01 (half up); 19 000,33 × 15% = 2 850,0495 -> 2 850,05
    # 1,70 × 84,28% = 1,43276 -> 1,43 (down); 0,03 × 84,28% = 0,025284 -> 0,02
    assert wh.execute("SELECT mart.indirect_costs(0.05, 0.15), mart.indirect_costs(19000.33, 0.15), "
                      "mart.eu_part(1.70, 0.8428), mart.eu_part(0.03, 0.8428)").fetchone() == \
        (D("0.01"), D("2850.05"), D("1.43"), D("0.02"))


# ---- settlement -------------------------------------------------------------------------------

def test_settlement_by_quarter(wh):
    s = by_quarter(wh, "settlement", "testowo",
                   "direct_quarter, direct_cumulative, indirect_quarter, indirect_cumulative, eligible_quarter, "
                   "eligible_cumulative, eu_quarter, eu_cumulative, national_quarter, national_cumulative, has_data")
    # 2022Q1-Q2: after the last quarter with data -> no rows; 2021Q3 (no files) has a row
    assert list(s) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    # Q1: direct 4 000 + 3 000 = 7 000,00; indirect 1 050,00; eligible 8 050,00;
    #     EU 8 050 × 0,8428 = 6 784,54 (exact); national 1 265,46
    assert s["2021Q1"] == {"direct_quarter": D("7000.00"), "direct_cumulative": D("7000.00"),
                           "indirect_quarter": D("1050.00"), "indirect_cumulative": D("1050.00"),
                           "eligible_quarter": D("8050.00"), "eligible_cumulative": D("8050.00"),
                           "eu_quarter": D("6784.54"), "eu_cumulative": D("6784.54"),
                           "national_quarter": D("1265.46"), "national_cumulative": D("1265.46"), "has_data": True}
    # Q2: direct 10 000,33 + 2 000 = 12 000,33, cumulative 19 000,33;
    #     indirect cumulative 19 000,33 × 15% = 2 850,0495 -> 2 850,05; quarter 2 850,05 − 1 050 = 1 800,05
    #     eligible cumulative 21 850,38; quarter 13 800,38
    #     EU cumulative 21 850,38 × 0,8428 = 18 415,500264 -> 18 415,50; quarter 11 630,96
    #     national cumulative 3 434,88; quarter 2 169,42
    assert s["2021Q2"] == {"direct_quarter": D("12000.33"), "direct_cumulative": D("19000.33"),
                           "indirect_quarter": D("1800.05"), "indirect_cumulative": D("2850.05"),
                           "eligible_quarter": D("13800.38"), "eligible_cumulative": D("21850.38"),
                           "eu_quarter": D("11630.96"), "eu_cumulative": D("18415.50"),
                           "national_quarter": D("2169.42"), "national_cumulative": D("3434.88"), "has_data": True}
    # Q3: no files: zeros in the quarter, cumulatives carried
    assert s["2021Q3"]["direct_quarter"] == D("0.00") and s["2021Q3"]["eligible_quarter"] == D("0.00")
    assert s["2021Q3"]["eligible_cumulative"] == D("21850.38") and s["2021Q3"]["has_data"] is False
    # Q4: direct 5 000, cumulative 24 000,33; indirect 3 600,0495 -> 3 600,05 (quarter 750,00);
    #     eligible 27 600,38; EU 27 600,38 × 0,8428 = 23 261,600264 -> 23 261,60
    q4 = s["2021Q4"]
    assert (q4["direct_cumulative"], q4["indirect_quarter"], q4["indirect_cumulative"], q4["eligible_cumulative"],
            q4["eu_cumulative"], q4["national_cumulative"]) == \
        (D("24000.33"), D("750.00"), D("3600.05"), D("27600.38"), D("23261.60"), D("4338.78"))
    # quarters sum to the cumulative
    for key in ("direct", "indirect", "eligible", "eu", "national"):
        assert sum(r[f"{key}_quarter"] for r in s.values()) == q4[f"{key}_cumulative"], key


def test_limits_cross_financing_and_fixed_assets(wh):
    s = by_quarter(wh, "settlement", "testowo",
                   "cross_financing, cross_financing_share, cross_financing_limit, cross_financing_over_limit, "
                   "fixed_assets, fixed_assets_share, fixed_assets_over_limit, budget_total, budget_used_share, "
                   "budget_lines_total")
    # fixed asset FV/2 3 000 of 8 050,00 = 37,27%; cross-financing FV/3 10 000,33 of 21 850,38 = 45,77%
    assert s["2021Q1"]["fixed_assets"] == D("3000.00") and s["2021Q1"]["fixed_assets_share"] == D("0.3727")
    assert s["2021Q1"]["cross_financing"] == D("0.00") and s["2021Q1"]["cross_financing_over_limit"] is False
    assert s["2021Q2"]["cross_financing_share"] == D("0.4577") and s["2021Q2"]["cross_financing_over_limit"] is True
    # Q4: 3 000 / 27 600,38 = 10,87% still over the 10% limit
    assert s["2021Q4"]["fixed_assets_share"] == D("0.1087") and s["2021Q4"]["fixed_assets_over_limit"] is True
    # budget 115 000; 27 600,38 / 115 000 = 24,00%
    assert s["2021Q4"]["budget_total"] == D("115000.00") and s["2021Q4"]["budget_lines_total"] == D("115000.00")
    assert s["2021Q4"]["budget_used_share"] == D("0.2400")


def test_burn_rate_projection(wh):
    s = by_quarter(wh, "settlement", "testowo", "burn_rate, burn_quarters, quarters_remaining, projected_total, "
                   "projection_risk")
    # Q1: 1 quarter of 8 050,00, 5 remaining -> 8 050 + 5 × 8 050 = 48 300,00
    assert s["2021Q1"]["projected_total"] == D("48300.00") and s["2021Q1"]["quarters_remaining"] == 5
    # Q2: (8 050 + 13 800,38) / 2 × 4 remaining + 21 850,38 = 43 700,76 + 21 850,38 = 65 551,14
    assert s["2021Q2"]["projected_total"] == D("65551.14")
    # Q4: last 4 quarters 8 050 + 13 800,38 + 0 + 5 750 = 27 600,38; / 4 = 6 900,095 -> 6 900,10 (display);
    #     projection 27 600,38 + 27 600,38 × 2 / 4 = 27 600,38 + 13 800,19 = 41 400,57 < 95% × 115 000
    assert s["2021Q4"]["burn_quarters"] == 4 and s["2021Q4"]["burn_rate"] == D("6900.10")
    assert s["2021Q4"]["projected_total"] == D("41400.57") and s["2021Q4"]["projection_risk"] is True


def test_projection_risk_false_inside_the_band():
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    # drugie: 4 quarters; Q1 direct 2 500 -> eligible 2 875; projection 2 875 × 4 = 11 500 = 100% -> no risk
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", "2500.00")])
    build_all(conn)
    got = conn.execute("SELECT projected_total, projection_risk FROM report.settlement WHERE unit = 'drugie'").fetchone()
    assert got == (D("11500.00"), False)


@pytest.mark.parametrize("param, risk", [("0.95", False), ("0.97", True)])
def test_projection_band_is_the_flag_rule_param(tmp_path, monkeypatch, param, risk):
    import duckdb
    import yaml
    from mart_fixtures import validation

    from assets.mart import sql_tables

    rules = yaml.safe_load(sql_tables.FLAGS_PATH.read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        if rule["code"] == "PROGNOZA_RYZYKO":
            rule["param"] = float(param)
    changed = tmp_path / "flags.yaml"
    changed.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    original = sql_tables.flag_rules_frame
    monkeypatch.setattr(sql_tables, "flag_rules_frame", lambda path=changed: original(path))
    conn = duckdb.connect()
    validation(conn)
    # drugie: Q1 direct 2 400 -> eligible 2 760; projection 2 760 × 4 = 11 040 = 96% of 11 500:
    # inside the band at 0.95, below it at 0.97 (11 040 < 0,97 × 11 500 = 11 155)
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", "2400.00")])
    build_all(conn)
    got = conn.execute("SELECT projected_total, projection_risk FROM report.settlement WHERE unit = 'drugie' "
                       "AND quarter = '2021Q1'").fetchone()
    assert got == (D("11040.00"), risk)
    flags = conn.execute("SELECT count(*) FROM report.flags WHERE unit = 'drugie' AND quarter = '2021Q1' "
                         "AND rule = 'PROGNOZA_RYZYKO'").fetchone()[0]
    assert flags == (1 if risk else 0)


def test_advances_and_the_70_percent_rule(wh):
    a = by_quarter(wh, "advances", "testowo", "tranches, received_total, received_eu, received_state, spent, "
                   "spent_share, threshold, next_tranche_allowed")
    # Q1: 8 050 / 10 000 = 80,50% -> allowed
    assert a["2021Q1"] == {"tranches": 1, "received_total": D("10000.00"), "received_eu": D("8428.00"),
                           "received_state": D("1572.00"), "spent": D("8050.00"), "spent_share": D("0.8050"),
                           "threshold": D("0.7000"), "next_tranche_allowed": True}
    # Q2: 21 850,38 / 30 000 = 72,83% -> allowed; Q3 carried
    assert a["2021Q2"]["spent_share"] == D("0.7283") and a["2021Q2"]["next_tranche_allowed"] is True
    assert a["2021Q3"]["received_total"] == D("30000.00") and a["2021Q3"]["tranches"] == 2
    # Q4: 27 600,38 / 40 000 = 69,00% -> not allowed
    assert a["2021Q4"]["received_total"] == D("40000.00") and a["2021Q4"]["spent_share"] == D("0.6900")
    assert a["2021Q4"]["next_tranche_allowed"] is False


@pytest.mark.parametrize("direct, eligible, share, allowed", [
    # 6 086,96 + 913,04 (6 086,96 × 15% = 913,044) = 7 000,00 = exactly 70,00% of 10 000 -> allowed
    ("6086.96", "7000.00", "0.7000", True),
    # 6 086,09 + 912,91 (912,9135) = 6 999,00 = 69,99% -> not allowed
    ("6086.09", "6999.00", "0.6999", False),
])
def test_70_percent_rule_on_both_sides_of_the_threshold(direct, eligible, share, allowed):
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", direct)])
    build_all(conn)
    got = conn.execute("SELECT spent, spent_share, next_tranche_allowed FROM report.advances "
                       "WHERE unit = 'drugie'").fetchone()
    assert got == (D(eligible), D(share), allowed)
    flags = conn.execute("SELECT count(*) FROM report.flags WHERE unit = 'drugie' "
                         "AND rule = 'ZALICZKA_PONIZEJ_PROGU'").fetchone()[0]
    assert flags == (0 if allowed else 1)


@pytest.mark.parametrize("other, share, met", [
    ("6500.00", "0.3500", True),    # 3 500 / 10 000 = exactly 35% -> met
    ("6500.01", "0.3500", False),   # 3 500 / 10 000,01 = 34,99997% (prints 35,00%) -> NOT met (exact test)
])
def test_commissioned_share_against_the_threshold(other, share, met):
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", "3500.00", commissioned=True),
                                expense("D/2", 1, "1.1", other)])
    build_all(conn)
    got = conn.execute("SELECT commissioned_amount, share, threshold, met FROM report.commissioned "
                       "WHERE unit = 'drugie'").fetchone()
    assert got == (D("3500.00"), D(share), D("0.3500"), met)
    indicator = conn.execute("SELECT cumulative_total, target_total FROM report.indicators "
                             "WHERE unit = 'drugie' AND code = 'REZ_ZLECANIE'").fetchone()
    assert indicator == (D(share), D("0.3500"))


def test_commissioned_share_of_testowo(wh):
    c = by_quarter(wh, "commissioned", "testowo", "commissioned_amount, direct_costs, share, threshold, met")
    # Q1: 4 000 / 7 000 = 57,14%; Q2: 14 000,33 / 19 000,33 = 73,68%; Q4: 14 000,33 / 24 000,33 = 58,33%
    assert c["2021Q1"] == {"commissioned_amount": D("4000.00"), "direct_costs": D("7000.00"), "share": D("0.5714"),
                           "threshold": D("0.3500"), "met": True}
    assert c["2021Q2"]["share"] == D("0.7368") and c["2021Q4"]["share"] == D("0.5833")


def test_plan_vs_actual(wh):
    p = by_quarter(wh, "plan_vs_actual", "testowo", "planned, actual, planned_cumulative, actual_cumulative, "
                   "cumulative_share")
    assert list(p) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2"]
    assert [p[q]["planned"] for q in p] == [D(x) for x in ("10000.00", "20000.00", "25000.00", "25000.00",
                                                           "20000.00", "15000.00")]
    # actual = eligible (direct + indirect) declared in the quarter; NULL after the last reported quarter
    assert [p[q]["actual"] for q in p] == [D("8050.00"), D("13800.38"), D("0.00"), D("5750.00"), None, None]
    # Q4: 27 600,38 of 80 000 planned = 34,50%
    assert p["2021Q4"]["actual_cumulative"] == D("27600.38") and p["2021Q4"]["cumulative_share"] == D("0.3450")
    assert p["2022Q2"]["planned_cumulative"] == D("115000.00") and p["2022Q2"]["actual_cumulative"] is None


def test_finance_by_task_and_category(wh):
    tasks = rows(wh, "SELECT task_no, task_name, budget, quarter_amount, cumulative_amount, pct "
                     "FROM report.finance_by_task WHERE unit = 'testowo' AND quarter = '2021Q4' ORDER BY task_no")
    # task 1: 4 000 + 10 000,33 + 2 000 = 16 000,33 of 70 000 = 22,86%; task 2: 3 000 + 5 000 = 8 000 of 30 000
    assert tasks == [
        {"task_no": 1, "task_name": "Usługi opiekuńcze", "budget": D("70000.00"), "quarter_amount": D("0.00"),
         "cumulative_amount": D("16000.33"), "pct": D("0.2286")},
        {"task_no": 2, "task_name": "Diagnoza i program", "budget": D("30000.00"), "quarter_amount": D("5000.00"),
         "cumulative_amount": D("8000.00"), "pct": D("0.2667")},
    ]
    categories = rows(wh, "SELECT task_no, cost_category, category_name, budget, quarter_amount, cumulative_amount "
                          "FROM report.finance_by_category WHERE unit = 'testowo' AND quarter = '2021Q2' "
                          "ORDER BY task_no, cost_category")
    assert [(r["cost_category"], r["budget"], r["quarter_amount"], r["cumulative_amount"]) for r in categories] == [
        ("1.1", D("60000.00"), D("10000.33"), D("14000.33")),
        ("1.2", D("10000.00"), D("2000.00"), D("2000.00")),
        ("2.1", D("30000.00"), D("0.00"), D("3000.00")),
    ]


def test_corrected_resent_quarter_changes_the_cumulative_figures():
    conn = warehouse()
    before = conn.execute("SELECT eligible_cumulative FROM report.settlement WHERE unit = 'testowo' "
                          "AND quarter = '2021Q4'").fetchone()[0]
    assert before == D("27600.38")
    # 2021Q2 re-sent: FV/3 corrected from 10 000,33 to 9 000,00 (file version 2 replaces the quarter)
    corrected = [dict(TESTOWO_Q2_EXPENSES[0], eligible_amount=D("9000.00"), gross_amount=D("9000.00"),
                      net_amount=D("9000.00")), TESTOWO_Q2_EXPENSES[1]]
    put(conn, "expenses", "testowo", "2021Q2", corrected, version=2)
    build_all(conn)
    s = by_quarter(conn, "settlement", "testowo", "direct_quarter, eligible_cumulative, eu_cumulative")
    # Q2: direct 11 000; cumulative 18 000 + 2 700 = 20 700,00; Q4: 23 000 + 3 450 = 26 450,00;
    #     EU 26 450 × 0,8428 = 22 292,06
    assert s["2021Q2"]["direct_quarter"] == D("11000.00") and s["2021Q2"]["eligible_cumulative"] == D("20700.00")
    assert s["2021Q4"]["eligible_cumulative"] == D("26450.00") and s["2021Q4"]["eu_cumulative"] == D("22292.06")
    assert s["2021Q1"]["eligible_cumulative"] == D("8050.00")  # earlier quarter untouched
    # Q4 advances: 26 450 / 40 000 = 66,13%
    assert conn.execute("SELECT spent_share FROM report.advances WHERE unit = 'testowo' AND quarter = '2021Q4'"
                        ).fetchone()[0] == D("0.6613")


def test_flags(wh):
    flags = rows(wh, "SELECT quarter, severity, area, rule, message FROM report.flags WHERE unit = 'testowo'")
    rules = {(f["quarter"], f["rule"]) for f in flags}
    assert ("2021Q4", "ZALICZKA_PONIZEJ_PROGU") in rules and ("2021Q2", "ZALICZKA_PONIZEJ_PROGU") not in rules
    assert ("2021Q1", "SRODKI_TRWALE_LIMIT") in rules and ("2021Q2", "CROSS_FINANCING_LIMIT") in rules
    # plan: Q1 8 050 ≥ 80% × 10 000 -> no flag; Q2 21 850,38 < 80% × 30 000 -> flag
    assert ("2021Q1", "OPOZNIENIE_WZGLEDEM_PLANU") not in rules and ("2021Q2", "OPOZNIENIE_WZGLEDEM_PLANU") in rules
    # KM2 planned 30.06.2021, achieved 15.08.2021: overdue at the end of Q2 only; KM3 never achieved
    assert ("2021Q2", "KAMIEN_PO_TERMINIE") in rules
    overdue_q3 = [f["message"] for f in flags if f["quarter"] == "2021Q3" and f["rule"] == "KAMIEN_PO_TERMINIE"]
    assert overdue_q3 == ["Kamień milowy KM3 (Uruchomienie usług) planowany na 30.09.2021 nieosiągnięty do końca "
                          "kwartału."]
    assert ("2021Q3", "BRAK_PLIKOW") in rules and ("2021Q1", "KWARANTANNA") in rules
    advance = next(f for f in flags if f["rule"] == "ZALICZKA_PONIZEJ_PROGU")
    assert advance["severity"] == "warning" and advance["area"] == "zaliczki"
    # 70% × 40 000 − 27 600,38 = 28 000 − 27 600,38 = 399,62 missing
    assert advance["message"] == ("Rozliczono 69,00% otrzymanych zaliczek (27 600,38 zł z 40 000,00 zł); próg 70,00% "
                                  "— wniosek o kolejną transzę niemożliwy, brakuje 399,62 zł.")
    # indicators after half the period (Q4 = 4th of 6 quarters) below 50% of target
    below = {f["message"].split(" ")[1] for f in flags if f["rule"] == "WSKAZNIK_ZAGROZONY"}
    assert below == {"PROD_OSOBY_ZAGROZONE", "PROD_KAMIENIE", "REZ_SCIEZKA"}
    assert not {r for _, r in rules} & {"BUDZET_NIEZGODNY", "WYDATKI_POZA_BUDZETEM"}  # budget = 115 000, all lines known
    projection = [f for f in flags if f["rule"] == "PROGNOZA_RYZYKO" and f["quarter"] == "2021Q4"]
    assert projection and "41 400,57 zł" in projection[0]["message"]


def test_budget_flags():
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    # drugie: budget lines 10 000 + 1 500 = 11 500 = total; a document on task 1 / category 9.9 is off budget
    load_drugie(conn, expenses=[expense("D/1", 1, "1.1", "2500.00"), expense("D/9", 1, "9.9", "100.00")])
    build_all(conn)
    messages = [r[0] for r in conn.execute("SELECT message FROM report.flags WHERE unit = 'drugie' "
                                           "AND rule = 'WYDATKI_POZA_BUDZETEM'").fetchall()]
    assert messages == ["Wydatki 100,00 zł (1 dok.) na zadaniu/kategorii 1/9.9 spoza budżetu umowy."]
    conn.execute("UPDATE staging.budget SET amount = 1499.99 WHERE unit = 'drugie' AND task_no = 0")
    build_all(conn)
    assert conn.execute("SELECT message FROM report.flags WHERE rule = 'BUDZET_NIEZGODNY'").fetchall() == [
        ("Suma linii budżetu 11 499,99 zł różni się od wartości projektu 11 500,00 zł (config/units.yaml).",)]


def test_milestones_table(wh):
    got = rows(wh, "SELECT code, planned_date, achieved_date, on_time, days_late FROM report.milestones "
                   "WHERE unit = 'testowo' ORDER BY code")
    assert [(r["code"], r["on_time"], r["days_late"]) for r in got] == [("KM1", True, -11), ("KM2", False, 46),
                                                                         ("KM3", None, None)]


def test_units_fixture_matches_registry_rules():
    units = {u.key: u for u in test_units()}
    assert units["testowo"].quarters == ["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2"]


# ---- issue 12: a quarter's figures are the claim's; limits judged against the agreement --------

def _drugie(expenses_by_quarter: dict[str, list[dict]], budget: list[dict] | None = None):
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn, expenses=expenses_by_quarter.get("2021Q1", []))
    if budget is not None:
        put(conn, "budget", "drugie", None, budget)
    for quarter, docs in expenses_by_quarter.items():
        if quarter != "2021Q1":
            put(conn, "expenses", "drugie", quarter, docs)
    build_all(conn)
    return conn


def test_quarter_indirect_costs_are_the_flat_rate_of_the_quarters_direct_costs():
    """Issue 12 example: 99 680,97 × 15% = 14 952,1455 → 14 952,15 in the claim (the cumulative
    difference gave 14 952,14). Q1 direct 0,05 → indirect 0,0075 → 0,01 (half up)."""
    conn = _drugie({"2021Q1": [expense("D/1", 1, "1.1", "0.05")],
                    "2021Q2": [expense("D/2", 1, "1.1", "99680.97", issued=date(2021, 5, 5))]})
    s = by_quarter(conn, "settlement", "drugie",
                   "direct_quarter, indirect_quarter, indirect_cumulative, eligible_quarter, eligible_cumulative, "
                   "eu_quarter, eu_cumulative, national_quarter, national_cumulative")
    # Q1: eligible 0,05 + 0,01 = 0,06; EU 0,06 × 0,8428 = 0,050568 → 0,05; national 0,01
    assert s["2021Q1"] == {"direct_quarter": D("0.05"), "indirect_quarter": D("0.01"), "indirect_cumulative": D("0.01"),
                           "eligible_quarter": D("0.06"), "eligible_cumulative": D("0.06"),
                           "eu_quarter": D("0.05"), "eu_cumulative": D("0.05"),
                           "national_quarter": D("0.01"), "national_cumulative": D("0.01")}
    # Q2: indirect 14 952,15; eligible 99 680,97 + 14 952,15 = 114 633,12;
    #     EU 114 633,12 × 0,8428 = 96 612,793536 → 96 612,79; national 18 020,33
    #     cumulative = sum of quarters: indirect 14 952,16; eligible 114 633,18; EU 96 612,84; national 18 020,34
    assert s["2021Q2"] == {"direct_quarter": D("99680.97"), "indirect_quarter": D("14952.15"),
                           "indirect_cumulative": D("14952.16"), "eligible_quarter": D("114633.12"),
                           "eligible_cumulative": D("114633.18"), "eu_quarter": D("96612.79"),
                           "eu_cumulative": D("96612.84"), "national_quarter": D("18020.33"),
                           "national_cumulative": D("18020.34")}


def test_quarter_eu_part_is_rounded_down_per_quarter_and_cumulative_is_their_sum():
    """Two quarters of 0,03 direct: each eligible 0,03 (0,0045 → 0,00 indirect), EU 0,025284 → 0,02 per
    quarter, cumulative EU 0,04 (the cumulative rule would give eu_part(0,06) = 0,05)."""
    conn = _drugie({"2021Q1": [expense("D/1", 1, "1.1", "0.03")],
                    "2021Q2": [expense("D/2", 1, "1.1", "0.03", issued=date(2021, 5, 5))]})
    s = by_quarter(conn, "settlement", "drugie", "eu_quarter, eu_cumulative, national_quarter, national_cumulative")
    assert s["2021Q2"] == {"eu_quarter": D("0.02"), "eu_cumulative": D("0.04"), "national_quarter": D("0.01"),
                           "national_cumulative": D("0.02")}


def test_correction_documents_lower_the_quarter():
    """A correction of −1 000,00 in Q2 after 2 000,00 in Q1: Q2 direct −1 000,00, indirect −150,00,
    eligible −1 150,00, EU −969,22 (−969,22 exactly: 1 150 × 0,8428 = 969,22), cumulative 1 150,00."""
    conn = _drugie({"2021Q1": [expense("D/1", 1, "1.1", "2000.00")],
                    "2021Q2": [expense("K/1", 1, "1.1", "-1000.00", issued=date(2021, 5, 5))]})
    s = by_quarter(conn, "settlement", "drugie", "direct_quarter, indirect_quarter, eligible_quarter, eu_quarter, "
                   "eligible_cumulative")
    assert s["2021Q2"] == {"direct_quarter": D("-1000.00"), "indirect_quarter": D("-150.00"),
                           "eligible_quarter": D("-1150.00"), "eu_quarter": D("-969.22"),
                           "eligible_cumulative": D("1150.00")}


DRUGIE_BUDGET_WITH_ADAPTATION = [
    {"task_no": 1, "task_name": "Usługi", "cost_category": "1.1", "category_name": "Usługi", "amount": D("8000.00")},
    {"task_no": 1, "task_name": "Usługi", "cost_category": "1.2", "category_name": "Adaptacja lokalu",
     "amount": D("2000.00"), "fixed_asset": True, "cross_financing": True},
    {"task_no": 0, "task_name": "Koszty pośrednie", "cost_category": "0.1", "category_name": "Koszty pośrednie",
     "amount": D("1500.00")},
]


@pytest.mark.parametrize("adaptation, over, rule, message", [
    # allowed = min(budget line 2 000,00, 10% × 11 500,00 = 1 150,00) = 1 150,00
    # 1 000,00 of eligible 1 500 + 225 = 1 725,00 = 57,97% of spending to date: information only
    ("1000.00", False, "SRODKI_TRWALE_UDZIAL",
     "Środki trwałe 1 000,00 zł = 57,97% dotychczasowych wydatków kwalifikowalnych (limit 10,00% liczony od wartości "
     "projektu); w umowie dozwolone 1 150,00 zł — udział zmaleje wraz z kolejnymi wydatkami."),
    # 1 150,01 > 1 150,00: over the agreement's allowance — an error
    ("1150.01", True, "SRODKI_TRWALE_LIMIT",
     "Środki trwałe narastająco 1 150,01 zł przekraczają kwotę dozwoloną w umowie 1 150,00 zł (linie budżetu "
     "środków trwałych, najwyżej 10,00% wartości projektu 11 500,00 zł)."),
])
def test_fixed_assets_judged_against_the_agreement_not_the_share_to_date(adaptation, over, rule, message):
    conn = _drugie({"2021Q1": [expense("D/1", 1, "1.1", "500.00"),
                               expense("D/2", 1, "1.2", adaptation, fixed=True)]}, DRUGIE_BUDGET_WITH_ADAPTATION)
    got = conn.execute("SELECT fixed_assets_allowed, fixed_assets_over_limit, fixed_assets_share_above_limit "
                       "FROM report.settlement WHERE unit = 'drugie'").fetchone()
    assert got == (D("1150.00"), over, True)
    flags = conn.execute("SELECT severity, rule, message FROM report.flags WHERE unit = 'drugie' "
                         "AND rule LIKE 'SRODKI_TRWALE%'").fetchall()
    assert flags == [("error" if over else "info", rule, message)]


def test_cross_financing_without_a_budget_line_is_over_the_agreement():
    """The agreement's budget has no cross-financing line: allowed 0,00, any cross-financing is an error."""
    conn = _drugie({"2021Q1": [expense("D/1", 1, "1.1", "100.00", cross=True)]})
    got = conn.execute("SELECT cross_financing_allowed, cross_financing_over_limit, severity, message "
                       "FROM report.settlement JOIN report.flags USING (unit, quarter) "
                       "WHERE unit = 'drugie' AND rule = 'CROSS_FINANCING_LIMIT'").fetchone()
    assert got == (D("0.00"), True, "error",
                   "Cross-financing narastająco 100,00 zł przekracza kwotę dozwoloną w umowie 0,00 zł (linie budżetu "
                   "cross-financing, najwyżej 10,00% wartości projektu 11 500,00 zł).")


def test_a_quarter_without_data_gets_no_report(wh):
    """Issue 12 point 9 (docs/settlement.md "Kwartał bez danych"): testowo sent no file for 2021Q3 —
    no report for it; drugie (data only in 2021Q1) gets none for 2021Q3 either."""
    from assets.report.report_files import split_units_with_data

    units = {u.key: u for u in test_units()}
    both = [units["testowo"], units["drugie"]]
    assert split_units_with_data(wh, "2021Q3", both) == ([], ["testowo", "drugie"])
    with_data, without = split_units_with_data(wh, "2021Q2", both)
    assert [u.key for u in with_data] == ["testowo"] and without == ["drugie"]
    with_data, without = split_units_with_data(wh, "2021Q1", both)
    assert [u.key for u in with_data] == ["testowo", "drugie"] and without == []


def test_report_data_quality_lists_files_not_read_and_no_tranche_wording(tmp_path):
    """Issue 12 point 5: a tranche file at the unit root is listed in the report's data-quality section;
    with no tranche received the advances fact says so instead of "możliwy"."""
    from datetime import datetime

    from assets.report.report_files import landing_problem_rows
    from reports import queries
    from reports.builder import build_report
    from reports.settings import default_settings

    (tmp_path / "drugie").mkdir()
    (tmp_path / "drugie" / "transze.csv").write_text("Nr transzy\n1\n", encoding="utf-8")
    units = test_units()
    drugie = [u for u in units if u.key == "drugie"]
    import duckdb
    from mart_fixtures import validation

    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn)
    conn.execute("DELETE FROM staging.tranches WHERE unit = 'drugie'")
    build_all(conn)
    inputs = queries.load_report_inputs(conn, "2021Q1", drugie)
    inputs.landing_problems = landing_problem_rows(tmp_path, units, drugie)
    report = build_report(inputs, "unit", "drugie", default_settings(), datetime(2021, 4, 10))
    quality = next(s for s in report.sections if s.id == "jakosc-danych")
    table = next(t for t in quality.tables if t.id == "pominiete-pliki")
    assert [(r["path"], r["problem"], r["fix"]) for r in table.rows] == [(
        "drugie/transze.csv", "plik leży bezpośrednio w folderze jednostki, poza folderem kwartału — nie jest czytany.",
        "Przenieś plik do folderu kwartału wniosku: drugie/<RRRR>Q<n>/transze.csv (np. drugie/2021Q1/transze.csv).")]
    finance = next(s for s in report.sections if s.id == "postep-finansowy")
    fact = next(f for f in finance.facts if f.label.startswith("Wniosek o kolejną transzę"))
    assert fact.value == "nie otrzymano jeszcze żadnej transzy — wniosek o pierwszą transzę nie wymaga rozliczenia"
