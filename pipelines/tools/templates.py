"""Blank provider templates (XLSX), written from the data contract.

One workbook per dataset: the Polish headers in row 1 (required ones in bold), a dropdown with
the allowed values for every enumerated column, a note on each header with its type and rules,
and an "Instrukcja" sheet. Providers fill these in; the parser reads the same contract.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter
import xlsxwriter.utility

from core.contract import Column, Dataset, load_contract

MAX_ROWS = 10_000
TYPE_HINTS = {
    "string": "tekst",
    "integer": "liczba całkowita",
    "decimal": "kwota/liczba, np. 1234,56",
    "date": "data DD.MM.RRRR lub RRRR-MM-DD",
    "quarter": "kwartał, np. 2021Q1",
    "pesel": "PESEL (11 cyfr) — wpisz jako tekst",
    "nip": "NIP (10 cyfr)",
    "flag_tn": "T lub N",
    "yes_no": "Tak / Nie",
    "yes_no_refused": "Tak / Nie / Odmowa podania informacji",
    "enum": "wybierz z listy",
}


def column_note(column: Column) -> str:
    parts = [TYPE_HINTS.get(column.type, column.type), "wymagane" if column.required else "opcjonalne"]
    if column.min is not None:
        parts.append(f"min. {column.min}")
    if column.max is not None:
        parts.append(f"maks. {column.max}")
    if column.values:
        parts.append("dozwolone: " + "; ".join(column.labels()))
    if column.pii:
        parts.append("dane osobowe: nie trafiają do hurtowni")
    return ", ".join(parts)


def write_template(dataset: Dataset, folder: Path) -> Path:
    path = Path(folder) / f"{dataset.file}.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet(dataset.file[:31])
    required = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    optional = workbook.add_format({"bg_color": "#F2F2F2", "border": 1, "text_wrap": True})
    text = workbook.add_format({"num_format": "@"})
    lists = workbook.add_worksheet("Listy")
    lists.hide()
    list_column = 0
    for position, column in enumerate(dataset.columns):
        sheet.write_string(0, position, column.header, required if column.required else optional)
        sheet.write_comment(0, position, column_note(column), {"x_scale": 2, "y_scale": 1.5})
        sheet.set_column(position, position, max(14, min(40, len(column.header) + 2)),
                         text if column.type in ("pesel", "nip", "string") else None)
        if column.values:
            # Allowed values live on a hidden sheet: labels may hold commas and exceed 255 chars.
            for row, label in enumerate(column.labels()):
                lists.write_string(row, list_column, label)
            letter = xlsxwriter.utility.xl_col_to_name(list_column)
            source = f"=Listy!${letter}$1:${letter}${len(column.values)}"
            list_column += 1
            sheet.data_validation(1, position, MAX_ROWS, position, {
                "validate": "list", "source": source,
                "error_title": "Niedozwolona wartość", "error_message": "Wybierz wartość z listy.",
            })
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 45)
    guide = workbook.add_worksheet("Instrukcja")
    guide.set_column(0, 0, 45)
    guide.set_column(1, 1, 90)
    guide.write_string(0, 0, dataset.title, workbook.add_format({"bold": True, "font_size": 14}))
    guide.write_string(1, 0, "Folder dostarczenia")
    guide.write_string(1, 1, "data/landing/<jednostka>/" + ("<RRRR>Q<n>/" if dataset.level == "quarter" else "umowa/"))
    for row, column in enumerate(dataset.columns, start=3):
        guide.write_string(row, 0, column.header)
        guide.write_string(row, 1, column_note(column))
    workbook.close()
    return path


def write_templates(folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_template(dataset, folder) for dataset in load_contract().values()]
