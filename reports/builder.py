"""Report inputs (rows read from the warehouse) -> the report model, per unit and consolidated.

The builder only arranges and sums what the warehouse computed: per-unit figures are shown as
stored; consolidated figures are sums over units (ratios recomputed from the sums). Nothing
here reads personal data: the inputs are aggregates of the report layer.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.quarters import quarter_end, quarter_start
from core.registry import Unit
from reports import charts
from reports.formatting import Suppressed, quarter_label
from reports.labels import (
    AGE_GROUPS,
    COMMISSIONED_MODES,
    DELIVERY_MODES,
    SERVICE_AREAS,
    area_label,
    dataset_label,
    mode_label,
    severity_label,
)
from reports.model import ROW_KINDS, Column, Fact, Report, Section, Table, ratio, total_row
from reports.settings import ReportSettings, default_settings
from reports.suppression import (
    CUMULATIVE_TRIPLE,
    QUARTER_TRIPLE,
    disclosure_by_series,
    hide_small_area_persons,
    hide_triple,
    is_small,
    summed_series,
)
from reports.suppression import footnote as suppression_footnote

CONSOLIDATED = "zbiorczy"
ZERO = Decimal(0)


@dataclass
class ReportInputs:
    """Rows of the report layer for one quarter and the units covered (see reports/sql/)."""

    quarter: str
    units: list[Unit]
    indicators: list[dict] = field(default_factory=list)
    profile: list[dict] = field(default_factory=list)
    # Sensitive profile rows of every quarter up to the reporting one (sequential disclosure control).
    profile_history: list[dict] = field(default_factory=list)
    services_area: list[dict] = field(default_factory=list)
    services_mode: list[dict] = field(default_factory=list)
    services_service: list[dict] = field(default_factory=list)
    commissioned: list[dict] = field(default_factory=list)
    finance_tasks: list[dict] = field(default_factory=list)
    finance_categories: list[dict] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    settlement: list[dict] = field(default_factory=list)
    advances: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    quality_agreement: list[dict] = field(default_factory=list)
    quality_reasons: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    file_versions: list[dict] = field(default_factory=list)
    # Warehouse tables that do not exist (yet): their inputs are empty and the report says so.
    missing: list[str] = field(default_factory=list)

    def for_unit(self, unit_key: str) -> ReportInputs:
        picked = {name: [r for r in getattr(self, name) if r.get("unit") == unit_key]
                  for name in self.__dataclass_fields__ if name not in ("quarter", "units", "missing")}
        return ReportInputs(quarter=self.quarter, units=[u for u in self.units if u.key == unit_key],
                            missing=list(self.missing), **picked)


# ---------------------------------------------------------------------------------------------
# helpers

def _d(value) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _sum(rows: list[dict], key: str) -> Decimal | None:
    values = [_d(r.get(key)) for r in rows if r.get(key) is not None]
    return sum(values, ZERO) if values else None


def _status(ok: bool | None, warn: bool = False) -> str | None:
    if ok is None:
        return None
    return "ok" if ok else ("warn" if warn else "bad")


def _unit_names(units: list[Unit]) -> dict[str, str]:
    return {u.key: u.name for u in units}


def _grouped_sum(rows: list[dict], keys: tuple[str, ...], sum_keys: list[str]) -> list[dict]:
    """Sum `sum_keys` over rows sharing `keys` (first-seen order); other fields from the first row."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row.get(k) for k in keys)].append(row)
    out = []
    for members in groups.values():
        merged = dict(members[0])
        merged.pop("unit", None)
        for key in sum_keys:
            merged[key] = _sum(members, key)
        out.append(merged)
    return out


# ---------------------------------------------------------------------------------------------
# sections

def _identification(inputs: ReportInputs, scope: str) -> Section:
    q = inputs.quarter
    section = Section("identyfikacja", "Identyfikacja projektu i okresu sprawozdawczego", "Identyfikacja")
    if scope == "unit":
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
    else:
        section.facts = [
            Fact("Program", inputs.units[0].programme if inputs.units else None),
            Fact("Nabór", inputs.units[0].call if inputs.units else None),
            Fact("Kwartał sprawozdawczy", q, "quarter"),
            Fact("Okres sprawozdawczy — od", quarter_start(q), "date"),
            Fact("Okres sprawozdawczy — do", quarter_end(q), "date"),
            Fact("Liczba jednostek (projektów) w okresie", len(inputs.units), "int"),
            Fact("Łączna wartość projektów (umowy)", sum((u.total for u in inputs.units), ZERO), "money"),
        ]
        section.tables.append(Table(
            "jednostki", "Jednostki objęte raportem",
            [Column("unit_name", "Jednostka"), Column("agreement_no", "Nr umowy"),
             Column("period_start", "Początek", "date"), Column("period_end", "Koniec", "date"),
             Column("cus_start", "Uruchomienie CUS", "date"), Column("total", "Wartość projektu", "money")],
            [{"unit_name": u.name, "agreement_no": u.agreement_no, "period_start": u.period_start,
              "period_end": u.period_end, "cus_start": u.cus_start, "total": u.total} for u in inputs.units],
            total={"unit_name": "Razem", "total": sum((u.total for u in inputs.units), ZERO)},
        ))
    return section


_IND_SUMS = ["target_total", "target_women", "target_men", "quarter_total", "quarter_women", "quarter_men",
             "cumulative_total", "cumulative_women", "cumulative_men"]


def _is_share(row: dict) -> bool:
    """Indicators measured as a share (REZ_ZLECANIE: commissioned share vs the unit's threshold)."""
    return str(row.get("measure_unit") or "").strip() == "%"


def _indicator_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        row = dict(r)
        if _is_share(row):  # values are ratios 0–1: printed as percentages, never summed over units
            row[ROW_KINDS] = {k: "pct" for k in ("target_total", "quarter_total", "cumulative_total")}
        row["pct"] = _d(r.get("pct")) if r.get("pct") is not None else ratio(r.get("cumulative_total"),
                                                                              r.get("target_total"))
        out.append(row)
    return out


def _physical(inputs: ReportInputs, scope: str, names: dict[str, str]) -> Section:
    section = Section("postep-rzeczowy", "Postęp rzeczowy — wskaźniki produktu i rezultatu", "Postęp rzeczowy")
    rows = inputs.indicators
    if scope == "consolidated":
        rows = _grouped_sum([r for r in rows if not _is_share(r)], ("code",), _IND_SUMS)
        for r in rows:
            r.pop("pct", None)
    rows = _indicator_rows(sorted(rows, key=lambda r: (r.get("sort_order") or 0, str(r.get("code")))))
    main = [Column("code", "Kod"), Column("name", "Wskaźnik"), Column("kind", "Typ"),
            Column("target_total", "Wartość docelowa", "int"), Column("quarter_total", "W kwartale", "int"),
            Column("cumulative_total", "Narastająco", "int"), Column("pct", "% realizacji", "pct")]
    section.tables.append(Table(
        "wskazniki", "Wskaźniki: wartość docelowa, w kwartale, narastająco", main, rows,
        note="% realizacji = wartość narastająco / wartość docelowa." + (
            " Wskaźniki mierzone udziałem (np. udział usług zleconych) nie są sumowane — zob. tabelę według "
            "jednostek i część „Usługi”." if scope == "consolidated" and any(_is_share(r) for r in inputs.indicators)
            else "")))
    sex = [Column("code", "Kod"), Column("name", "Wskaźnik"),
           Column("target_women", "Docelowo K", "int"), Column("target_men", "Docelowo M", "int"),
           Column("quarter_women", "W kwartale K", "int"), Column("quarter_men", "W kwartale M", "int"),
           Column("cumulative_women", "Narastająco K", "int"), Column("cumulative_men", "Narastająco M", "int")]
    with_sex = [r for r in rows if not _is_share(r) and any(r.get(c.key) is not None for c in sex[2:])]
    section.tables.append(Table("wskazniki-plec", "Wskaźniki w podziale na płeć (K — kobiety, M — mężczyźni)", sex,
                                with_sex, empty_text="Wskaźniki nie mają podziału na płeć."))
    if scope == "consolidated":
        per_unit = _indicator_rows(sorted(inputs.indicators, key=lambda r: (r.get("sort_order") or 0,
                                                                           str(r.get("code")), r.get("unit"))))
        for r in per_unit:
            r["unit_name"] = names.get(r["unit"], r["unit"])
        section.tables.append(Table(
            "wskazniki-jednostki", "Wskaźniki według jednostek",
            [Column("code", "Kod"), Column("unit_name", "Jednostka"), Column("target_total", "Wartość docelowa", "int"),
             Column("quarter_total", "W kwartale", "int"), Column("cumulative_total", "Narastająco", "int"),
             Column("pct", "% realizacji", "pct")], per_unit))
    chart_rows = [{"label": f"{r.get('code')} {r.get('name') or ''}".strip(), "pct": r["pct"],
                   "cumulative": r.get("cumulative_total"), "target": r.get("target_total")}
                  for r in rows if r.get("target_total")]
    if chart_rows:
        section.charts.append(charts.indicator_progress(chart_rows))
    return section


_PROFILE_COUNTS = ["quarter_total", "cumulative_total", "cumulative_women", "cumulative_men"]


def _profile_history(inputs: ReportInputs) -> list[dict]:
    """The sensitive series up to the reporting quarter: earlier quarters from profile_history,
    the reporting quarter exactly as shown (the current profile rows)."""
    q = inputs.quarter
    earlier = [dict(r) for r in inputs.profile_history if r.get("quarter") != q and str(r.get("quarter")) < q]
    current = [{**r, "quarter": q} for r in inputs.profile if r.get("sensitive")]
    return earlier + current


def _profile(inputs: ReportInputs, scope: str, names: dict[str, str], settings: ReportSettings,
             suppress: bool) -> tuple[Section, int]:
    section = Section("profil-uczestnikow", "Profil uczestników (wspólne wskaźniki EFS)", "Profil uczestników",
                      page_break=True)
    threshold = settings.suppression_threshold
    q = inputs.quarter
    rows = inputs.profile
    if scope == "consolidated":
        rows = _grouped_sum(rows, ("code",), _PROFILE_COUNTS + ["quarter_women", "quarter_men"])
    rows = [dict(r) for r in sorted(rows, key=lambda r: (r.get("sort_order") or 0, str(r.get("code"))))]
    hidden = 0
    age_rows = [{"age_group": AGE_GROUPS[int(r["age_group"]) - 1], "women": r.get("cumulative_women"),
                 "men": r.get("cumulative_men")} for r in rows if r.get("age_group")]
    # Sequential disclosure control (reports/suppression.py, the rule of the published copy too):
    # per unit × code over the quarters up to this one; the consolidated sum as its own series,
    # hidden wherever one of its units is.
    history = _profile_history(inputs)
    unit_decisions = disclosure_by_series(history, threshold)
    if suppress:
        if scope == "consolidated":
            _summed, decisions = summed_series(history, unit_decisions, threshold)
            decide = lambda r: decisions.get((r.get("code"), q), (True, True))  # noqa: E731
        else:
            decide = lambda r: unit_decisions.get((r.get("unit"), r.get("code"), q), (True, True))  # noqa: E731
        for r in rows:
            if not r.get("sensitive"):
                continue
            cumulative_published, quarter_published = decide(r)
            if not cumulative_published:
                hidden += hide_triple(r, CUMULATIVE_TRIPLE, threshold)
            if not quarter_published:
                hidden += hide_triple(r, QUARTER_TRIPLE, threshold)
    for r in rows:
        if r.get("sensitive"):
            r["label"] = f"{r.get('label')} *"
    section.tables.append(Table(
        "profil", "Uczestnicy według kategorii (osoby, które rozpoczęły udział)",
        [Column("label", "Kategoria"), Column("quarter_total", "W kwartale", "int"),
         Column("cumulative_total", "Narastająco", "int"), Column("cumulative_women", "w tym kobiety", "int"),
         Column("cumulative_men", "w tym mężczyźni", "int")], rows,
        note="Kategorie oznaczone * są danymi wrażliwymi; małe liczebności i liczby, z których dałoby się je "
             "odtworzyć (także różnicą kwartałów), są ukryte (przypis)." if suppress else None,
    ))
    if scope == "consolidated":
        # Sensitive categories per unit (cumulative totals), each cell as in the unit's own series;
        # the column total as the summed series (hidden wherever a unit is).
        sensitive_codes = [r for r in sorted(inputs.profile, key=lambda r: (r.get("sort_order") or 0))
                           if r.get("sensitive")]
        codes: list[tuple[str, str]] = []
        for r in sensitive_codes:
            if r["code"] not in [c for c, _ in codes]:
                codes.append((r["code"], r.get("label") or r["code"]))
        _summed, summed_decisions = summed_series(history, unit_decisions, threshold)
        by_unit: list[dict] = []
        for u in inputs.units:
            row: dict[str, Any] = {"unit_name": u.name}
            for code, _ in codes:
                match = [p for p in inputs.profile if p["unit"] == u.key and p["code"] == code]
                value = _d(match[0].get("cumulative_total")) if match else None
                if match and not unit_decisions.get((u.key, code, q), (True, True))[0]:
                    value = Suppressed(threshold, primary=is_small(value, threshold))
                    hidden += 1
                row[code] = value
            by_unit.append(row)
        totals: dict[str, Any] = {"unit_name": "Razem"}
        for code, _ in codes:
            members = [p for p in inputs.profile if p["code"] == code]
            total = _sum(members, "cumulative_total")
            if not summed_decisions.get((code, q), (True, True))[0]:
                total = Suppressed(threshold, primary=is_small(total, threshold))
                hidden += 1
            totals[code] = total
        section.tables.append(Table(
            "profil-wrazliwe", "Kategorie wrażliwe według jednostek (narastająco, osoby)",
            [Column("unit_name", "Jednostka")] + [Column(code, label, "int") for code, label in codes],
            by_unit, total=totals))
    if age_rows and any(r["women"] or r["men"] for r in age_rows):
        section.charts.append(charts.participants_by_sex_age(age_rows))
    if suppress:
        section.notes.append(suppression_footnote(threshold))
    return section, hidden


def _services(inputs: ReportInputs, scope: str, names: dict[str, str], settings: ReportSettings,
              suppress: bool) -> tuple[Section, int]:
    section = Section("uslugi", "Usługi społeczne — obszary ustawy, sposób realizacji, zlecanie", "Usługi",
                      page_break=True)
    sums = ["deliveries", "persons", "quarter_value", "cumulative_value"]
    # Facts: commissioned share vs threshold.
    comm = inputs.commissioned
    if comm:
        commissioned = _sum(comm, "commissioned_amount")
        direct = _sum(comm, "direct_costs")
        share = ratio(commissioned, direct) if scope == "consolidated" else _d(comm[0].get("share"))
        if share is None:
            share = ratio(commissioned, direct)
        if scope == "unit":
            threshold = _d(comm[0].get("threshold"))
            met = comm[0].get("met")
            if met is None and share is not None and threshold is not None:
                met = share >= threshold
            section.facts = [
                Fact("Usługi zlecone podmiotom zewnętrznym (PES, NGO, klauzule) — narastająco", commissioned, "money"),
                Fact("Koszty bezpośrednie — narastająco", direct, "money"),
                Fact("Udział usług zleconych w kosztach bezpośrednich", share, "pct", _status(met, warn=True)),
                Fact("Próg z umowy", threshold, "pct"),
            ]
        else:
            section.facts = [
                Fact("Usługi zlecone — narastająco, wszystkie jednostki", commissioned, "money"),
                Fact("Koszty bezpośrednie — narastająco, wszystkie jednostki", direct, "money"),
                Fact("Udział usług zleconych (łącznie)", share, "pct"),
            ]
            rows = []
            for r in comm:
                thr, sh = _d(r.get("threshold")), _d(r.get("share"))
                met = r.get("met") if r.get("met") is not None else (sh >= thr if sh is not None and thr is not None
                                                                      else None)
                rows.append({"unit_name": names.get(r["unit"], r["unit"]), "commissioned_amount": r.get("commissioned_amount"),
                             "direct_costs": r.get("direct_costs"), "share": sh, "threshold": thr, "met": met})
            section.tables.append(Table(
                "zlecanie-jednostki", "Udział usług zleconych a próg — według jednostek",
                [Column("unit_name", "Jednostka"), Column("commissioned_amount", "Usługi zlecone", "money"),
                 Column("direct_costs", "Koszty bezpośrednie", "money"), Column("share", "Udział", "pct"),
                 Column("threshold", "Próg", "pct"), Column("met", "Próg osiągnięty", "flag")], rows))
    # By area: all 14 areas of the Act, zeros included (shows which areas the CUS covers).
    area_rows = _grouped_sum(inputs.services_area, ("area",), sums)
    by_area = {int(r["area"]): r for r in area_rows if r.get("area") is not None}
    sensitive_areas = set(settings.sensitive_service_areas) if suppress else set()
    table_rows = []
    for number in sorted(set(SERVICE_AREAS) | set(by_area)):
        r = by_area.get(number, {})
        table_rows.append({"area": number, "area_label": area_label(number) + (" *" if number in sensitive_areas else ""),
                           "deliveries": r.get("deliveries", ZERO if not r else None),
                           "persons": r.get("persons"), "quarter_value": r.get("quarter_value", ZERO if not r else None),
                           "cumulative_value": r.get("cumulative_value", ZERO if not r else None)})
    # Persons in the areas of disability support and housing reveal a special category (config.yaml).
    hidden = hide_small_area_persons(table_rows, sensitive_areas, settings.suppression_threshold,
                                     unit_rows=inputs.services_area if scope == "consolidated" else None)
    area_columns = [Column("area_label", "Obszar (art. 2 ust. 1 ustawy o CUS)"),
                    Column("deliveries", "Świadczenia w kwartale", "int")]
    if any(r.get("persons") is not None for r in table_rows):
        area_columns.append(Column("persons", "Osoby w kwartale", "int"))
    area_columns += [Column("quarter_value", "Wartość w kwartale", "money"),
                     Column("cumulative_value", "Wartość narastająco", "money")]
    section.tables.append(Table(
        "uslugi-obszary", "Usługi według obszarów ustawy", area_columns, table_rows,
        total=total_row(table_rows, "area_label", "Razem", ["deliveries", "quarter_value", "cumulative_value"]),
        note=("Osoby liczone odrębnie w każdym obszarze (jedna osoba może korzystać z usług kilku obszarów)."
              + (" Obszary oznaczone * ujawniają kategorię wrażliwą (niepełnosprawność, wykluczenie mieszkaniowe): "
                 f"liczby osób od 1 do {settings.suppression_threshold - 1} nie są publikowane (przypis)."
                 if sensitive_areas else ""))
        if any(r.get("persons") is not None for r in table_rows) else None))
    mode_rows = _grouped_sum(inputs.services_mode, ("mode",), ["deliveries", "quarter_value", "cumulative_value"])
    order = list(DELIVERY_MODES)
    mode_rows.sort(key=lambda r: order.index(r["mode"]) if r.get("mode") in order else len(order))
    total_cum = _sum(mode_rows, "cumulative_value")
    for r in mode_rows:
        r["mode_label"] = mode_label(r.get("mode"))
        r["share"] = ratio(r.get("cumulative_value"), total_cum)
        r["commissioned"] = r.get("mode") in COMMISSIONED_MODES
    section.tables.append(Table(
        "uslugi-sposob", "Usługi według sposobu realizacji",
        [Column("mode_label", "Sposób realizacji"), Column("commissioned", "Zlecona", "flag"),
         Column("deliveries", "Świadczenia w kwartale", "int"), Column("quarter_value", "Wartość w kwartale", "money"),
         Column("cumulative_value", "Wartość narastająco", "money"), Column("share", "Udział (narastająco)", "pct")],
        mode_rows,
        total=total_row(mode_rows, "mode_label", "Razem", ["deliveries", "quarter_value", "cumulative_value"])))
    service_rows = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")), "area_label": area_label(r.get("area")),
                     "mode_label": mode_label(r.get("mode"))} for r in inputs.services_service]
    service_rows.sort(key=lambda r: (r["unit_name"] or "", r.get("area") or 0, str(r.get("service_code"))))
    unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    section.tables.append(Table(
        "uslugi-katalog", "Usługi według katalogu usług jednostki", unit_col + [
            Column("service_code", "Kod"), Column("service_name", "Usługa"), Column("area_label", "Obszar"),
            Column("mode_label", "Sposób realizacji"), Column("deliveries", "Świadczenia w kwartale", "int"),
            Column("units", "Jednostki w kwartale", "quantity"), Column("quarter_value", "Wartość w kwartale", "money"),
            Column("cumulative_value", "Wartość narastająco", "money")], service_rows,
        total=total_row(service_rows, "service_name" if scope == "unit" else "unit_name", "Razem",
                        ["deliveries", "quarter_value", "cumulative_value"]) if service_rows else None,
        empty_text="Brak świadczeń w okresie."))
    chart_rows = [{"area_label": area_label(r["area"]), "value": r.get("cumulative_value"), "deliveries": r.get("deliveries")}
                  for r in table_rows]
    if any((r["value"] or 0) > 0 for r in chart_rows):
        section.charts.append(charts.services_by_area(chart_rows))
    return section, hidden


def _financial(inputs: ReportInputs, scope: str, names: dict[str, str]) -> Section:
    section = Section("postep-finansowy", "Postęp finansowy i rozliczenie", "Postęp finansowy", page_break=True)
    q = inputs.quarter
    st = inputs.settlement
    money_keys = ["direct_quarter", "direct_cumulative", "indirect_quarter", "indirect_cumulative",
                  "eligible_quarter", "eligible_cumulative", "eu_quarter", "eu_cumulative", "national_quarter",
                  "national_cumulative",
                  "budget_total", "cross_financing", "fixed_assets", "projected_total"]
    s = ({k: _sum(st, k) for k in money_keys} if st else {})
    if st and scope == "unit":
        s = dict(st[0])
    budget = s.get("budget_total")
    if st:
        section.facts = [
            Fact("Budżet projektu", budget, "money"),
            Fact("Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)", s.get("eligible_cumulative"), "money"),
            Fact("Stopień wykorzystania budżetu", ratio(s.get("eligible_cumulative"), budget), "pct"),
        ]
    # 70% rule.
    adv = inputs.advances
    if adv and scope == "unit":
        a = adv[0]
        allowed = a.get("next_tranche_allowed")
        section.facts += [
            Fact("Otrzymane transze zaliczki (narastająco)", a.get("received_total"), "money"),
            Fact("Wydatki rozliczone a otrzymane transze", a.get("spent_share"), "pct", _status(allowed)),
            Fact(f"Wniosek o kolejną transzę (próg {_pct_text(a.get('threshold'))} wydatkowania)",
                 "możliwy" if allowed else "niemożliwy — za niski stopień rozliczenia zaliczek" if allowed is not None
                 else None),
        ]
    # Expenditure by task vs budget.
    tasks = inputs.finance_tasks
    if scope == "consolidated":
        tasks = _grouped_sum(tasks, ("task_no",), ["budget", "quarter_amount", "cumulative_amount"])
    tasks = sorted((dict(r) for r in tasks), key=lambda r: (r.get("task_no") is None, r.get("task_no") or 0))
    for r in tasks:
        r["pct"] = ratio(r.get("cumulative_amount"), r.get("budget"))
    task_total = total_row(tasks, "task_name", "Razem koszty bezpośrednie", ["budget", "quarter_amount",
                                                                             "cumulative_amount"])
    task_total["pct"] = ratio(task_total.get("cumulative_amount"), task_total.get("budget"))
    section.tables.append(Table(
        "wydatki-zadania", "Wydatki kwalifikowalne według zadań a budżet",
        [Column("task_no", "Nr zadania", "int"), Column("task_name", "Zadanie"), Column("budget", "Budżet", "money"),
         Column("quarter_amount", "W kwartale", "money"), Column("cumulative_amount", "Narastająco", "money"),
         Column("pct", "% budżetu", "pct")], tasks, total=task_total,
        note="Nazwy zadań różnią się między jednostkami; w raporcie zbiorczym podano nazwę z pierwszej jednostki."
        if scope == "consolidated" else None))
    categories = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")),
                   "pct": ratio(r.get("cumulative_amount"), r.get("budget"))} for r in inputs.finance_categories]
    categories.sort(key=lambda r: (r["unit_name"] or "", r.get("task_no") or 0, str(r.get("cost_category"))))
    if categories:
        unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
        section.tables.append(Table(
            "wydatki-kategorie", "Wydatki kwalifikowalne według zadań i kategorii kosztów a budżet", unit_col + [
                Column("task_no", "Nr zadania", "int"), Column("cost_category", "Kategoria"),
                Column("category_name", "Nazwa kategorii"), Column("budget", "Budżet", "money"),
                Column("quarter_amount", "W kwartale", "money"), Column("cumulative_amount", "Narastająco", "money"),
                Column("pct", "% budżetu", "pct")], categories))
    # Settlement summary: direct, indirect, EU / national.
    if st:
        rate = s.get("indirect_rate") if scope == "unit" else None
        section.tables.append(Table(
            "rozliczenie", "Rozliczenie: koszty bezpośrednie, pośrednie, źródła finansowania",
            [Column("item", "Pozycja"), Column("quarter", "W kwartale", "money"),
             Column("cumulative", "Narastająco", "money")],
            [
                {"item": "Koszty bezpośrednie", "quarter": s.get("direct_quarter"), "cumulative": s.get("direct_cumulative")},
                {"item": "Koszty pośrednie (stawka ryczałtowa" + (f" {_pct_text(rate)})" if rate is not None else ")"),
                 "quarter": s.get("indirect_quarter"), "cumulative": s.get("indirect_cumulative")},
                {"item": "Wydatki kwalifikowalne ogółem", "quarter": s.get("eligible_quarter"),
                 "cumulative": s.get("eligible_cumulative")},
                {"item": "w tym EFS (84,28%, zaokrąglenie w dół do grosza)", "quarter": s.get("eu_quarter"),
                 "cumulative": s.get("eu_cumulative")},
                {"item": "w tym budżet państwa (reszta)", "quarter": s.get("national_quarter"),
                 "cumulative": s.get("national_cumulative")},
            ]))
        limit_rows = []
        # "W limicie" = not the warehouse's exact `*_over_limit` (amount > limit × eligible); the
        # 4-decimal share is for display only: 100 004,00 of 1 000 000,00 prints 10,00% yet is over 10%.
        for item, amount_key, share_key, limit_key, over_key in (
            ("Cross-financing", "cross_financing", "cross_financing_share", "cross_financing_limit",
             "cross_financing_over_limit"),
            ("Środki trwałe", "fixed_assets", "fixed_assets_share", "fixed_assets_limit", "fixed_assets_over_limit"),
        ):
            for r in (st[:1] if scope == "unit" else st):
                share, limit = _d(r.get(share_key)), _d(r.get(limit_key))
                if share is None:
                    share = ratio(r.get(amount_key), r.get("eligible_cumulative"))
                over = r.get(over_key)
                limit_rows.append({"item": item if scope == "unit" else f"{item} — {names.get(r['unit'], r['unit'])}",
                                   "amount": r.get(amount_key), "share": share, "limit": limit,
                                   "ok": None if over is None else not over})
        section.tables.append(Table(
            "limity", "Cross-financing i środki trwałe a limity (udział w wydatkach kwalifikowalnych)",
            [Column("item", "Pozycja"), Column("amount", "Kwota narastająco", "money"), Column("share", "Udział", "pct"),
             Column("limit", "Limit", "pct"), Column("ok", "W limicie", "flag")], limit_rows))
    # Advances (per unit rows in the consolidated report).
    if adv:
        rows = [{"unit_name": names.get(a["unit"], a["unit"]), **a} for a in adv]
        cols = [Column("tranches", "Liczba transz", "int"), Column("received_total", "Otrzymano ogółem", "money"),
                Column("received_eu", "w tym EFS", "money"), Column("received_state", "w tym budżet państwa", "money"),
                Column("spent", "Wydatki rozliczone", "money"), Column("spent_share", "Rozliczono", "pct"),
                Column("threshold", "Próg", "pct"), Column("next_tranche_allowed", "Kolejna transza możliwa", "flag")]
        if scope == "consolidated":
            cols = [Column("unit_name", "Jednostka")] + cols
        section.tables.append(Table("zaliczki", "Zaliczki (transze) i reguła 70%", cols, rows,
                                    note="Kolejna transza wymaga rozliczenia co najmniej progu (70%) "
                                         "dotychczas otrzymanych transz."))
    # Plan vs actual (harmonogram).
    plan_rows = _plan_rows(inputs.plan, q)
    if plan_rows:
        shown = [r for r in plan_rows if r["quarter"] <= q]
        section.tables.append(Table(
            "plan-wykonanie", "Harmonogram a wykonanie (kwartały do okresu sprawozdawczego)",
            [Column("quarter", "Kwartał", "quarter"), Column("planned", "Plan", "money"),
             Column("actual", "Wykonanie", "money"), Column("planned_cum", "Plan narastająco", "money"),
             Column("actual_cum", "Wykonanie narastająco", "money"), Column("pct", "Wykonanie / plan (narastająco)", "pct")],
            shown))
        projected = s.get("projected_total") if st else None
        if projected is not None:
            # The warehouse's projection_risk only (band from schemas/flags.yaml, PROGNOZA_RYZYKO);
            # consolidated: at risk when any unit is.
            risks = [r.get("projection_risk") for r in st if r.get("projection_risk") is not None]
            risk = any(risks) if risks else None
            section.facts.append(Fact("Prognoza wydatków na koniec projektu (przy obecnym tempie)", projected, "money",
                                      _status(None if risk is None else not risk, warn=True)))
            if budget:
                section.facts.append(Fact("Prognoza jako % budżetu", ratio(projected, budget), "pct"))
        section.charts.append(charts.spending_vs_plan(_with_projection(plan_rows, q, projected), budget))
    return section


def _pct_text(value) -> str:
    from reports.formatting import percent

    return percent(value, decimals=0) if value is not None else "—"


def _plan_rows(plan: list[dict], q: str) -> list[dict]:
    by_quarter: dict[str, dict] = {}
    for r in plan:
        row = by_quarter.setdefault(r["quarter"], {"quarter": r["quarter"], "planned": None, "actual": None})
        for key in ("planned", "actual"):
            if r.get(key) is not None:
                row[key] = (row[key] or ZERO) + _d(r[key])
    rows = [by_quarter[k] for k in sorted(by_quarter)]
    planned_cum, actual_cum = ZERO, ZERO
    for r in rows:
        planned_cum += r["planned"] or ZERO
        r["planned_cum"] = planned_cum
        if r["quarter"] <= q:
            actual_cum += r["actual"] or ZERO
            r["actual"] = r["actual"] if r["actual"] is not None else ZERO
            r["actual_cum"] = actual_cum
            r["pct"] = ratio(actual_cum, planned_cum)
        else:
            r["actual"] = r["actual_cum"] = r["pct"] = None
    return rows


def _with_projection(rows: list[dict], q: str, projected: Decimal | None) -> list[dict]:
    """Straight line from the actual cumulative at the reporting quarter to the projection at the end."""
    rows = [dict(r) for r in rows]
    if projected is None:
        return rows
    future = [r for r in rows if r["quarter"] > q]
    current = [r for r in rows if r["quarter"] == q]
    if not future or not current:
        return rows
    start = current[0]["actual_cum"]
    current[0]["projected_cum"] = start
    step = (projected - start) / len(future)
    for i, r in enumerate(future, start=1):
        r["projected_cum"] = start + step * i
    return rows


def _quality(inputs: ReportInputs, scope: str, names: dict[str, str]) -> Section:
    section = Section("jakosc-danych", "Jakość danych — otrzymane, przyjęte, w kwarantannie", "Jakość danych",
                      page_break=True)
    unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    rows = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")), "dataset_label": dataset_label(r.get("dataset")),
             "accepted_share": ratio(r.get("accepted"), r.get("received"))} for r in inputs.quality]
    rows.sort(key=lambda r: (r["unit_name"] or "", r["dataset_label"]))
    total = total_row(rows, "dataset_label", "Razem", ["received", "accepted", "quarantined"])
    total["accepted_share"] = ratio(total.get("accepted"), total.get("received"))
    section.tables.append(Table(
        "jakosc", "Wiersze otrzymane i przyjęte w kwartale", unit_col + [
            Column("dataset_label", "Zbiór danych"), Column("received", "Otrzymane", "int"),
            Column("accepted", "Przyjęte", "int"), Column("quarantined", "W kwarantannie", "int"),
            Column("accepted_share", "Przyjęte (%)", "pct")], rows, total=total if rows else None,
        empty_text="Brak danych o walidacji za ten kwartał."))
    # Agreement files (umowa/) are not received in the quarter: their own table, outside the totals.
    agreement = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")), "dataset_label": dataset_label(r.get("dataset")),
                  "accepted_share": ratio(r.get("accepted"), r.get("received"))} for r in inputs.quality_agreement]
    agreement.sort(key=lambda r: (r["unit_name"] or "", r["dataset_label"]))
    if agreement:
        section.tables.append(Table(
            "jakosc-umowa", "Pliki umowy (umowa/: budżet, harmonogram, katalog usług, wskaźniki, kamienie milowe) — "
            "stan obecny, poza sumami kwartału", unit_col + [
                Column("dataset_label", "Zbiór danych"), Column("received", "Otrzymane", "int"),
                Column("accepted", "Przyjęte", "int"), Column("quarantined", "W kwarantannie", "int"),
                Column("accepted_share", "Przyjęte (%)", "pct")], agreement))
    reasons = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")), "dataset_label": dataset_label(r.get("dataset"))}
               for r in inputs.quality_reasons]
    reasons.sort(key=lambda r: (r["unit_name"] or "", r["dataset_label"], -(r.get("rows") or 0)))
    section.tables.append(Table(
        "kwarantanna", "Wiersze w kwarantannie według przyczyny", unit_col + [
            Column("dataset_label", "Zbiór danych"), Column("reason", "Przyczyna"), Column("rows", "Wiersze", "int")],
        reasons, empty_text="Żaden wiersz nie trafił do kwarantanny."))
    versions = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")),
                 "sha": (r.get("sha256") or "")[:12]} for r in inputs.file_versions]
    section.tables.append(Table(
        "pliki", "Wersje plików źródłowych, z których pochodzą dane kwartału", unit_col + [
            Column("source_file", "Plik"), Column("version_no", "Wersja", "int"), Column("sha", "SHA-256 (początek)"),
            Column("loaded_at", "Wczytano", "date"), Column("rows_loaded", "Wiersze", "int")], versions,
        empty_text="Brak plików za ten kwartał."))
    return section


_SEVERITY_ORDER = {"error": 0, "high": 0, "warning": 1, "medium": 1, "info": 2, "low": 2}


def _flags(inputs: ReportInputs, scope: str, names: dict[str, str]) -> Section:
    section = Section("ryzyka", "Ryzyka i sygnały ostrzegawcze", "Ryzyka")
    rows = [{**r, "unit_name": names.get(r.get("unit"), r.get("unit")), "severity_label": severity_label(r.get("severity"))}
            for r in inputs.flags]
    rows.sort(key=lambda r: (_SEVERITY_ORDER.get(str(r.get("severity")).lower(), 3), r["unit_name"] or "",
                             str(r.get("area") or "")))
    unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    section.tables.append(Table(
        "flagi", "Sygnały z reguł monitorowania", unit_col + [
            Column("severity_label", "Waga"), Column("area", "Obszar"), Column("message", "Opis")], rows,
        empty_text="Brak sygnałów ostrzegawczych w tym kwartale."))
    return section


def _milestones(inputs: ReportInputs, scope: str, names: dict[str, str]) -> Section:
    section = Section("kamienie-milowe", "Kamienie milowe", "Kamienie milowe")
    end = quarter_end(inputs.quarter)
    rows = []
    for r in inputs.milestones:
        planned, achieved = r.get("planned_date"), r.get("achieved_date")
        if achieved is not None and achieved > end:
            achieved = None  # not yet achieved as of the reporting quarter
        if achieved is not None:
            status = "osiągnięty w terminie" if planned is None or achieved <= planned else "osiągnięty z opóźnieniem"
        elif planned is not None and planned <= end:
            status = "nieosiągnięty — po terminie"
        else:
            status = "planowany"
        rows.append({**r, "achieved_date": achieved, "status": r.get("status") or status,
                     "unit_name": names.get(r.get("unit"), r.get("unit"))})
    rows.sort(key=lambda r: (r["unit_name"] or "", r.get("planned_date") or end, str(r.get("code"))))
    unit_col = [Column("unit_name", "Jednostka")] if scope == "consolidated" else []
    section.tables.append(Table(
        "kamienie", "Kamienie milowe (stan na koniec kwartału)", unit_col + [
            Column("code", "Kod"), Column("name", "Kamień milowy"), Column("planned_date", "Data planowana", "date"),
            Column("achieved_date", "Data osiągnięcia", "date"), Column("status", "Status")], rows,
        empty_text="Brak kamieni milowych w umowie."))
    return section


def missing_tables_note(tables: list[str]) -> str:
    return ("Uwaga: w hurtowni brak tabel " + ", ".join(sorted(tables)) + " — odpowiadające im części raportu są "
            "puste. Przelicz hurtownię i wskaźniki (indicators_job), a następnie wygeneruj raport ponownie.")


# ---------------------------------------------------------------------------------------------

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
    names = _unit_names(inputs.units)
    profile, hidden = _profile(inputs, scope, names, settings, suppress)
    services, hidden_services = _services(inputs, scope, names, settings, suppress)
    hidden += hidden_services
    sections = [
        _identification(inputs, scope),
        _physical(inputs, scope, names),
        profile,
        services,
        _financial(inputs, scope, names),
        _quality(inputs, scope, names),
        _flags(inputs, scope, names),
        _milestones(inputs, scope, names),
    ]
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
    return Report(
        scope=scope, unit_key=unit_key if scope == "unit" else CONSOLIDATED, title=title, quarter=inputs.quarter,
        period_start=period[0], period_end=period[1], generated_at=generated_at or datetime.now(),
        sections=sections, footnotes=footnotes, units=[u.key for u in inputs.units], suppressed_cells=hidden,
        running_header=running_header(inputs, scope),
    )


def running_header(inputs: ReportInputs, scope: str) -> tuple[str, str]:
    """(left, right) of every printed page: the unit, the quarter and the agreement number."""
    quarter = quarter_label(inputs.quarter)
    if scope == "unit":
        unit = inputs.units[0]
        return unit.name, f"{quarter} · umowa nr {unit.agreement_no or '—'}"
    return ("Raport zbiorczy — Centra Usług Społecznych (PO WER 2.8)",
            f"{quarter} · umowy wszystkich jednostek raportu ({len(inputs.units)})")
