"""Small landing files made by code for the ingestion tests (no generator numbers)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

PARTICIPANT_HEADERS = [
    "Identyfikator uczestnika", "Kraj", "Rodzaj uczestnika", "Imię", "Nazwisko", "PESEL", "Brak PESEL", "Płeć",
    "Wiek w chwili przystąpienia do projektu", "Wykształcenie", "Województwo", "Powiat", "Gmina", "Miejscowość",
    "Kod pocztowy", "Obszar wg stopnia urbanizacji (DEGURBA)", "Telefon kontaktowy", "Adres e-mail",
    "Data rozpoczęcia udziału w projekcie", "Data zakończenia udziału w projekcie",
    "Status osoby na rynku pracy w chwili przystąpienia do projektu", "Zakończenie udziału zgodnie ze ścieżką",
    "Osoba należąca do mniejszości narodowej lub etnicznej, migrant, osoba obcego pochodzenia",
    "Osoba bezdomna lub dotknięta wykluczeniem z dostępu do mieszkań", "Osoba z niepełnosprawnościami",
    "Osoba w innej niekorzystnej sytuacji społecznej", "Osoba zagrożona ubóstwem lub wykluczeniem społecznym",
]

EXPENSE_HEADERS = [
    "Nr dokumentu", "NIP wystawcy", "Data wystawienia", "Data zapłaty", "Nr zadania", "Kategoria kosztów",
    "Nazwa towaru lub usługi", "Kwota dokumentu brutto", "Kwota dokumentu netto",
    "Kwota wydatków kwalifikowalnych", "W tym VAT", "Cross-financing (T/N)", "Środek trwały (T/N)",
    "Usługa zlecona (T/N)",
]


def participant_row(pid: str, first: str, last: str, pesel, sex: str, start, age=None, **extra) -> list:
    row = {
        "Identyfikator uczestnika": pid, "Kraj": "Polska", "Rodzaj uczestnika": "Indywidualny", "Imię": first,
        "Nazwisko": last, "PESEL": pesel, "Brak PESEL": "Nie", "Płeć": sex,
        "Wiek w chwili przystąpienia do projektu": age, "Wykształcenie": "Podstawowe (ISCED 1)",
        "Województwo": "warmińsko-mazurskie", "Powiat": "Elbląg", "Gmina": "Elbląg", "Miejscowość": "Elbląg",
        "Kod pocztowy": "82-300", "Obszar wg stopnia urbanizacji (DEGURBA)": "2 – Obszar pośredni",
        "Telefon kontaktowy": "600100200", "Adres e-mail": f"{first.lower()}@example.pl",
        "Data rozpoczęcia udziału w projekcie": start, "Data zakończenia udziału w projekcie": None,
        "Status osoby na rynku pracy w chwili przystąpienia do projektu": "Osoba bierna zawodowo",
        "Zakończenie udziału zgodnie ze ścieżką": None,
        "Osoba należąca do mniejszości narodowej lub etnicznej, migrant, osoba obcego pochodzenia": "Nie",
        "Osoba bezdomna lub dotknięta wykluczeniem z dostępu do mieszkań": "Nie",
        "Osoba z niepełnosprawnościami": "Odmowa podania informacji",
        "Osoba w innej niekorzystnej sytuacji społecznej": "Nie",
        "Osoba zagrożona ubóstwem lub wykluczeniem społecznym": "Tak",
    }
    row.update(extra)
    return [row[h] for h in PARTICIPANT_HEADERS]


DEFAULT_HEADER_BLOCK = ("Projekt: Utworzenie Centrum Usług Społecznych", "Umowa: POWR.02.08.00-00-0001/20",
                        "Okres sprawozdawczy: 2021Q3")


def write_participants_xlsx(path: Path, rows: list[list], header_block: bool = True, trailing_empty: int = 2,
                            header_lines: tuple[str, ...] = DEFAULT_HEADER_BLOCK) -> Path:
    """The SL2014 sheet; with `header_block`, `header_lines` and an empty row above the table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if header_block:
        for line in header_lines:
            sheet.append([line])
        sheet.append([])
    sheet.append(PARTICIPANT_HEADERS)
    for row in rows:
        sheet.append(row)
    for _ in range(trailing_empty):
        sheet.append([None] * len(PARTICIPANT_HEADERS))
    workbook.save(path)
    return path


def write_csv(path: Path, headers: list[str], rows: list[list], sep: str = ",", encoding: str = "utf-8",
              trailing: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(headers)] + [sep.join("" if v is None else str(v) for v in row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n" + trailing).encode(encoding))
    return path
