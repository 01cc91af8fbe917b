"""Metadata previews follow the published copy's personal-data rule."""


import duckdb

from assets.preview import markdown_preview, partition_previews


def _warehouse():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA staging; CREATE SCHEMA report")
    conn.execute("CREATE TABLE staging.expenses (unit VARCHAR, quarter VARCHAR, source_file VARCHAR, row_number BIGINT, "
                 "document_no VARCHAR, item_name VARCHAR, issue_date DATE, eligible_amount DECIMAL(18,2))")
    conn.execute("INSERT INTO staging.expenses VALUES "
                 "('elblag', '2021Q3', 'elblag/2021Q3/wydatki.csv', 3, 'FV/2|2021', 'Wynagrodzenie Halina Zawadzka', "
                 "DATE '2021-08-10', 1234.5), "
                 "('elblag', '2021Q3', 'elblag/2021Q3/wydatki.csv', 2, 'FV/1/2021', 'Catering', DATE '2021-08-02', 10), "
                 "('srokowo', '2021Q3', 'srokowo/2021Q3/wydatki.csv', 2, 'X/1', 'Diagnoza', DATE '2021-07-01', 5)")
    conn.execute("CREATE TABLE staging.participants (unit VARCHAR, quarter VARCHAR, participant_id VARCHAR, sex VARCHAR)")
    conn.execute("INSERT INTO staging.participants VALUES ('elblag', '2021Q3', 'ELB/1', 'K')")
    return conn


def test_partition_preview_leaves_out_free_text_and_lineage_and_formats_polish():
    conn = _warehouse()
    text = markdown_preview(conn, "staging", "expenses", {"unit": "elblag", "quarter": "2021Q3"}, order_by="row_number")
    lines = text.splitlines()
    assert lines[0] == "| unit | quarter | document_no | issue_date | eligible_amount |"
    assert lines[2] == "| elblag | 2021Q3 | FV/1/2021 | 02.08.2021 | 10,00 |"
    assert lines[3] == "| elblag | 2021Q3 | FV/2\\|2021 | 10.08.2021 | 1 234,50 |"  # `|` escaped
    assert len(lines) == 4  # srokowo's row is another partition
    assert "Zawadzka" not in text and "wydatki.csv" not in text


def test_person_grain_tables_and_empty_partitions_get_no_row_preview():
    conn = _warehouse()
    assert markdown_preview(conn, "staging", "participants", {"unit": "elblag", "quarter": "2021Q3"}) is None
    assert markdown_preview(conn, "staging", "expenses", {"unit": "elblag", "quarter": "2022Q1"}) is None


def test_a_batch_gets_each_partitions_preview_from_one_query():
    conn = _warehouse()
    keys = [("elblag", "2021Q3"), ("srokowo", "2021Q3"), ("elblag", "2022Q1")]
    previews = partition_previews(conn, "staging", "expenses", keys, order_by="row_number", limit=1)
    assert previews[("elblag", "2021Q3")].splitlines()[2] == "| elblag | 2021Q3 | FV/1/2021 | 02.08.2021 | 10,00 |"
    assert len(previews[("elblag", "2021Q3")].splitlines()) == 3  # limit 1 per partition
    assert previews[("srokowo", "2021Q3")].splitlines()[2] == "| srokowo | 2021Q3 | X/1 | 01.07.2021 | 5,00 |"
    assert previews[("elblag", "2022Q1")] is None
    for key in keys:  # the same text as the one-partition preview
        assert previews[key] == markdown_preview(conn, "staging", "expenses", {"unit": key[0], "quarter": key[1]},
                                                 order_by="row_number", limit=1)
    assert partition_previews(conn, "staging", "participants", keys) == {}


def test_batch_previews_keep_file_order_and_agreement_partitions():
    conn = _warehouse()
    conn.execute("INSERT INTO staging.expenses VALUES ('elblag', NULL, 'elblag/umowa/x.csv', 4, 'U/1', 'x', "
                 "DATE '2021-01-04', 7)")
    keys = [("elblag", "2021Q3"), ("elblag", None)]
    previews = partition_previews(conn, "staging", "expenses", keys)  # first 5 rows by row_number
    for unit, quarter in keys:
        assert previews[(unit, quarter)] == markdown_preview(
            conn, "staging", "expenses", {"unit": unit, "quarter": quarter}, order_by="row_number")
    lines = previews[("elblag", "2021Q3")].splitlines()
    assert [line.split(" | ")[2] for line in lines[2:]] == ["FV/1/2021", "FV/2\\|2021"]  # row 2 before row 3
    assert "U/1" in previews[("elblag", None)]
