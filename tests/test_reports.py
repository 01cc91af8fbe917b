"""Quarterly reports end to end on a small warehouse made by code (tests/report_fixtures.py).

The Dagster asset `report/quarterly_reports` runs once per module (PDF printing is the slow part)
and every test reads the files it wrote: figures in the HTML, XLSX and PDF equal the warehouse
values, charts are drawn, no personal data, small sensitive counts suppressed, no formula injection.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import subprocess
import urllib.request
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import dagster as dg
import openpyxl
import pypdf
import pytest
import report_fixtures as fx

from core.registry import load_units
from core.resources import LandingResource, ReportsResource, WarehouseResource
from pipelines.partitions import quarter_partitions
from reports import queries
from reports.builder import CONSOLIDATED, build_report
from reports.formatting import Suppressed
from reports.html import plotly_js, render_html
from reports.settings import ReportSettings

NBSP = "\u00a0"
QUARTER = fx.QUARTER  # 2021Q3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

PARTITION = "2021-07-01"
REPORTS = ("elblag", "srokowo", CONSOLIDATED)
CHARTS = ("chart-indicators", "chart-participants", "chart-areas", "chart-spending")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


def units():
    return [u for u in load_units() if u.key in fx.UNITS]


def settlement(unit: str) -> dict:
    return next(r for r in fx.SETTLEMENT if r["unit"] == unit)


def pl_money(value: Decimal) -> str:
    """Hand-rolled Polish money (independent of reports.formatting): 1234567.9 -> '1 234 567,90 zł'."""
    whole, frac = f"{Decimal(value):.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{NBSP.join(groups)},{frac}{NBSP}zł"


# ---------------------------------------------------------------------------------------------
# the run (module scope: one Dagster materialization, PDFs printed once)


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    from assets.report.report_files import REPORT_FILES_KEY, build_report_file_assets

    root = tmp_path_factory.mktemp("reports_run")
    warehouse = fx.build_warehouse(root / "warehouse" / "cus.duckdb")
    port = _free_port()
    (asset,) = build_report_file_assets(quarter_partitions(load_units()), units=tuple(load_units()))
    result = dg.materialize(
        [asset],
        partition_key=PARTITION,
        resources={"warehouse": WarehouseResource(path=str(warehouse)),
                   "reports": ReportsResource(root=str(root / "reports"), port=port),
                   "landing": LandingResource(root=str(root / "landing"))},
        run_config={"ops": {"report__quarterly_reports": {"config": {"units": list(fx.UNITS)}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("report__quarterly_reports")
    assert materialization.asset_key == REPORT_FILES_KEY
    files = {key: {ext: root / "reports" / QUARTER / key / f"raport_{key}_{QUARTER}.{ext}"
                   for ext in ("html", "pdf", "xlsx")} for key in REPORTS}
    return {"root": root, "files": files, "metadata": materialization.metadata, "warehouse": warehouse, "port": port}


class _Page(HTMLParser):
    """Visible text, table cells by data-table/data-col, facts by label; scripts and styles skipped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.facts: dict[str, str] = {}
        self._skip = 0
        self._table: str | None = None
        self._row: dict[str, str] | None = None
        self._cell: str | None = None
        self._fact: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._cell, self._buffer = attrs.get("data-col"), []
        elif tag == "dd" and "data-fact" in attrs:
            self._fact, self._buffer = attrs["data-fact"], []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "td" and self._cell is not None:
            self._row[self._cell] = "".join(self._buffer).strip()
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dd" and self._fact is not None:
            self.facts[self._fact] = "".join(self._buffer).strip()
            self._fact = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None or self._fact is not None:
            self._buffer.append(data)


@pytest.fixture(scope="module")
def pages(produced) -> dict[str, tuple[str, _Page]]:
    out = {}
    for key in REPORTS:
        html = produced["files"][key]["html"].read_text(encoding="utf-8")
        page = _Page()
        page.feed(html)
        out[key] = (html, page)
    return out


def row_of(page: _Page, table: str, **match) -> dict[str, str]:
    rows = [r for r in page.tables[table] if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, (table, match, page.tables.get(table))
    return rows[0]


@pytest.fixture(scope="module")
def workbooks(produced):
    return {key: openpyxl.load_workbook(produced["files"][key]["xlsx"]) for key in REPORTS}


def xlsx_rows(ws, key: str) -> list[list]:
    """Values of the rows of a sheet holding a cell equal to `key`, top to bottom."""
    return [[c.value for c in row] for row in ws.iter_rows() if any(c.value == key for c in row)]


def xlsx_row(ws, key: str) -> list:
    rows = xlsx_rows(ws, key)
    assert len(rows) == 1, (ws.title, key, rows)
    return rows[0]


@pytest.fixture(scope="module")
def pdf_texts(produced) -> dict[str, str]:
    texts = {}
    for key in REPORTS:
        done = subprocess.run(["pdftotext", "-layout", str(produced["files"][key]["pdf"]), "-"],
                              capture_output=True, check=True, timeout=60)
        texts[key] = done.stdout.decode("utf-8").replace(NBSP, " ")
    return texts


# ---------------------------------------------------------------------------------------------
# files and metadata


def test_asset_writes_html_pdf_xlsx_per_unit_and_consolidated_with_links_in_metadata(produced):
    """Issue 13: the metadata links every file over HTTP (the UI kills file:// links); the link
    served by the report server of `cus ui` returns the file itself."""
    from pipelines.tools.report_server import start_report_server

    meta = produced["metadata"]
    base = f"http://127.0.0.1:{produced['port']}"
    server = start_report_server(produced["root"] / "reports", produced["port"])
    try:
        for key in REPORTS:
            for ext, path in produced["files"][key].items():
                assert path.exists() and path.stat().st_size > 1000, path
                value = meta[f"{key} ({ext.upper()})"]
                assert isinstance(value, dg.UrlMetadataValue)
                assert value.url == f"{base}/{QUARTER}/{key}/raport_{key}_{QUARTER}.{ext}"
                with urllib.request.urlopen(value.url, timeout=10) as response:
                    assert response.read() == path.read_bytes()
    finally:
        server.stop()
    assert meta["raporty"].value == 3 and meta["pliki"].value == 9
    assert isinstance(meta["pliki raportów"], dg.MarkdownMetadataValue)
    assert (f"[raport_zbiorczy_{QUARTER}.pdf]({base}/{QUARTER}/zbiorczy/raport_zbiorczy_{QUARTER}.pdf)"
            in meta["pliki raportów"].value)
    assert "file://" not in meta["pliki raportów"].value
    assert meta["brakujące tabele"].value == "—"
    # No temporary files left behind.
    leftovers = [p for p in (produced["root"] / "reports").rglob("*") if p.is_file() and ".tmp" in p.name]
    assert leftovers == []


def test_asset_depends_on_every_report_table():
    from assets.report.report_files import build_report_file_assets

    (asset,) = build_report_file_assets(quarter_partitions(load_units()))
    deps = {key.path[1] for key in asset.dependency_keys if key.path[0] == "report"}
    # independent of queries.SOURCE_TABLES (which the asset is built from): the report tables the
    # report's rendered SQL actually reads, and the same list written out by hand
    from reports.readers import READS, sql_for

    read = set()
    read_mart = set()
    for entry in READS:
        read |= set(re.findall(r"\b(?:FROM|JOIN)\s+report\.([a-z_]+)", sql_for(entry.name), re.I))
        read_mart |= set(re.findall(r"\b(?:FROM|JOIN)\s+mart\.([a-z_]+)", sql_for(entry.name), re.I))
    assert deps == read == {
        "indicators", "participant_profile", "services_by_area", "services_by_mode", "services_by_service",
        "commissioned", "finance_by_task", "finance_by_category", "plan_vs_actual", "settlement", "advances",
        "data_quality", "quarantine_reasons", "flags", "milestones"}
    # and the mart tables of the claim's list of documents and its descriptive part (issue 13)
    mart = {key.path[1] for key in asset.dependency_keys if key.path[0] == "mart"}
    assert mart == read_mart == {"fact_expense", "narrative"}
    assert {key.path[0] for key in asset.dependency_keys} == {"report", "mart"}


def test_html_is_one_offline_file_with_plotly_inlined_once(pages):
    bundle = plotly_js()
    for key, (html, _page) in pages.items():
        assert html.count(bundle) == 1, key
        assert re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE) is None, key
        assert re.search(r"<link[^>]*\bhref\s*=", html, re.IGNORECASE) is None, key
        for chart in CHARTS:
            assert f'id="{chart}"' in html, (key, chart)


def test_inlined_plotly_is_the_basic_bundle_of_plotly_pys_version_and_pages_stay_small(produced, pages):
    import gzip

    import plotly.offline

    from reports.html import PLOTLY_BUNDLE

    source = gzip.decompress(base64.b64decode(plotly_js())).decode("utf-8")
    assert source == PLOTLY_BUNDLE.read_text(encoding="utf-8")
    # The partial bundle (scatter, bar, pie) at the plotly.js version plotly.py writes figures for.
    assert f"plotly.js (basic - minified) v{plotly.offline.get_plotlyjs_version()}" in source[:200]
    for key in REPORTS:
        size = produced["files"][key]["html"].stat().st_size
        assert size <= 1_500_000, (key, size)  # issue 11: a self-contained report of at most 1,5 MB


# ---------------------------------------------------------------------------------------------
# figures: HTML and XLSX equal the warehouse


def test_unit_html_figures_equal_warehouse(pages):
    for unit in fx.UNITS:
        _, page = pages[unit]
        s = settlement(unit)
        assert page.facts["Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)"] == \
            pl_money(s["eligible_cumulative"])
        assert page.facts["Budżet projektu"] == pl_money(s["budget_total"])
        for item, quarter_key, cumulative_key in (
            ("Koszty bezpośrednie", "direct_quarter", "direct_cumulative"),
            ("Wydatki kwalifikowalne ogółem", "eligible_quarter", "eligible_cumulative"),
            ("w tym EFS (84,28%, zaokrąglenie w dół do grosza)", "eu_quarter", "eu_cumulative"),
            ("w tym budżet państwa (reszta)", "national_quarter", "national_cumulative"),
        ):
            row = row_of(page, "rozliczenie", item=item)
            assert (row["quarter"], row["cumulative"]) == (pl_money(s[quarter_key]), pl_money(s[cumulative_key]))
        for ind in (r for r in fx.INDICATORS if r["unit"] == unit and r["measure_unit"] != "%"):
            row = row_of(page, "wskazniki", code=ind["code"])
            assert row["target_total"] == f"{ind['target_total']:,}".replace(",", NBSP)
            assert row["cumulative_total"] == f"{ind['cumulative_total']:,}".replace(",", NBSP)
    # Hand-checked literals (Polish formats): Elbląg 1 073 537,30 + 15% = 1 234 567,90 zł.
    _, elblag = pages["elblag"]
    text = "".join(elblag.text)
    assert f"1{NBSP}234{NBSP}567,90{NBSP}zł" in text and f"161{NBSP}030,60{NBSP}zł" in text
    assert row_of(elblag, "wskazniki", code="PROD_OSOBY_USLUGI")["pct"] == "86,7%"  # 1 214 / 1 400
    share = row_of(elblag, "wskazniki", code="REZ_ZLECANIE")  # a share indicator prints percentages
    assert (share["target_total"], share["cumulative_total"], share["pct"]) == ("35,0%", "19,7%", "56,3%")
    assert "31.07.2023" in text and "05.08.2020" in text  # project end, agreement signed
    assert row_of(elblag, "kamienie", code="KM1")["achieved_date"] == "15.06.2021"
    assert row_of(elblag, "plan-wykonanie", quarter="III kwartał 2021")["actual"] == \
        pl_money(settlement("elblag")["eligible_quarter"])
    # File versions: the quarter's current versions and the agreement files only.
    files = {(r["source_file"], r["version_no"]) for r in elblag.tables["pliki"]}
    assert files == {("elblag/2021Q3/uczestnicy.xlsx", "2"), ("elblag/2021Q3/wydatki.csv", "1"),
                     ("elblag/umowa/budzet.csv", "1")}


def test_consolidated_html_sums_units(pages):
    _, page = pages[CONSOLIDATED]
    total = sum(settlement(u)["eligible_cumulative"] for u in fx.UNITS)
    assert total == Decimal("1987037.15")
    assert page.facts["Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)"] == pl_money(total)
    eu = sum(settlement(u)["eu_quarter"] for u in fx.UNITS)
    assert row_of(page, "rozliczenie", item="w tym EFS (84,28%, zaokrąglenie w dół do grosza)")["quarter"] == \
        pl_money(eu)
    row = row_of(page, "wskazniki", code="PROD_OSOBY_USLUGI")
    assert (row["target_total"], row["cumulative_total"]) == (f"1{NBSP}650", f"1{NBSP}332")
    # Shares are never summed over units; the per-unit table shows them.
    assert not [r for r in page.tables["wskazniki"] if r["code"] == "REZ_ZLECANIE"]
    assert {r["cumulative_total"] for r in page.tables["wskazniki-jednostki"] if r["code"] == "REZ_ZLECANIE"} == \
        {"19,7%", "40,0%"}
    assert {r["unit_name"] for r in page.tables["jednostki"][:-1]} == {u.name for u in units()}


def test_xlsx_numbers_are_numbers_equal_to_warehouse(workbooks):
    for unit in fx.UNITS:
        wb = workbooks[unit]
        assert {"Identyfikacja", "Postęp rzeczowy", "Profil uczestników", "Usługi", "Postęp finansowy",
                "Jakość danych", "Ryzyka", "Kamienie milowe"} <= set(wb.sheetnames)
        ws = wb["Postęp finansowy"]
        s = settlement(unit)
        for item, quarter_key, cumulative_key in (("Koszty bezpośrednie", "direct_quarter", "direct_cumulative"),
                                                  ("Wydatki kwalifikowalne ogółem", "eligible_quarter",
                                                   "eligible_cumulative")):
            row = xlsx_row(ws, item)
            assert Decimal(str(row[1])) == s[quarter_key] and Decimal(str(row[2])) == s[cumulative_key]
        money_cells = [c for r in ws.iter_rows() for c in r if c.value == float(s["eligible_cumulative"])]
        assert money_cells and all(c.data_type == "n" and "#,##0.00" in c.number_format for c in money_cells)
        ws = wb["Postęp rzeczowy"]
        for ind in (r for r in fx.INDICATORS if r["unit"] == unit):
            main, *by_sex = xlsx_rows(ws, ind["code"])
            if ind["measure_unit"] == "%":
                assert main[3] == float(ind["target_total"]) and main[5] == float(ind["cumulative_total"])
                assert by_sex == []
                continue  # main table, then the table by sex
            assert main[2:6] == [ind["kind"], ind["target_total"], ind["quarter_total"], ind["cumulative_total"]]
            assert Decimal(str(main[6])).quantize(Decimal("0.0001")) == ind["pct"]
            if ind["target_women"] is not None:
                assert by_sex[0][2:8] == [ind[k] for k in ("target_women", "target_men", "quarter_women",
                                                          "quarter_men", "cumulative_women", "cumulative_men")]
            else:
                assert by_sex == []
    ws = workbooks[CONSOLIDATED]["Postęp finansowy"]
    row = xlsx_row(ws, "Wydatki kwalifikowalne ogółem")
    assert Decimal(str(row[2])) == sum(settlement(u)["eligible_cumulative"] for u in fx.UNITS)


def test_xlsx_formula_injection_from_a_task_name_stays_text(workbooks):
    for key in ("srokowo", CONSOLIDATED):
        ws = workbooks[key]["Postęp finansowy"]
        cells = [c for r in ws.iter_rows() for c in r if c.value == fx.EVIL_TASK]
        assert cells, key
        for cell in cells:
            assert cell.data_type == "s" and cell.quotePrefix, key
        assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)


# ---------------------------------------------------------------------------------------------
# PDF


def test_pdf_opens_and_holds_key_figures_and_chart_text(produced, pdf_texts):
    for key in REPORTS:
        reader = pypdf.PdfReader(produced["files"][key]["pdf"])
        assert len(reader.pages) >= 5
        text = pdf_texts[key]
        # Chart titles are SVG text drawn by plotly.js: present only if the charts were drawn.
        for title in ("Wydatki narastająco a harmonogram", "Stopień osiągnięcia wskaźników",
                      "Wartość usług według obszarów ustawy", "Uczestnicy według płci i wieku"):
            assert title in text, (key, title)
    assert "1 234 567,90 zł" in pdf_texts["elblag"] and "Elbląskie Centrum Usług Społecznych" in pdf_texts["elblag"]
    assert pl_money(settlement("srokowo")["eligible_cumulative"]).replace(NBSP, " ") in pdf_texts["srokowo"]
    assert "1 987 037,15 zł" in pdf_texts[CONSOLIDATED]
    assert "III kwartał 2021" in pdf_texts[CONSOLIDATED]


def test_every_pdf_page_has_the_running_header_and_page_x_of_y(produced):
    # The registry's agreement numbers of config/units.yaml, typed here by hand.
    headers = {"elblag": ("Elbląskie Centrum Usług Społecznych", "umowa nr POWR.02.08.00-00-0001/20"),
               "srokowo": ("Centrum Usług Społecznych w Srokowie", "umowa nr POWR.02.08.00-00-0004/20"),
               CONSOLIDATED: ("Raport zbiorczy", "umowy wszystkich jednostek raportu (2)")}
    for key in REPORTS:
        pages = pypdf.PdfReader(produced["files"][key]["pdf"]).pages
        total = len(pages)
        for number, page in enumerate(pages, start=1):
            text = " ".join(page.extract_text().replace(NBSP, " ").split())
            assert f"strona {number} z {total}" in text, (key, number, text[-200:])
            assert "III kwartał 2021" in text, (key, number)
            for part in headers[key]:
                assert part in text, (key, number, part)


# ---------------------------------------------------------------------------------------------
# charts drawn on screen


_PIXELS_JS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let ink = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) ink++;
    colours.add((d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3));
  }
  return {ink: ink / (d.length / 4), colours: colours.size, width: c.width, height: c.height};
}"""


def test_screenshot_shows_the_charts_drawn(produced):
    from playwright.sync_api import sync_playwright

    url = produced["files"]["elblag"]["html"].as_uri()
    with sync_playwright() as p:
        # Debian's chromium (never a downloaded browser); Playwright adds --headless and its own profile.
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS[1:])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(url)
            page.wait_for_function("document.querySelectorAll('.chart .main-svg').length >= 4", timeout=20000)
            stats = {}
            for chart in CHARTS:
                shot = page.locator(f"#{chart}").screenshot()
                stats[chart] = page.evaluate(_PIXELS_JS, base64.b64encode(shot).decode())
            # Control: the same page without JavaScript leaves the chart boxes blank.
            blank_page = browser.new_page(viewport={"width": 1000, "height": 900}, java_script_enabled=False)
            blank_page.goto(url)
            blank = blank_page.locator("#chart-spending").screenshot()
            blank_stats = page.evaluate(_PIXELS_JS, base64.b64encode(blank).decode())
        finally:
            browser.close()
    for chart, s in stats.items():
        assert s["width"] >= 600 and s["height"] >= 200, (chart, s)
        assert s["ink"] > 0.02 and s["colours"] >= 8, (chart, s)
    assert blank_stats["ink"] < 0.001 and blank_stats["colours"] <= 2, blank_stats


# ---------------------------------------------------------------------------------------------
# personal data and disclosure control


def _pesel_like(text: str) -> list[str]:
    found = []
    for match in re.finditer(r"(?<!\d)\d{11}(?!\d)", text):
        digits = match.group()
        check = (10 - sum(int(d) * w for d, w in zip(digits, PESEL_WEIGHTS)) % 10) % 10
        if check == int(digits[-1]):
            found.append(digits)
    return found


def test_no_pesel_or_participant_name_anywhere_in_the_outputs(produced, pages, workbooks, pdf_texts):
    bundle = plotly_js()
    texts = []
    for key in REPORTS:
        texts.append(pages[key][0].replace(bundle, ""))  # the report's own HTML, chart data included
        texts.append(pdf_texts[key])
        texts.append("\n".join(str(c.value) for ws in workbooks[key] for r in ws.iter_rows() for c in r
                               if c.value is not None))
    texts.append(repr(produced["metadata"]))
    names = [part for name in fx.PARTICIPANT_NAMES for part in name.split()]
    for text in texts:
        assert _pesel_like(text) == []
        assert not any(p in text for p in fx.PESELS)
        assert not any(n in text for n in names)
    # The queries never select person-level columns.
    for sql_file in queries.SQL_DIR.glob("*.sql"):
        body = re.sub(r"--[^\n]*", "", sql_file.read_text(encoding="utf-8")).lower()
        for column in ("person_key", "participant_id", "pesel", "first_name", "last_name", "raw.participants"):
            assert column not in body, (sql_file.name, column)


def test_small_sensitive_counts_are_suppressed_in_the_consolidated_report(pages, workbooks):
    _, page = pages[CONSOLIDATED]
    by_unit = {r["unit_name"]: r for r in page.tables["profil-wrazliwe"]}
    elblag, srokowo = (next(u.name for u in units() if u.key == k) for k in ("elblag", "srokowo"))
    # Disability: Elbląg 3 (small) hidden. Srokowo's 12 is public in its own report, so the total
    # (15 − 12 = 3) is hidden instead — here and in the consolidated category table.
    assert by_unit[elblag]["DISABILITY"] == "<5" and by_unit[srokowo]["DISABILITY"] == "12"
    assert by_unit["Razem"]["DISABILITY"] == "•"
    disability = row_of(page, "profil", label="osoby z niepełnosprawnościami *")
    assert set(disability.values()) - {"osoby z niepełnosprawnościami *"} == {"•"}
    assert row_of(pages["srokowo"][1], "profil", label="osoby z niepełnosprawnościami *")["cumulative_total"] == "12"
    # Homelessness: Elbląg 0 stays (discloses nobody), Srokowo 2 and the total 2 hidden.
    assert by_unit[elblag]["HOMELESS"] == "0" and by_unit[srokowo]["HOMELESS"] == "<5"
    assert by_unit["Razem"]["HOMELESS"] == "<5"
    # Minority: Elbląg 6 = 4 K + 2 M — both parts small, so the whole triple is hidden (published
    # together or not at all), in the unit cell and in the sum over units.
    assert by_unit[elblag]["MINORITY"] == "•" and by_unit["Razem"]["MINORITY"] == "•"
    minority = row_of(page, "profil", label="migranci, mniejszości, osoby obcego pochodzenia *")
    assert (minority["quarter_total"], minority["cumulative_total"], minority["cumulative_women"],
            minority["cumulative_men"]) == ("<5", "•", "<5", "<5")
    unemployed = row_of(page, "profil", label="bezrobotni")  # not sensitive: never hidden
    assert unemployed["cumulative_total"] == "215"
    ws = workbooks[CONSOLIDATED]["Profil uczestników"]
    row = xlsx_row(ws, elblag)
    assert "<5" in row and 3 not in row and 3.0 not in row
    # The per-unit report of Elbląg suppresses too (config: in_unit_reports).
    assert row_of(pages["elblag"][1], "profil", label="osoby z niepełnosprawnościami *")["cumulative_total"] == "<5"


def test_suppression_threshold_is_a_setting(produced):
    with queries.read_only(produced["warehouse"]) as conn:
        inputs = queries.load_report_inputs(conn, QUARTER, units())
    report = build_report(inputs, "consolidated", settings=ReportSettings(suppression_threshold=2))
    rows = {r["unit_name"]: r for r in report.table("profil-wrazliwe").rows}
    elblag = next(u.name for u in units() if u.key == "elblag")
    # At 2, Elbląg's minority 6 (4 K / 2 M) is published; disability 3 (2 K / 1 M) still is not.
    assert rows[elblag]["MINORITY"] == Decimal(6)
    assert rows[elblag]["DISABILITY"] == Suppressed(2, primary=False)


# ---------------------------------------------------------------------------------------------
# fresh warehouse, schedule


def test_a_quarter_no_unit_reports_for_is_zero_reports_even_without_a_warehouse(tmp_path):
    from assets.report.report_files import ReportFilesConfig, write_quarters

    missing = tmp_path / "no" / "cus.duckdb"
    done = write_quarters(dg.build_op_context(), ["2015Q1"], ReportFilesConfig(with_pdf=False),
                          WarehouseResource(path=str(missing)), ReportsResource(root=str(tmp_path / "reports")),
                          LandingResource(root=str(tmp_path / "landing")), tuple(load_units()))
    assert done == [{"raporty": 0, "kwartał": "2015Q1"}]
    assert not missing.exists() and not (tmp_path / "reports").exists()
    # a quarter some unit reports for still needs the warehouse: a clear failure, not an empty result
    with pytest.raises(dg.Failure, match="Brak hurtowni"):
        write_quarters(dg.build_op_context(), ["2015Q1", "2021Q3"], ReportFilesConfig(with_pdf=False),
                       WarehouseResource(path=str(missing)), ReportsResource(root=str(tmp_path / "reports")),
                       LandingResource(root=str(tmp_path / "landing")), tuple(load_units()))


def test_a_corrections_chain_writes_the_units_reports_of_every_quarter_before_the_consolidated_ones(
        tmp_path, monkeypatch):
    """The coordinator who re-sent a file waits for the unit's reports: over several quarters they are
    written first, the consolidated ones after them; each quarter's metadata lists both."""
    import assets.report.report_files as rf
    from reports.generate import ReportFiles

    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb")
    calls = []

    def write(inputs, root, settings, with_pdf, only_units, printer, workbooks, consolidated):
        calls.append((inputs.quarter, only_units, consolidated))
        keys = list(only_units if only_units is not None else ["elblag"]) + [CONSOLIDATED] * consolidated
        return [ReportFiles(key, f"Raport {key}", root / f"{key}.html", root / f"{key}.xlsx") for key in keys]

    class Printer:  # records when the run waits for the PDFs printed so far
        def drain(self):
            calls.append("PDF")

    monkeypatch.setattr(rf, "write_quarter_reports", write)
    monkeypatch.setattr(rf, "split_units_with_data", lambda conn, quarter, covered: (covered, []))
    monkeypatch.setattr(rf.pdf, "printer", lambda **settings: contextlib.nullcontext(Printer()))
    resources = (WarehouseResource(path=str(warehouse)), ReportsResource(root=str(tmp_path / "reports")),
                 LandingResource(root=str(tmp_path / "landing")), tuple(load_units()))
    quarters = ["2021Q3", "2021Q4", "2022Q1"]
    done = rf.write_quarters(dg.build_op_context(), quarters, rf.ReportFilesConfig(rewrite_units=["elblag"]),
                             *resources)
    # the unit's PDFs are waited for (the browser gets the machine) before the consolidated reports are built
    assert calls == [(q, ["elblag"], False) for q in quarters] + ["PDF"] + [(q, [], True) for q in quarters] + ["PDF"]
    assert [(d["kwartał"], d["raporty"], d["pliki"]) for d in done] == [(q, 2, 4) for q in quarters]
    assert all("elblag (HTML)" in d and f"{CONSOLIDATED} (XLSX)" in d for d in done)
    # one quarter, or every unit's reports (a quarter's run): each quarter whole, in order
    calls.clear()
    rf.write_quarters(dg.build_op_context(), quarters[:2], rf.ReportFilesConfig(), *resources)
    assert calls == [(q, None, True) for q in quarters[:2]] + ["PDF"]


def test_missing_report_tables_leave_a_clear_note_not_a_crash(tmp_path):
    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb", skip=("report.flags", "report.advances"))
    with queries.read_only(warehouse) as conn:
        inputs = queries.load_report_inputs(conn, QUARTER, units())
    assert sorted(inputs.missing) == ["report.advances", "report.flags"]
    assert inputs.flags == [] and inputs.advances == [] and inputs.settlement
    html = render_html(build_report(inputs, "unit", "elblag"))
    assert "brak tabel report.advances, report.flags" in html
    empty = tmp_path / "empty.duckdb"
    import duckdb

    duckdb.connect(str(empty)).close()
    with queries.read_only(empty) as conn:
        inputs = queries.load_report_inputs(conn, QUARTER, units())
    # + raw.file_versions and the mart tables of the documents and the narrative
    assert len(inputs.missing) == len(queries.SOURCE_TABLES) + 1 + len(queries.MART_SOURCE_TABLES)
    assert "Brak danych" in render_html(build_report(inputs, "consolidated"))


def test_schedule_waits_for_data_and_fresh_tables_then_requests_the_quarter(produced, tmp_path):
    from assets.report.report_files import evaluate_report_schedule

    (tmp_path / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))
    warehouse = WarehouseResource(path=str(produced["warehouse"]))
    partitions = quarter_partitions(load_units())
    when = datetime(2021, 10, 20, 6, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    # All four registry units owe 2021Q3; only two delivered, 20 days after the quarter: wait.
    skip = evaluate_report_schedule(context, warehouse, partitions, tuple(load_units()))
    assert isinstance(skip, dg.SkipReason) and "myslenice" in skip.skip_message
    # The two units delivered, but the report tables were never computed after the load: wait.
    skip = evaluate_report_schedule(context, warehouse, partitions, tuple(units()))
    assert isinstance(skip, dg.SkipReason) and "indicators_job" in skip.skip_message
    for table in queries.SOURCE_TABLES:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["report", table]))
    request = evaluate_report_schedule(context, warehouse, partitions, tuple(units()))
    assert isinstance(request, dg.RunRequest) and request.partition_key == PARTITION
    assert request.run_key.startswith(f"raporty-{QUARTER}-")
    # No warehouse yet: a skip, not an error.
    missing = WarehouseResource(path=str(produced["root"] / "nowhere" / "cus.duckdb"))
    assert isinstance(evaluate_report_schedule(context, missing, partitions, tuple(units())), dg.SkipReason)


# ---------------------------------------------------------------------------------------------
# the contract with the real report tables (built by assets/report/sql from tests/mart_fixtures.py)


def test_queries_read_the_report_tables_the_indicators_work_builds(tmp_path):
    import mart_fixtures as mf  # its own hand-made raw/staging rows -> the real mart and report SQL

    from reports.xlsx import write_xlsx

    conn = mf.warehouse()
    try:
        test_units = list(mf.test_units())
        inputs = queries.load_report_inputs(conn, "2021Q2", test_units)
        expected = {r[0]: r[1] for r in conn.execute(
            "SELECT unit, eligible_cumulative FROM report.settlement WHERE quarter = '2021Q2'").fetchall()}
    finally:
        conn.close()
    assert inputs.missing == []
    for name in ("indicators", "profile", "services_area", "services_mode", "finance_tasks", "plan", "settlement",
                 "advances", "milestones", "file_versions"):
        assert getattr(inputs, name), name
    assert {r["quarter"] for r in inputs.plan} > {"2021Q2"}  # every plan quarter of the unit
    assert all(r["quarter"] in ("2021Q2", None) for r in inputs.file_versions)
    for key in [u.key for u in test_units if u.key in expected] + [None]:
        report = build_report(inputs, "unit" if key else "consolidated", key)
        page = _Page()
        page.feed(render_html(report))
        value = expected[key] if key else sum(expected.values())
        assert page.facts["Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)"] == pl_money(value)
        write_xlsx(report, tmp_path / f"{key}.xlsx")


def test_quarter_arrivals_cover_quarter_and_agreement_files(produced):
    with queries.read_only(produced["warehouse"]) as conn:
        arrivals = queries.quarter_arrivals(conn, QUARTER)
        assert queries.quarter_arrivals(conn, "2022Q1") == {}  # nothing landed: no unit has arrived
    assert set(arrivals) == {"elblag", "srokowo"}
    assert arrivals["elblag"]["files"] == 2  # current versions of the quarter (umowa/ not counted)
    assert "umowa/budget:1:" in arrivals["elblag"]["fingerprint"]
    assert "2021Q3/participants:2:" in arrivals["elblag"]["fingerprint"]
    assert "2021Q2" not in arrivals["elblag"]["fingerprint"]


def test_a_renamed_column_is_a_clear_error(tmp_path):
    import duckdb

    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb")
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("ALTER TABLE report.advances RENAME COLUMN spent_share TO spent_ratio")
    with queries.read_only(warehouse) as conn, pytest.raises(queries.ReportQueryError) as error:
        queries.load_report_inputs(conn, QUARTER, units())
    # One generic reader (issue 10): the message names the input, its table and the reader's template.
    assert "„advances”" in str(error.value) and "report.advances" in str(error.value)
    assert "reports/sql/report_rows.sql.j2" in str(error.value)


def _fixture_inputs(tmp_path, *changes: str):
    """The fixture warehouse, `changes` (SQL) applied, read as the report reads it: the consolidated
    sums are the warehouse's (reports/readers.py), so a changed unit figure is changed in the warehouse."""
    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb")
    if changes:
        import duckdb

        with duckdb.connect(str(warehouse)) as conn:
            for change in changes:
                conn.execute(change)
    with queries.read_only(warehouse) as conn:
        return queries.load_report_inputs(conn, QUARTER, units())


def test_within_limit_is_the_warehouse_exact_comparison_not_the_rounded_share(tmp_path):
    inputs = _fixture_inputs(tmp_path)
    row = next(r for r in inputs.settlement if r["unit"] == "elblag")
    # 100 004,00 of 1 000 000,00 = 10,0004% -> share printed 10,00%, yet over a 10% limit.
    row.update(eligible_cumulative=Decimal("1000000.00"), cross_financing=Decimal("100004.00"),
               cross_financing_share=Decimal("0.1000"), cross_financing_limit=Decimal("0.10"),
               cross_financing_over_limit=True, fixed_assets=Decimal("100000.00"),
               fixed_assets_share=Decimal("0.1000"), fixed_assets_limit=Decimal("0.10"),
               fixed_assets_over_limit=False)
    limits = {r["item"]: r for r in build_report(inputs, "unit", "elblag").table("limity").rows}
    # The share is the exact ratio (issue 13: shares unrounded), the verdict the warehouse's exact comparison.
    assert limits["Cross-financing"]["share"] == Decimal("0.100004") and limits["Cross-financing"]["ok"] is False
    assert limits["Środki trwałe"]["ok"] is True
    consolidated = {r["item"]: r["ok"] for r in build_report(inputs, "consolidated").table("limity").rows}
    elblag = next(u.name for u in units() if u.key == "elblag")
    assert consolidated[f"Cross-financing — {elblag}"] is False


def test_projection_status_is_the_warehouse_projection_risk_only(tmp_path):
    inputs = _fixture_inputs(tmp_path)
    label = "Prognoza wydatków na koniec projektu (przy obecnym tempie)"
    for unit, risk in (("elblag", True), ("srokowo", False)):
        next(r for r in inputs.settlement if r["unit"] == unit)["projection_risk"] = risk

    def status(report):
        section = next(s for s in report.sections if s.id == "postep-finansowy")
        return next(f.status for f in section.facts if f.label == label)

    # Elbląg's projection 2 410 000 is 96,4% of its budget: inside a 95% band, but the warehouse
    # (band from schemas/flags.yaml) says risk — the report follows the warehouse.
    assert status(build_report(inputs, "unit", "elblag")) == "warn"
    assert status(build_report(inputs, "unit", "srokowo")) == "ok"
    assert status(build_report(inputs, "consolidated")) == "warn"  # any unit at risk


def test_agreement_files_are_not_counted_in_the_quarters_received_rows(tmp_path, pages):
    inputs = _fixture_inputs(tmp_path)
    assert [(r["dataset"], r["received"]) for r in inputs.quality_agreement] == [("budget", 9)]
    report = build_report(inputs, "unit", "elblag")
    quarter = report.table("jakosc")
    # 1 214 participants + 2 585 deliveries + 311 expenses; the budget file (9 rows) is not of the quarter
    assert sorted(r["dataset"] for r in quarter.rows) == ["deliveries", "expenses", "participants"]
    assert quarter.total["received"] == 4110 and quarter.total["accepted"] == 4102
    agreement = report.table("jakosc-umowa")
    assert [(r["dataset"], r["received"], r["accepted"]) for r in agreement.rows] == [("budget", 9, 9)]
    # Rendered the same way: the quarter's total row in the HTML is 4 110, the agreement block apart.
    _, page = pages["elblag"]
    assert page.tables["jakosc"][-1]["received"] == f"4{NBSP}110"
    assert [r["received"] for r in page.tables["jakosc-umowa"]] == ["9"]
    # Srokowo has no agreement rows: no agreement block, and the quarter's rows unchanged.
    assert build_report(inputs, "unit", "srokowo").table("jakosc").total["received"] == 215


def test_reasons_table_tells_rejected_rows_from_accepted_warnings_in_html_and_xlsx(tmp_path):
    """report.quarantine_reasons holds errors (rows rejected) and warnings (rows accepted): the
    table says which, errors first, and has no totals row (it once summed warnings as quarantined)."""
    from reports.xlsx import write_xlsx

    inputs = _fixture_inputs(tmp_path)
    report = build_report(inputs, "unit", "elblag")
    table = report.table("kwarantanna")
    assert table.title == "Wiersze odrzucone i ostrzeżenia według przyczyny" and table.total is None
    assert [(r["dataset"], r["outcome"], r["rows"]) for r in table.rows] == [
        ("participants", "błąd — wiersz odrzucony", 4), ("participants", "błąd — wiersz odrzucony", 1),
        ("deliveries", "błąd — wiersz odrzucony", 3), ("participants", "ostrzeżenie — wiersz przyjęty", 2),
        ("expenses", "ostrzeżenie — wiersz przyjęty", 1)]
    page = _Page()
    page.feed(render_html(report))
    assert [(r["outcome"], r["rows"]) for r in page.tables["kwarantanna"]][-2:] == [
        ("ostrzeżenie — wiersz przyjęty", "2"), ("ostrzeżenie — wiersz przyjęty", "1")]
    write_xlsx(report, tmp_path / "elblag.xlsx")
    cells = [tuple(r) for ws in openpyxl.load_workbook(tmp_path / "elblag.xlsx") for r in ws.iter_rows(values_only=True)]
    title = next(i for i, r in enumerate(cells) if r[0] == "Wiersze odrzucone i ostrzeżenia według przyczyny")
    assert cells[title + 1][:4] == ("Zbiór danych", "Skutek", "Przyczyna", "Wiersze")
    assert cells[title + 5][:4] == ("uczestnicy (uczestnicy.xlsx)", "ostrzeżenie — wiersz przyjęty",
                                    "PESEL uzupełniony zerem wiodącym", 2)


def test_accepted_share_below_100_percent_never_reads_100_percent(tmp_path):
    """9 999 of 10 000 rows accepted: '99,99%' in the HTML's totals row and a 0.00% cell in the
    XLSX, not '100,0%' (one decimal rounded half up)."""
    from reports.xlsx import write_xlsx

    inputs = _fixture_inputs(tmp_path, "UPDATE report.data_quality SET received = 10000, accepted = 9999, "
                             "quarantined = 1 WHERE unit = 'elblag' AND dataset = 'deliveries'",
                             "UPDATE report.data_quality SET received = 0, accepted = 0, quarantined = 0 "
                             "WHERE unit = 'elblag' AND quarter IS NOT NULL AND dataset <> 'deliveries'")
    report = build_report(inputs, "unit", "elblag")
    page = _Page()
    page.feed(render_html(report))
    assert page.tables["jakosc"][-1]["accepted_share"] == "99,99%"
    write_xlsx(report, tmp_path / "elblag.xlsx")
    shares = [c for ws in openpyxl.load_workbook(tmp_path / "elblag.xlsx") for r in ws.iter_rows() for c in r
              if c.data_type == "n" and c.value is not None and 0.9998 < c.value < 1]
    assert shares and all(c.number_format == "0.00%" for c in shares)


def test_consolidated_figures_totals_and_reader_rules_come_from_the_readers_sql(tmp_path):
    from reports.readers import READS, sql_for

    inputs = _fixture_inputs(tmp_path)
    # Quarter rows received: Elbląg 4 110 and Srokowo 215 (test above) -> 4 325 over both units.
    assert next(r for r in inputs.quality if r["level"] == "total")["received"] == 4325
    assert next(r for r in inputs.quality if r["level"] == "unit_total" and r["unit"] == "srokowo")["received"] == 215
    both = next(r for r in inputs.settlement if r["level"] == "all")
    assert both["eligible_cumulative"] == settlement("elblag")["eligible_cumulative"] + \
        settlement("srokowo")["eligible_cumulative"]
    assert both["budget_share"] == pytest.approx(both["eligible_cumulative"] / both["budget_total"], abs=1e-8)
    # The explicit rules of reports/readers.py: task 0 (indirect costs) is not a direct-cost task;
    # nothing is shown as spent after the reporting quarter.
    assert inputs.finance_tasks and all(r["task_no"] != 0 for r in inputs.finance_tasks)
    later = [r for r in inputs.plan if r["quarter"] > QUARTER]
    assert later and all(r["actual"] is None and r["actual_cum"] is None for r in later)
    # Milestones as of 30.09.2021 (tests/report_fixtures.py): KM1 15.06 of 30.06 on time, KM2 due
    # 30.09 not achieved, Srokowo's KM1 20.05 of 30.04 late; as of 2021Q1 Elbląg's KM1 is only planned.
    status = {(r["unit"], r["code"]): r["status"] for r in inputs.milestones}
    assert status == {("elblag", "KM1"): "on_time", ("elblag", "KM2"): "overdue", ("srokowo", "KM1"): "late"}
    with queries.read_only(tmp_path / "cus.duckdb") as conn:
        earlier = queries.load_report_inputs(conn, "2021Q1", units())
    km1 = next(r for r in earlier.milestones if (r["unit"], r["code"]) == ("elblag", "KM1"))
    assert km1["status"] == "planned" and km1["achieved_date"] is None
    # The generic reader never selects a person-level column.
    for read in READS:
        body = re.sub(r"--[^\n]*", "", sql_for(read.name)).lower()
        for column in ("person_key", "participant_id", "pesel", "first_name", "last_name", "raw.participants"):
            assert column not in body, (read.name, column)


def test_hidden_cumulative_cannot_be_recovered_by_differencing_quarters(tmp_path):
    """Elbląg homeless: 2021Q2 15 (10 K / 5 M) published; 2021Q3 17 (12 K / 5 M) would give 2 women
    away by difference — so the whole Q3 triple and its quarter value are hidden; Q4 23 (15/8)
    differs from the last published Q2 by 8/5/3 — hidden as well."""
    inputs = _fixture_inputs(tmp_path / "as_built")
    # the warehouse's history query returns the reporting quarter too; the builder takes the shown rows
    assert {(r["unit"], r["quarter"]) for r in inputs.profile_history} == {("elblag", QUARTER), ("srokowo", QUARTER)}
    # 2021Q2 15 (10 K / 5 M) and 2021Q3 17 (12 K / 5 M) for Elbląg, in the warehouse (the sums over
    # units of the consolidated report are computed there).
    inputs = _fixture_inputs(
        tmp_path,
        "INSERT INTO report.participant_profile (unit, quarter, code, label, sort_order, sensitive, quarter_total, "
        "quarter_women, quarter_men, cumulative_total, cumulative_women, cumulative_men) SELECT unit, '2021Q2', code, "
        "label, sort_order, sensitive, 15, 10, 5, 15, 10, 5 FROM report.participant_profile "
        f"WHERE unit = 'elblag' AND code = 'HOMELESS' AND quarter = '{QUARTER}'",
        "UPDATE report.participant_profile SET quarter_total = 2, quarter_women = 2, quarter_men = 0, "
        f"cumulative_total = 17, cumulative_women = 12, cumulative_men = 5 WHERE unit = 'elblag' AND code = 'HOMELESS' "
        f"AND quarter = '{QUARTER}'")
    row = next(r for r in inputs.profile if r["unit"] == "elblag" and r["code"] == "HOMELESS")
    hidden = Suppressed(5, primary=False)
    label = "osoby bezdomne lub wykluczone z dostępu do mieszkań *"

    def shown(report, table="profil"):
        r = next(r for r in report.table(table).rows if r.get("label") == label)
        return [r[k] for k in ("quarter_total", "cumulative_total", "cumulative_women", "cumulative_men")]

    assert shown(build_report(inputs, "unit", "elblag")) == [Suppressed(5), hidden, hidden, hidden]
    consolidated = build_report(inputs, "consolidated")
    # sum 19 = Elbląg 17 + Srokowo 2: hidden (Elbląg is hidden; Srokowo's 2 is small)
    assert shown(consolidated) == [Suppressed(5), hidden, hidden, hidden]
    by_unit = {r["unit_name"]: r["HOMELESS"] for r in consolidated.table("profil-wrazliwe").rows}
    elblag, srokowo = (next(u.name for u in units() if u.key == k) for k in ("elblag", "srokowo"))
    assert by_unit == {elblag: hidden, srokowo: Suppressed(5)}
    assert consolidated.table("profil-wrazliwe").total["HOMELESS"] == hidden
    # Next quarter: 23 (15/8); change since the last PUBLISHED (Q2: 15/10/5) = 8/5/3 -> still hidden.
    inputs.quarter = "2021Q4"
    inputs.profile_history.append({**row, "unit": "elblag", "quarter": QUARTER})
    row.update(quarter_total=6, quarter_women=3, quarter_men=3, cumulative_total=23, cumulative_women=15,
               cumulative_men=8)
    assert shown(build_report(inputs, "unit", "elblag")) == [hidden, hidden, hidden, hidden]
    # 30 (20/10): change 15/10/5 since Q2 -> published; its quarter value 7 is not (Q3 was hidden).
    row.update(quarter_total=7, quarter_women=5, quarter_men=2, cumulative_total=30, cumulative_women=20,
               cumulative_men=10)
    assert shown(build_report(inputs, "unit", "elblag")) == [hidden, 30, 20, 10]
    footnotes = " ".join(build_report(inputs, "unit", "elblag").footnotes)
    assert "różnicy kwartałów" in footnotes and "ostatniego opublikowanego kwartału" in footnotes


def test_persons_in_sensitive_service_areas_are_suppressed(tmp_path):
    # 3 deliveries, 3 units, 300,00 zł in the quarter and cumulatively, in the warehouse
    extra = f"'{QUARTER}', 3, 3.00, 300.00, 300.00"
    inputs = _fixture_inputs(
        tmp_path,
        "INSERT INTO report.services_by_area (unit, area, persons, quarter, deliveries, units, quarter_value, "
        f"cumulative_value) VALUES ('srokowo', 6, 2, {extra}), "  # disability support: 2 persons
        f"('srokowo', 1, 3, {extra}), "  # family policy: not sensitive
        f"('elblag', 12, 7, {extra}), "  # housing: 7 persons
        f"('srokowo', 12, 0, {extra})")

    def persons(report):
        return {r["area"]: r.get("persons") for r in report.table("uslugi-obszary").rows if r.get("persons") is not None}

    srokowo = build_report(inputs, "unit", "srokowo")
    assert persons(srokowo) == {1: 3, 4: 52, 6: Suppressed(5), 11: 38, 12: 0}
    row = next(r for r in srokowo.table("uslugi-obszary").rows if r["area"] == 6)
    assert row["area_label"] == "6. wspieranie osób niepełnosprawnych *" and row["deliveries"] == 3
    assert persons(build_report(inputs, "unit", "elblag")) == {1: 130, 4: 260, 6: 71, 12: 7}
    # Consolidated: area 6 = 71 + 2 = 73 would give Srokowo's 2 away (Elbląg's 71 is public): hidden.
    consolidated = build_report(inputs, "consolidated")
    assert persons(consolidated) == {1: 133, 4: 312, 6: Suppressed(5, primary=False), 11: 38, 12: 7}
    assert "mieszkalnictwa" in suppression_footnote_text(consolidated)
    # Off in unit reports when the setting says so; the consolidated report always suppresses.
    loose = ReportSettings(suppress_in_unit_reports=False)
    assert persons(build_report(inputs, "unit", "srokowo", settings=loose))[6] == 2


def suppression_footnote_text(report) -> str:
    return " ".join(report.footnotes)


def test_a_units_report_from_its_own_rows_alone_is_the_report_from_every_units_rows(tmp_path):
    """A correction's chain reads only the rewritten unit's rows for its reports (report_files.py,
    the units' part): a unit's report must not depend on the other units' rows (ReportInputs.for_unit)."""
    warehouse = fx.build_warehouse(tmp_path / "cus.duckdb")
    stamp = datetime(2026, 12, 3, 12, 0)
    with queries.read_only(warehouse) as conn:
        every = queries.load_report_inputs(conn, QUARTER, units())
        assert len({r["unit"] for r in every.settlement}) > 1  # the fixture has several units' rows
        for unit in units():
            alone = queries.load_report_inputs(conn, QUARTER, [unit])
            assert build_report(alone, "unit", unit.key, generated_at=stamp) == \
                build_report(every, "unit", unit.key, generated_at=stamp), unit.key


def test_only_the_changed_units_reports_are_built_and_the_consolidated_one_still_sums_every_unit(tmp_path):
    """The coordinator's chain after a correction (pipelines/sensors.py reports_request) rewrites the
    corrected unit's reports and the consolidated ones; the other units' reports did not change."""
    from reports.generate import build_quarter_reports

    inputs = _fixture_inputs(tmp_path)
    stamp = datetime(2026, 12, 3, 12, 0)
    every = build_quarter_reports(inputs, generated_at=stamp)
    only = build_quarter_reports(inputs, generated_at=stamp, only_units=["srokowo"])
    assert [r.unit_key for r in every] == ["elblag", "srokowo", CONSOLIDATED]
    assert [r.unit_key for r in only] == ["srokowo", CONSOLIDATED]
    # a quarter where no changed unit reports (outside its period): the consolidated report only
    assert [r.unit_key for r in build_quarter_reports(inputs, generated_at=stamp, only_units=[])] == [CONSOLIDATED]
    elblag = next(u.name for u in units() if u.key == "elblag")
    consolidated = only[-1].table("limity").rows
    assert f"Cross-financing — {elblag}" in {r["item"] for r in consolidated}  # Elbląg still in the sums
    assert consolidated == every[-1].table("limity").rows


def test_a_long_consolidated_table_shows_its_total_and_where_its_rows_are(tmp_path, monkeypatch):
    """Many units make per-unit tables of hundreds of rows (100 units: a 299-page PDF); the consolidated
    page then shows such a table's total and a note, and the workbook keeps every row."""
    import reports.html
    from reports.versioning import fingerprint
    from reports.xlsx import write_xlsx

    inputs = _fixture_inputs(tmp_path)
    consolidated, unit = build_report(inputs, "consolidated"), build_report(inputs, "unit", "elblag")
    longest = max((t for s in consolidated.sections if s.in_html for t in s.tables if t.total),
                  key=lambda t: len(t.rows))
    assert len(longest.rows) >= 2
    before = fingerprint(consolidated), render_html(unit)
    monkeypatch.setattr(reports.html, "PAGE_TABLE_MAX_ROWS", len(longest.rows) - 1)
    page = render_html(consolidated)
    table = page.split(f'data-table="{longest.id}"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 2 and 'class="total"' in table  # the header and the total, no unit rows
    note = re.search(rf'data-table-rows="{longest.id}">([^<]*)<', page).group(1)
    assert f"Wierszy po jednostkach: {len(longest.rows)}" in note and "XLSX" in note
    assert (fingerprint(consolidated), render_html(unit)) == before  # content, version, unit reports: unchanged
    workbook = openpyxl.load_workbook(write_xlsx(consolidated, tmp_path / "z.xlsx"), read_only=True)
    (rows,) = [rows for sheet in workbook.worksheets
               if longest.title in (rows := [r[0] for r in sheet.iter_rows(values_only=True)])]
    after_header = rows[rows.index(longest.title) + 2:]
    shown = after_header[:after_header.index(None)] if None in after_header else after_header
    first = longest.columns[0].key
    assert shown[:len(longest.rows)] == [row[first] for row in longest.rows]  # every row, then the total


def test_a_large_workbook_written_in_the_worker_process_is_the_one_written_at_once(tmp_path):
    """The run's WorkbookWriter hands large workbooks (a consolidated report of many units) to a worker
    process: the file is the same as written in the run's own process, and small ones stay inline."""
    import zipfile

    from reports.generate import build_quarter_reports
    from reports.workbooks import WorkbookWriter, table_rows, write_workbook

    reports = build_quarter_reports(_fixture_inputs(tmp_path))
    consolidated = reports[-1]
    inline = write_workbook(consolidated, tmp_path / "inline.xlsx")
    with WorkbookWriter(offload_from_rows=table_rows(consolidated)) as workbooks:
        for number, report in enumerate(reports):
            workbooks.write(report, tmp_path / f"worker_{number}.xlsx")
    assert workbooks.offloaded == 1  # only the consolidated one reaches the threshold
    worker = tmp_path / f"worker_{len(reports) - 1}.xlsx"
    with zipfile.ZipFile(inline) as a, zipfile.ZipFile(worker) as b:
        names = [n for n in a.namelist() if n != "docProps/core.xml"]  # core.xml: the creation time
        assert names == [n for n in b.namelist() if n != "docProps/core.xml"]
        assert any(n.startswith("xl/worksheets/") for n in names)
        for name in names:
            assert a.read(name) == b.read(name), name
    assert not list(tmp_path.glob(".*.xlsx"))  # no temporary file left


def test_a_failing_workbook_in_the_worker_fails_the_run(tmp_path):
    from reports.generate import build_quarter_reports
    from reports.workbooks import WorkbookWriter

    consolidated = build_quarter_reports(_fixture_inputs(tmp_path))[-1]
    taken = tmp_path / "raport.xlsx"
    taken.mkdir()  # a folder where the workbook should go: the rename fails in the worker
    with pytest.raises(OSError), WorkbookWriter(offload_from_rows=0) as workbooks:
        workbooks.write(consolidated, taken)
