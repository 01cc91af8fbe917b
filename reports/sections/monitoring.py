"""Data quality (received, accepted, quarantined, file versions), risk flags and milestones
(report.data_quality, report.quarantine_reasons, raw.file_versions, report.flags, report.milestones)."""

from __future__ import annotations

from core.quarters import quarter_end
from reports.inputs import UNIT, at_level, one
from reports.labels import MILESTONE_STATUS, dataset_label, row_outcome_label, severity_label
from reports.model import Column, Section, Table
from reports.sections import Scope

_COUNT_COLUMNS = [Column("dataset_label", "Zbiór danych"), Column("received", "Otrzymane", "int"),
                  Column("accepted", "Przyjęte", "int"), Column("quarantined", "W kwarantannie", "int"),
                  Column("accepted_share", "Przyjęte (%)", "pct")]


def _labelled(scope: Scope, rows: list[dict]) -> list[dict]:
    out = [{**r, "unit_name": scope.unit_name(r.get("unit")), "dataset_label": dataset_label(r.get("dataset"))}
           for r in rows]
    out.sort(key=lambda r: (r["unit_name"] or "", r["dataset_label"]))
    return out


def quality(scope: Scope) -> Section:
    section = Section("jakosc-danych", "Jakość danych — otrzymane, przyjęte, w kwarantannie", "Jakość danych",
                      page_break=True)
    rows = _labelled(scope, at_level(scope.inputs.quality, UNIT))
    total = one(scope.inputs.quality, scope.total_level)
    section.tables.append(Table(
        "jakosc", "Wiersze otrzymane i przyjęte w kwartale", scope.unit_column() + _COUNT_COLUMNS, rows,
        total={**total, "dataset_label": "Razem"} if rows and total else None,
        empty_text="Brak danych o walidacji za ten kwartał."))
    # Agreement files (umowa/) are not received in the quarter: their own table, outside the totals.
    agreement = _labelled(scope, scope.inputs.quality_agreement)
    if agreement:
        section.tables.append(Table(
            "jakosc-umowa", "Pliki umowy (umowa/: budżet, harmonogram, katalog usług, wskaźniki, kamienie milowe) — "
            "stan obecny, poza sumami kwartału", scope.unit_column() + _COUNT_COLUMNS, agreement))
    # Errors (rows rejected to the quarantine) and warnings (rows accepted) of the validation rules:
    # a reason's rows are not a count of rejected rows (a row with two errors counts under both,
    # warnings are accepted), so the table has no totals row; the table above counts the rows.
    reasons = [{**r, "unit_name": scope.unit_name(r.get("unit")), "dataset_label": dataset_label(r.get("dataset")),
                "outcome": row_outcome_label(r.get("severity"))} for r in scope.inputs.quality_reasons]
    reasons.sort(key=lambda r: (r["unit_name"] or "", str(r.get("severity")) != "error", r["dataset_label"],
                                -(r.get("rows") or 0)))
    section.tables.append(Table(
        "kwarantanna", "Wiersze odrzucone i ostrzeżenia według przyczyny", scope.unit_column() + [
            Column("dataset_label", "Zbiór danych"), Column("outcome", "Skutek"), Column("reason", "Przyczyna"),
            Column("rows", "Wiersze", "int")],
        reasons, note="Wiersz z kilkoma przyczynami jest liczony przy każdej z nich; wiersze z ostrzeżeniem są "
        "przyjęte. Liczbę wierszy odrzuconych (w kwarantannie) podaje tabela powyżej.",
        empty_text="Żaden wiersz nie został odrzucony ani nie ma ostrzeżenia."))
    skipped = [{**r, "unit_name": scope.unit_name(r.get("unit"))} for r in scope.inputs.landing_problems]
    section.tables.append(Table(
        "pominiete-pliki", "Pliki i foldery w folderze przyjęć, które nie zostały wczytane", scope.unit_column() + [
            Column("path", "Ścieżka"), Column("problem", "Problem"), Column("fix", "Co zrobić")], skipped,
        empty_text="Wszystkie pliki w folderze przyjęć leżą we właściwych miejscach."))
    versions = [{**r, "unit_name": scope.unit_name(r.get("unit")), "sha": (r.get("sha256") or "")[:12]}
                for r in scope.inputs.file_versions]
    section.tables.append(Table(
        "pliki", "Wersje plików źródłowych, z których pochodzą dane kwartału", scope.unit_column() + [
            Column("source_file", "Plik"), Column("version_no", "Wersja", "int"), Column("sha", "SHA-256 (początek)"),
            Column("loaded_at", "Wczytano", "date"), Column("rows_loaded", "Wiersze", "int")], versions,
        empty_text="Brak plików za ten kwartał."))
    return section


_SEVERITY_ORDER = {"error": 0, "high": 0, "warning": 1, "medium": 1, "info": 2, "low": 2}


def flags(scope: Scope) -> Section:
    section = Section("ryzyka", "Ryzyka i sygnały ostrzegawcze", "Ryzyka")
    rows = [{**r, "unit_name": scope.unit_name(r.get("unit")), "severity_label": severity_label(r.get("severity"))}
            for r in scope.inputs.flags]
    rows.sort(key=lambda r: (_SEVERITY_ORDER.get(str(r.get("severity")).lower(), 3), r["unit_name"] or "",
                             str(r.get("area") or "")))
    section.tables.append(Table(
        "flagi", "Sygnały z reguł monitorowania", scope.unit_column() + [
            Column("severity_label", "Waga"), Column("area", "Obszar"), Column("message", "Opis")], rows,
        empty_text="Brak sygnałów ostrzegawczych w tym kwartale."))
    return section


def milestones(scope: Scope) -> Section:
    """Milestones as of the reporting quarter's end (status and visible achievement dates: SQL)."""
    section = Section("kamienie-milowe", "Kamienie milowe", "Kamienie milowe")
    end = quarter_end(scope.inputs.quarter)
    rows = [{**r, "status": MILESTONE_STATUS.get(r.get("status"), r.get("status")),
             "unit_name": scope.unit_name(r.get("unit"))} for r in scope.inputs.milestones]
    rows.sort(key=lambda r: (r["unit_name"] or "", r.get("planned_date") or end, str(r.get("code"))))
    section.tables.append(Table(
        "kamienie", "Kamienie milowe (stan na koniec kwartału)", scope.unit_column() + [
            Column("code", "Kod"), Column("name", "Kamień milowy"), Column("planned_date", "Data planowana", "date"),
            Column("achieved_date", "Data osiągnięcia", "date"), Column("status", "Status")], rows,
        empty_text="Brak kamieni milowych w umowie."))
    return section
