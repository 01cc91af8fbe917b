"""The parts of a payment claim that need words (opis_postepu, mart.narrative): progress per task,
problems and corrective actions, the plan for the next quarter.

They are the unit's own text, shown as received (HTML escapes it, the XLSX keeps it as text);
the automatic monitoring flags (section „Ryzyka”) follow this section, so what the unit wrote
and what the data say are read side by side.
"""

from __future__ import annotations

from reports.model import Column, Section, Table

PROGRESS, PROBLEMS, PLAN = "progress", "problems", "plan"
NO_FILE = ("Jednostka nie przekazała za ten kwartał opisu postępu (plik opcjonalny opis_postepu.xlsx lub .csv "
           "w folderze kwartału; szablon: cus templates).")


def _rows(rows: list[dict], part: str, names: dict[str, str], order: list[str]) -> list[dict]:
    picked = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit"))} for r in rows if r.get("part") == part]
    rank = {key: i for i, key in enumerate(order)}
    return sorted(picked, key=lambda r: (rank.get(r.get("unit"), len(rank)), r.get("row_number") or 0))


def narrative_section(rows: list[dict], scope: str, names: dict[str, str], order: list[str]) -> Section:
    """rows: unit, part, task_no, task_name, narrative_text, row_number (read `narrative` of reports/readers.py)."""
    section = Section("opis", "Opis postępu, problemy i plan (część opisowa wniosku)", "Opis postępu",
                      page_break=True)
    unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    text = Column("narrative_text", "Opis")
    progress = _rows(rows, PROGRESS, names, order)
    for r in progress:
        r["task_label"] = (f"{r['task_no']}. {r.get('task_name') or ''}".strip() if r.get("task_no") is not None
                           else "Projekt jako całość")
    empty = NO_FILE if not rows else "Brak wpisów tej części w opisie jednostki."
    section.tables.append(Table("opis-postep", "Postęp rzeczowy realizacji zadań",
                                unit_col + [Column("task_label", "Zadanie"), text], progress, empty_text=empty))
    section.tables.append(Table("opis-problemy", "Problemy i działania naprawcze", unit_col + [text],
                                _rows(rows, PROBLEMS, names, order), empty_text=empty))
    section.tables.append(Table("opis-plan", "Plan na następny kwartał", unit_col + [text],
                                _rows(rows, PLAN, names, order), empty_text=empty))
    section.notes.append("Tekst jednostki przytoczony bez zmian. Sygnały automatyczne wyliczone z danych są w części "
                         "„Ryzyka i sygnały ostrzegawcze” (następna część).")
    return section
