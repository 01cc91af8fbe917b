"""docs/sql.md is tested: every ```sql block runs on the published copy of the tiny warehouse
(through the same path as `cus sql`) and the example queries return the hand-computed values;
the generated table list matches what is published today, with a description for every column.

Hand computation (tiny warehouse, see tests/test_sql_warehouse.py), 2021Q3:
- Elbląg: expenses task 1 1 000,00; task 2 2 000,00 (commissioned) + 500,00; FV/4 (10,00) is
  quarantined for an impossible date (31.02.2021, issue and payment date: two reasons, one row).
  Direct 3 500,00; indirect 15 % = 525,00; eligible 4 025,00; EU 84,28 % down to the grosz
  4 025,00 × 0,8428 = 3 392,27, national 632,73. Tranche 10 000,00: spent 40,25 % < 70 % → no
  next tranche, missing 7 000,00 − 4 025,00 = 2 975,00. Commissioned 2 000 / 3 500 = 0,5714 ≥ 0,35.
- Srokowo: 400,00 + 1 600,00 (commissioned) = 2 000,00; indirect 300,00; eligible 2 300,00;
  EU 2 300 × 0,8428 = 1 938,44, national 361,56. Tranche 2 000,00: spent 115 % → allowed.
  Plan 5 000,00 in 2021Q3 (46 % done) and 8 000,00 in 2021Q4 (not reported yet).
- Deliveries Elbląg: S01 (area 4, 50 zł/h) 2 h + 1 h = 150,00 for 2 persons; S02 (area 6, 60 zł/h)
  3 h = 180,00 for 1 person; S03 (area 11) community service given 250,00, no person.
- Participants: Elbląg 2 K + 1 M, Srokowo 1 K; target PROD_OSOBY_USLUGI 100 → 3 %.

Set CUS_WRITE_DOCS=1 to regenerate the generated section of docs/sql.md from this copy.
"""

import os
import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from test_sql_warehouse import build_tiny_warehouse

from assets.publish import (
    DOCS_BEGIN,
    DOCS_END,
    connect_published,
    documented_columns,
    generated_section,
    publish,
    render_table_docs,
    write_table_docs,
)
from pipelines.tools import sql_shell

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sql.md"
FENCE = re.compile(r"^```sql\n(.*?)^```", re.S | re.M)
QUESTION = re.compile(r"^### (\d+)\. (.+)$", re.M)


def sql_blocks(markdown: str) -> list[tuple[str, str]]:
    """[(heading of the section holding the block, sql)] for every ```sql block, in order."""
    blocks = []
    for match in FENCE.finditer(markdown):
        headings = re.findall(r"^#{2,4} (.+)$", markdown[: match.start()], re.M)
        blocks.append((headings[-1] if headings else "", match.group(1).strip()))
    return blocks


def numbered_queries(markdown: str) -> dict[int, str]:
    """{question number: sql} for the '### N. Polish question?' sections."""
    out = {}
    for heading, sql in sql_blocks(markdown):
        if m := re.match(r"(\d+)\. ", heading):
            assert int(m.group(1)) not in out, f"question {m.group(1)} has two sql blocks"
            out[int(m.group(1))] = sql
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    warehouse = build_tiny_warehouse(root)
    folder = root / "published"
    publish(warehouse, folder)
    return folder


@pytest.fixture(scope="module")
def conn(published):
    connection = connect_published(published)
    yield connection
    connection.close()


def rows(conn, sql: str) -> list[tuple]:
    frame = sql_shell.run_query(conn, sql)  # the code path of `cus sql`
    return [tuple(r) for r in frame.rows()]


def test_docs_have_ten_polish_questions_each_with_a_query():
    text = DOCS.read_text(encoding="utf-8")
    questions = QUESTION.findall(text)
    assert [int(n) for n, _ in questions] == list(range(1, 11))
    assert all(q.endswith("?") for _, q in questions)
    assert sorted(numbered_queries(text)) == list(range(1, 11))


def test_every_sql_block_of_the_docs_runs_on_the_published_copy(conn):
    blocks = sql_blocks(DOCS.read_text(encoding="utf-8"))
    assert len(blocks) >= 12
    for heading, sql in blocks:
        frame = sql_shell.run_query(conn, sql)
        assert frame is not None and frame.height > 0, heading


@pytest.fixture(scope="module")
def queries() -> dict[int, str]:
    return numbered_queries(DOCS.read_text(encoding="utf-8"))


def test_1_spending_per_task_in_the_quarter(conn, queries):
    assert rows(conn, queries[1]) == [
        (1, "Diagnoza i program usług", D("773900.00"), D("1000.00"), D("1000.00"), D("0.0013")),
        (2, "Usługi społeczne", D("1400000.00"), D("2500.00"), D("2500.00"), D("0.0018")),
    ]


def test_2_participants_by_sex_per_unit_cumulative(conn, queries):
    assert rows(conn, queries[2]) == [("elblag", "2021Q3", 3, 2, 1), ("srokowo", "2021Q3", 1, 1, 0)]


def test_3_commissioned_services_against_the_threshold(conn, queries):
    assert rows(conn, queries[3]) == [
        ("elblag", "2021Q3", D("2000.00"), D("3500.00"), D("0.5714"), D("0.3500"), "tak"),
        ("srokowo", "2021Q3", D("1600.00"), D("2000.00"), D("0.8000"), D("0.3500"), "tak"),
    ]


def test_4_next_tranche_70_percent_rule(conn, queries):
    assert rows(conn, queries[4]) == [
        ("elblag", "2021Q3", D("10000.00"), D("4025.00"), D("0.4025"), D("0.7000"), False, D("2975.00")),
        ("srokowo", "2021Q3", D("2000.00"), D("2300.00"), D("1.1500"), D("0.7000"), True, D("0.00")),
    ]


def test_5_plan_vs_actual_by_quarter(conn, queries):
    assert rows(conn, queries[5]) == [
        ("2021Q3", D("5000.00"), D("2300.00"), D("5000.00"), D("2300.00"), D("0.4600")),
        ("2021Q4", D("8000.00"), None, D("13000.00"), None, None),
    ]


def test_6_indicator_progress_against_target(conn, queries):
    result = {r[0]: r for r in rows(conn, queries[6])}
    assert result["PROD_OSOBY_USLUGI"][2:] == (D(100), D(3), D(3), D(2), D(1), D("0.0300"))
    assert result["PROD_OSOBY_IPUS"][4:7] == (D(1), D(1), D(0))  # ELB/1 has an IPUS delivery
    assert result["REZ_ZLECANIE"][4] == D("0.5714") and result["REZ_ZLECANIE"][2] == D("0.35")


def test_7_services_by_area_of_the_act(conn, queries):
    assert rows(conn, queries[7]) == [
        (4, 2, D("3.00"), 2, D("150.00"), D("150.00")),
        # area 6 (support of persons with disabilities) is sensitive: 1 person is not published
        (6, 1, D("3.00"), None, D("180.00"), D("180.00")),
        (11, 1, D("1.00"), 0, D("250.00"), D("250.00")),
    ]


def test_8_quarantined_rows_by_reason(conn, queries):
    result = rows(conn, queries[8])
    assert [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in result] == [
        ("elblag", "expenses", "error", "Data wystawienia", 1, 1),
        ("elblag", "expenses", "error", "Data zapłaty", 1, 1),
    ]
    assert all("31.02.2021" not in r[4] for r in result)  # messages do not quote the rejected cell


def test_9_eu_national_split_of_eligible_expenditure(conn, queries):
    assert rows(conn, queries[9]) == [
        ("elblag", "2021Q3", D("3500.00"), D("525.00"), D("4025.00"), D("3392.27"), D("632.73"), D("3392.27"),
         D("632.73")),
        ("srokowo", "2021Q3", D("2000.00"), D("300.00"), D("2300.00"), D("1938.44"), D("361.56"), D("1938.44"),
         D("361.56")),
    ]


def test_10_file_versions_behind_the_quarter(conn, queries):
    result = rows(conn, queries[10])
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in result] == [
        ("umowa", "budget", "elblag/umowa/budzet.csv", 1, 3),
        ("umowa", "indicator_targets", "elblag/umowa/wskazniki.csv", 1, 1),
        ("umowa", "milestones", "elblag/umowa/kamienie_milowe.csv", 1, 3),
        ("umowa", "services", "elblag/umowa/uslugi.csv", 1, 3),
        ("umowa", "spending_plan", "elblag/umowa/harmonogram.csv", 1, 2),
        ("2021Q3", "deliveries", "elblag/2021Q3/swiadczenia.csv", 1, 4),
        ("2021Q3", "expenses", "elblag/2021Q3/wydatki.csv", 1, 4),  # 4 received, 1 of them quarantined
        ("2021Q3", "participants", "elblag/2021Q3/uczestnicy.csv", 1, 3),
        ("2021Q3", "tranches", "elblag/2021Q3/transze.csv", 1, 1),
    ]
    assert all(len(r[4]) == 12 for r in result)


def test_lineage_examples_trace_a_figure_to_its_documents(conn):
    blocks = [sql for heading, sql in sql_blocks(DOCS.read_text(encoding="utf-8")) if heading.startswith("Skąd")]
    macro, joined = blocks
    assert rows(conn, macro) == [("2/2021", 2, D("1600.00"), "srokowo/2021Q3/wydatki.csv", 3, 1, True)]
    assert rows(conn, joined) == [
        ("elblag", "2021Q3", "elblag/2021Q3/wydatki.csv", 1, True, 3, D("3500.00"), D("3500.00")),
        ("srokowo", "2021Q3", "srokowo/2021Q3/wydatki.csv", 1, True, 2, D("2000.00"), D("2000.00")),
    ]


def split_check_sql() -> str:
    (sql,) = [sql for heading, sql in sql_blocks(DOCS.read_text(encoding="utf-8"))
              if heading.startswith("Konwencje")]
    return sql


def test_money_macros_of_the_copy_repeat_the_settlement_split(conn):
    result = rows(conn, split_check_sql())
    assert result == [("elblag", "4 025,00 zł", D("3392.27"), D("632.73"), True),
                      ("srokowo", "2 300,00 zł", D("1938.44"), D("361.56"), True)]
    assert all(row[-1] is True for row in result)


def _settlement_copy(published, tmp_path):
    import shutil

    import duckdb

    from assets.publish import current_copy

    path = tmp_path / "copy.duckdb"
    shutil.copy(current_copy(published), path)
    return duckdb.connect(str(path))


def test_split_check_follows_the_sum_of_the_quarters_not_the_rule_on_the_cumulative(published, tmp_path):
    """Two claims of 0,90 zł and 4 025,90 zł: EU 0,75 + 3 393,02 = 3 393,77 (each down to the
    grosz), while eu_part(4 026,80) = 3 393,78. The documented rule (cumulative = the sum of the
    quarters) holds, so the check is true; it is false once one quarter's split is wrong."""
    copy = _settlement_copy(published, tmp_path)
    try:
        copy.execute("""INSERT INTO report.settlement BY NAME
            SELECT * REPLACE ('2021Q2' AS quarter, 0.90 AS eligible_quarter, 0.75 AS eu_quarter,
                              0.15 AS national_quarter, 0.90 AS eligible_cumulative,
                              0.75 AS eu_cumulative, 0.15 AS national_cumulative)
            FROM report.settlement WHERE unit = 'elblag' AND quarter = '2021Q3'""")
        copy.execute("""UPDATE report.settlement SET eligible_quarter = 4025.90, eu_quarter = 3393.02,
            national_quarter = 632.88, eligible_cumulative = 4026.80, eu_cumulative = 3393.77,
            national_cumulative = 633.03 WHERE unit = 'elblag' AND quarter = '2021Q3'""")
        assert copy.sql("SELECT mart.eu_part(4026.80, 0.8428)").fetchone()[0] == D("3393.78")
        assert [(r[0], r[2], r[-1]) for r in rows(copy, split_check_sql())] == [
            ("elblag", D("3393.77"), True), ("srokowo", D("1938.44"), True)]
        # a wrong split of the first quarter (EU rounded up), the cumulatives still its sum
        copy.execute("""UPDATE report.settlement SET eu_quarter = eu_quarter + 0.01,
            national_quarter = national_quarter - 0.01, eu_cumulative = eu_cumulative + 0.01,
            national_cumulative = national_cumulative - 0.01 WHERE unit = 'elblag' AND quarter = '2021Q2'""")
        copy.execute("""UPDATE report.settlement SET eu_cumulative = eu_cumulative + 0.01,
            national_cumulative = national_cumulative - 0.01 WHERE unit = 'elblag' AND quarter = '2021Q3'""")
        assert [(r[0], r[-1]) for r in rows(copy, split_check_sql())] == [("elblag", False), ("srokowo", True)]
    finally:
        copy.close()


def test_generated_table_list_matches_what_is_published(conn):
    """Fails when a table or column is added to (or removed from) the copy without regenerating
    docs/sql.md: run `cus publish --write-docs` or CUS_WRITE_DOCS=1 pytest tests/test_sql_docs.py."""
    if os.environ.get("CUS_WRITE_DOCS"):
        write_table_docs(DOCS, conn)
    text = DOCS.read_text(encoding="utf-8")
    assert DOCS_BEGIN in text and DOCS_END in text
    missing, extra = docs_drift(conn, text)
    assert not missing, f"docs/sql.md does not document {missing}: run `cus publish --write-docs`"
    assert not extra, f"docs/sql.md documents tables that are not published: {extra}"
    assert generated_section(text) == render_table_docs(conn), "regenerate: `cus publish --write-docs`"


def docs_drift(conn, text: str) -> tuple[dict[str, list[str]], list[str]]:
    """(published columns the docs do not list, documented tables that are not published)."""
    published = {f"{s}.{t}": set() for s, t in conn.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    for s, t, c in conn.sql("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                            "WHERE database_name = current_database()").fetchall():
        published[f"{s}.{t}"].add(c)
    documented = documented_columns(text)
    missing = {t: sorted(cols - documented.get(t, set())) for t, cols in published.items()
               if cols - documented.get(t, set())}
    return missing, sorted(set(documented) - set(published))


def test_a_new_table_or_column_without_docs_is_caught(conn, tmp_path):
    """What the check above does when another engineer adds a report table or a column."""
    import duckdb

    text = DOCS.read_text(encoding="utf-8")
    copy = duckdb.connect(str(tmp_path / "grown.duckdb"))
    try:
        copy.execute("CREATE SCHEMA report; CREATE SCHEMA mart")
        copy.execute("CREATE TABLE report.new_table (unit VARCHAR, amount DECIMAL(18,2))")
        copy.execute("CREATE TABLE mart.fact_tranche (unit VARCHAR, new_column INTEGER)")
        missing, _ = docs_drift(copy, text)
        assert missing == {"report.new_table": ["amount", "unit"], "mart.fact_tranche": ["new_column"]}
        assert generated_section(text) != render_table_docs(copy)
    finally:
        copy.close()


def test_every_published_table_and_column_has_a_description(conn):
    section = render_table_docs(conn)
    assert "_(brak opisu" not in section
    empty = [line for line in section.splitlines() if re.match(r"^\| `[^`]+` \| [^|]+ \| \s*\|$", line)]
    assert not empty, empty
    # the person-grain tables are named as withheld, the lineage macros as available
    assert "- `mart.dim_participant`" in section and "- `mart.person_count`" in section
    assert "`report.lineage_expenses(p_unit, p_quarter, p_cumulative)`" in section
    assert "`mart.eu_part(amount, rate)`" in section and "report.lineage_persons" not in section


def test_docs_name_no_column_that_the_copy_drops(conn):
    """The example queries use only published columns (a dropped one would fail above), and the
    generated list shows no identifier column."""
    documented = documented_columns(DOCS.read_text(encoding="utf-8"))
    all_columns = set().union(*documented.values())
    assert not all_columns & {"person_key", "participant_id", "pesel", "birth_date", "item_name", "ipus_no"}
    assert "value" not in documented["staging.quarantine"]


# --------------------------------------------------------------------------------------------
# `cus sql` and `cus publish` as the coordinator types them


@pytest.fixture
def cli_env(published, monkeypatch):
    monkeypatch.setenv("CUS_PUBLISHED", str(published))
    monkeypatch.setenv("CUS_WAREHOUSE", str(published.parent / "warehouse" / "cus.duckdb"))
    monkeypatch.delenv("CUS_DEBUG", raising=False)
    return published


def test_cus_sql_prints_the_result_of_a_doc_query(cli_env, queries, capsys):
    from pipelines.tools.cli import main

    assert main(["sql", queries[9]]) == 0
    out = capsys.readouterr().out
    assert "3 392,27" in out and "1 938,44" in out and "(2 wiersze)" in out  # Polish number format
    assert main(["sql", "--csv", queries[2]]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "unit,quarter,cumulative_total,cumulative_women,cumulative_men", "elblag,2021Q3,3,2,1", "srokowo,2021Q3,1,1,0"]


@pytest.mark.parametrize("query, message", [
    ("SELECT * FROM mart.dim_participant", "nie jest publikowana w kopii do zapytań (RODO)"),
    ("SELECT * FROM report.nope", "nie ma takiej tabeli"),
    ("SELEC 1", "błąd składni SQL"),
    ("CREATE TABLE report.x (a INT)", "kopia jest tylko do odczytu"),
    ("COPY (SELECT 1) TO '/tmp/cus_sql_test.csv'", "dostęp do plików jest wyłączony"),
    ("", "Puste zapytanie"),
])
def test_cus_sql_bad_query_is_one_polish_line(cli_env, capsys, query, message):
    from pipelines.tools.cli import main

    assert main(["sql", query]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Błąd: ") and message in lines[0], captured.err
    assert "Traceback" not in captured.err and not captured.out


def test_cus_sql_without_a_copy_says_to_publish(tmp_path, monkeypatch, capsys):
    from pipelines.tools.cli import main

    monkeypatch.setenv("CUS_PUBLISHED", str(tmp_path / "nothing"))
    monkeypatch.delenv("CUS_DEBUG", raising=False)
    assert main(["sql", "SELECT 1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Błąd: Brak opublikowanej kopii") and "cus publish" in err and "\n" not in err


def test_shell_reads_statements_until_semicolon_and_reports_failures(cli_env):
    import io

    conn = connect_published(cli_env)
    try:
        out = io.StringIO()
        script = io.StringIO("SELECT count(*) AS n\n  FROM report.settlement;\n\\d report.advances\n"
                             "SELECT * FROM nope;\n\\q\nSELECT 1;\n")
        code = sql_shell.shell(conn, script, out, interactive=False)
        text = out.getvalue()
    finally:
        conn.close()
    assert code == 1  # a statement failed: scripts notice
    assert "│ 6   │" in text  # 2 units × 3 quarters of the grid
    assert "next_tranche_allowed" in text and "Zapytanie nie powiodło się" in text
    assert text.count("(1 wiersz)") == 1  # `\q` stopped before the last statement


def test_shell_commands_work_as_arguments_and_in_duckdb_cli_style(cli_env, capsys):
    from pipelines.tools.cli import main

    assert main(["sql", "\\d staging"]) == 0
    out = capsys.readouterr().out
    assert "staging.quarantine" in out and "staging.validation_summary" in out and "report." not in out
    assert main(["sql", ".schema report.advances"]) == 0
    assert "next_tranche_allowed" in capsys.readouterr().out
    assert main(["sql", "\\d mart.dim_participant"]) == 1  # withheld: not in the copy, and why
    assert capsys.readouterr().err.startswith("Błąd: Tabela mart.dim_participant nie jest publikowana")
    assert main(["sql", "\\d report.nope"]) == 1
    assert "Nie ma tabeli" in capsys.readouterr().err


def test_cus_publish_prints_progress_and_what_was_left_out(cli_env, tmp_path, monkeypatch, capsys):
    from pipelines.tools.cli import main

    monkeypatch.setenv("CUS_PUBLISHED", str(tmp_path / "again"))
    assert main(["publish"]) == 0
    out = capsys.readouterr().out
    assert "pominięto tabelę mart.dim_participant" in out and "(pominięto: item_name)" in out
    assert re.search(r"Gotowe: \d+ tabel[ae]?, \d{1,3}( \d{3})* wiersz(e|y)?\b", out)
    assert main(["publish"]) == 0 and "Bez zmian" in capsys.readouterr().out
    monkeypatch.setenv("CUS_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    assert main(["publish"]) == 1
    assert capsys.readouterr().err.strip().startswith("Błąd: Brak hurtowni")


@pytest.mark.parametrize("command, words", [("sql", ["Przykłady", "docs/sql.md", "--csv", "pokaż tę pomoc"]),
                                            ("publish", ["--write-docs", "Bez danych osobowych", "pokaż tę pomoc"])])
def test_help_texts_are_polish_with_examples(command, words, capsys):
    from pipelines.tools.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(w in out for w in words), out


def test_interactive_shell_prompts_continues_lines_and_survives_errors(cli_env):
    import io

    conn = connect_published(cli_env)
    try:
        out = io.StringIO()
        code = sql_shell.shell(conn, io.StringIO("SELECT 1 AS a,\n2 AS b;\nSELECT * FROM nope;\n\\q\n"), out,
                               interactive=True)
    finally:
        conn.close()
    text = out.getvalue()
    assert code == 0  # a terminal session does not fail on a typo
    assert text.startswith("cus> ...> ") and text.count("cus> ") == 3
    assert "(1 wiersz)" in text and "nie ma takiej tabeli" in text


WITHHELD_PARTICIPANT = (
    "Błąd: Zapytanie nie powiodło się: tabela mart.dim_participant nie jest publikowana w kopii do zapytań (RODO) — "
    "jeden wiersz na uczestnika (dane osobowe) — dostępne agregaty: report.participant_profile, report.indicators. "
    "Pominięte tabele i powody: SELECT * FROM meta.withheld_tables.")


@pytest.mark.parametrize("query", ["SELECT * FROM mart.dim_participant", "SELECT count(*) FROM dim_participant"])
def test_cus_sql_says_a_withheld_table_is_withheld_and_why_not_a_similar_name(cli_env, capsys, query):
    from pipelines.tools.cli import main

    assert main(["sql", query]) == 1
    err = capsys.readouterr().err.strip()
    assert err == WITHHELD_PARTICIPANT
    assert "Did you mean" not in err


def test_cus_sql_keeps_duckdb_candidate_column_hints(cli_env, capsys):
    from pipelines.tools.cli import main

    assert main(["sql", "SELECT shar FROM report.commissioned"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('Błąd: Zapytanie nie powiodło się: nieznana kolumna lub niezgodne typy — Binder Error: '
                          'Referenced column "shar" not found in FROM clause! Candidate bindings: ')
    assert '"share"' in err


def test_cus_sql_shows_shares_as_percentages_and_csv_keeps_the_numbers(cli_env, capsys):
    from pipelines.tools.cli import main

    query = ("SELECT CAST(0.3512 AS DECIMAL(9,4)) AS share, 0.5 AS done_pct, "
             "CAST(1234.5 AS DECIMAL(18,2)) AS burn_rate, CAST(NULL AS DECIMAL(9,4)) AS spent_share")
    assert main(["sql", query]) == 0
    row = capsys.readouterr().out.splitlines()[5]
    assert [c.strip() for c in row.strip("│").split("┆")] == ["35,12%", "50,00%", "1 234,50", "null"]
    assert main(["sql", "--csv", query]) == 0
    assert capsys.readouterr().out.splitlines() == ["share,done_pct,burn_rate,spent_share", "0.3512,0.5,1234.50,"]


@pytest.mark.parametrize("command", [[], ["demo"], ["sample"], ["run"], ["ingest"], ["reports"], ["publish"], ["sql"],
                                     ["status"], ["templates"], ["ui"]])
def test_the_whole_cli_help_is_polish(command, capsys):
    from pipelines.tools.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("użycie: cus") and "opcje:" in out and "-h, --help" in out and "pokaż tę pomoc i zakończ" in out
    for english in ("usage:", "options:", "positional arguments", "show this help", "UNIT", "QUARTER", "OUT"):
        assert english not in out, (command, english)


def test_cli_usage_errors_are_polish(capsys):
    from pipelines.tools.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--unit", "elblag"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "użycie: cus ingest [-h] --unit JEDNOSTKA --quarter KWARTAŁ [--no-reports]",
        "                   [--demo]",
        "cus ingest: błąd: brak wymaganych argumentów: --quarter"]
    with pytest.raises(SystemExit):
        main(["nic"])
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "cus: błąd: argument polecenie: nieznana wartość 'nic' (do wyboru: 'demo', 'sample',")
    with pytest.raises(SystemExit):
        main(["sql", "--max-rows", "dużo"])
    assert capsys.readouterr().err.splitlines()[-1] == "cus sql: błąd: argument --max-rows: 'dużo' nie jest liczbą"
