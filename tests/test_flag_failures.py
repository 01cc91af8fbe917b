"""Every monitoring flag seen raised (issue 14, item 1): unit, quarter, severity, area and the Polish message.

Figures of the hand-made fixture (tests/mart_fixtures.py), worked out in the comments. The
cross-financing and fixed-asset flags judge the cumulative amount against what the agreement allows
(flagged budget lines, at most limit × project value; docs/settlement.md): above it an error, above
the limit's share of spending to date only information.
"""

from __future__ import annotations

import duckdb
import pytest
import yaml
from mart_fixtures import build_all, expense, load_drugie, validation, warehouse

from assets.mart import sql_tables


@pytest.fixture(scope="module")
def testowo():
    conn = warehouse()
    yield conn
    conn.close()


def drugie(expenses: list[dict], budget_indirect: str | None = None,
           flagged_line: bool = False) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    validation(conn)
    load_drugie(conn, expenses=expenses)
    if budget_indirect is not None:
        conn.execute("UPDATE staging.budget SET amount = ? WHERE unit = 'drugie' AND task_no = 0", [budget_indirect])
    if flagged_line:  # the budget line 1/1.1 (10 000,00) is marked cross-financing and fixed asset
        conn.execute("UPDATE staging.budget SET cross_financing = TRUE, fixed_asset = TRUE "
                     "WHERE unit = 'drugie' AND cost_category = '1.1'")
    build_all(conn)
    return conn


def flags(conn, unit: str, rule: str) -> list[tuple]:
    return conn.execute("SELECT quarter, severity, area, message FROM report.flags WHERE unit = ? AND rule = ? "
                        "ORDER BY quarter, message", [unit, rule]).fetchall()


# testowo (tests/mart_fixtures.py): 6 quarters 2021Q1–2022Q2, budget 115 000,00, tranches 10 000 + 20 000 + 10 000
TESTOWO = {
    # Q4: spent 27 600,38 of 40 000,00 received = 69,00% < 70%; missing 28 000,00 − 27 600,38 = 399,62
    "ZALICZKA_PONIZEJ_PROGU": [
        ("2021Q4", "warning", "zaliczki", "Rozliczono 69,00% otrzymanych zaliczek (27 600,38 zł z 40 000,00 zł); próg "
                                          "70,00% — wniosek o kolejną transzę niemożliwy, brakuje 399,62 zł.")],
    # Q1: 8 050 × 6 = 48 300 = 42,00%; Q2: 21 850,38 + 4 × 10 925,19 = 65 551,14 = 57,00%;
    # Q3: 3 quarters 21 850,38 / 3 = 7 283,46 × 3 left + 21 850,38 = 43 700,76 = 38,00%; Q4: 41 400,57 = 36,00%
    "PROGNOZA_RYZYKO": [
        ("2021Q1", "warning", "finanse", "Prognoza wydatków na koniec projektu 48 300,00 zł = 42,00% budżetu "
                                         "(115 000,00 zł); tempo 8 050,00 zł na kwartał."),
        ("2021Q2", "warning", "finanse", "Prognoza wydatków na koniec projektu 65 551,14 zł = 57,00% budżetu "
                                         "(115 000,00 zł); tempo 10 925,19 zł na kwartał."),
        ("2021Q3", "warning", "finanse", "Prognoza wydatków na koniec projektu 43 700,76 zł = 38,00% budżetu "
                                         "(115 000,00 zł); tempo 7 283,46 zł na kwartał."),
        ("2021Q4", "warning", "finanse", "Prognoza wydatków na koniec projektu 41 400,57 zł = 36,00% budżetu "
                                         "(115 000,00 zł); tempo 6 900,10 zł na kwartał.")],
    # plan cumulative 10 000 / 30 000 / 55 000 / 80 000; actual 8 050 (80,5%: no flag), 21 850,38, 21 850,38,
    # 27 600,38: below 80% of the plan from Q2 on
    "OPOZNIENIE_WZGLEDEM_PLANU": [
        ("2021Q2", "warning", "finanse", "Wydatki narastająco 21 850,38 zł = 72,83% harmonogramu (30 000,00 zł); "
                                         "opóźnienie ponad 20,00%."),
        ("2021Q3", "warning", "finanse", "Wydatki narastająco 21 850,38 zł = 39,73% harmonogramu (55 000,00 zł); "
                                         "opóźnienie ponad 20,00%."),
        ("2021Q4", "warning", "finanse", "Wydatki narastająco 27 600,38 zł = 34,50% harmonogramu (80 000,00 zł); "
                                         "opóźnienie ponad 20,00%.")],
    # Q4 is the 4th of 6 quarters (past half): REZ_SCIEZKA 1 of 5 = 20% < 50% (the other two: test_settlement)
    "WSKAZNIK_ZAGROZONY": [
        ("2021Q4", "warning", "wskaźniki", "Wskaźnik PROD_KAMIENIE (Liczba kamieni milowych osiągniętych w terminie): "
                                           "1 z 3 (33,33% wartości docelowej) po 4 z 6 kwartałów."),
        ("2021Q4", "warning", "wskaźniki", "Wskaźnik PROD_OSOBY_ZAGROZONE (Liczba osób zagrożonych ubóstwem lub "
                                           "wykluczeniem społecznym objętych usługami społecznymi świadczonymi w "
                                           "interesie ogólnym w programie): 3 z 8 (37,50% wartości docelowej) po 4 z 6 "
                                           "kwartałów."),
        ("2021Q4", "warning", "wskaźniki", "Wskaźnik REZ_SCIEZKA (Liczba osób, które zakończyły udział w projekcie "
                                           "zgodnie ze ścieżką): 1 z 5 (20,00% wartości docelowej) po 4 z 6 kwartałów.")],
    # KM2 planned 30.06.2021, achieved 15.08.2021: overdue at the end of Q2 only; KM3 (30.09.2021) never achieved
    "KAMIEN_PO_TERMINIE": [
        ("2021Q2", "warning", "kamienie milowe", "Kamień milowy KM2 (Program usług) planowany na 30.06.2021 "
                                                 "nieosiągnięty do końca kwartału."),
        ("2021Q3", "warning", "kamienie milowe", "Kamień milowy KM3 (Uruchomienie usług) planowany na 30.09.2021 "
                                                 "nieosiągnięty do końca kwartału."),
        ("2021Q4", "warning", "kamienie milowe", "Kamień milowy KM3 (Uruchomienie usług) planowany na 30.09.2021 "
                                                 "nieosiągnięty do końca kwartału.")],
    # validation summary: expenses 2021Q1 3 received, 1 quarantined (participants: a warning only -> no flag)
    "KWARANTANNA": [
        ("2021Q1", "warning", "dane", "Zbiór wydatki: 1 z 3 wierszy w kwarantannie — popraw plik i prześlij ponownie.")],
    # validation summary of 2021Q1: expenses and participants, no deliveries file
    "BRAK_PLIKU": [
        ("2021Q1", "warning", "dane", "Brak przyjętego pliku wysyłanego co kwartał za 2021Q1: świadczenia (nie "
                                      "przesłano go albo odrzucono w całości — zob. cus status). Bez niego wartości "
                                      "z tego pliku są w kwartale zerowe; jeśli w kwartale nie było takich danych, "
                                      "nic nie trzeba robić.")],
    "BRAK_PLIKOW": [
        ("2021Q3", "info", "dane", "Brak plików kwartalnych za 2021Q3: wartości w kwartale zerowe, narastające "
                                   "przeniesione.")],
}


@pytest.mark.parametrize("rule", sorted(TESTOWO))
def test_flag_of_testowo(testowo, rule):
    assert flags(testowo, "testowo", rule) == TESTOWO[rule]


def test_commissioned_share_below_the_threshold():
    # 3 000,00 commissioned of 10 000,00 direct = 30,00% < 35%
    conn = drugie([expense("D/1", 1, "1.1", "3000.00", commissioned=True), expense("D/2", 1, "1.1", "7000.00")])
    assert flags(conn, "drugie", "ZLECANIE_PONIZEJ_PROGU") == [
        ("2021Q1", "warning", "wskaźniki", "Usługi zlecone stanowią 30,00% kosztów bezpośrednich (3 000,00 zł z "
                                           "10 000,00 zł); próg 35,00%.")]


def test_budget_lines_differ_from_the_agreement_and_spending_off_budget():
    # budget lines 10 000,00 + 1 499,99 = 11 499,99 ≠ 11 500,00; D/9 on task 1 / category 9.9 (not in the budget)
    conn = drugie([expense("D/1", 1, "1.1", "2500.00"), expense("D/9", 1, "9.9", "100.00")], budget_indirect="1499.99")
    assert flags(conn, "drugie", "BUDZET_NIEZGODNY") == [
        ("2021Q1", "error", "finanse", "Suma linii budżetu 11 499,99 zł różni się od wartości projektu 11 500,00 zł "
                                       "(config/units.yaml).")]
    assert flags(conn, "drugie", "WYDATKI_POZA_BUDZETEM") == [
        ("2021Q1", "warning", "finanse", "Wydatki 100,00 zł (1 dok.) na zadaniu/kategorii 1/9.9 spoza budżetu umowy.")]


DRUGIE_QUARTERS = ("2021Q1",)  # drugie has files for 2021Q1 only: report.settlement (and its flags) ends there


def test_cross_financing_and_fixed_assets_over_the_agreement():
    # no budget line is flagged: allowed 0,00; 100,00 of each is over the agreement in its quarter
    conn = drugie([expense("D/1", 1, "1.1", "100.00", cross=True, fixed=True)])
    assert flags(conn, "drugie", "CROSS_FINANCING_LIMIT") == [
        (q, "error", "finanse", "Cross-financing narastająco 100,00 zł przekracza kwotę dozwoloną w umowie 0,00 zł "
                                "(linie budżetu cross-financing, najwyżej 10,00% wartości projektu 11 500,00 zł).")
        for q in DRUGIE_QUARTERS]
    assert flags(conn, "drugie", "SRODKI_TRWALE_LIMIT") == [
        (q, "error", "finanse", "Środki trwałe narastająco 100,00 zł przekraczają kwotę dozwoloną w umowie 0,00 zł "
                                "(linie budżetu środków trwałych, najwyżej 10,00% wartości projektu 11 500,00 zł).")
        for q in DRUGIE_QUARTERS]
    assert flags(conn, "drugie", "CROSS_FINANCING_UDZIAL") == flags(conn, "drugie", "SRODKI_TRWALE_UDZIAL") == []


def test_cross_financing_and_fixed_assets_share_to_date_only_information():
    # allowed = min(flagged line 10 000,00, 10% × 11 500,00) = 1 150,00; 100,00 of eligible 100 + 15 (15%)
    # = 115,00 is 86,96% of spending to date: above the 10% share, within the agreement -> info only
    conn = drugie([expense("D/1", 1, "1.1", "100.00", cross=True, fixed=True)], flagged_line=True)
    assert flags(conn, "drugie", "CROSS_FINANCING_UDZIAL") == [
        (q, "info", "finanse", "Cross-financing 100,00 zł = 86,96% dotychczasowych wydatków kwalifikowalnych (limit "
                               "10,00% liczony od wartości projektu); w umowie dozwolone 1 150,00 zł — udział zmaleje "
                               "wraz z kolejnymi wydatkami.") for q in DRUGIE_QUARTERS]
    assert flags(conn, "drugie", "SRODKI_TRWALE_UDZIAL") == [
        (q, "info", "finanse", "Środki trwałe 100,00 zł = 86,96% dotychczasowych wydatków kwalifikowalnych (limit "
                               "10,00% liczony od wartości projektu); w umowie dozwolone 1 150,00 zł — udział zmaleje "
                               "wraz z kolejnymi wydatkami.") for q in DRUGIE_QUARTERS]
    assert flags(conn, "drugie", "CROSS_FINANCING_LIMIT") == flags(conn, "drugie", "SRODKI_TRWALE_LIMIT") == []


def test_every_flag_rule_has_a_case():
    codes = {r["code"] for r in yaml.safe_load(sql_tables.FLAGS_PATH.read_text(encoding="utf-8"))["rules"]}
    covered = set(TESTOWO) | {"ZLECANIE_PONIZEJ_PROGU", "BUDZET_NIEZGODNY", "WYDATKI_POZA_BUDZETEM",
                              "CROSS_FINANCING_LIMIT", "SRODKI_TRWALE_LIMIT", "CROSS_FINANCING_UDZIAL",
                              "SRODKI_TRWALE_UDZIAL"}
    assert codes == covered
