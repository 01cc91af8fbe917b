"""The bad-input battery (issue 3, item 4): each malformed input and its exact outcome.

Every case runs raw + staging with `dagster.materialize` on a temporary warehouse and asserts
which rows are quarantined with which rule, which file fails with which message, that valid rows
are all kept and that earlier good data of the partition stay intact.
"""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from pseudonym_vectors import PESEL_A_KEY, PESEL_B_KEY, PESEL_CHILD_KEY
from validation_fixtures import (
    BUDGET_ROWS,
    DELIVERY_HEADERS,
    PESEL_A,
    PESEL_B,
    PESEL_C,
    PESEL_CHILD,
    QUARTER,
    Pipeline,
    delivery,
    expense,
    folder,
    participant,
    tranche,
    write_budget,
    write_deliveries,
    write_expenses,
    write_participants,
    write_participants_xlsx,
    write_tranches,
)

ELIGIBLE_DOCS = [("FV/1/2021", Decimal("1230.00")), ("FV/2/2021", Decimal("500.00"))]


@pytest.fixture
def pipe(tmp_path, resources) -> Pipeline:
    return Pipeline(tmp_path, resources)


@pytest.fixture
def with_budget(pipe) -> Pipeline:
    pipe.load_baseline("budget")
    return pipe


def docs(pipe, quarter=QUARTER):
    return pipe.staged("expenses", "document_no, eligible_amount", quarter)


# ------------------------------------------------------------------------- encodings and number formats

def test_01_cp1250_accounting_export(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", item="Żłobek – opieka nad dziećmi"),
                                  expense("FV/2/2021", gross="500,00", net="500,00", eligible="500,00", vat="0,00")],
                   encoding="cp1250")
    assert pipe.run("expenses").success
    assert pipe.sql("SELECT encoding FROM raw.file_versions WHERE dataset = 'expenses'") == [("windows-1250",)]
    assert pipe.staged("expenses", "item_name") == [("Żłobek – opieka nad dziećmi",), ("Usługa opiekuńcza",)]
    assert pipe.quarantine("expenses") == []
    assert pipe.summary("expenses") == (2, 2, 0, 0)


def test_02_utf8_bom(with_budget):
    pipe = with_budget
    path = write_expenses(pipe.landing, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pipe.run("expenses").success
    assert docs(pipe) == ELIGIBLE_DOCS  # the BOM does not hide the first header (Nr dokumentu)
    assert pipe.summary("expenses") == (2, 2, 0, 0)


def test_03_amounts_with_space_thousands_and_decimal_comma(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", gross="1 234,56", net="1 003,71", eligible="1 234,56",
                                          vat="230,85"),
                                  expense("FV/2/2021", gross="12 000.00", net="12000", eligible="12 000,00", vat="0")])
    assert pipe.run("expenses").success
    assert pipe.staged("expenses", "gross_amount, net_amount, vat_amount") == [
        (Decimal("1234.56"), Decimal("1003.71"), Decimal("230.85")),
        (Decimal("12000.00"), Decimal("12000.00"), Decimal("0.00"))]
    assert pipe.quarantine("expenses") == []


def test_04_pesel_without_leading_zero_restored_with_warning(pipe):
    pipe.load_baseline("services")
    write_participants(pipe.landing, [participant("ELB/0001", PESEL_A), participant("ELB/0004", str(int(PESEL_CHILD)))])
    assert str(int(PESEL_CHILD)) == PESEL_CHILD[1:]
    assert pipe.run("participants").success
    assert pipe.staged("participants", "participant_id, pesel_status, person_key, birth_date, sex_from_pesel") == [
        ("ELB/0001", "ok", PESEL_A_KEY, date(1980, 5, 17), "K"),
        ("ELB/0004", "restored_leading_zero", PESEL_CHILD_KEY, date(2005, 3, 14), "K")]
    # a warning, the row kept; no PESEL value in the quarantine
    assert pipe.quarantine("participants") == [(3, "pesel", "pesel_leading_zero", "warning", None)]
    assert pipe.summary("participants") == (2, 2, 0, 1)


def test_05_excel_serial_dates_header_block_and_trailing_empty_rows_in_xlsx(pipe):
    path = folder(pipe.landing) / "uczestnicy.xlsx"
    write_participants_xlsx(path, [participant("ELB/0001", PESEL_A, start=44440),
                                   participant("ELB/0002", PESEL_B, "Mężczyzna", start="2021-07-15")],
                            trailing_empty=3)
    assert pipe.run("participants").success
    # 4 header-block rows + the header row: the first data row is sheet row 6; empty rows are not data
    assert pipe.staged("participants", "row_number, start_date") == [(6, date(2021, 9, 1)), (7, date(2021, 7, 15))]
    assert pipe.summary("participants") == (2, 2, 0, 0)


def test_06_trailing_empty_rows_and_extra_columns_in_csv(with_budget):
    pipe = with_budget
    from landing_fixtures import EXPENSE_HEADERS
    from validation_fixtures import write_csv

    rows = [expense("FV/1/2021") + ["zapłacono", "x"], expense("FV/2/2021", gross="500,00", net="500,00",
                                                               eligible="500,00", vat="0,00") + ["", ""]]
    write_csv(folder(pipe.landing) / "wydatki.csv", EXPENSE_HEADERS + ["Uwagi", "Księgowa"], rows,
              trailing=";" * 15 + "\n" + ";" * 15 + "\n\n")
    assert pipe.run("expenses").success
    assert pipe.sql("SELECT ignored_columns FROM raw.file_versions WHERE dataset = 'expenses'") == [(["Uwagi", "Księgowa"],)]
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.summary("expenses") == (2, 2, 0, 0)


# ------------------------------------------------------------------------- text that must stay text

def test_07_formula_injection_kept_as_text_with_warning(with_budget):
    pipe = with_budget
    formula = '=HYPERLINK("http://x","klik")'
    write_expenses(pipe.landing, [expense("FV/1/2021", item=formula),
                                  expense("FV/2/2021", gross="500,00", net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.staged("expenses", "item_name") == [(formula,), ("Usługa opiekuńcza",)]
    assert pipe.quarantine("expenses") == [(2, "item_name", "formula_text", "warning", formula)]
    assert pipe.summary("expenses") == (2, 2, 0, 1)
    assert pipe.run("expenses").checks["tekst_bez_znakow_formuly"]["passed"] is False


def test_08_sql_looking_strings_stored_verbatim(with_budget):
    pipe = with_budget
    evil = "'; DROP TABLE raw.expenses; --"
    write_expenses(pipe.landing, [expense("FV/1/2021", item=evil),
                                  expense("FV/2/2021'); DELETE FROM staging.expenses; --", gross="500,00",
                                          net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.staged("expenses", "document_no, item_name") == [
        ("FV/1/2021", evil), ("FV/2/2021'); DELETE FROM staging.expenses; --", "Usługa opiekuńcza")]
    assert pipe.sql("SELECT count(*) FROM raw.expenses") == [(2,)]
    assert pipe.quarantine("expenses") == []


# ------------------------------------------------------------------------- PESEL and sex

def test_09_ten_digit_pesel_that_is_not_a_lost_zero(pipe):
    ten_digits = PESEL_A[:10]  # zero-padded it has a wrong checksum
    write_participants(pipe.landing, [participant("ELB/0001", ten_digits), participant("ELB/0002", PESEL_B, "M")])
    assert pipe.run("participants").success
    assert pipe.quarantine("participants") == [(2, "pesel", "pesel_length", "error", None)]
    assert pipe.staged("participants", "participant_id") == [("ELB/0002",)]
    assert pipe.summary("participants") == (2, 1, 1, 0)
    assert ten_digits not in " ".join(pipe.messages("participants", "pesel_length"))


def test_10_bad_pesel_checksum(pipe):
    bad = PESEL_A[:10] + str((int(PESEL_A[10]) + 1) % 10)
    write_participants(pipe.landing, [participant("ELB/0001", bad), participant("ELB/0002", PESEL_B, "M")])
    outcome = pipe.run("participants")
    assert outcome.success
    assert pipe.quarantine("participants") == [(2, "pesel", "pesel_checksum", "error", None)]
    assert pipe.messages("participants", "pesel_checksum") == [
        "Numer PESEL ma błędną cyfrę kontrolną. Sprawdź numer w dokumencie uczestnika i popraw go."]
    check = outcome.checks["pesel_cyfra_kontrolna"]
    assert check["passed"] is False and check["metadata"]["wiersze z błędem"] == 1
    assert bad not in str(check["metadata"]) and "(ukryta)" in check["metadata"]["przykłady"]


def test_11_sex_differs_from_pesel_and_missing_pesel_rules(pipe):
    write_participants(pipe.landing, [
        participant("ELB/0001", PESEL_A, "Mężczyzna"),                     # PESEL_A is a woman's
        participant("ELB/0002", None, "M", **{"Brak PESEL": "Nie"}),       # no PESEL, not declared
        participant("ELB/0003", None, "K", **{"Brak PESEL": "Tak"}),       # no PESEL, declared: fine
    ])
    assert pipe.run("participants").success
    assert pipe.quarantine("participants") == [(2, "sex", "sex_matches_pesel", "error", "Mężczyzna"),
                                               (3, "pesel", "pesel_missing", "error", None)]
    assert pipe.staged("participants", "participant_id, pesel_status, no_pesel") == [("ELB/0003", "missing", "tak")]
    assert pipe.summary("participants") == (3, 1, 2, 0)


def test_12_duplicate_participant_ids_within_the_file(pipe):
    write_participants(pipe.landing, [participant("ELB/0001", PESEL_A), participant("ELB/0002", PESEL_B, "M"),
                                      participant("ELB/0001", PESEL_B, "M")])
    assert pipe.run("participants").success
    assert pipe.quarantine("participants") == [(2, "participant_id", "unique_key", "error", "ELB/0001"),
                                               (4, "participant_id", "unique_key", "error", "ELB/0001")]
    assert pipe.staged("participants", "participant_id") == [("ELB/0002",)]


# ------------------------------------------------------------------------- dates

def test_13_future_dates(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/3/2030", issue="15.01.2030")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(3, "issue_date", "date_in_period", "error", "15.01.2030"),
                                           (3, "issue_date", "date_not_after_quarter", "error", "15.01.2030")]
    assert pipe.messages("expenses", "date_not_after_quarter") == [
        "Kolumna „Data wystawienia”: data późniejsza niż koniec kwartału sprawozdawczego 2021Q3 (30.09.2021). "
        "Wykaż dokument we wniosku za właściwy kwartał albo popraw datę."]
    assert docs(pipe) == [ELIGIBLE_DOCS[0]]


def test_14_date_after_the_reporting_quarter(pipe):
    pipe.load_baseline("services", "participants")
    write_deliveries(pipe.landing, [delivery("ELB/0001", day="05.10.2021"), delivery("ELB/0002")])
    assert pipe.run("deliveries").success
    assert pipe.quarantine("deliveries") == [(2, "delivery_date", "date_not_after_quarter", "error", "05.10.2021")]
    assert pipe.staged("deliveries", "participant_id") == [("ELB/0002",)]
    assert pipe.summary("deliveries") == (2, 1, 1, 0)


@pytest.mark.parametrize("issued", ["31.02.2021", "2.08.21"])  # no such day; a two-digit year (not the year 21)
def test_15_unreadable_date_is_a_type_error_with_header_value_and_fix(with_budget, issued):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", issue=issued), expense("FV/2/2021", gross="500,00",
                                  net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    # the date is present but unreadable: a type error, not a "required" one
    assert pipe.quarantine("expenses") == [(2, "issue_date", "type", "error", issued)]
    assert pipe.messages("expenses", "type") == [
        "Kolumna „Data wystawienia”: nieprawidłowa data (oczekiwano RRRR-MM-DD lub DD.MM.RRRR); otrzymano "
        f"„{issued}”. Popraw wartość w pliku."]
    assert docs(pipe) == [ELIGIBLE_DOCS[1]]


# ------------------------------------------------------------------------- amounts

def test_16_negative_amount_on_a_document_not_marked_as_correction(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/2/2021", gross="500,00", net="500,00",
                                                                eligible="-50,00", vat="0,00")])
    assert pipe.run("expenses").success
    # the file has no "Faktura korygująca" column (optional, default N): no cell value to show
    assert pipe.quarantine("expenses") == [(3, "correction", "negative_only_on_correction", "error", None)]
    assert pipe.messages("expenses", "negative_only_on_correction") == [
        "Dokument ma kwotę ujemną („Kwota wydatków kwalifikowalnych” -50,00), a nie jest oznaczony jako faktura "
        "korygująca. Jeśli to korekta, wpisz T w kolumnie „Faktura korygująca (T/N)”; jeśli nie, popraw kwotę "
        "(kwoty zwykłego dokumentu nie mogą być ujemne)."]
    assert docs(pipe) == [ELIGIBLE_DOCS[0]]


CORRECTION_HEADERS = ["Faktura korygująca (T/N)"]


def write_with_corrections(pipe, rows: list[tuple[list, str]]):
    from landing_fixtures import EXPENSE_HEADERS
    from validation_fixtures import write_csv

    write_csv(folder(pipe.landing) / "wydatki.csv", EXPENSE_HEADERS + CORRECTION_HEADERS,
              [row + [flag] for row, flag in rows])


def test_16b_correction_invoice_lowers_eligible_costs(with_budget):
    pipe = with_budget
    write_with_corrections(pipe, [
        (expense("FV/1/2021"), "N"),
        (expense("KOR/1/2021", gross="-123,00", net="-100,00", eligible="-123,00", vat="-23,00"), "T"),
        (expense("KOR/2/2021", gross="-246,00", net="-200,00", eligible="-200,00", vat="0,00"), "T"),
    ])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == []
    assert docs(pipe) == [("FV/1/2021", Decimal("1230.00")), ("KOR/1/2021", Decimal("-123.00")),
                          ("KOR/2/2021", Decimal("-200.00"))]
    assert pipe.staged("expenses", "document_no, correction") == [
        ("FV/1/2021", False), ("KOR/1/2021", True), ("KOR/2/2021", True)]


def test_16c_correction_with_mixed_signs_and_eligible_beyond_gross(with_budget):
    pipe = with_budget
    write_with_corrections(pipe, [
        (expense("FV/1/2021"), ""),
        (expense("KOR/1/2021", gross="-123,00", net="-100,00", eligible="50,00", vat="0,00"), "T"),
        (expense("KOR/2/2021", gross="-100,00", net="-100,00", eligible="-150,00", vat="0,00"), "T"),
    ])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [
        (3, "gross_amount", "correction_one_sign", "error", "-123,00"),
        (4, "eligible_amount", "eligible_le_gross", "error", "-150,00")]
    assert pipe.messages("expenses", "correction_one_sign") == [
        "Faktura korygująca ma kwoty ujemne i dodatnie jednocześnie (dodatnie: „Kwota wydatków kwalifikowalnych” "
        "50,00). Korekta zmniejszająca ma wszystkie kwoty ze znakiem minus, zwiększająca — wszystkie dodatnie. "
        "Popraw znaki kwot."]
    assert docs(pipe) == [ELIGIBLE_DOCS[0]]


def test_17_eligible_greater_than_gross(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", eligible="1 300,00"), expense("FV/2/2021", gross="500,00",
                                  net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(2, "eligible_amount", "eligible_le_gross", "error", "1 300,00")]
    assert docs(pipe) == [ELIGIBLE_DOCS[1]]


def test_18_vat_above_gross_minus_net(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", vat="230,01"), expense("FV/2/2021", gross="500,00",
                                  net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(2, "vat_amount", "vat_consistent", "error", "230,01")]
    assert pipe.messages("expenses", "vat_consistent") == [
        "„W tym VAT” to VAT wliczony w kwotę wydatków kwalifikowalnych: od 0 do 230,00 (najwyżej brutto − netto "
        "i najwyżej kwota kwalifikowalna). Popraw VAT; jeśli VAT jest odzyskiwany, wpisz 0, a jako kwotę "
        "kwalifikowalną kwotę netto."]


def test_18b_recoverable_vat_eligible_net_vat_zero_is_valid(with_budget):
    """SL2014: "W tym VAT" is the VAT inside the eligible amount; recoverable VAT → eligible = net, VAT 0."""
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", gross="1 230,00", net="1 000,00", eligible="1 000,00",
                                          vat="0,00"),
                                  expense("FV/2/2021", gross="1 230,00", net="1 000,00", eligible="1 100,00",
                                          vat="100,00"),
                                  expense("FV/3/2021", gross="1 230,00", net="1 000,00", eligible="100,00",
                                          vat="150,00")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(4, "vat_amount", "vat_consistent", "error", "150,00")]
    assert pipe.messages("expenses", "vat_consistent")[0].startswith(
        "„W tym VAT” to VAT wliczony w kwotę wydatków kwalifikowalnych: od 0 do 100,00 ")
    assert docs(pipe) == [("FV/1/2021", Decimal("1000.00")), ("FV/2/2021", Decimal("1100.00"))]


def test_18c_vat_inside_the_eligible_amount_must_be_declared(with_budget):
    """eligible − "W tym VAT" ≤ net: recoverable VAT cannot enter the eligible amount with "W tym VAT" 0."""
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", eligible="1 230,00", vat="0,00"),
                                  expense("FV/2/2021", eligible="1 100,00", vat="50,00"),
                                  expense("FV/3/2021", eligible="1 150,00", vat="150,00"),
                                  expense("FV/4/2021", eligible="1 300,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [
        (2, "eligible_amount", "vat_declared_in_eligible", "error", "1 230,00"),
        (3, "eligible_amount", "vat_declared_in_eligible", "error", "1 100,00"),
        (5, "eligible_amount", "eligible_le_gross", "error", "1 300,00")]  # above gross: one rule says so, not two
    assert pipe.messages("expenses", "vat_declared_in_eligible")[:1] == [
        "Kwota wydatków kwalifikowalnych jest większa niż kwota netto powiększona o „W tym VAT” (najwyżej 1000,00): "
        "VAT zawarty w kwocie kwalifikowalnej trzeba wykazać w „W tym VAT”. Jeśli VAT jest odzyskiwany, kwotą "
        "kwalifikowalną jest najwyżej kwota netto; jeśli nie — wpisz w „W tym VAT” zawarty w niej VAT."]
    assert docs(pipe) == [("FV/3/2021", Decimal("1150.00"))]


def test_19_exact_duplicate_rows_first_copy_kept(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/2/2021", gross="500,00", net="500,00",
                                  eligible="500,00", vat="0,00"), expense("FV/1/2021")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(4, "document_no", "duplicate_row", "error", "FV/1/2021")]
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.summary("expenses") == (3, 2, 1, 0)


def test_20_document_number_already_settled_in_another_quarter(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/9/2021", issue="10.05.2021")], quarter="2021Q2")
    assert pipe.run("expenses", quarter="2021Q2").success
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/9/2021", issue="10.05.2021")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(3, "document_no", "document_unique_in_unit", "error", "FV/9/2021")]
    assert docs(pipe) == [ELIGIBLE_DOCS[0]]
    assert docs(pipe, "2021Q2") == [("FV/9/2021", Decimal("1230.00"))]


def test_21_invalid_nip_checksum(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", nip="526-000-12-47"), expense("FV/2/2021", gross="500,00",
                                  net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(2, "issuer_nip", "nip_checksum", "error", "526-000-12-47")]


# ------------------------------------------------------------------------- references

def test_22_unknown_service_code_and_unknown_participant(pipe):
    pipe.load_baseline("services", "participants")
    write_deliveries(pipe.landing, [delivery("ELB/0001"), delivery("ELB/0002", code="XYZ"),
                                    delivery("ELB/0099"), delivery("", "FIZ", "01.09.2021", "1", "120,00")])
    assert pipe.run("deliveries").success
    assert pipe.quarantine("deliveries") == [(3, "service_code", "service_in_catalogue", "error", "XYZ"),
                                             (4, "participant_id", "participant_exists", "error", "ELB/0099")]
    assert pipe.staged("deliveries", "participant_id, service_code") == [("ELB/0001", "OPK"), (None, "FIZ")]
    assert pipe.summary("deliveries") == (4, 2, 2, 0)
    assert pipe.messages("deliveries", "service_in_catalogue") == [
        "Kodu usługi „XYZ” nie ma w katalogu usług jednostki (umowa/uslugi.csv). Dozwolone kody: FIZ, OPK. "
        "Popraw kod albo dopisz usługę do katalogu i wczytaj katalog ponownie."]


def test_23_participant_from_an_earlier_quarter_is_known(pipe):
    pipe.load_baseline("services")
    write_participants(pipe.landing, [participant("ELB/0007", PESEL_A, start="10.05.2021")], quarter="2021Q2")
    assert pipe.run("participants", quarter="2021Q2").success
    write_participants(pipe.landing, [participant("ELB/0001", PESEL_B, "M")])
    assert pipe.run("participants").success
    write_deliveries(pipe.landing, [delivery("ELB/0007"), delivery("ELB/0001")])
    assert pipe.run("deliveries").success
    assert pipe.quarantine("deliveries") == []
    assert pipe.summary("deliveries") == (2, 2, 0, 0)


# ------------------------------------------------------------------------- blocking money rules

def test_24_tranche_with_wrong_eu_split_is_blocking(pipe):
    write_tranches(pipe.landing, [tranche(1, "249998.50"),
                                  tranche(2, "100000.00", eu="84280.01", state="15719.99")])
    outcome = pipe.run("tranches")
    assert not outcome.success  # a blocking check failed: downstream assets stop
    assert outcome.checks["czesc_efs_zgodna_z_udzialem_efs"]["passed"] is False
    assert outcome.checks["czesc_efs_zgodna_z_udzialem_efs"]["severity"] == "ERROR"
    assert outcome.checks["efs_i_budzet_panstwa_rowne_kwocie_ogolem"]["passed"] is True
    assert pipe.quarantine("tranches") == [(3, "amount_eu", "tranche_eu_share", "error", "84280,01")]
    assert pipe.messages("tranches", "tranche_eu_share") == [
        "Część EFS powinna wynosić 84280,00 (84,28% kwoty ogółem, zaokrąglone w dół do grosza), a budżet państwa — "
        "resztę. Popraw podział transzy."]
    assert pipe.staged("tranches", "tranche_no, amount_eu, amount_state") == [
        (1, Decimal("210698.73"), Decimal("39299.77"))]


def test_25_budget_not_summing_to_agreement_total_refused_earlier_budget_kept(pipe):
    pipe.load_baseline("budget")
    rows = [list(r) for r in BUDGET_ROWS]
    rows[0][4] = "999 999,00"
    write_budget(pipe.landing, rows)
    outcome = pipe.run("budget", quarter=None)
    assert not outcome.success and outcome.checks["suma_budzetu_rowna_wartosci_projektu"]["passed"] is False
    assert pipe.quarantine("budget", quarter=None) == [(None, "amount", "budget_total", "error", None)]
    assert pipe.messages("budget", "budget_total", quarter=None) == [
        "Suma kwot budżetu (2 499 984,00 zł) nie jest równa wartości projektu z umowy (2 499 985,00 zł); różnica "
        "-1,00 zł. Popraw kwoty w pliku budzet.csv. Do czasu poprawy obowiązuje dotychczasowy budżet."]
    # the earlier budget stays in staging; raw holds the refused file for the coordinator to inspect
    assert pipe.sql("SELECT sum(amount) FROM staging.budget") == [(Decimal("2499985.00"),)]
    assert pipe.summary("budget", quarter=None) == (3, 0, 3, 0)


# ------------------------------------------------------------------------- file-level failures

def _expenses_intact(pipe):
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.sql("SELECT count(*), count(DISTINCT file_sha256) FROM raw.expenses") == [(2, 1)]
    assert pipe.summary("expenses") == (2, 2, 0, 0)


def test_26_missing_required_column_fails_and_keeps_earlier_data(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    from landing_fixtures import EXPENSE_HEADERS
    from validation_fixtures import write_csv

    position = EXPENSE_HEADERS.index("Kwota wydatków kwalifikowalnych")
    headers = EXPENSE_HEADERS[:position] + EXPENSE_HEADERS[position + 1:]
    row = expense("FV/5/2021")
    write_csv(folder(pipe.landing) / "wydatki.csv", headers, [row[:position] + row[position + 1:]])
    outcome = pipe.run("expenses")
    assert not outcome.success and outcome.failed_steps == ["raw__expenses"]
    assert "wydatki.csv: brak wymaganych kolumn: Kwota wydatków kwalifikowalnych." in outcome.failure
    assert "Co zrobić: Dodaj brakujące kolumny" in outcome.failure
    _expenses_intact(pipe)


def test_27_empty_file(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    (folder(pipe.landing) / "wydatki.csv").write_bytes(b"")
    outcome = pipe.run("expenses")
    assert not outcome.success
    assert "wydatki.csv: plik jest pusty. Co zrobić: Prześlij plik z wierszem nagłówków i danymi." in outcome.failure
    _expenses_intact(pipe)


def test_28_header_only_file(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    write_expenses(pipe.landing, [], trailing=";" * 13 + "\n")
    outcome = pipe.run("expenses")
    assert not outcome.success and "nie zawiera żadnych wierszy danych" in outcome.failure
    _expenses_intact(pipe)


def test_29_binary_garbage_named_csv(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    (folder(pipe.landing) / "wydatki.csv").write_bytes(bytes(range(256)) * 20)
    outcome = pipe.run("expenses")
    assert not outcome.success
    assert ("plik nie jest plikiem tekstowym CSV (zawiera bajty binarne, a nie ma oznaczenia UTF-16 BOM); próbowano "
            "kodowań: UTF-8 (z BOM lub bez), UTF-16 z BOM, Windows-1250.") in outcome.failure
    _expenses_intact(pipe)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_29b_utf16_with_bom_is_decoded(with_budget, encoding):
    from landing_fixtures import EXPENSE_HEADERS
    from validation_fixtures import write_csv

    pipe = with_budget
    path = write_csv(folder(pipe.landing) / "wydatki.csv", EXPENSE_HEADERS,
                     [expense("FV/1/2021", item="Żłobek – opieka"), expense("FV/2/2021", gross="500,00", net="500,00",
                                                                           eligible="500,00", vat="0,00")],
                     encoding=encoding)
    if encoding == "utf-16-be":  # Python's utf-16-be writes no BOM: add it as Excel's "Unicode text" does
        path.write_bytes(b"\xfe\xff" + path.read_bytes())
    assert pipe.run("expenses").success
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.sql("SELECT item_name FROM staging.expenses ORDER BY row_number LIMIT 1") == [("Żłobek – opieka",)]


def test_29c_undecodable_text_names_the_encodings_tried(with_budget):
    pipe = with_budget
    target = folder(pipe.landing) / "wydatki.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    # 0x98 is neither UTF-8 nor defined in Windows-1250; it is byte 21 (19 of the header line + "FV")
    target.write_bytes(b"Nr dokumentu;Kwota\n" + b"FV\x98;1\n")
    outcome = pipe.run("expenses")
    assert not outcome.success
    assert ("nie można odczytać kodowania znaków (bajt 21); próbowano kodowań: UTF-8 (z BOM lub bez), UTF-16 z BOM, "
            "Windows-1250.") in outcome.failure


def test_29d_totals_row_at_the_end_of_an_accounting_export_is_skipped(with_budget):
    pipe = with_budget
    totals = ["Razem", "", "", "", "", "", "", "1 730,00", "1 500,00", "1 730,00", "230,00", "", "", ""]
    total_in_item = ["", "", "", "", "", "", "Suma:", "1 730,00", "1 500,00", "1 730,00", "230,00", "", "", ""]
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/2/2021", gross="500,00", net="500,00",
                                  eligible="500,00", vat="0,00"), total_in_item, totals])
    outcome = pipe.run("expenses")
    assert outcome.success
    assert pipe.quarantine("expenses") == []
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.summary("expenses") == (2, 2, 0, 0)
    assert outcome.metadata["raw/expenses"]["pominięte wiersze podsumowania"] == (
        "wiersz 4, 5 to podsumowanie („Razem”/„Suma”/„Ogółem” bez identyfikatorów) — pominięty, nie jest dokumentem")


def test_29e_a_row_named_like_a_total_but_with_identifiers_is_data(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"), expense("FV/2/2021", gross="500,00", net="500,00",
                                  eligible="500,00", vat="0,00", item="Suma ubezpieczenia OC")])
    assert pipe.run("expenses").success
    assert docs(pipe) == ELIGIBLE_DOCS


def test_30_file_of_another_unit_named_in_the_header_block(pipe):
    path = folder(pipe.landing) / "uczestnicy.xlsx"
    write_participants_xlsx(path, [participant("ELB/0001", PESEL_A), participant("ELB/0002", PESEL_B, "M")])
    assert pipe.run("participants").success
    write_participants_xlsx(path, [participant("MYS/0001", PESEL_B, "M")], agreement="POWR.02.08.00-00-0002/20",
                            unit_name="Centrum Usług Społecznych w Myślenicach")
    outcome = pipe.run("participants")
    assert not outcome.success and outcome.failed_steps == ["raw__participants"]
    assert outcome.failure.startswith("Plik ")
    assert ("uczestnicy.xlsx: nagłówek nad tabelą wskazuje inną jednostkę: „POWR.02.08.00-00-0002/20” (myslenice: "
            "Centrum Usług Społecznych w Myślenicach), a plik leży w folderze jednostki elblag.") in outcome.failure
    assert "Co zrobić: Sprawdź, czy plik nie trafił do folderu niewłaściwej jednostki." in outcome.failure
    assert pipe.sql("SELECT participant_id FROM raw.participants ORDER BY 1") == [("ELB/0001",), ("ELB/0002",)]
    assert pipe.staged("participants", "participant_id") == [("ELB/0001",), ("ELB/0002",)]


def test_31_same_file_already_loaded_for_another_unit(pipe):
    write_tranches(pipe.landing, unit="myslenice")
    assert pipe.run("tranches", unit="myslenice").success
    write_tranches(pipe.landing)  # byte-identical file in Elbląg's folder
    outcome = pipe.run("tranches")
    assert not outcome.success
    assert ("transze.csv: ten sam plik (identyczna zawartość, SHA-256) został już wczytany dla jednostki myslenice "
            "(Centrum Usług Społecznych w Myślenicach), a teraz leży w folderze jednostki elblag.") in outcome.failure
    assert pipe.sql("SELECT count(*) FROM raw.tranches WHERE unit = 'elblag'") == [(0,)]
    # Issue 13: the refusal is the only trace in the warehouse, and the status grid shows it.
    assert pipe.sql("SELECT unit, quarter, dataset, source_file FROM raw.file_refusals") == [
        ("elblag", "2021Q3", "tranches", "elblag/2021Q3/transze.csv")]
    from datetime import date

    import duckdb

    from assets.report.status import REFUSED, unit_quarter_status
    from core.registry import load_units

    with duckdb.connect(str(pipe.db), read_only=True) as conn:
        status = unit_quarter_status(conn, load_units(), pipe.landing.parent / "reports", today=date(2021, 10, 5))
    (cell,) = status.filter((status["unit"] == "elblag") & (status["quarter"] == "2021Q3")).iter_rows(named=True)
    assert (cell["status"], cell["files_received"]) == (REFUSED, 0)
    assert cell["refused_files"].startswith("Transze zaliczki: ten sam plik (identyczna zawartość, SHA-256) został "
                                            "już wczytany dla jednostki myslenice")


def test_32_all_dates_outside_the_units_period(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    write_expenses(pipe.landing, [expense("FV/1/2019", issue="04.03.2019", payment="10.03.2019"),
                                  expense("FV/2/2019", issue="14.05.2019")])
    outcome = pipe.run("expenses")
    assert not outcome.success
    assert ("żadna z 3 dat w pliku (04.03.2019–14.05.2019) nie mieści się w okresie realizacji projektu jednostki "
            "elblag (01.01.2021–31.07.2023)") in outcome.failure
    _expenses_intact(pipe)


def test_32b_last_quarters_deliveries_in_this_quarters_folder_are_refused(pipe):
    """Every delivery date before the quarter: the previous quarter's file sent again (counted twice)."""
    pipe.load_baseline("services", "participants", "deliveries")
    write_deliveries(pipe.landing, [delivery("ELB/0001", day="12.05.2021"), delivery("ELB/0002", day="30.06.2021")])
    outcome = pipe.run("deliveries")
    assert not outcome.success
    assert ("wszystkie 2 dat w pliku (12.05.2021–30.06.2021) są wcześniejsze niż początek kwartału 2021Q3 "
            "(01.07.2021)") in outcome.failure
    assert pipe.summary("deliveries") == (3, 3, 0, 0)  # the quarter's earlier data stays
    # one late row among the quarter's own is only a warning (date_before_quarter)
    write_deliveries(pipe.landing, [delivery("ELB/0001", day="12.05.2021"), delivery("ELB/0002", day="02.07.2021")])
    assert pipe.run("deliveries").success


def test_32c_a_file_already_loaded_for_another_quarter_is_refused(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/9/2021", issue="10.05.2021")], quarter="2021Q2")
    assert pipe.run("expenses", quarter="2021Q2").success
    pipe.load_baseline("expenses")
    (folder(pipe.landing) / "wydatki.csv").write_bytes((folder(pipe.landing, quarter="2021Q2") / "wydatki.csv")
                                                       .read_bytes())
    outcome = pipe.run("expenses")
    assert not outcome.success
    assert "został już wczytany za kwartał 2021Q2 tej jednostki" in outcome.failure
    assert docs(pipe) == ELIGIBLE_DOCS and pipe.summary("expenses") == (2, 2, 0, 0)  # the quarter's data stays
    # 2021Q2 corrected (its own file now): the 2021Q2 file that was replaced there is no reason to refuse it in 2021Q3
    moved = (folder(pipe.landing, quarter="2021Q2") / "wydatki.csv").read_bytes()
    write_expenses(pipe.landing, [expense("FV/8/2021", issue="11.05.2021")], quarter="2021Q2")
    assert pipe.run("expenses", quarter="2021Q2").success
    (folder(pipe.landing) / "wydatki.csv").write_bytes(moved)
    assert pipe.run("expenses").success


# ------------------------------------------------------------------------- volume, re-sending, absence

def test_33_100k_deliveries_with_one_bad_row(pipe):
    pipe.load_baseline("services", "participants")
    n = 100_000
    frame = pl.DataFrame({"i": range(n)}).select(
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("")).otherwise(pl.lit("ELB/0001")).alias(DELIVERY_HEADERS[0]),
        pl.when(pl.col("i") == 54_321).then(pl.lit("BRAK")).otherwise(pl.lit("OPK")).alias(DELIVERY_HEADERS[1]),
        (pl.lit("2021-07-01").str.to_date() + pl.duration(days=pl.col("i") % 92)).dt.strftime("%d.%m.%Y")
        .alias(DELIVERY_HEADERS[2]),
        pl.lit("1").alias(DELIVERY_HEADERS[3]),
        pl.lit("50,00").alias(DELIVERY_HEADERS[4]),
        pl.format("IPUS/{}", pl.col("i")).alias(DELIVERY_HEADERS[5]),
    )
    path = folder(pipe.landing) / "swiadczenia.csv"
    frame.write_csv(path, separator=";")
    outcome = pipe.run("deliveries")
    assert outcome.success
    assert pipe.quarantine("deliveries") == [(54_323, "service_code", "service_in_catalogue", "error", "BRAK")]
    assert pipe.summary("deliveries") == (100_000, 99_999, 1, 0)
    assert pipe.sql("SELECT count(*), sum(units) FROM staging.deliveries") == [(99_999, Decimal("99999.00"))]


def test_34_resent_corrected_file_replaces_quarantine_and_rows(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021", vat="231,00"), expense("FV/2/2021", gross="500,00",
                                  net="500,00", eligible="500,00", vat="0,00")])
    assert pipe.run("expenses").success
    assert pipe.summary("expenses") == (2, 1, 1, 0)
    write_expenses(pipe.landing)
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == []
    assert docs(pipe) == ELIGIBLE_DOCS
    assert pipe.summary("expenses") == (2, 2, 0, 0)
    assert pipe.sql("SELECT count(*) FROM staging.validation_summary") == [(2,)]  # budget + expenses


def test_35_no_file_for_the_partition_leaves_staging_as_it_is(with_budget):
    pipe = with_budget
    pipe.load_baseline("expenses")
    outcome = pipe.run("expenses", quarter="2021Q4")
    assert outcome.success and all(check["passed"] for check in outcome.checks.values())
    assert pipe.summary("expenses", "2021Q4") is None
    _expenses_intact(pipe)


# ------------------------------------------------------------------------- CSV records the header does not describe

def test_36_unquoted_separator_in_a_text_quarantines_that_row_only(with_budget):
    pipe = with_budget
    from landing_fixtures import EXPENSE_HEADERS

    lines = [";".join(EXPENSE_HEADERS),
             ";".join(map(str, expense("FV/1/2021"))),
             ";".join(map(str, expense("FV/3/2021", item="Catering; obiad"))),     # 15 cells: values shifted
             '"FV/2/2021";526-000-12-46;02.08.2021;;1;1.1;"Monitor 24"" i ""ABC"" sp. z o.o.";'
             "500,00;500,00;500,00;0,00;N;N;T",
             ";".join(map(str, expense("FV/4/2021", item='Monitor 24"', gross="500,00", net="500,00",
                                       eligible="500,00", vat="0,00")))]
    folder(pipe.landing).mkdir(parents=True, exist_ok=True)
    (folder(pipe.landing) / "wydatki.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1250"))
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(3, None, "extra_fields", "error", "15 pól zamiast 14")]
    assert pipe.messages("expenses", "extra_fields") == [
        "Wiersz ma inną liczbę kolumn niż nagłówek (15 pól zamiast 14) — sprawdź, czy tekst nie zawiera separatora "
        "(średnika lub przecinka; ujmij tekst w cudzysłów albo usuń separator) i czy w wierszu nie brakuje komórki "
        "(w pliku uczestników także pustych komórek na końcu wiersza, które niektóre programy pomijają — zapisz plik "
        "ze wzoru z `cus templates`). Wartości w wierszu mogą być przesunięte, więc wiersz nie został przyjęty."]
    assert pipe.sql("SELECT header FROM staging.quarantine WHERE rule = 'extra_fields'") == [("(cały wiersz)",)]
    assert pipe.staged("expenses", "row_number, document_no, item_name, eligible_amount") == [
        (2, "FV/1/2021", "Usługa opiekuńcza", Decimal("1230.00")),
        (4, "FV/2/2021", 'Monitor 24" i "ABC" sp. z o.o.', Decimal("500.00")),
        (5, "FV/4/2021", 'Monitor 24"', Decimal("500.00"))]
    assert pipe.summary("expenses") == (4, 3, 1, 0)


def test_37_csv_quirks_that_used_to_crash_are_read(with_budget):
    pipe = with_budget
    from landing_fixtures import EXPENSE_HEADERS

    header = ";".join(EXPENSE_HEADERS) + ";"  # a header line ending with the separator
    rows = [";".join(map(str, expense("FV/1/2021", item='"ABC" sp. z o.o.'))),
            ";".join(map(str, expense("FV/2/2021", item='"Żłobek sp. z o.o.', gross="500,00", net="500,00",
                                      eligible="500,00", vat="0,00")))]
    folder(pipe.landing).mkdir(parents=True, exist_ok=True)
    (folder(pipe.landing) / "wydatki.csv").write_bytes("\r".join([header] + rows).encode("cp1250"))  # CR only
    outcome = pipe.run("expenses")
    assert outcome.success, outcome.failure
    assert pipe.staged("expenses", "document_no, item_name, eligible_amount") == [
        ("FV/1/2021", '"ABC" sp. z o.o.', Decimal("1230.00")), ("FV/2/2021", '"Żłobek sp. z o.o.', Decimal("500.00"))]
    assert pipe.quarantine("expenses") == []


# ------------------------------------------------------------------------- XLSX sheet starting with empty rows

def test_38_xlsx_with_a_leading_empty_row_reports_sheet_row_numbers(pipe):
    import openpyxl
    from landing_fixtures import PARTICIPANT_HEADERS

    path = folder(pipe.landing) / "uczestnicy.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.cell(2, 1, "Beneficjent: Elbląskie Centrum Usług Społecznych")         # row 1 stays empty
    rows = [PARTICIPANT_HEADERS, participant("ELB/0001", PESEL_A), participant("ELB/0002", PESEL_B, "M", start="31.02.2021")]
    for row_number, row in enumerate(rows, start=3):
        for position, value in enumerate(row, 1):
            sheet.cell(row_number, position, value)
    workbook.save(path)
    assert pipe.run("participants").success
    assert pipe.quarantine("participants") == [(5, "start_date", "type", "error", "31.02.2021")]
    assert pipe.staged("participants", "row_number, participant_id") == [(4, "ELB/0001")]


# ------------------------------------------------------------------------- numbers too large for the warehouse types

def test_39_oversized_amount_and_tranche_number_are_type_errors(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"),
                                  expense("FV/2/2021", gross="12345678901234567,00", net="10,00", eligible="10,00",
                                          vat=""),
                                  expense("FV/3/2021", gross="9 999 999 999 999 999,99", net="10,00", eligible="10,00",
                                          vat="")])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [(3, "gross_amount", "type", "error", "12345678901234567,00")]
    assert pipe.staged("expenses", "document_no, gross_amount") == [
        ("FV/1/2021", Decimal("1230.00")), ("FV/3/2021", Decimal("9999999999999999.99"))]

    write_tranches(pipe.landing, [tranche(1, "249998.50"), ["99999999999999999999", "15.07.2021", "100,00", "84,28",
                                                            "15,72"]])
    assert pipe.run("tranches").success
    assert pipe.quarantine("tranches") == [(3, "tranche_no", "type", "error", "99999999999999999999")]
    assert pipe.staged("tranches", "tranche_no") == [(1,)]


# ------------------------------------------------------------------------- PESEL outside the PESEL column

def test_40_pesel_as_participant_id_and_in_free_text_never_reaches_the_warehouse(pipe):
    import duckdb

    from core.pesel import PESEL_MARKER

    pipe.load_baseline("services", "budget")
    write_participants(pipe.landing, [
        participant(PESEL_B, PESEL_B, "M", **{"Miejscowość": f"Kowalski {PESEL_A}"}),  # PESEL as the ID
        participant("ELB/0001", PESEL_A)])
    assert pipe.run("participants").success
    assert pipe.staged("participants", "participant_id, person_key, locality") == [
        (PESEL_B_KEY, PESEL_B_KEY, f"Kowalski {PESEL_MARKER}"),
        ("ELB/0001", PESEL_A_KEY, "Elbląg")]
    assert pipe.quarantine("participants") == [
        (2, "locality", "pesel_outside_pesel_column", "warning", None),
        (2, "participant_id", "pesel_outside_pesel_column", "warning", None)]
    assert pipe.messages("participants", "pesel_outside_pesel_column")[0] == (
        "Kolumna „Miejscowość” zawierała numer PESEL — nie zapisano go (w identyfikatorze uczestnika zastąpiono go "
        "pseudonimem). Jako identyfikator uczestnika używaj własnego numeru (np. ELB/2021/0001), a numer PESEL "
        "wpisuj tylko w kolumnie „PESEL” pliku uczestników, nigdy w innych kolumnach.")
    assert pipe.summary("participants") == (2, 2, 0, 1)

    # the delivery file refers to the participant by the same PESEL: it still matches (same pseudonym)
    write_deliveries(pipe.landing, [delivery(PESEL_B), delivery("ELB/0001", ipus=f"IPUS {PESEL_A}")])
    assert pipe.run("deliveries").success
    assert pipe.staged("deliveries", "participant_id, ipus_no") == [
        (PESEL_B_KEY, None), ("ELB/0001", f"IPUS {PESEL_MARKER}")]
    assert pipe.quarantine("deliveries") == [(2, "participant_id", "pesel_outside_pesel_column", "warning", None),
                                             (3, "ipus_no", "pesel_outside_pesel_column", "warning", None)]
    assert pipe.summary("deliveries") == (2, 2, 0, 2)

    write_expenses(pipe.landing, [expense("FV/1/2021", item=f"Zwrot kosztów dojazdu, {PESEL_C}")])
    assert pipe.run("expenses").success
    assert pipe.staged("expenses", "item_name") == [(f"Zwrot kosztów dojazdu, {PESEL_MARKER}",)]
    assert pipe.quarantine("expenses") == [(2, "item_name", "pesel_outside_pesel_column", "warning", None)]

    with duckdb.connect(str(pipe.db)) as conn:
        conn.execute("CHECKPOINT")
    data = b"".join(p.read_bytes() for p in pipe.db.parent.iterdir() if p.name.startswith(pipe.db.name))
    for pesel in (PESEL_A, PESEL_B, PESEL_C):
        assert pesel.encode() not in data


def test_40b_a_participants_row_with_a_missing_or_extra_cell_stores_no_shifted_personal_data(pipe):
    """A deleted cell slides the name and the phone number into stored columns ("Rodzaj uczestnika",
    "DEGURBA"): in a file with personal data columns such a row is rejected and keeps no values."""
    from landing_fixtures import PARTICIPANT_HEADERS, participant_row

    pipe.load_baseline("services", "budget")
    width = len(PARTICIPANT_HEADERS)
    short = participant_row("ELB/0002", "Zenobia", "Brzęczyszczykiewicz", PESEL_B, "K", "05.07.2021")
    del short[1]  # the "Kraj" cell
    extra = participant_row("ELB/0003", "Eustachy", "Wąchocki", PESEL_C, "M", "05.07.2021")
    extra.insert(2, "Polska")
    write_participants(pipe.landing, [participant("ELB/0001", PESEL_A), short, extra,
                                      participant("ELB/0004", PESEL_CHILD)])
    assert pipe.run("participants").success
    assert pipe.quarantine("participants") == [
        (3, None, "extra_fields", "error", f"{width - 1} pól zamiast {width}"),
        (4, None, "extra_fields", "error", f"{width + 1} pól zamiast {width}")]
    assert pipe.staged("participants", "participant_id") == [("ELB/0001",), ("ELB/0004",)]
    stored = " ".join(str(v) for table in ("raw.participants", "staging.quarantine", "staging.participants")
                      for row in pipe.sql(f"SELECT * FROM {table}") for v in row)
    for private in ("Zenobia", "Brzęczyszczykiewicz", "Eustachy", "Wąchocki", "600100200", "@example.pl"):
        assert private not in stored
    assert pipe.sql("SELECT row_number, participant_id FROM raw.participants WHERE read_error IS NOT NULL "
                    "ORDER BY row_number") == [(3, None), (4, None)]  # the rows are kept, with their reason


def test_40c_a_pesel_written_in_groups_in_a_text_column_is_removed(pipe):
    from core.pesel import PESEL_MARKER

    pipe.load_baseline("services", "budget")
    grouped = (f"{PESEL_C[:6]}-{PESEL_C[6:]}", f"{PESEL_C[:3]} {PESEL_C[3:6]} {PESEL_C[6:9]} {PESEL_C[9:]}")
    write_expenses(pipe.landing, [expense("FV/1/2021", item=f"Zwrot kosztów, PESEL {grouped[0]}"),
                                  expense("FV/2/2021", item=f"Zwrot kosztów, PESEL {grouped[1]}"),
                                  expense("FV/3/2021", item="Faktura 123 456 789 01")])  # no valid PESEL: kept
    assert pipe.run("expenses").success
    assert pipe.staged("expenses", "item_name") == [(f"Zwrot kosztów, PESEL {PESEL_MARKER}",),
                                                    (f"Zwrot kosztów, PESEL {PESEL_MARKER}",),
                                                    ("Faktura 123 456 789 01",)]
    assert [r[2] for r in pipe.quarantine("expenses")] == ["pesel_outside_pesel_column"] * 2
    assert not any(g in str(pipe.sql("SELECT * FROM raw.expenses")) for g in grouped)


def test_40e_a_mistyped_pesel_as_participant_id_is_never_stored_and_still_joins(pipe):
    typo = PESEL_A[:-1] + str((int(PESEL_A[-1]) + 1) % 10)  # the checksum digit wrong
    pipe.load_baseline("services", "budget")
    write_participants(pipe.landing, [participant(typo, PESEL_A)])
    assert pipe.run("participants").success
    write_deliveries(pipe.landing, [delivery(typo)])
    assert pipe.run("deliveries").success
    (participant_id,), = pipe.staged("participants", "participant_id")
    assert participant_id != typo and pipe.staged("deliveries", "participant_id") == [(participant_id,)]
    assert [r[2] for r in pipe.quarantine("deliveries")] == ["pesel_outside_pesel_column"]  # joined, warned
    for table in ("raw.participants", "raw.deliveries", "staging.quarantine"):
        assert typo not in str(pipe.sql(f"SELECT * FROM {table}"))


def test_40f_a_mistyped_pesel_without_its_leading_zero_is_pseudonymized_as_the_11_digit_one():
    from core.pesel import scrub_text

    typo = PESEL_CHILD[:-1] + str((int(PESEL_CHILD[-1]) + 1) % 10)
    assert scrub_text(typo.lstrip("0"), b"k" * 32, person_id=True) == scrub_text(typo, b"k" * 32, person_id=True)
    assert typo.lstrip("0") not in scrub_text(typo.lstrip("0"), b"k" * 32, person_id=True)


# ------------------------------------------------------------------------- codes that match nothing (issue 12)

def test_40_category_outside_the_tasks_budget_is_an_error_naming_the_allowed_values(with_budget):
    pipe = with_budget
    write_expenses(pipe.landing, [expense("FV/1/2021"),
                                  expense("FV/2/2021", gross="500,00", net="500,00", eligible="500,00", vat="0,00",
                                          category='=HYPERLINK("http://x";"2.1")'),
                                  expense("FV/3/2021", task=7)])
    assert pipe.run("expenses").success
    assert pipe.quarantine("expenses") == [
        (3, "cost_category", "category_in_budget", "error", '=HYPERLINK("http://x";"2.1")'),
        (3, "cost_category", "formula_text", "warning", '=HYPERLINK("http://x";"2.1")'),
        (4, "task_no", "task_in_budget", "error", "7")]
    assert pipe.messages("expenses", "category_in_budget") == [
        'Kategorii kosztów „=HYPERLINK("http://x";"2.1")” nie ma w budżecie tego zadania (umowa/budzet.csv). '
        "Dozwolone kategorie zadania: 1.1. Popraw kategorię albo numer zadania."]
    assert pipe.messages("expenses", "task_in_budget") == [
        "Zadania o numerze „7” nie ma w budżecie projektu (umowa/budzet.csv). Dozwolone numery zadań: 0, 1, 2. "
        "Popraw numer zadania."]
    assert docs(pipe) == [ELIGIBLE_DOCS[0]]


def test_41_indicator_code_outside_the_catalogue_is_an_error(pipe):
    from validation_fixtures import write_csv

    write_csv(pipe.landing / "elblag" / "umowa" / "wskazniki.csv",
              ["Kod wskaźnika", "Wartość docelowa ogółem", "w tym kobiety", "w tym mężczyźni"],
              [["PROD_OSOBY_USLUGI", "500", "300", "200"], ["PROD_OSOBY_USLUGII", "10", "", ""]])
    assert pipe.run("indicator_targets", quarter=None).success
    assert pipe.quarantine("indicator_targets", quarter=None) == [
        (3, "indicator_code", "indicator_in_catalogue", "error", "PROD_OSOBY_USLUGII")]
    assert pipe.messages("indicator_targets", "indicator_in_catalogue", quarter=None) == [
        "Kodu wskaźnika „PROD_OSOBY_USLUGII” nie ma w katalogu wskaźników (schemas/indicators.yaml), więc jego "
        "wartość docelowa nie byłaby pokazana. Dozwolone kody: PROD_OSOBY_USLUGI, PROD_OSOBY_ZAGROZONE, "
        "PROD_OSOBY_IPUS, PROD_CUS, PROD_KAMIENIE, REZ_SCIEZKA. Popraw kod."]
    assert pipe.staged("indicator_targets", "indicator_code", None) == [("PROD_OSOBY_USLUGI",)]
