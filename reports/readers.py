"""What the report reads: one entry of READS per input, rendered through the one SQL template
reports/sql/report_rows.sql.j2 (table names and conditions only from this list; the unit set and
the reporting quarter are bound parameters).

Every figure the report prints is computed by that SQL: the stored rows of the report layer per
unit, and — for `keys` given — the sums over the report's units (`level = 'all'`, the consolidated
report) and, with `totals`, the sums over the keys (`'unit_total'`, `'total'`), ratios recomputed
from the sums. The report sections (reports/sections/) only pick rows and format them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

SQL_DIR = Path(__file__).parent / "sql"
TEMPLATE = "report_rows.sql.j2"

# Which rows of a table belong to the report, by its `quarter` column.
QUARTER_FILTERS = {
    "reporting": "quarter = $quarter",                        # the reporting quarter
    "up_to": "quarter <= $quarter",                           # every quarter up to it (disclosure series)
    "with_agreement": "(quarter = $quarter OR quarter IS NULL)",  # + agreement files (umowa/, quarter NULL)
    "agreement": "quarter IS NULL",                           # agreement files only
    "any": None,                                              # no quarter column, or every quarter
}

# Explicit rules of what the report shows (formerly hidden in the reader files):
# Task 0 of the budget is the indirect costs (flat rate): the settlement table shows it; the
# tables of direct-cost tasks and their totals leave it out.
DIRECT_COSTS_ONLY = "task_no IS DISTINCT FROM 0"
# The sequential disclosure control (reports/suppression.py) walks the sensitive categories only.
SENSITIVE_ONLY = "coalesce(sensitive, FALSE)"
# A report is built from the current version of every file.
CURRENT_VERSIONS = "is_current"
# Spending declared after the reporting quarter is not shown (a report of an earlier quarter
# rebuilt later looks as it did then); up to it, a quarter without spending shows 0.
ACTUAL_UP_TO_QUARTER = "CASE WHEN quarter <= $quarter THEN coalesce(actual, 0) END AS actual"
# Milestones as of the reporting quarter's end: an achievement dated later is not shown yet;
# status (labels in reports/labels.py): on_time, late, overdue (planned by then, not achieved), planned.
QUARTER_END = "last_day(make_date(CAST(left($quarter, 4) AS INTEGER), CAST(right($quarter, 1) AS INTEGER) * 3, 1))"
ACHIEVED_BY_QUARTER_END = f"CASE WHEN achieved_date <= {QUARTER_END} THEN achieved_date END AS achieved_date"
MILESTONE_STATUS = (
    f"CASE WHEN achieved_date <= {QUARTER_END} AND (planned_date IS NULL OR achieved_date <= planned_date) "
    f"THEN 'on_time' WHEN achieved_date <= {QUARTER_END} THEN 'late' WHEN planned_date <= {QUARTER_END} "
    "THEN 'overdue' ELSE 'planned' END AS status")

# The list of expense documents leaves out the free text of a document and its lineage columns.
EXPENSE_DOCUMENT_COLUMNS = "* EXCLUDE (item_name, source_file, file_sha256)"

_SETTLEMENT_MONEY = ("direct_quarter", "direct_cumulative", "indirect_quarter", "indirect_cumulative",
                     "eligible_quarter", "eligible_cumulative", "eu_quarter", "eu_cumulative", "national_quarter",
                     "national_cumulative", "budget_total", "cross_financing", "fixed_assets", "projected_total")
_COUNTS = ("quarter_total", "quarter_women", "quarter_men", "cumulative_total", "cumulative_women", "cumulative_men")
_TARGETS = ("target_total", "target_women", "target_men")


@dataclass(frozen=True)
class ReportRead:
    """One input of the report: which rows of which table, and what SQL computes over them."""

    name: str  # ReportInputs field
    table: str  # schema.table
    columns: tuple[str, ...]  # as stored (or a documented expression `... AS column`)
    quarter: str = "reporting"  # key of QUARTER_FILTERS
    where: tuple[str, ...] = ()  # documented conditions of this module
    keys: tuple[str, ...] | None = None  # None: stored rows only; else GROUPING SETS over the units
    labels: tuple[str, ...] = ()  # texts of 'all' rows: the first unit's (arg_min by unit key)
    sums: tuple[str, ...] = ()  # summed in 'all' and total rows
    anys: tuple[str, ...] = ()  # flags: true in 'all' rows when true for any unit
    totals: bool = False  # add the sums over the keys (per unit and over all units)
    ratios: tuple[tuple[str, str, str], ...] = ()  # (column, numerator, denominator)
    shares: tuple[tuple[str, str], ...] = ()  # (column, of): of / sum(of) within the unit (or all units)
    running_key: str = "quarter"
    running: tuple[tuple[str, str], ...] = ()  # (column, of): running sum up to the reporting quarter
    running_all: tuple[tuple[str, str], ...] = ()  # (column, of): running sum over every row
    order: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.rsplit(" AS ", 1)[-1].strip() for c in self.columns]

    # -- pieces of the template ------------------------------------------------------------------
    @property
    def source_columns(self) -> list[str]:
        return list(self.columns)

    @property
    def conditions(self) -> list[str]:
        quarter = QUARTER_FILTERS[self.quarter]
        return ([quarter] if quarter else []) + list(self.where)

    @property
    def _detail(self) -> str:
        return "grouping(unit) = 0" + (f" AND grouping({self.keys[0]}) = 0" if self.keys else "")

    @property
    def grouped_columns(self) -> list[str]:
        out = []
        for column in self.column_names:
            if column == "unit" or column in (self.keys or ()):
                out.append(column)
            elif column in self.sums:
                out.append(f"sum({column}) AS {column}")
            elif column in self.anys:
                out.append(f"bool_or({column}) AS {column}")
            elif column in self.labels:
                when = f"grouping({self.keys[0]}) = 0" if self.keys else "TRUE"
                out.append(f"CASE WHEN {when} THEN arg_min({column}, unit) END AS {column}")
            else:  # a value of one unit (threshold, rate, limit): none for all units
                out.append(f"CASE WHEN {self._detail} THEN any_value({column}) END AS {column}")
        return out

    @property
    def level(self) -> str:
        if not self.keys:
            return "CASE WHEN grouping(unit) = 0 THEN 'unit' ELSE 'all' END"
        return (f"CASE grouping(unit) * 2 + grouping({self.keys[0]}) WHEN 0 THEN 'unit' WHEN 2 THEN 'all' "
                "WHEN 1 THEN 'unit_total' ELSE 'total' END")

    @property
    def grouping_sets(self) -> str:
        keys = ", ".join(self.keys or ())
        if not keys:
            return "(unit), ()"
        sets = f"(unit, {keys}), ({keys})"
        return sets + (", (unit), ()" if self.totals else "")

    @property
    def stored_ratios(self) -> list[tuple[str, str, str]]:
        return [r for r in self.ratios if r[0] in self.column_names]

    @property
    def new_ratios(self) -> list[tuple[str, str, str]]:
        return [r for r in self.ratios if r[0] not in self.column_names]

    @property
    def schema_table(self) -> tuple[str, str]:
        schema, table = self.table.split(".")
        return schema, table


READS: tuple[ReportRead, ...] = (
    ReportRead("indicators", "report.indicators",
               ("unit", "code", "name", "kind", "sort_order", "measure_unit", *_TARGETS, *_COUNTS, "pct"),
               keys=("code",), labels=("name", "kind", "sort_order", "measure_unit"), sums=_TARGETS + _COUNTS,
               ratios=(("pct", "cumulative_total", "target_total"),), order=("sort_order", "code")),
    ReportRead("profile", "report.participant_profile",
               ("unit", "code", "label", "sort_order", f"{SENSITIVE_ONLY} AS sensitive", "age_group", *_COUNTS),
               keys=("code",), labels=("label", "sort_order", "sensitive", "age_group"), sums=_COUNTS,
               order=("sort_order", "code")),
    ReportRead("profile_history", "report.participant_profile", ("unit", "quarter", "code", *_COUNTS),
               quarter="up_to", where=(SENSITIVE_ONLY,), order=("code", "quarter")),
    ReportRead("services_area", "report.services_by_area",
               ("unit", "area", "deliveries", "units", "persons", "quarter_value", "cumulative_value"),
               keys=("area",), totals=True, sums=("deliveries", "units", "persons", "quarter_value", "cumulative_value"),
               order=("area",)),
    ReportRead("services_mode", "report.services_by_mode",
               ("unit", "mode", "deliveries", "quarter_value", "cumulative_value"),
               keys=("mode",), totals=True, sums=("deliveries", "quarter_value", "cumulative_value"),
               shares=(("share", "cumulative_value"),), order=("mode",)),
    ReportRead("services_service", "report.services_by_service",
               ("unit", "service_code", "service_name", "area", "mode", "deliveries", "units", "quarter_value",
                "cumulative_value"),
               keys=("service_code",), totals=True, labels=("service_name", "area", "mode"),
               sums=("deliveries", "units", "quarter_value", "cumulative_value"), order=("area", "service_code")),
    ReportRead("commissioned", "report.commissioned",
               ("unit", "commissioned_amount", "direct_costs", "share", "threshold", "met"),
               keys=(), sums=("commissioned_amount", "direct_costs"),
               ratios=(("share", "commissioned_amount", "direct_costs"),)),
    ReportRead("finance_tasks", "report.finance_by_task",
               ("unit", "task_no", "task_name", "budget", "quarter_amount", "cumulative_amount"),
               where=(DIRECT_COSTS_ONLY,), keys=("task_no",), totals=True, labels=("task_name",),
               sums=("budget", "quarter_amount", "cumulative_amount"),
               ratios=(("pct", "cumulative_amount", "budget"),), order=("task_no",)),
    ReportRead("finance_categories", "report.finance_by_category",
               ("unit", "task_no", "cost_category", "category_name", "budget", "quarter_amount", "cumulative_amount"),
               where=(DIRECT_COSTS_ONLY,), ratios=(("pct", "cumulative_amount", "budget"),),
               order=("task_no", "cost_category")),
    ReportRead("plan", "report.plan_vs_actual", ("unit", "quarter", "planned", ACTUAL_UP_TO_QUARTER), quarter="any",
               keys=("quarter",), sums=("planned", "actual"), running_all=(("planned_cum", "planned"),),
               running=(("actual_cum", "actual"),), ratios=(("pct", "actual_cum", "planned_cum"),),
               order=("quarter",)),
    ReportRead("settlement", "report.settlement",
               ("unit", *_SETTLEMENT_MONEY, "indirect_rate", "cross_financing_share", "cross_financing_limit",
                "cross_financing_allowed", "cross_financing_over_limit", "fixed_assets_share", "fixed_assets_limit",
                "fixed_assets_allowed", "fixed_assets_over_limit", "projection_risk"),
               keys=(), sums=_SETTLEMENT_MONEY + ("cross_financing_allowed", "fixed_assets_allowed"),
               anys=("cross_financing_over_limit", "fixed_assets_over_limit", "projection_risk"),
               ratios=(("cross_financing_share", "cross_financing", "eligible_cumulative"),
                       ("fixed_assets_share", "fixed_assets", "eligible_cumulative"),
                       ("budget_share", "eligible_cumulative", "budget_total"),
                       ("projected_share", "projected_total", "budget_total"))),
    ReportRead("advances", "report.advances",
               ("unit", "tranches", "received_total", "received_eu", "received_state", "spent", "spent_share",
                "threshold", "next_tranche_allowed")),
    ReportRead("quality", "report.data_quality", ("unit", "dataset", "received", "accepted", "quarantined", "warnings"),
               keys=("dataset",), totals=True, sums=("received", "accepted", "quarantined", "warnings"),
               ratios=(("accepted_share", "accepted", "received"),), order=("dataset",)),
    ReportRead("quality_agreement", "report.data_quality",
               ("unit", "dataset", "received", "accepted", "quarantined", "warnings"), quarter="agreement",
               ratios=(("accepted_share", "accepted", "received"),), order=("dataset",)),
    ReportRead("quality_reasons", "report.quarantine_reasons", ("unit", "dataset", "reason", "severity", '"rows"'),
               quarter="with_agreement", order=("severity", "dataset", '"rows" DESC', "reason")),
    ReportRead("flags", "report.flags", ("unit", "severity", "area", "message"), order=("severity", "area", "message")),
    ReportRead("milestones", "report.milestones",
               ("unit", "code", "name", "planned_date", ACHIEVED_BY_QUARTER_END, MILESTONE_STATUS),
               quarter="any", order=("planned_date", "code")),
    # The descriptive part of the payment claim (opis_postepu) in file order; the claim's list of
    # expense documents: every column of mart.fact_expense except the document's free text and the
    # lineage, so a column added there (e.g. a correction flag) is read without a change here.
    ReportRead("narrative", "mart.narrative",
               ("unit", "part", "task_no", "task_name", "narrative_text", "signed_on", "row_number"),
               order=("row_number",)),
    ReportRead("expense_documents", "mart.fact_expense", (EXPENSE_DOCUMENT_COLUMNS,),
               order=("task_no", "cost_category", "issue_date", "document_no", "row_number")),
    ReportRead("file_versions", "raw.file_versions",
               ("unit", "quarter", "dataset", "source_file", "version_no", "file_sha256 AS sha256",
                "last_loaded_at AS loaded_at", "rows_loaded"),
               quarter="with_agreement", where=(CURRENT_VERSIONS,), order=("quarter NULLS FIRST", "source_file")),
)
READ_BY_NAME = {read.name: read for read in READS}


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(SQL_DIR), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template(TEMPLATE)


@cache
def sql_for(name: str) -> str:
    """The SQL text of one input (identifiers from READS only; `$units`, `$quarter` bound)."""
    return _template().render(read=READ_BY_NAME[name])
