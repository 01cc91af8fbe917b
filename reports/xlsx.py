"""XLSX annex: one sheet per report section, the same tables as the HTML, numbers as numbers.

No formula injection from source texts: every text cell goes through `write_string` (stored as
a shared string, never evaluated), the workbook is opened with string-to-formula/URL/number
conversion switched off, and a text starting with = + - @ (or a tab / carriage return) gets the
cell's "quote prefix" (Excel's leading apostrophe): the text is shown exactly as received and
stays text even when a user edits the cell or the sheet is saved as CSV. Money and counts are
numeric cells with Polish-looking number formats; shares are stored as the exact ratio with a %
format (never a rounded number).

Every table with rows is an Excel table (filter buttons on its header; its totals row right below,
outside the filtered range); every sheet keeps its title rows frozen, and a sheet that starts
with a table keeps that table's header in view too. The first sheet carries the report version
and the sign-off block; the version is also in the document properties.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from reports.formatting import MISSING, XLSX_FORMATS, Suppressed, flag, percent_decimals, quarter_label
from reports.model import Report, Table, cell_kind

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
NUMERIC_KINDS = ("int", "quantity", "number", "money", "pct")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TITLE_ROWS = 2  # section title and report title on every sheet
FREEZE_LIMIT = 8  # a first table header below this row (facts above it): freeze only the title rows


def needs_quote_prefix(text: str) -> bool:
    """A text a spreadsheet could take for a formula (OWASP CSV/formula injection)."""
    return text.startswith(FORMULA_TRIGGERS)


def sheet_name(text: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", text).strip()[:31] or "Arkusz"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


class _Writer:
    def __init__(self, workbook: xlsxwriter.Workbook):
        self.wb = workbook
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.f = {
            "title": workbook.add_format({**base, "bold": True, "font_size": 13, "font_color": "#0B4F8A"}),
            "subtitle": workbook.add_format({**base, "italic": True, "font_color": "#5B6775"}),
            "table_title": workbook.add_format({**base, "bold": True, "font_size": 11}),
            "header": workbook.add_format({**base, "bold": True, "bg_color": "#E8EEF5", "border": 1, "text_wrap": True}),
            "text": workbook.add_format({**base, "border": 1, "text_wrap": True}),
            "label": workbook.add_format({**base, "font_color": "#5B6775"}),
            "note": workbook.add_format({**base, "italic": True, "font_color": "#5B6775", "font_size": 9}),
            "suppressed": workbook.add_format({**base, "border": 1, "align": "right"}),
        }
        for kind, code in XLSX_FORMATS.items():
            self.f[kind] = workbook.add_format({**base, "border": 1, "num_format": code})
            self.f[f"{kind}_total"] = workbook.add_format({**base, "border": 1, "num_format": code, "bold": True,
                                                           "bg_color": "#F4F6F9"})
            self.f[f"{kind}_plain"] = workbook.add_format({**base, "num_format": code, "bold": True, "align": "left"})
        self.f["text_total"] = workbook.add_format({**base, "border": 1, "bold": True, "bg_color": "#F4F6F9",
                                                    "text_wrap": True})
        self.f["text_plain"] = workbook.add_format({**base, "bold": True, "text_wrap": True})
        self.tables = 0  # Excel tables in the workbook (names must be unique)
        self._quoted: dict[str, xlsxwriter.format.Format] = {}
        self._specs = {
            "text": {**base, "border": 1, "text_wrap": True},
            "text_total": {**base, "border": 1, "bold": True, "bg_color": "#F4F6F9", "text_wrap": True},
            "text_plain": {**base, "bold": True, "text_wrap": True},
        }

    def text(self, ws, row: int, col: int, text: str, style: str = "text") -> None:
        """A text cell; formula-like text gets the quote prefix (never evaluated, shown verbatim)."""
        if needs_quote_prefix(text):
            if style not in self._quoted:
                self._quoted[style] = self.wb.add_format({**self._specs[style], "quote_prefix": True})
            ws.write_string(row, col, text, self._quoted[style])
        else:
            ws.write_string(row, col, text, self.f[style])

    def value(self, ws, row: int, col: int, value, kind: str, style: str = "") -> None:
        """One typed cell: numbers/dates as numbers, everything else through write_string."""
        suffix = f"_{style}" if style else ""
        if isinstance(value, Suppressed):
            ws.write_string(row, col, value.text, self.f["suppressed"] if not style else self.f[f"text{suffix}"])
        elif value is None:
            ws.write_string(row, col, MISSING, self.f[f"text{suffix}"] if style else self.f["suppressed"])
        elif kind in NUMERIC_KINDS and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            if kind == "quantity" and Decimal(str(value)) == Decimal(str(value)).to_integral_value():
                kind = "int"  # a whole quantity: no decimal separator ("1 270", not "1 270,")
            if kind == "pct" and (shown := percent_decimals(value)) > 1:
                kind = f"pct{shown}"  # 99,96%, never 100,0% for a share below 100 %
            ws.write_number(row, col, float(value), self.f[f"{kind}{suffix}"])
        elif kind == "date" and isinstance(value, (date, datetime)):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.f[f"date{suffix}"])
        elif kind == "flag":
            ws.write_string(row, col, flag(value), self.f[f"text{suffix}"])
        elif kind == "quarter":
            ws.write_string(row, col, quarter_label(str(value)), self.f[f"text{suffix}"])
        else:
            self.text(ws, row, col, str(value), f"text{suffix}")

    def table(self, ws, row: int, table: Table, widths: dict[int, int], headers: list[int] | None = None) -> int:
        """Write `table` from `row`; an Excel table (filter buttons) over its header and data rows,
        the totals row right below it (outside the filter, so sorting never moves it).
        `headers` collects the header row of every table written (for the frozen panes)."""
        ws.write_string(row, 0, table.title, self.f["table_title"])
        row += 1
        if not table.rows:
            ws.write_string(row, 0, table.empty_text, self.f["note"])
            return row + 2
        header_row = row
        if headers is not None:
            headers.append(header_row)
        for col, column in enumerate(table.columns):
            ws.write_string(row, col, column.label, self.f["header"])
            widths[col] = max(widths.get(col, 8), min(len(column.label) + 2, 28))
        row += 1
        for data in table.rows:
            for col, column in enumerate(table.columns):
                self.value(ws, row, col, data.get(column.key), cell_kind(data, column))
                if column.kind == "text":
                    widths[col] = max(widths.get(col, 8), min(len(str(data.get(column.key) or "")) + 2, 60))
                elif column.kind == "money":
                    widths[col] = max(widths.get(col, 8), 17)
            row += 1
        self.filter(ws, header_row, row - 1, table)
        if table.total:
            for col, column in enumerate(table.columns):
                self.value(ws, row, col, table.total.get(column.key), cell_kind(table.total, column), "total")
            row += 1
        if table.note:
            ws.write_string(row, 0, table.note, self.f["note"])
            row += 1
        return row + 1


    def filter(self, ws, header_row: int, last_row: int, table: Table) -> None:
        """An Excel table with an autofilter over the header and data rows (headers made unique)."""
        seen: set[str] = set()
        columns = []
        for column in table.columns:
            label, n = column.label, 2
            while label.casefold() in seen:
                label, n = f"{column.label} ({n})", n + 1
            seen.add(label.casefold())
            columns.append({"header": label, "header_format": self.f["header"]})
        self.tables += 1
        ws.add_table(header_row, 0, last_row, len(table.columns) - 1,
                     {"name": f"Tabela{self.tables}", "columns": columns, "autofilter": True,
                      "style": "Table Style Light 1", "banded_rows": False})


def freeze_row(headers: list[int], limit: int = FREEZE_LIMIT) -> int:
    """Rows frozen at the top of a sheet: down to the first table's header when it is near the top
    (a sheet that is one long table keeps its header in view), else the sheet's title rows."""
    first = headers[0] if headers else None
    return first + 1 if first is not None and first < limit else TITLE_ROWS


def _signoff_rows(report: Report) -> list[tuple[str, object, str]]:
    rows: list[tuple[str, object, str]] = []
    if report.version:
        rows.append(("Wersja raportu", f"{report.version}" + (f" ({report.version_note})" if report.version_note
                                                                else ""), "text"))
    s = report.signoff
    if s is not None:
        rows += [("Sporządził(a)", s.prepared_by or "………………………………", "text"),
                 ("Data sporządzenia", s.prepared_on, "date") if s.prepared_on else ("Data sporządzenia", "……………", "text"),
                 ("Zatwierdził(a)", s.approved_by or "………………………………", "text"),
                 ("Data zatwierdzenia", s.approved_on, "date") if s.approved_on else ("Data zatwierdzenia", "……………", "text"),
                 ("Źródło danych podpisu", s.source, "text")]
    return rows


def write_xlsx(report: Report, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "default_date_format": XLSX_FORMATS["date"],
               "in_memory": True}  # no temporary file per sheet: the workbook is small, zipped from memory
    workbook = xlsxwriter.Workbook(str(path), options)
    version = f"wersja {report.version}" if report.version else "wersja nieustalona"
    workbook.set_properties({"title": report.document_title,
                             "subject": f"Sprawozdanie kwartalne CUS (PO WER 2.8) — załącznik, {version}",
                             "author": "cus-settlement", "keywords": f"{report.unit_key}, {report.quarter}, {version}",
                             "comments": "Załącznik tabelaryczny do raportu kwartalnego"})
    if report.version:
        workbook.set_custom_property("Wersja raportu", int(report.version))
    writer = _Writer(workbook)
    used: set[str] = set()
    for number, section in enumerate(report.sections, start=1):
        ws = workbook.add_worksheet(sheet_name(section.sheet, used))
        widths: dict[int, int] = {0: 34}
        ws.write_string(0, 0, f"{number}. {section.title}", writer.f["title"])
        ws.write_string(1, 0, report.document_title, writer.f["subtitle"])
        row = 3
        facts = [(f.label, f.value, f.kind) for f in section.facts] + (_signoff_rows(report) if number == 1 else [])
        for label, value, kind in facts:
            ws.write_string(row, 0, label, writer.f["label"])
            writer.value(ws, row, 1, value, kind, "plain")
            widths[1] = max(widths.get(1, 8), 22)
            row += 1
        if facts:
            row += 1
        headers: list[int] = []
        for table in section.tables:
            row = writer.table(ws, row, table, widths, headers)
        ws.freeze_panes(freeze_row(headers), 0)
        for note in section.notes + (report.footnotes if number == 1 else []):
            ws.write_string(row, 0, note, writer.f["note"])
            row += 1
        for col, width in widths.items():
            ws.set_column(col, col, width)
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
    workbook.close()
    return path
