"""Ingestion into the raw layer: every mess case of docs/domain.md §10, pseudonyms, idempotency."""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
from landing_fixtures import (
    EXPENSE_HEADERS,
    PARTICIPANT_HEADERS,
    participant_row,
    write_csv,
    write_participants_xlsx,
)
from pseudonym_vectors import ADULT_KEY, CHILD_KEY, SENIOR_KEY

from assets.raw.ingest import find_landing_file, ingest_file
from assets.raw.landing_file import LandingFileError, read_landing_file
from assets.staging.typed import typed_rows
from core.contract import dataset
from core.pesel import make_pesel, pseudonym

KEY = b"test-key"
EXPENSES = dataset("expenses")
PARTICIPANTS = dataset("participants")

# Literal PESELs (valid checksums): tests/pseudonym_vectors.py holds their HMAC pseudonyms.
CHILD_PESEL = "05231412365"   # born 2005-03-14, woman; starts with 0: loses it as a number
SENIOR_PESEL = "48110245632"  # born 1948-11-02, man
ADULT_PESEL = "90013178982"   # born 1990-01-31, woman


def ingest(conn, landing, unit, quarter, ds, loaded_at=None):
    path = find_landing_file(landing, unit, quarter, ds)
    return ingest_file(conn, ds, path, landing, unit, quarter, KEY, loaded_at=loaded_at)


def accounting_export(landing, amount="1 234,56", extra_docs=()):
    """Windows-1250, `;`, decimal comma, dd.mm.yyyy, an extra column and trailing empty rows."""
    rows = [
        ["FV/1/2021", "526-000-12-46", "04.03.2021", "10.03.2021", 1, "3.1", "Usługa opiekuńcza – żłobek",
         amount, "1 003,71", amount, "230,85", "N", "N", "T", "zapłacono"],
        ["LP/03/2021", "", "31.03.2021", "31.03.2021", 2, "1.1", "Lista płac – koordynator",
         "5 000,00", "5 000,00", "5 000,00", "0,00", "N", "N", "N", ""],
        *extra_docs,
    ]
    return write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS + ["Uwagi"], rows, sep=";",
                     encoding="cp1250", trailing=";;;;;;;;;;;;;;\n;;;;;;;;;;;;;;\n")


def participants_xlsx(landing, quarter="2021Q3"):
    rows = [
        participant_row("ELB/2021/0001", "Zofia", "Kowalska", int(CHILD_PESEL), "Kobieta", 44440),
        participant_row("ELB/2021/0002", "Jan", "Wiśniewski", SENIOR_PESEL, "Mężczyzna", "15.07.2021"),
        participant_row("ELB/2021/0003", "Anna", "Nowak", ADULT_PESEL, "K", datetime(2021, 8, 2)),
    ]
    return write_participants_xlsx(landing / "elblag" / quarter / "uczestnicy.xlsx", rows)


def test_accounting_export_cp1250_semicolon_decimal_comma(landing):
    accounting_export(landing)
    table = read_landing_file(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSES)
    assert table.encoding == "windows-1250"
    assert table.ignored_columns == ["Uwagi"]
    assert table.frame.height == 2  # the two trailing empty rows are not data
    assert table.frame["row_number"].to_list() == [2, 3]
    assert table.frame["item_name"][0] == "Usługa opiekuńcza – żłobek"
    typed = typed_rows(EXPENSES, table.frame)
    assert typed.errors.height == 0
    first = typed.frame.row(0, named=True)
    assert first["gross_amount"] == Decimal("1234.56")
    assert first["vat_amount"] == Decimal("230.85")
    assert first["issue_date"] == date(2021, 3, 4)
    assert first["issuer_nip"] == "5260001246"
    assert first["commissioned"] is True and first["cross_financing"] is False
    assert typed.frame["task_no"].to_list() == [1, 2]


def test_utf8_bom_and_dot_decimals(landing):
    rows = [["FV/7/2021", "5260001246", "2021-03-04", "", 1, "3.1", "Catering", "1234.56", "1003.71", "1234.56",
             "230.85", "T", "N", "N"]]
    path = write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, rows, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_landing_file(path, EXPENSES)
    assert table.encoding == "utf-8" and table.ignored_columns == []
    typed = typed_rows(EXPENSES, table.frame)
    assert typed.frame["document_no"].to_list() == ["FV/7/2021"]
    assert typed.frame["gross_amount"].to_list() == [Decimal("1234.56")]
    assert typed.frame["cross_financing"].to_list() == [True]


def test_participants_xlsx_header_block_serial_dates_and_numeric_pesel(landing):
    participants_xlsx(landing)
    conn = duckdb.connect()
    result = ingest(conn, landing, "elblag", "2021Q3", PARTICIPANTS)
    assert result.rows == 3
    assert result.pesel_status_counts == {"restored_leading_zero": 1, "ok": 2}
    rows = conn.sql("SELECT participant_id, row_number, person_key, pesel_status, birth_date, sex_from_pesel, "
                    "age_at_entry_from_pesel, start_date FROM raw.participants ORDER BY participant_id").fetchall()
    child, senior, adult = rows
    assert child[1] == 6  # 4 header-block rows + the header row: first data row is sheet row 6
    assert child[2] == CHILD_KEY
    assert child[3:7] == ("restored_leading_zero", date(2005, 3, 14), "K", 16)
    assert senior[3:7] == ("ok", date(1948, 11, 2), "M", 72)
    assert adult[3:7] == ("ok", date(1990, 1, 31), "K", 31)
    typed = typed_rows(PARTICIPANTS, conn.sql("SELECT * FROM raw.participants ORDER BY participant_id").pl())
    assert typed.frame["start_date"].to_list() == [date(2021, 9, 1), date(2021, 7, 15), date(2021, 8, 2)]
    assert typed.frame["sex"].to_list() == ["K", "M", "K"]
    assert typed.frame["disability"].to_list() == ["odmowa"] * 3
    assert typed.frame["degurba"].to_list() == ["2"] * 3


def test_no_names_contacts_or_pesel_reach_the_warehouse(landing, tmp_path):
    participants_xlsx(landing)
    db = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(db))
    ingest(conn, landing, "elblag", "2021Q3", PARTICIPANTS)
    columns = {r[0] for r in conn.sql("DESCRIBE raw.participants").fetchall()}
    assert not {"pesel", "first_name", "last_name", "phone", "email"} & columns
    forbidden = [CHILD_PESEL, CHILD_PESEL[1:], SENIOR_PESEL, ADULT_PESEL, "Kowalska", "Wiśniewski", "Zofia",
                 "600100200", "@example.pl"]
    for schema, table, column in conn.sql(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR%'").fetchall():
        values = conn.sql(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {schema}.{table}').fetchall()
        for (value,) in values:
            assert not any(secret in str(value) for secret in forbidden), (table, column)
    conn.execute("CHECKPOINT")
    conn.close()
    data = db.read_bytes()
    for secret in forbidden:
        assert secret.encode("utf-8") not in data


def test_pseudonyms_stable_across_quarters_and_keyed(landing):
    participants_xlsx(landing, "2021Q3")
    participants_xlsx(landing, "2021Q4")
    conn = duckdb.connect()
    ingest(conn, landing, "elblag", "2021Q3", PARTICIPANTS)
    ingest(conn, landing, "elblag", "2021Q4", PARTICIPANTS)
    keys = conn.sql("SELECT quarter, list(person_key ORDER BY participant_id) FROM raw.participants "
                    "GROUP BY quarter ORDER BY quarter").fetchall()
    assert keys[0][1] == keys[1][1]
    assert pseudonym(SENIOR_PESEL, KEY) != pseudonym(SENIOR_PESEL, b"other-key")
    assert len(pseudonym(SENIOR_PESEL, KEY)) == 32


def test_reingestion_is_idempotent_and_resent_file_is_a_new_version(landing):
    accounting_export(landing)
    conn = duckdb.connect()
    first = ingest(conn, landing, "elblag", "2021Q1", EXPENSES, loaded_at=datetime(2021, 4, 10, 9, 0))
    again = ingest(conn, landing, "elblag", "2021Q1", EXPENSES, loaded_at=datetime(2021, 4, 11, 9, 0))
    assert (first.version_no, first.new_version, again.version_no, again.new_version) == (1, True, 1, False)
    assert conn.sql("SELECT count(*) FROM raw.expenses").fetchone()[0] == 2
    extra = ["FV/9/2021", "5260001246", "20.03.2021", "", 1, "3.1", "Korekta", "100,00", "100,00", "100,00", "0,00",
             "N", "N", "N", ""]
    accounting_export(landing, amount="1 200,00", extra_docs=[extra])
    resent = ingest(conn, landing, "elblag", "2021Q1", EXPENSES, loaded_at=datetime(2021, 5, 2, 9, 0))
    assert (resent.version_no, resent.new_version, resent.rows) == (2, True, 3)
    rows = conn.sql("SELECT document_no, gross_amount, file_sha256 FROM raw.expenses ORDER BY row_number").fetchall()
    assert [r[:2] for r in rows] == [("FV/1/2021", "1 200,00"), ("LP/03/2021", "5 000,00"), ("FV/9/2021", "100,00")]
    assert {r[2] for r in rows} == {resent.sha256}
    versions = conn.sql("SELECT version_no, is_current, rows_loaded, first_loaded_at FROM raw.file_versions "
                        "ORDER BY version_no").fetchall()
    assert versions == [(1, False, 2, datetime(2021, 4, 10, 9, 0)), (2, True, 3, datetime(2021, 5, 2, 9, 0))]


def test_other_partitions_untouched_by_reingestion(landing):
    accounting_export(landing)
    rows = [["FV/2/2021", "5260001246", "2021-04-04", "", 1, "3.1", "Catering", "10.00", "10.00", "10.00", "0.00",
             "N", "N", "N"]]
    write_csv(landing / "elblag" / "2021Q2" / "wydatki.csv", EXPENSE_HEADERS, rows)
    conn = duckdb.connect()
    ingest(conn, landing, "elblag", "2021Q1", EXPENSES)
    ingest(conn, landing, "elblag", "2021Q2", EXPENSES)
    ingest(conn, landing, "elblag", "2021Q1", EXPENSES)
    counts = conn.sql("SELECT quarter, count(*) FROM raw.expenses GROUP BY ALL ORDER BY 1").fetchall()
    assert counts == [("2021Q1", 2), ("2021Q2", 1)]


def test_missing_required_column_fails_with_file_and_fix(landing):
    headers = [h for h in EXPENSE_HEADERS if h != "Kwota wydatków kwalifikowalnych"]
    path = write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", headers, [["FV/1"] + [""] * 12])
    with pytest.raises(LandingFileError) as error:
        read_landing_file(path, EXPENSES)
    message = str(error.value)
    assert "wydatki.csv" in message and "Kwota wydatków kwalifikowalnych" in message and "Co zrobić" in message


def test_failed_file_leaves_earlier_partition_data(landing):
    accounting_export(landing)
    conn = duckdb.connect()
    ingest(conn, landing, "elblag", "2021Q1", EXPENSES)
    (landing / "elblag" / "2021Q1" / "wydatki.csv").write_bytes(b"")
    with pytest.raises(LandingFileError, match="pusty"):
        ingest(conn, landing, "elblag", "2021Q1", EXPENSES)
    assert conn.sql("SELECT count(*) FROM raw.expenses").fetchone()[0] == 2
    assert conn.sql("SELECT count(*) FROM raw.file_versions").fetchone()[0] == 1


def test_pesel_of_a_person_born_in_2000_loses_two_zeros_and_is_restored():
    from core.pesel import pesel_digits

    born_2000 = make_pesel(date(2000, 11, 27), sex="M", serial=709)
    assert born_2000.startswith("00")
    as_number = str(int(born_2000))
    assert len(as_number) == 9
    assert pesel_digits(as_number) == (born_2000, "restored_leading_zero")
    assert pesel_digits(as_number + ".0") == (born_2000, "restored_leading_zero")
    assert pesel_digits("123456789") == (None, "invalid_length")  # padded, it is not a valid PESEL
    assert pesel_digits("12345") == (None, "invalid_length")


# ------------------------------------------------------------------------- CSV content the reader takes in stride

HEADER = ";".join(EXPENSE_HEADERS)


def _expense_line(no, item="x", gross="10,00"):
    return f"FV/{no}/2021;5260001246;2021-03-04;;1;3.1;{item};{gross};{gross};{gross};0,00;N;N;N"


def _read_text(landing, text, encoding="utf-8"):
    path = landing / "elblag" / "2021Q1" / "wydatki.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return read_landing_file(path, EXPENSES)


def _cells(table, *columns):
    return table.frame.select("row_number", *columns, "read_error").rows()


@pytest.mark.parametrize("item", ['Monitor 24"', 'Firma "ABC" sp. z o.o.', '"ABC" sp. z o.o.', '"ABC sp. z o.o.'])
def test_stray_quotes_in_a_field_are_text_and_no_row_is_swallowed(landing, item):
    text = "\n".join([HEADER, _expense_line(1, item), _expense_line(2, gross="20,00"), _expense_line(3)]) + "\n"
    table = _read_text(landing, text, encoding="cp1250")
    assert _cells(table, "document_no", "item_name", "gross_amount", "commissioned") == [
        (2, "FV/1/2021", item, "10,00", "N", None),
        (3, "FV/2/2021", "x", "20,00", "N", None),
        (4, "FV/3/2021", "x", "10,00", "N", None)]


def test_unclosed_quote_before_a_quoted_field_later_in_the_file(landing):
    lines = [HEADER, _expense_line(1, '"ABC sp. z o.o.'), _expense_line(2), _expense_line(3, '"Firma; oddział"'),
             _expense_line(4)]
    table = _read_text(landing, "\r\n".join(lines) + "\r\n")
    assert _cells(table, "document_no", "item_name", "gross_amount") == [
        (2, "FV/1/2021", '"ABC sp. z o.o.', "10,00", None), (3, "FV/2/2021", "x", "10,00", None),
        (4, "FV/3/2021", "Firma; oddział", "10,00", None), (5, "FV/4/2021", "x", "10,00", None)]


def test_quoted_field_with_a_line_break_is_one_row(landing):
    text = f'{HEADER}\n{_expense_line(1, chr(34) + "linia 1" + chr(10) + "linia 2" + chr(34))}\n{_expense_line(2)}\n'
    table = _read_text(landing, text)
    assert _cells(table, "document_no", "item_name") == [(2, "FV/1/2021", "linia 1\nlinia 2", None),
                                                         (3, "FV/2/2021", "x", None)]


def test_header_ending_with_a_separator_and_cr_only_line_ends(landing):
    text = "\r".join([HEADER + ";", _expense_line(1) + ";", _expense_line(2, gross="20,00") + ";"]) + "\r"
    table = _read_text(landing, text)
    # the optional "Faktura korygująca (T/N)" column (issue 12) is absent from this export: default N
    assert table.ignored_columns == [] and table.missing_optional == ["Faktura korygująca (T/N)"]
    assert _cells(table, "document_no", "gross_amount", "commissioned") == [
        (2, "FV/1/2021", "10,00", "N", None), (3, "FV/2/2021", "20,00", "N", None)]


def test_short_first_row_is_padded_and_longer_rows_carry_a_read_error(landing):
    short = _expense_line(1).rsplit(";", 4)[0]  # the last four cells (VAT, three flags) left out
    lines = [HEADER, short, _expense_line(2) + ";uwaga", _expense_line(3, "x;y"), _expense_line(4),
             _expense_line(5, "a;b")[:-2] + ";", _expense_line(6), _expense_line(7) + ";"]
    lines += [_expense_line(n) for n in range(8, 12)]  # the usual row: 14 cells
    table = _read_text(landing, "\n".join(lines) + "\n")
    assert _cells(table, "document_no", "item_name", "gross_amount", "vat_amount", "commissioned") == [
        (2, "FV/1/2021", "x", "10,00", None, None, None),
        (3, "FV/2/2021", "x", "10,00", "0,00", "N", "15 pól zamiast 14"),   # a cell after the last column
        (4, "FV/3/2021", "x", "y", "10,00", "N", "15 pól zamiast 14"),      # an unquoted ; in the text: shifted
        (5, "FV/4/2021", "x", "10,00", "0,00", "N", None),
        (6, "FV/5/2021", "a", "b", "10,00", "N", "15 pól zamiast 14"),      # shifted, its last cell empty
        (7, "FV/6/2021", "x", "10,00", "0,00", "N", None),
        # more cells than the header and the file's usual row: flagged too (cannot be told from a shift)
        (8, "FV/7/2021", "x", "10,00", "0,00", "N", "15 pól zamiast 14")] + [
        (n + 1, f"FV/{n}/2021", "x", "10,00", "0,00", "N", None) for n in range(8, 12)]


def test_any_other_csv_failure_is_a_polish_file_error(landing, monkeypatch):
    import assets.raw.landing_file as landing_file

    def broken(*args, **kwargs):
        raise ValueError("could not parse")

    monkeypatch.setattr(landing_file, "_csv_records", broken)
    with pytest.raises(LandingFileError) as error:
        _read_text(landing, f"{HEADER}\n{_expense_line(1)}\n")
    assert error.value.problem == "nie można odczytać pliku CSV (ValueError)."
    assert error.value.fix.startswith("Zapisz plik ponownie jako CSV")
    assert str(error.value).startswith(f"Plik {landing / 'elblag' / '2021Q1' / 'wydatki.csv'}: nie można")


def test_100k_row_csv_with_quotes_in_text_is_read_whole(landing):
    """Correctness at size (the timing is printed by benchmarks/staging_validation.py, not tested)."""
    lines = [HEADER] + [_expense_line(i, 'Firma "ABC" sp. z o.o.' if i % 7 == 0 else "Usługa") for i in range(100_000)]
    path = landing / "elblag" / "2021Q1" / "wydatki.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_landing_file(path, EXPENSES)
    assert table.frame.height == 100_000 and table.frame["read_error"].null_count() == 100_000
    assert table.frame["row_number"][-1] == 100_001
    assert table.frame["item_name"][7] == 'Firma "ABC" sp. z o.o.'


def test_xlsx_leading_empty_rows_keep_sheet_row_numbers(landing):
    import openpyxl

    from assets.staging.file_checks import header_block_text

    path = landing / "elblag" / "2021Q1" / "wydatki.xlsx"
    path.parent.mkdir(parents=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.cell(2, 1, "Projekt: Elbląskie Centrum Usług Społecznych")
    for position, header in enumerate(EXPENSE_HEADERS, 1):
        sheet.cell(3, position, header)
    for position, value in enumerate(_expense_line(1).split(";"), 1):
        sheet.cell(4, position, value)
    workbook.save(path)
    table = read_landing_file(path, EXPENSES)
    assert table.frame.select("row_number", "document_no").rows() == [(4, "FV/1/2021")]
    assert header_block_text(table, EXPENSES) == "projekt: elblaskie centrum uslug spolecznych"


# ------------------------------------------------------------------------- PESEL outside the PESEL column

def test_pesel_outside_the_pesel_column_is_removed_before_anything_is_stored(landing, tmp_path):
    from core.pesel import PESEL_MARKER

    as_id, in_text = SENIOR_PESEL, ADULT_PESEL
    rows = [participant_row(as_id, "Jan", "Kowalski", as_id, "M", "2021-02-01", **{"Miejscowość": f"Kowalski {in_text}"}),
            participant_row(str(int(CHILD_PESEL)), "Zofia", "Nowak", CHILD_PESEL, "K", "2021-02-01",
                            **{"Kod pocztowy": "123456789012"}),  # a 12-digit run is not a PESEL
            participant_row("ELB/1", "Anna", "Nowak", ADULT_PESEL, "K", "2021-02-01", **{"Gmina": f"x{in_text}x"})]
    path = write_csv(landing / "elblag" / "2021Q1" / "uczestnicy.csv", PARTICIPANT_HEADERS, rows, sep=";")
    db = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(db))
    ingest_file(conn, PARTICIPANTS, path, landing, "elblag", "2021Q1", KEY)
    assert conn.sql("SELECT participant_id, person_key, locality, municipality, postal_code, pesel_found_in "
                    "FROM raw.participants ORDER BY row_number").fetchall() == [
        (SENIOR_KEY, SENIOR_KEY, f"Kowalski {PESEL_MARKER}", "Elbląg", "82-300",
         "participant_id,locality"),
        (CHILD_KEY, CHILD_KEY, "Elbląg", "Elbląg", "123456789012",
         "participant_id"),
        ("ELB/1", ADULT_KEY, "Elbląg", f"x{PESEL_MARKER}x", "82-300", "municipality")]
    conn.execute("CHECKPOINT")
    conn.close()
    data = db.read_bytes()
    for secret in (as_id, in_text, CHILD_PESEL, str(int(CHILD_PESEL))):
        assert secret.encode() not in data


def test_unclosed_quote_swallowing_a_row_with_an_extra_cell_loses_no_row(landing):
    lines = [HEADER, _expense_line(1, '"ABC sp. z o.o.'), _expense_line(2, "a;b"), _expense_line(3, '"Firma" i "X"')]
    table = _read_text(landing, "\n".join(lines) + "\n")
    assert _cells(table, "document_no", "item_name") == [
        (2, "FV/1/2021", '"ABC sp. z o.o.', None), (3, "FV/2/2021", "a", "15 pól zamiast 14"),
        (4, "FV/3/2021", '"Firma" i "X"', None)]
