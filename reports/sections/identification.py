"""Identification of the project and the reporting period (agreement data of the unit registry)."""

from __future__ import annotations

from decimal import Decimal

from core.quarters import quarter_end, quarter_start
from reports.model import Column, Fact, Section, Table
from reports.sections import Scope


def identification(scope: Scope) -> Section:
    inputs, q = scope.inputs, scope.inputs.quarter
    section = Section("identyfikacja", "Identyfikacja projektu i okresu sprawozdawczego", "Identyfikacja")
    if not scope.consolidated:
        u = inputs.units[0]
        section.facts = [
            Fact("Beneficjent / jednostka", u.name),
            Fact("Gmina", u.gmina or None),
            Fact("Województwo", u.voivodeship or None),
            Fact("Przekształcenie", u.transformation or None),
            Fact("Program", u.programme),
            Fact("Nabór", u.call),
            Fact("Numer umowy o dofinansowanie", u.agreement_no),
            Fact("Data podpisania umowy", u.agreement_signed, "date"),
            Fact("Okres realizacji projektu — od", u.period_start, "date"),
            Fact("Okres realizacji projektu — do", u.period_end, "date"),
            Fact("Uruchomienie CUS", u.cus_start, "date"),
            Fact("Kwartał sprawozdawczy", q, "quarter"),
            Fact("Okres sprawozdawczy — od", max(quarter_start(q), u.period_start), "date"),
            Fact("Okres sprawozdawczy — do", min(quarter_end(q), u.period_end), "date"),
            Fact("Wartość projektu (umowa)", u.total, "money"),
        ]
        return section
    # The agreements' values are registry data (config/units.yaml), not warehouse figures.
    agreements_total = sum((u.total for u in inputs.units), Decimal(0))
    section.facts = [
        Fact("Program", inputs.units[0].programme if inputs.units else None),
        Fact("Nabór", inputs.units[0].call if inputs.units else None),
        Fact("Kwartał sprawozdawczy", q, "quarter"),
        Fact("Okres sprawozdawczy — od", quarter_start(q), "date"),
        Fact("Okres sprawozdawczy — do", quarter_end(q), "date"),
        Fact("Liczba jednostek (projektów) w okresie", len(inputs.units), "int"),
        Fact("Łączna wartość projektów (umowy)", agreements_total, "money"),
    ]
    section.tables.append(Table(
        "jednostki", "Jednostki objęte raportem",
        [Column("unit_name", "Jednostka"), Column("agreement_no", "Nr umowy"),
         Column("period_start", "Początek", "date"), Column("period_end", "Koniec", "date"),
         Column("cus_start", "Uruchomienie CUS", "date"), Column("total", "Wartość projektu", "money")],
        [{"unit_name": u.name, "agreement_no": u.agreement_no, "period_start": u.period_start,
          "period_end": u.period_end, "cus_start": u.cus_start, "total": u.total} for u in inputs.units],
        total={"unit_name": "Razem", "total": agreements_total},
    ))
    return section
