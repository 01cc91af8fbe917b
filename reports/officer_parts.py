"""What the ministry officer needs beyond the figures, added to a built report in one step:

- the descriptive part of the claim (reports/sections/narrative.py), right before the automatic
  flags („Ryzyka”);
- the list of expense documents as an XLSX-only annex sheet (reports/sections/documents.py), with
  a pointer to it in the financial section;
- the glossary of derived figures (reports/glossary.py), last;
- the sign-off block (reports/signoff.py);
- one order and wording for every table (reports/ordering.py).

The report version is stamped when the files are written (reports/versioning.py, reports/generate.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports.glossary import glossary_section
from reports.model import Report
from reports.ordering import tidy
from reports.sections.documents import documents_note, documents_section
from reports.sections.narrative import narrative_section
from reports.signoff import resolve_signoff

if TYPE_CHECKING:
    from reports.inputs import ReportInputs


def _insert_before(report: Report, section_id: str, section) -> None:
    ids = [s.id for s in report.sections]
    report.sections.insert(ids.index(section_id) if section_id in ids else len(ids), section)


def complete_report(report: Report, inputs: ReportInputs) -> Report:
    """Add the officer's parts to `report` built from `inputs` (already narrowed to the unit)."""
    names = {u.key: u.name for u in inputs.units}
    order = [u.key for u in inputs.units]
    _insert_before(report, "ryzyka", narrative_section(inputs.narrative, report.scope, names, order))
    finance = next((s for s in report.sections if s.id == "postep-finansowy"), None)
    if finance is not None:
        finance.notes.append(documents_note(inputs.expense_documents))
    report.sections.append(glossary_section())
    report.sections.append(documents_section(inputs.expense_documents, report.scope, names, order))
    report.signoff = resolve_signoff(report.unit_key, inputs.narrative if report.scope == "unit" else [])
    return tidy(report)
