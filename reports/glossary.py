"""The glossary section: every derived figure of the report defined in words (reports/glossary.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from reports.model import Column, Section, Table

GLOSSARY_PATH = Path(__file__).parent / "glossary.yaml"


@lru_cache(maxsize=1)
def glossary_terms() -> tuple[dict, ...]:
    raw = yaml.safe_load(GLOSSARY_PATH.read_text(encoding="utf-8")) or {}
    return tuple({"term": t["term"], "definition": t["definition"]} for t in raw.get("terms", []))


def glossary_section() -> Section:
    section = Section("slownik", "Słownik pojęć — jak liczone są wartości raportu", "Słownik")
    section.tables.append(Table("slownik", "Definicje wartości wyliczanych",
                                [Column("term", "Pojęcie"), Column("definition", "Definicja")],
                                [dict(t) for t in glossary_terms()]))
    return section
