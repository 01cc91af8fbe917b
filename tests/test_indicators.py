"""Indicators, participant profile and services on the hand-made fixture (tests/mart_fixtures.py).

testowo participants (hand-counted):
  2021Q1 file: P1 (k1, K, 30, registered unemployed, ISCED 2, DEGURBA 3, poverty, disability,
               IPUS delivery), P2 (k2, M, 60, employed, ISCED 5-8, disability refused),
               P3 (no PESEL, K, 20, inactive, ISCED 3-4, poverty, homeless)
  2021Q2 file: P1 again (path completed, ended 20.06.2021), P4 (k4, sex/age only from PESEL: M, 45,
               unregistered unemployed, poverty, IPUS delivery), P5 (k1 again = same person as P1)
  2021Q3: no files;  2021Q4 file: P6 (k6, K, 24, inactive, ISCED 3-4)
-> persons: k1, k2, P3, k4, k6 = 5 (K: k1, P3, k6; M: k2, k4).
"""

import pytest
import yaml
from mart_fixtures import TESTOWO_Q2_PARTICIPANTS, D, build_all, put, rows, warehouse

from core.paths import SCHEMAS_DIR


@pytest.fixture(scope="module")
def wh():
    conn = warehouse()
    yield conn
    conn.close()


def indicator(conn, code, unit="testowo"):
    data = rows(conn, "SELECT quarter, target_total, target_women, target_men, quarter_total, quarter_women, "
                      "quarter_men, cumulative_total, cumulative_women, cumulative_men, pct "
                      "FROM report.indicators WHERE unit = ? AND code = ? ORDER BY quarter", [unit, code])
    return {r.pop("quarter"): r for r in data}


def ints(row, *keys):
    return tuple(None if row[k] is None else int(row[k]) for k in keys)


Q = ("quarter_total", "quarter_women", "quarter_men")
C = ("cumulative_total", "cumulative_women", "cumulative_men")


def test_catalogue_is_complete_and_matches_the_participant_mart(wh):
    catalogue = yaml.safe_load((SCHEMAS_DIR / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]
    codes = [c["code"] for c in catalogue]
    assert len(codes) == len(set(codes))
    assert {"PROD_OSOBY_USLUGI", "PROD_OSOBY_ZAGROZONE", "PROD_OSOBY_IPUS", "PROD_CUS", "PROD_KAMIENIE",
            "REZ_SCIEZKA", "REZ_ZLECANIE"} <= set(codes)
    columns = {r["column_name"]: r["data_type"] for r in rows(
        wh, "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'mart' AND table_name = 'dim_participant'")}
    for entry in catalogue:
        for key in ("code", "name", "kind", "measure_unit", "definition", "formula", "by_sex", "sort_order",
                    "sensitive", "target"):
            assert key in entry, (entry["code"], key)
        assert entry["kind"] in ("produkt", "rezultat", "profil")
        if entry.get("participant_flag"):
            assert columns[entry["participant_flag"]] == "BOOLEAN", entry["code"]
            assert entry["count_quarter"] in ("entry", "ipus", "path")


def test_persons_covered_by_services_counted_once_with_sex_breakdown(wh):
    ind = indicator(wh, "PROD_OSOBY_USLUGI")
    assert list(ind) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    assert ints(ind["2021Q1"], *Q) == (3, 2, 1)          # P1, P3 (K) + P2 (M)
    assert ints(ind["2021Q2"], *Q) == (1, 0, 1)          # P4 (M from PESEL); P1 again and P5 (= k1) not again
    assert ints(ind["2021Q3"], *Q) == (0, 0, 0)          # no files: zero in the quarter
    assert ints(ind["2021Q3"], *C) == (4, 2, 2)          # ... cumulative carried
    assert ints(ind["2021Q4"], *Q) == (1, 1, 0)          # P6
    assert ints(ind["2021Q4"], *C) == (5, 3, 2)
    assert ints(ind["2021Q4"], "target_total", "target_women", "target_men") == (10, 6, 4)
    assert ind["2021Q4"]["pct"] == D("0.5000")           # 5 / 10
    assert ind["2021Q1"]["pct"] == D("0.3000")


def test_poverty_ipus_path_cus_and_milestones(wh):
    poverty = indicator(wh, "PROD_OSOBY_ZAGROZONE")
    assert ints(poverty["2021Q1"], *Q) == (2, 2, 0) and ints(poverty["2021Q4"], *C) == (3, 2, 1)
    assert poverty["2021Q4"]["pct"] == D("0.3750")       # 3 / 8
    ipus = indicator(wh, "PROD_OSOBY_IPUS")
    assert ints(ipus["2021Q1"], *Q) == (1, 1, 0) and ints(ipus["2021Q2"], *Q) == (1, 0, 1)
    path = indicator(wh, "REZ_SCIEZKA")                  # P1: completed, ended in 2021Q2
    assert ints(path["2021Q1"], *C) == (0, 0, 0) and ints(path["2021Q2"], *Q) == (1, 1, 0)
    assert path["2021Q4"]["pct"] == D("0.2000")
    cus = indicator(wh, "PROD_CUS")                      # CUS from 01.04.2021: 1 in 2021Q2
    assert [int(cus[q]["quarter_total"]) for q in cus] == [0, 1, 0, 0]
    assert [int(cus[q]["cumulative_total"]) for q in cus] == [0, 1, 1, 1]
    assert cus["2021Q2"]["quarter_women"] is None and cus["2021Q2"]["target_women"] is None  # no K/M breakdown
    milestones = indicator(wh, "PROD_KAMIENIE")          # KM1 on time (Q1); KM2 late; KM3 not achieved
    assert [int(milestones[q]["cumulative_total"]) for q in milestones] == [1, 1, 1, 1]
    assert milestones["2021Q4"]["pct"] == D("0.3333")


def test_commissioned_result_indicator(wh):
    share = indicator(wh, "REZ_ZLECANIE")
    # quarter: Q1 4 000 / 7 000; Q2 10 000,33 / 12 000,33; Q3 no direct costs -> NULL
    assert [share[q]["quarter_total"] for q in share] == [D("0.5714"), D("0.8333"), None, D("0.0000")]
    assert share["2021Q4"]["cumulative_total"] == D("0.5833") and share["2021Q4"]["target_total"] == D("0.3500")


def test_indicator_rows_carry_catalogue_fields(wh):
    got = rows(wh, "SELECT code, name, kind, sort_order, measure_unit FROM report.indicators "
                   "WHERE unit = 'testowo' AND quarter = '2021Q1' ORDER BY sort_order")
    assert [r["code"] for r in got] == ["PROD_OSOBY_USLUGI", "PROD_OSOBY_ZAGROZONE", "PROD_OSOBY_IPUS", "PROD_CUS",
                                        "PROD_KAMIENIE", "REZ_SCIEZKA", "REZ_ZLECANIE"]
    assert got[0]["kind"] == "produkt" and got[0]["measure_unit"] == "osoby" and got[5]["kind"] == "rezultat"
    assert got[0]["name"].startswith("Liczba osób objętych usługami społecznymi")


def test_participant_dimension_current_state(wh):
    p = {r["participant_id"]: r for r in rows(wh, "SELECT * FROM mart.dim_participant WHERE unit = 'testowo'")}
    assert set(p) == {"P1", "P2", "P3", "P4", "P5", "P6"}
    assert (p["P1"]["first_quarter"], p["P1"]["current_quarter"], p["P1"]["quarterly_files"]) == ("2021Q1", "2021Q2", 2)
    assert p["P1"]["completed_path"] is True and p["P1"]["end_quarter"] == "2021Q2" and p["P1"]["has_ipus"] is True
    assert p["P1"]["source_file"] == "testowo/2021Q2/uczestnicy.csv" and p["P1"]["row_number"] == 2
    assert (p["P4"]["sex"], p["P4"]["age_at_entry"], p["P4"]["is_unemployed"]) == ("M", 45, True)
    assert p["P2"]["disability"] is False and p["P1"]["disability"] is True    # Odmowa is not Tak
    assert p["P3"]["person_key"] is None and p["P5"]["person_key"] == p["P1"]["person_key"] == "k1"
    counted = rows(wh, "SELECT person_key, participant_id, participant_ids FROM mart.person_count "
                       "WHERE unit = 'testowo' AND code = 'PROF_OGOLEM' ORDER BY person_key")
    assert counted == [{"person_key": "id:P3", "participant_id": "P3", "participant_ids": 1},
                       {"person_key": "k1", "participant_id": "P1", "participant_ids": 2},
                       {"person_key": "k2", "participant_id": "P2", "participant_ids": 1},
                       {"person_key": "k4", "participant_id": "P4", "participant_ids": 1},
                       {"person_key": "k6", "participant_id": "P6", "participant_ids": 1}]
    assert p["P1"]["is_rural"] is True and p["P1"]["poverty_risk"] is True and p["P1"]["is_isced_0_2"] is True
    assert p["P1"]["is_long_term_unemployed"] is None                             # not collected


def test_participant_profile(wh):
    got = {r["code"]: r for r in rows(wh, "SELECT * FROM report.participant_profile "
                                          "WHERE unit = 'testowo' AND quarter = '2021Q4'")}

    def counts(code):
        r = got[code]
        return (r["cumulative_total"], r["cumulative_women"], r["cumulative_men"])

    assert counts("PROF_OGOLEM") == (5, 3, 2)
    assert counts("PROF_BEZROBOTNI") == (2, 1, 1) and counts("PROF_BEZROBOTNI_ZAREJESTROWANI") == (1, 1, 0)
    assert counts("PROF_BIERNI") == (2, 2, 0) and counts("PROF_PRACUJACY") == (1, 0, 1)
    assert counts("PROF_PONIZEJ_25") == (2, 2, 0) and got["PROF_PONIZEJ_25"]["age_group"] == 1
    assert counts("PROF_25_54") == (2, 1, 1) and got["PROF_25_54"]["age_group"] == 2   # P1 and P5 = one person
    assert counts("PROF_POWYZEJ_54") == (1, 0, 1) and got["PROF_POWYZEJ_54"]["age_group"] == 3
    assert counts("PROF_ISCED_0_2") == (1, 1, 0) and counts("PROF_ISCED_3_4") == (3, 2, 1)
    assert counts("PROF_ISCED_5_8") == (1, 0, 1)
    assert counts("PROF_NIEPELNOSPRAWNI") == (1, 1, 0)      # P2's Odmowa not counted
    assert counts("PROF_BEZDOMNI") == (1, 1, 0) and counts("PROF_MIGRANCI") == (0, 0, 0)
    assert counts("PROF_OBSZARY_WIEJSKIE") == (1, 1, 0)
    assert got["PROF_NIEPELNOSPRAWNI"]["sensitive"] is True and got["PROF_OGOLEM"]["sensitive"] is False
    assert got["PROF_OGOLEM"]["age_group"] is None
    assert got["PROF_OGOLEM"]["label"] == "Uczestnicy ogółem"
    assert got["PROF_OGOLEM"]["quarter_total"] == 1      # P6 in 2021Q4


def test_services_by_area_mode_and_service(wh):
    area = {(r["quarter"], r["area"]): r for r in rows(wh, "SELECT * FROM report.services_by_area WHERE unit = 'testowo'")}
    # 2021Q1: S1 2 × 50 = 100,00 (area 4); S2 value given 150,00 (area 6); S3 3 × 33,33 = 99,99 (area 11, no person)
    assert {a: (r["deliveries"], r["units"], r["persons"], r["quarter_value"]) for (q, a), r in area.items()
            if q == "2021Q1"} == {4: (1, D("2.00"), 1, D("100.00")), 6: (1, D("1.00"), 1, D("150.00")),
                                  11: (1, D("3.00"), 0, D("99.99"))}
    # cumulative at 2021Q4: area 4 100 + 75 + 50 = 225,00; area 6 150 + 120 = 270,00; Q3 zeros, carried
    assert area[("2021Q3", 4)]["deliveries"] == 0 and area[("2021Q3", 4)]["cumulative_value"] == D("175.00")
    assert (area[("2021Q4", 4)]["cumulative_value"], area[("2021Q4", 6)]["cumulative_value"]) == \
        (D("225.00"), D("270.00"))
    mode = {r["mode"]: r for r in rows(wh, "SELECT * FROM report.services_by_mode WHERE unit = 'testowo' "
                                           "AND quarter = '2021Q4'")}
    assert {m: r["cumulative_value"] for m, r in mode.items()} == {"own": D("225.00"), "ngo": D("270.00"),
                                                                   "pes": D("99.99")}
    assert mode["ngo"]["commissioned"] is True and mode["own"]["commissioned"] is False
    service = rows(wh, "SELECT * FROM report.services_by_service WHERE unit = 'testowo' AND quarter = '2021Q2' "
                       "AND service_code = 'S1'")[0]
    assert (service["deliveries"], service["units"], service["quarter_value"], service["cumulative_value"],
            service["area"], service["mode"]) == (1, D("1.50"), D("75.00"), D("175.00"), 4, "own")


def test_data_quality_and_quarantine_reasons(wh):
    quality = rows(wh, "SELECT quarter, dataset, received, accepted, quarantined, warnings FROM report.data_quality "
                       "WHERE unit = 'testowo' ORDER BY quarter NULLS FIRST, dataset")
    assert quality == [
        {"quarter": None, "dataset": "budget", "received": 4, "accepted": 4, "quarantined": 0, "warnings": 0},
        {"quarter": "2021Q1", "dataset": "expenses", "received": 3, "accepted": 2, "quarantined": 1, "warnings": 0},
        {"quarter": "2021Q1", "dataset": "participants", "received": 3, "accepted": 3, "quarantined": 0,
         "warnings": 1},
    ]
    reasons = {(r["dataset"], r["reason"]): r["rows"] for r in rows(wh, "SELECT * FROM report.quarantine_reasons")}
    assert reasons == {("expenses", "brak wartości w kolumnie wymaganej"): 1, ("expenses", "nieprawidłowa data"): 1,
                       ("participants", "wiek niezgodny z PESEL"): 1}


def test_corrected_resent_participants_file_changes_cumulatives():
    conn = warehouse()
    # 2021Q2 re-sent without P4 (a wrongly reported person): cumulative persons drop from 5 to 4
    put(conn, "participants", "testowo", "2021Q2", [TESTOWO_Q2_PARTICIPANTS[0], TESTOWO_Q2_PARTICIPANTS[2]],
        version=2)
    build_all(conn)
    ind = indicator(conn, "PROD_OSOBY_USLUGI")
    assert ints(ind["2021Q2"], *Q) == (0, 0, 0) and ints(ind["2021Q4"], *C) == (4, 3, 1)
    assert ints(indicator(conn, "PROD_OSOBY_ZAGROZONE")["2021Q4"], *C) == (2, 2, 0)


def test_grid_stops_at_last_quarter_with_data(wh):
    grid = rows(wh, "SELECT unit, quarter, in_report, has_data FROM mart.unit_quarter ORDER BY unit, quarter")
    testowo = [(r["quarter"], r["in_report"], r["has_data"]) for r in grid if r["unit"] == "testowo"]
    assert testowo == [("2021Q1", True, True), ("2021Q2", True, True), ("2021Q3", True, False),
                       ("2021Q4", True, True), ("2022Q1", False, False), ("2022Q2", False, False)]
    counts = rows(wh, "SELECT unit, count(*) AS n FROM report.indicators GROUP BY unit ORDER BY unit")
    assert counts == [{"unit": "drugie", "n": 7}, {"unit": "testowo", "n": 28}]


def test_every_mart_and_report_table_is_documented(wh):
    undocumented = rows(wh, "SELECT schema_name, table_name FROM duckdb_tables() "
                            "WHERE schema_name IN ('mart', 'report') AND (comment IS NULL OR comment = '')")
    assert undocumented == []
    money_columns = rows(wh, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema IN ('mart', 'report') AND column_name IN "
                             "('eligible_amount', 'eligible_cumulative', 'eu_cumulative', 'received_total', 'value')")
    assert money_columns and all(r["data_type"] == "DECIMAL(18,2)" for r in money_columns)
    # no unbounded sums or floats leak into the layers: money (18,2), ratios (9,4), indicator values (18,4)
    odd = rows(wh, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                   "WHERE table_schema IN ('mart', 'report') AND (data_type IN ('DOUBLE', 'FLOAT', 'HUGEINT') "
                   "OR (data_type LIKE 'DECIMAL%' AND data_type NOT IN ('DECIMAL(18,2)', 'DECIMAL(9,4)', "
                   "'DECIMAL(18,4)')))")
    assert odd == []
