"""The list of expense documents of the payment claim (SL2014 "zestawienie dokumentów"): an XLSX
annex sheet, one row per document of the reporting quarter (mart.fact_expense), with the claim's
columns. The "Faktura korygująca" column is shown when the warehouse has it.
"""

from __future__ import annotations

from datetime import date

from reports.model import Column, Section, Table, total_row
from reports.ordering import natural_key

# Names a correction-invoice flag may have in mart.fact_expense (contract column `correction`).
CORRECTION_COLUMNS = ("correction", "is_correction", "correction_invoice")
MONEY = ("gross_amount", "net_amount", "eligible_amount", "vat_amount")


def documents_section(rows: list[dict], scope: str, names: dict[str, str], order: list[str]) -> Section:
    section = Section("dokumenty", "Zestawienie dokumentów księgowych (wydatki kwartału)", "Dokumenty",
                      in_html=False)
    correction = next((c for c in CORRECTION_COLUMNS if any(c in r for r in rows)), None)
    columns = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    columns += [
        Column("document_no", "Nr dokumentu"), Column("issuer_nip", "NIP wystawcy"),
        Column("issue_date", "Data wystawienia", "date"), Column("payment_date", "Data zapłaty", "date"),
        Column("gross_amount", "Kwota dokumentu brutto", "money"), Column("net_amount", "Kwota dokumentu netto", "money"),
        Column("eligible_amount", "Kwota wydatków kwalifikowalnych", "money"), Column("vat_amount", "W tym VAT", "money"),
        Column("task_no", "Nr zadania", "int"), Column("cost_category", "Kategoria kosztów"),
    ]
    if correction:
        columns.append(Column(correction, "Faktura korygująca", "flag"))
    columns += [Column("cross_financing", "Cross-financing", "flag"), Column("fixed_asset", "Środek trwały", "flag"),
                Column("commissioned", "Usługa zlecona", "flag")]
    rank = {key: i for i, key in enumerate(order)}
    # Registry order of units, then task, cost category in natural order (3.2 before 3.10), date, number.
    shown = sorted(({**r, "unit_name": names.get(r.get("unit"), r.get("unit"))} for r in rows),
                   key=lambda r: (rank.get(r.get("unit"), len(rank)), r.get("task_no") or 0,
                                  natural_key(r.get("cost_category")), r.get("issue_date") or date.min,
                                  natural_key(r.get("document_no"))))
    label = "unit_name" if scope == "consolidated" else "document_no"
    section.tables.append(Table(
        "dokumenty", "Zestawienie dokumentów księgowych — kwartał wniosku", columns, shown,
        total=total_row(shown, label, f"Razem ({len(shown)} dok.)", list(MONEY)) if shown else None,
        note="Kwoty w złotych. „W tym VAT” — VAT zawarty w kwocie wydatków kwalifikowalnych (0, gdy VAT podlega "
             "odzyskaniu).",
        empty_text="Brak dokumentów księgowych w kwartale."))
    return section


def documents_note(rows: list[dict]) -> str:
    """One line for the HTML/PDF: where the list is."""
    return (f"Zestawienie {len(rows)} dokumentów księgowych kwartału (nr, NIP wystawcy, daty, kwoty, zadanie, "
            "kategoria, flagi) jest w załączniku XLSX, arkusz „Dokumenty”.")
