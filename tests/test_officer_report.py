"""What a ministry officer checks in a quarterly report (issue 13, items 5–8): the descriptive part
of the claim in HTML, PDF and XLSX, the list of expense documents, frozen panes and filters, the
sign-off block and the report version, official indicator names, natural sort, one unit order,
totals rows, the glossary, readable charts — and the optional landing file they come from.

Reports are written from the hand-made warehouse of tests/report_fixtures.py (figures chosen by
hand; expectations below are computed by hand from those rows).
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from decimal import Decimal

import duckdb
import openpyxl
import pypdf
import pytest
import report_fixtures as fx
from test_reports import NBSP, _Page, pl_money

from core.registry import load_units
from reports import queries
from reports.charts import spending_vs_plan, wrap_label
from reports.generate import write_quarter_reports
from reports.ordering import natural_key
from reports.sections.documents import documents_section
from reports.signoff import FROM_CONFIG, FROM_FILE, resolve_signoff

QUARTER = fx.QUARTER
KEYS = ("elblag", "srokowo", "zbiorczy")


def units():
    return [u for u in load_units() if u.key in fx.UNITS]


def names() -> dict[str, str]:
    return {u.key: u.name for u in units()}


def write_reports(warehouse, root, with_pdf=False):
    with queries.read_only(warehouse) as conn:
        inputs = queries.load_report_inputs(conn, QUARTER, units())
    assert inputs.missing == []
    return {f.unit_key: f for f in write_quarter_reports(inputs, root, with_pdf=with_pdf)}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("officer")
    warehouse = fx.build_warehouse(root / "cus.duckdb")
    return write_reports(warehouse, root / "reports", with_pdf=True)


@pytest.fixture(scope="module")
def pages(files):
    out = {}
    for key in KEYS:
        html = files[key].html.read_text(encoding="utf-8")
        page = _Page()
        page.feed(html)
        out[key] = (html, page)
    return out


@pytest.fixture(scope="module")
def workbooks(files):
    return {key: openpyxl.load_workbook(files[key].xlsx) for key in KEYS}


@pytest.fixture(scope="module")
def pdf_texts(files):
    out = {}
    for key in KEYS:
        done = subprocess.run(["pdftotext", str(files[key].pdf), "-"], capture_output=True, check=True, timeout=60)
        out[key] = " ".join(done.stdout.decode("utf-8").replace(NBSP, " ").split())
    return out


def words(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# 6. the descriptive part of the claim


def test_narrative_in_html_pdf_and_xlsx_beside_the_flags(pages, pdf_texts, workbooks):
    _, page = pages["elblag"]
    assert page.tables["opis-postep"] == [{"task_label": "1. Diagnoza potrzeb", "narrative_text": fx.NARRATIVE_PROGRESS}]
    assert page.tables["opis-problemy"] == [{"narrative_text": fx.NARRATIVE_PROBLEM}]
    assert page.tables["opis-plan"] == [{"narrative_text": fx.NARRATIVE_PLAN}]
    html, _ = pages["elblag"]
    assert html.index('id="opis"') < html.index('id="ryzyka"')  # the automatic flags follow the unit's words
    for text in (fx.NARRATIVE_PROBLEM, fx.NARRATIVE_PLAN, "diagnoza potrzeb zakończona"):
        assert text in pdf_texts["elblag"], text
    cells = {c.value for row in workbooks["elblag"]["Opis postępu"].iter_rows() for c in row}
    assert {fx.NARRATIVE_PROGRESS, fx.NARRATIVE_PROBLEM, fx.NARRATIVE_PLAN} <= cells
    # Srokowo sent no opis_postepu: the report says so, the flags are still there.
    html, page = pages["srokowo"]
    assert "Jednostka nie przekazała za ten kwartał opisu postępu" in html
    assert page.tables["flagi"][0]["message"].startswith("Rozliczono 64,3%")
    # Consolidated: the unit's text with its name.
    _, page = pages["zbiorczy"]
    assert page.tables["opis-problemy"] == [{"unit_name": names()["elblag"], "narrative_text": fx.NARRATIVE_PROBLEM}]
    assert fx.NARRATIVE_PLAN in pdf_texts["zbiorczy"]


# ---------------------------------------------------------------------------------------------
# 5. sign-off and version


def test_signoff_and_version_on_the_title_page_and_in_the_file_metadata(files, pages, pdf_texts, workbooks):
    html, page = pages["elblag"]
    header = html[html.index("<header>"):html.index("</header>")]
    assert fx.PREPARED_BY in header and fx.APPROVED_BY in header and "11.10.2021" in header
    assert 'data-version="1"' in header and "Wersja raportu: <strong>1</strong>" in header
    assert page.tables["podpisy"] == [
        {"prepared_by": fx.PREPARED_BY, "prepared_on": "11.10.2021"},
        {"approved_by": fx.APPROVED_BY, "approved_on": "11.10.2021"}]
    assert '<meta name="report-version" content="1">' in html
    assert re.search(r"<title>Raport kwartalny — .* — III kwartał 2021 — wersja 1</title>", html)
    first_page = words(pypdf.PdfReader(files["elblag"].pdf).pages[0].extract_text()).replace(NBSP, " ")
    assert "Wersja raportu: 1" in first_page and fx.PREPARED_BY in first_page and fx.APPROVED_BY in first_page
    assert pypdf.PdfReader(files["elblag"].pdf).metadata.title.endswith("III kwartał 2021 — wersja 1")
    wb = workbooks["elblag"]
    assert wb.properties.title.endswith("— wersja 1") and "wersja 1" in wb.properties.subject
    ident = {r[0]: r[1] for r in wb["Identyfikacja"].iter_rows(values_only=True) if r[0]}
    assert ident["Sporządził(a)"] == fx.PREPARED_BY and ident["Zatwierdził(a)"] == fx.APPROVED_BY
    assert ident["Data zatwierdzenia"].date() == fx.SIGNED_ON and ident["Wersja raportu"].startswith("1")
    # The consolidated report has no unit file: lines to sign by hand, the source said.
    _, page = pages["zbiorczy"]
    assert page.tables["podpisy"][0] == {"prepared_by": "", "prepared_on": ""}
    assert FROM_CONFIG in pages["zbiorczy"][0]


def test_version_grows_only_when_the_content_changes(tmp_path):
    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb")
    root = tmp_path / "reports"
    assert {k: f.report.version for k, f in write_reports(warehouse, root).items()} == \
        {"elblag": 1, "srokowo": 1, "zbiorczy": 1}
    # Rebuilt without a change: same number.
    assert {k: f.report.version for k, f in write_reports(warehouse, root).items()} == \
        {"elblag": 1, "srokowo": 1, "zbiorczy": 1}
    # A corrected expense document of Elbląg: its report and the consolidated one become version 2.
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("UPDATE mart.fact_expense SET eligible_amount = 1200.00 WHERE document_no = 'FV/2021/07/0012'")
    rebuilt = write_reports(warehouse, root)
    assert {k: f.report.version for k, f in rebuilt.items()} == {"elblag": 2, "srokowo": 1, "zbiorczy": 2}
    html = rebuilt["elblag"].html.read_text(encoding="utf-8")
    assert '<meta name="report-version" content="2">' in html
    assert openpyxl.load_workbook(rebuilt["elblag"].xlsx).properties.title.endswith("— wersja 2")


def test_signoff_from_configuration_when_the_unit_sent_no_file():
    config = {"prepared_by": "Zespół rozliczeń", "approved_by": "",
              "units": {"srokowo": {"approved_by": "Kierownik CUS Srokowo"}}}
    s = resolve_signoff("srokowo", [], config)
    assert (s.prepared_by, s.approved_by, s.approved_on, s.source) == \
        ("Zespół rozliczeń", "Kierownik CUS Srokowo", None, FROM_CONFIG)
    s = resolve_signoff("elblag", [], config)
    assert (s.prepared_by, s.approved_by) == ("Zespół rozliczeń", None)  # empty -> a line to sign by hand
    rows = [{"part": "approved_by", "narrative_text": " Dyrektor ", "signed_on": date(2021, 10, 11)},
            {"part": "plan", "narrative_text": "tekst"}]
    s = resolve_signoff("elblag", rows, config)
    assert (s.prepared_by, s.approved_by, s.approved_on, s.source) == \
        ("Zespół rozliczeń", "Dyrektor", date(2021, 10, 11), FROM_FILE)


# ---------------------------------------------------------------------------------------------
# 7. XLSX annex


def test_xlsx_lists_the_quarters_expense_documents_with_the_claims_columns(workbooks):
    ws = workbooks["elblag"]["Dokumenty"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "Nr dokumentu")
    assert list(rows[header]) == [
        "Nr dokumentu", "NIP wystawcy", "Data wystawienia", "Data zapłaty", "Kwota dokumentu brutto",
        "Kwota dokumentu netto", "Kwota wydatków kwalifikowalnych", "W tym VAT", "Nr zadania", "Kategoria kosztów",
        "Faktura korygująca", "Cross-financing", "Środek trwały", "Usługa zlecona"]
    body = rows[header + 1:header + 5]
    # The quarter's three documents (the 2021Q2 one is not in this claim), by task and category.
    assert [r[0] for r in body[:3]] == ["FV/2021/07/0012", "KOR/2021/09/0001", "FV/2021/08/0044"]
    kor = body[1]
    assert kor[1] == "5260250274" and kor[2].date() == date(2021, 9, 1) and kor[3].date() == date(2021, 9, 3)
    assert kor[4:10] == (-123, -100, -123, -23, 1, "1.1") and kor[10:] == ("tak", "nie", "nie", "nie")
    assert body[2][12] == "tak"  # fixed asset
    # Totals by hand: 1 230 + 24 600 − 123; 1 000 + 20 000 − 100; 1 230 + 20 000 − 123; 230 + 0 − 23.
    assert body[3][0] == "Razem (3 dok.)" and body[3][4:8] == (25707, 20900, 21107, 207)
    cell = ws.cell(row=header + 2, column=5)
    assert cell.data_type == "n" and "zł" in cell.number_format
    # The free text of the documents (may hold names) is never in the annex.
    for wb in workbooks.values():
        assert not any("Kowalczykowska" in str(c.value) for s in wb for r in s.iter_rows() for c in r)
    # Consolidated: every unit's documents with the unit's name, registry order.
    rows = list(workbooks["zbiorczy"]["Dokumenty"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Jednostka")
    assert [r[0] for r in rows[header + 1:header + 5]] == [names()["elblag"]] * 3 + [names()["srokowo"]]
    assert rows[header + 5][0] == "Razem (4 dok.)" and rows[header + 5][7] == 201107


def test_correction_column_only_when_the_warehouse_has_it():
    row = {"unit": "elblag", "document_no": "FV/1", "gross_amount": Decimal("1.00"), "net_amount": Decimal("1.00"),
           "eligible_amount": Decimal("1.00"), "vat_amount": Decimal("0.00")}
    without = documents_section([row], "unit", names(), ["elblag"]).tables[0]
    assert "Faktura korygująca" not in [c.label for c in without.columns]
    with_it = documents_section([{**row, "correction": True}], "unit", names(), ["elblag"]).tables[0]
    assert "Faktura korygująca" in [c.label for c in with_it.columns]


def test_every_sheet_has_frozen_header_rows_and_filters(files, workbooks):
    for key, wb in workbooks.items():
        report = files[key].report
        assert len(wb.sheetnames) == len(report.sections)
        for ws, section in zip(wb, report.sections):
            assert ws.freeze_panes is not None, (key, ws.title)
            assert int(re.sub(r"\D", "", ws.freeze_panes)) >= 3, (key, ws.title)  # at least the two title rows
            # one Excel table with filter buttons per table that has rows
            assert len(ws.tables) == len([t for t in section.tables if t.rows]), (key, ws.title)
            for table in ws.tables.values():
                assert table.autoFilter is not None and table.autoFilter.ref == table.ref, (key, ws.title)
    # A one-table sheet keeps its column headers in view: title, subtitle, blank, table title, header.
    assert workbooks["elblag"]["Dokumenty"].freeze_panes == "A6"
    assert workbooks["elblag"]["Słownik"].freeze_panes == "A6"
    # A totals row stays outside the filtered range (sorting never moves it).
    ws = workbooks["zbiorczy"]["Dokumenty"]
    (table,) = ws.tables.values()
    last = int(re.sub(r"\D", "", table.ref.split(":")[1]))
    assert str(ws.cell(row=last + 1, column=1).value).startswith("Razem")


def test_xlsx_shares_are_stored_unrounded_and_formatted_as_percent(workbooks):
    ws = workbooks["zbiorczy"]["Postęp finansowy"]
    rows = list(ws.iter_rows())
    header = next(i for i, r in enumerate(rows) if any(c.value == "Rozliczono" for c in r))
    col = next(j for j, c in enumerate(rows[header]) if c.value == "Rozliczono")
    elblag = next(r for r in rows[header + 1:] if r[0].value == names()["elblag"])
    # The fixture's warehouse share is rounded to 4 decimals (0,8230); the annex holds the exact ratio
    # 1 234 567,90 / 1 500 000,00 = 0,823045266…
    exact = Decimal("1234567.90") / Decimal("1500000.00")
    assert fx.ADVANCES[0]["spent_share"] == Decimal("0.8230")
    assert abs(Decimal(str(elblag[col].value)) - exact) < Decimal("1e-12") and elblag[col].number_format == "0.0%"


# ---------------------------------------------------------------------------------------------
# 8. names, glossary, order, totals, wording, charts


def test_indicators_by_official_name_and_unit_with_the_code_last(pages):
    html, page = pages["elblag"]
    head = html[html.index('data-table="wskazniki"'):]
    labels = re.findall(r"<th[^>]*>([^<]+)</th>", head[:head.index("</thead>")])
    assert labels[:2] == ["Wskaźnik (nazwa z katalogu)", "Jednostka miary"] and labels[-1] == "Kod (wewnętrzny)"
    row = next(r for r in page.tables["wskazniki"] if r["code"] == "PROD_OSOBY_USLUGI")
    ind = next(r for r in fx.INDICATORS if r["unit"] == "elblag" and r["code"] == "PROD_OSOBY_USLUGI")
    assert (row["name"], row["measure_unit"]) == (ind["name"], ind["measure_unit"])


def test_glossary_defines_the_value_of_services(pages, workbooks):
    _, page = pages["elblag"]
    terms = {r["term"]: r["definition"] for r in page.tables["slownik"]}
    assert "może przekroczyć budżet projektu" in terms["Wartość usług"]
    assert {"% realizacji wskaźnika", "Koszty pośrednie", "EFS / budżet państwa", "Reguła 70% (zaliczki)",
            "Wersja raportu"} <= set(terms)
    assert any(c.value == "Wartość usług" for r in workbooks["zbiorczy"]["Słownik"].iter_rows() for c in r)


def test_natural_sort_of_cost_categories(pages):
    assert sorted(["3.10", "3.2", "3.1", "10.1", "2"], key=natural_key) == ["2", "3.1", "3.2", "3.10", "10.1"]
    _, page = pages["elblag"]
    categories = [r["cost_category"] for r in page.tables["wydatki-kategorie"]]
    assert categories == ["1.1", "2.1", "2.2", "2.10", "Razem"]  # then the totals row
    # The list of documents too (the SQL sorts text: 3.10 before 3.2).
    docs = [{"unit": "elblag", "task_no": 3, "cost_category": c, "document_no": n, "issue_date": date(2021, 8, d)}
            for c, n, d in (("3.10", "FV/1", 1), ("3.2", "FV/10", 2), ("3.2", "FV/9", 2), ("3.1", "FV/2", 3))]
    table = documents_section(docs, "unit", names(), ["elblag"]).tables[0]
    assert [(r["cost_category"], r["document_no"]) for r in table.rows] == \
        [("3.1", "FV/2"), ("3.2", "FV/9"), ("3.2", "FV/10"), ("3.10", "FV/1")]


def test_one_unit_order_the_registry_order(pages):
    _, page = pages["zbiorczy"]
    registry = [u.name for u in units()]  # Elbląg before Srokowo (alphabetically Centrum… would come first)
    assert registry == sorted(registry, reverse=True)
    for table in ("kamienie", "flagi", "pliki", "kwarantanna", "wskazniki-jednostki", "zaliczki"):
        seen = [r["unit_name"] for r in page.tables[table] if r.get("unit_name") in registry]
        assert seen == sorted(seen, key=registry.index) and seen, table


def test_totals_rows_in_consolidated_tables(pages):
    _, page = pages["zbiorczy"]
    total = page.tables["zaliczki"][-1]
    assert total["unit_name"] == "Razem"
    assert total["received_total"] == pl_money(Decimal("2700000.00"))  # 1 500 000 + 1 200 000
    assert total["spent"] == pl_money(Decimal("1987037.15"))
    assert total["spent_share"] == "73,6%"  # 1 987 037,15 / 2 700 000
    # rows by reason are no count of rows (warnings accepted, a row with two errors under both): no totals row
    assert [r.get("unit_name") for r in page.tables["kwarantanna"]] == [names()["elblag"]] * 5 + [names()["srokowo"]]
    assert page.tables["zlecanie-jednostki"][-1]["unit_name"] == "Razem"
    # Elbląg 180 000 + 1 993 900 + 10 000 + 20 000, Srokowo 120 000 + 2 044 670
    assert page.tables["wydatki-kategorie"][-1]["budget"] == pl_money(Decimal("4368570.00"))


def test_plural_wording_in_the_consolidated_report(pages):
    html, _ = pages["zbiorczy"]
    assert "Sprawozdanie zbiorcze z realizacji projektów jednostek" in html
    assert "Usługi według katalogów usług jednostek" in html
    assert "Identyfikacja projektów i okresu sprawozdawczego" in html
    assert "Usługi według katalogu usług jednostki<" in pages["elblag"][0]


def test_chart_labels_are_wrapped_not_cut_and_quarters_slanted():
    name = fx.INDICATORS[1]["name"]
    label = wrap_label(name)
    assert label.replace("<br>", " ") == name and all(len(line) <= 42 for line in label.split("<br>"))
    rows = [{"quarter": q, "planned_cum": Decimal(i), "actual_cum": None}
            for i, q in enumerate(["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2", "2022Q3", "2022Q4",
                                   "2023Q1", "2023Q2", "2023Q3"])]
    html = spending_vs_plan(rows).fragment
    assert '"tickangle":-45' in html.replace(" ", "")


# ---------------------------------------------------------------------------------------------
# the landing file (contract, validation, template)


def test_opis_postepu_is_ingested_and_validated(tmp_path, resources):
    from validation_fixtures import Pipeline, folder, write_csv

    pipe = Pipeline(tmp_path, resources)
    pipe.load_baseline("budget")
    write_csv(folder(pipe.landing) / "opis_postepu.csv", ["Część", "Nr zadania", "Treść", "Data"], [
        ["Postęp rzeczowy", "1", "Diagnoza zakończona.", ""],
        ["Postęp rzeczowy", "7", "Zadanie spoza budżetu.", ""],
        ["Problemy", "", "Absencja kadry; zastępstwa.", ""],
        ["Plan na następny kwartał", "", "Mieszkania treningowe.", ""],
        ["Uwagi", "", "Część spoza listy.", ""],
        ["Zatwierdził(a)", "", "Dyrektor CUS", "01.06.2021"],
        ["Sporządził(a)", "", "Koordynator projektu", "11.10.2021"],
    ])
    outcome = pipe.run("narrative")
    assert outcome.success, outcome.failure
    assert pipe.staged("narrative", "part, task_no, narrative_text, signed_on") == [
        ("progress", 1, "Diagnoza zakończona.", None),
        ("progress", 7, "Zadanie spoza budżetu.", None),
        ("problems", None, "Absencja kadry; zastępstwa.", None),
        ("plan", None, "Mieszkania treningowe.", None),
        ("prepared_by", None, "Koordynator projektu", date(2021, 10, 11)),
    ]
    assert [(r[0], r[1], r[2], r[3]) for r in pipe.quarantine("narrative")] == [
        (3, "task_no", "task_in_budget", "warning"),
        (6, "part", "allowed_values", "error"),
        (7, "signed_on", "date_not_before_quarter", "error"),
    ]


def test_template_for_opis_postepu_from_the_contract(tmp_path):
    from core.contract import dataset
    from pipelines.tools.templates import write_template

    path = write_template(dataset("narrative"), tmp_path)
    assert path.name == "opis_postepu.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = wb["opis_postepu"]
    assert [c.value for c in sheet[1]] == ["Część", "Nr zadania", "Treść", "Data"]
    assert [c.value for c in wb["Listy"]["A"]] == ["Postęp rzeczowy", "Problemy i działania naprawcze",
                                                   "Plan na następny kwartał", "Sporządził(a)", "Zatwierdził(a)"]
    assert str(sheet.data_validations.dataValidation[0].sqref).startswith("A2")
