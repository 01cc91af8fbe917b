"""Ingestion into the raw layer: every mess case of DESIGN.md §2, pseudonyms, idempotency."""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from assets.raw.ingest import find_landing_file, ingest_file
from assets.raw.landing_file import LandingFileError, read_landing_file
from assets.raw.pesel import pseudonym
from assets.staging.typed import typed_rows
from landing_fixtures import (EXPENSE_HEADERS, make_pesel, participant_row, write_csv,
                              write_participants_xlsx)
from pipelines.contract import dataset

KEY = b"test-key"
EXPENSES = dataset("expenses")
PARTICIPANTS = dataset("participants")

CHILD_PESEL = make_pesel(date(2005, 3, 14), male=False)       # starts with 0: loses it as a number
SENIOR_PESEL = make_pesel(date(1948, 11, 2), male=True, serial=456)
ADULT_PESEL = make_pesel(date(1990, 1, 31), male=False, serial=789)


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
    assert child[2] == pseudonym(CHILD_PESEL, KEY)
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
    from assets.raw.pesel import pesel_digits
    from landing_fixtures import make_pesel

    born_2000 = make_pesel(date(2000, 11, 27), male=True, serial=709)
    assert born_2000.startswith("00")
    as_number = str(int(born_2000))
    assert len(as_number) == 9
    assert pesel_digits(as_number) == (born_2000, "restored_leading_zero")
    assert pesel_digits(as_number + ".0") == (born_2000, "restored_leading_zero")
    assert pesel_digits("123456789") == (None, "invalid_length")  # padded, it is not a valid PESEL
    assert pesel_digits("12345") == (None, "invalid_length")
