"""Report inputs (rows read from the warehouse) -> the report model, per unit and consolidated.

The builder puts the sections of reports/sections/ together; they only pick and format rows.
Every figure — per unit, summed over the units of the consolidated report, totals and ratios —
is computed by the SQL of reports/readers.py. Nothing here reads personal data: the inputs are
aggregates of the report layer.
"""

from __future__ import annotations

import copy
from datetime import datetime

from reports.formatting import quarter_label
from reports.inputs import ReportInputs
from reports.model import Report
from reports.officer_parts import complete_report
from reports.sections import Scope
from reports.sections.financial import financial
from reports.sections.identification import identification
from reports.sections.monitoring import flags, milestones, quality
from reports.sections.physical import physical
from reports.sections.profile import profile
from reports.sections.services import services
from reports.settings import ReportSettings, default_settings
from reports.suppression import footnote as suppression_footnote

CONSOLIDATED = "zbiorczy"

__all__ = ["CONSOLIDATED", "ReportInputs", "build_report", "missing_tables_note", "running_header"]


def missing_tables_note(tables: list[str]) -> str:
    return ("Uwaga: w hurtowni brak tabel " + ", ".join(sorted(tables)) + " — odpowiadające im części raportu są "
            "puste. Przelicz hurtownię i wskaźniki (indicators_job), a następnie wygeneruj raport ponownie.")


def running_header(inputs: ReportInputs, scope: str) -> tuple[str, str]:
    """(left, right) of every printed page: the unit, the quarter and the agreement number."""
    quarter = quarter_label(inputs.quarter)
    if scope == "unit":
        unit = inputs.units[0]
        return unit.name, f"{quarter} · umowa nr {unit.agreement_no or '—'}"
    return ("Raport zbiorczy — Centra Usług Społecznych (PO WER 2.8)",
            f"{quarter} · umowy wszystkich jednostek raportu ({len(inputs.units)})")


def build_report(inputs: ReportInputs, scope: str, unit_key: str | None = None,
                 settings: ReportSettings | None = None, generated_at: datetime | None = None) -> Report:
    """One report: `scope="unit"` with `unit_key`, or `scope="consolidated"` over `inputs.units`."""
    settings = settings or default_settings()
    if scope == "unit":
        inputs = inputs.for_unit(unit_key)
        if not inputs.units:
            raise ValueError(f"Jednostka {unit_key!r} nie jest objęta danymi raportu.")
        unit = inputs.units[0]
        title = f"Raport kwartalny — {unit.name}"
        period = (unit.period_start, unit.period_end)
        suppress = settings.suppress_in_unit_reports
    else:
        inputs = copy.copy(inputs)
        title = "Raport zbiorczy — Centra Usług Społecznych (PO WER 2.8)"
        period = (min(u.period_start for u in inputs.units), max(u.period_end for u in inputs.units))
        suppress = True
    context = Scope(scope, inputs, settings, suppress)
    profile_section, hidden = profile(context)
    services_section, hidden_services = services(context)
    hidden += hidden_services
    sections = [identification(context), physical(context), profile_section, services_section, financial(context),
                quality(context), flags(context), milestones(context)]
    footnotes = [
        "Źródło: hurtownia danych CUS (warstwa report), dane przekazane przez jednostki w plikach wymienionych "
        "w części „Jakość danych”. Kwoty w złotych; K — kobiety, M — mężczyźni.",
        "Raport nie zawiera danych osobowych uczestników (PESEL zastąpiony pseudonimem przy wczytaniu; imiona, "
        "nazwiska i kontakty nie są przechowywane).",
    ]
    if suppress:
        footnotes.append(suppression_footnote(settings.suppression_threshold))
    if inputs.missing:
        warning = missing_tables_note(inputs.missing)
        sections[0].notes.insert(0, warning)
        footnotes.insert(0, warning)
    report = Report(
        scope=scope, unit_key=unit_key if scope == "unit" else CONSOLIDATED, title=title, quarter=inputs.quarter,
        period_start=period[0], period_end=period[1], generated_at=generated_at or datetime.now(),
        sections=sections, footnotes=footnotes, units=[u.key for u in inputs.units], suppressed_cells=hidden,
        running_header=running_header(inputs, scope),
    )
    return complete_report(report, inputs)  # reports/officer_parts.py: narrative, documents, glossary, order
