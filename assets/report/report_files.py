"""Quarterly report files for the ministry (HTML, PDF, XLSX), per unit and consolidated (issue 5).

The asset `report/quarterly_reports` is partitioned by reporting quarter; it reads the report
tables read-only and writes <reports root>/<YYYY>Q<n>/<unit>/raport_<unit>_<YYYY>Q<n>.{html,pdf,xlsx}
plus <YYYY>Q<n>/zbiorczy/. The schedule `quarterly_reports_schedule` produces them after a
quarter closes, once every unit's files for it have arrived and the indicators were recomputed.
"""


import contextlib
import dataclasses
import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from assets.report.status import report_url
from core.quarters import partition_key_to_quarter, quarter_end, quarter_of, quarter_start, quarter_to_partition_key
from core.registry import Unit, load_units
from core.resources import LandingResource, ReportsResource, WarehouseResource
from core.warehouse import WAREHOUSE_POOL
from reports import pdf, queries
from reports.formatting import count, money, percent, pl_date, pl_datetime, quarter_label
from reports.generate import ReportFiles, units_in_quarter, write_quarter_reports
from reports.pdf import PdfPrinter
from reports.settings import ReportSettings, default_settings
from reports.workbooks import WorkbookWriter

REPORT_FILES_KEY = dg.AssetKey(["report", "quarterly_reports"])
TIMEZONE = "Europe/Warsaw"
# Days after the quarter's end when the reports are produced even if a unit's files are missing.
DEADLINE_DAYS = 45


def registry_units() -> tuple[Unit, ...]:
    """The unit registry, read at run time (CUS_REGISTRY or config/units.yaml)."""
    return load_units()


class ReportFilesConfig(dg.Config):
    suppression_threshold: int | None = Field(
        default=None,
        description="Próg ukrywania małych liczebności w kategoriach wrażliwych (puste = reports/config.yaml, "
                    "domyślnie 5).",
    )
    with_pdf: bool = Field(default=True, description="Drukuj PDF przez Chromium.")
    units: list[str] = Field(default_factory=list,
                             description="Tylko te jednostki (puste = wszystkie w okresie).")
    rewrite_units: list[str] = Field(
        default_factory=list,
        description="Przepisz tylko raporty tych jednostek i raport zbiorczy (zbiorczy nadal sumuje wszystkie "
                    "jednostki; raporty pozostałych się nie zmieniły). Puste = raporty wszystkich jednostek.")

    def settings(self) -> ReportSettings:
        base = default_settings()
        if self.suppression_threshold is None:
            return base
        return dataclasses.replace(base, suppression_threshold=self.suppression_threshold)


def _summary_markdown(files: list[ReportFiles]) -> str:
    lines = ["| raport | wydatki kwalifikowalne narastająco | wykorzystanie budżetu | ukryte komórki |",
             "|---|---:|---:|---:|"]
    for f in files:
        facts = {fact.label: fact.value for fact in f.report.section("postep-finansowy").facts} if f.report else {}
        spent = facts.get("Wydatki kwalifikowalne narastająco (bezpośrednie + pośrednie)")
        share = facts.get("Stopień wykorzystania budżetu")
        lines.append(f"| {f.title} | {money(spent)} | {percent(share)} | {f.suppressed_cells} |")
    return "\n".join(lines)


def _files_markdown(files: list[ReportFiles], base_url: str, root) -> str:
    """Links to the report server of `cus ui` (the UI turns file:// links into dead ones)."""
    lines = ["| raport | HTML | PDF | XLSX |", "|---|---|---|---|"]
    for f in files:
        cells = [f"[{p.name}]({report_url(base_url, root, p)})" if p is not None else "—"
                 for p in (f.html, f.pdf, f.xlsx)]
        lines.append(f"| {f.title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def landing_problem_rows(root, all_units, covered) -> list[dict]:
    """Entries under the landing root of the covered units that are not read (docs/settlement.md)."""
    from core.landing import scan_landing

    keys = {u.key for u in covered}
    return [{"unit": p.unit, "path": p.path, "problem": p.problem, "fix": p.fix}
            for p in scan_landing(root, all_units).problems if p.unit in keys]


def split_units_with_data(conn, quarter: str, units: list[Unit]) -> tuple[list[Unit], list[str]]:
    """(units that delivered any quarterly file for the quarter, keys of those that did not): a quarter
    without data gets no report (docs/settlement.md). Without mart.unit_quarter every unit is kept."""
    from core.warehouse import table_exists

    if not units or not table_exists(conn, "mart", "unit_quarter"):
        return list(units), []
    keys = {r["unit"] for r in queries.rows(conn, "units_with_data", {"quarter": quarter,
                                                                      "units": [u.key for u in units]})}
    return [u for u in units if u.key in keys], [u.key for u in units if u.key not in keys]


def build_report_file_assets(by_quarter: dg.PartitionsDefinition, units: tuple[Unit, ...] | None = None) -> list:
    @dg.asset(
        key=REPORT_FILES_KEY,
        group_name="report",
        partitions_def=by_quarter,
        deps=[dg.AssetKey(["report", table]) for table in queries.SOURCE_TABLES]
        + [dg.AssetKey(["mart", table]) for table in queries.MART_SOURCE_TABLES],
        pool=WAREHOUSE_POOL,
        backfill_policy=dg.BackfillPolicy.single_run(),  # many quarters = one run (one process, one pool slot)
        kinds={"html", "pdf", "xlsx"},
        tags={"layer": "report"},
        description=(
            "Raporty kwartalne dla ministerstwa (HTML, PDF, XLSX) — dla każdej jednostki w okresie realizacji "
            "projektu i raport zbiorczy: identyfikacja, postęp rzeczowy (wskaźniki), profil uczestników, usługi "
            "według obszarów ustawy i sposobu realizacji, postęp finansowy (zadania a budżet, harmonogram, koszty "
            "pośrednie, limity, EFS/budżet państwa, zaliczki i reguła 70%), jakość danych, ryzyka, kamienie milowe. "
            "Pliki: <folder raportów>/<RRRR>Q<n>/<jednostka>/raport_<jednostka>_<RRRR>Q<n>.* — odnośniki do nich "
            "(otwierane w przeglądarce, gdy działa cus ui) są w metadanych materializacji. "
            "Małe liczebności w kategoriach wrażliwych są ukryte."
        ),
    )
    def quarterly_reports(context: dg.AssetExecutionContext, config: ReportFilesConfig,
                          warehouse: WarehouseResource, reports: ReportsResource,
                          landing: LandingResource) -> dg.MaterializeResult:
        quarters = [partition_key_to_quarter(key) for key in context.partition_keys]
        done = write_quarters(context, quarters, config, warehouse, reports, landing, units)
        if len(done) == 1:
            return dg.MaterializeResult(metadata=done[0])
        # a range of quarters in one run (the coordinator's chain after a correction): one summary
        metadata: dict = {"kwartały": f"{quarters[0]}–{quarters[-1]}",
                          "raporty": sum(m["raporty"] for m in done),
                          "pliki": sum(m.get("pliki", 0) for m in done)}
        for quarter, quarter_metadata in zip(quarters, done, strict=True):
            metadata[f"{quarter}: raporty"] = quarter_metadata["raporty"]
            if "pliki raportów" in quarter_metadata:
                metadata[f"{quarter}: pliki raportów"] = quarter_metadata["pliki raportów"]
        return dg.MaterializeResult(metadata=metadata)

    return [quarterly_reports]


def write_quarters(context, quarters: list[str], config: ReportFilesConfig, warehouse: WarehouseResource,
                   reports: ReportsResource, landing: LandingResource, units: tuple[Unit, ...] | None) -> list[dict]:
    """The reports of every quarter (in order) with one browser for all their PDFs — a quarter prints
    while the next one is built; the materialization metadata of each quarter.

    A correction's chain (`rewrite_units` over several quarters) writes the rewritten units' reports
    of every quarter first (reading only those units' rows), waits for their PDFs (the browser then
    has both cores), and writes the consolidated ones after them (every unit's rows read then):
    the coordinator who re-sent the file waits for the unit's reports only (the browser prints them
    first too, reports/pdf.py)."""
    if not any(units_in_quarter(units or registry_units(), quarter) for quarter in quarters):
        # no unit runs the project in these quarters: "0 reports" each, nothing to read (also without a warehouse)
        return [quarter_reports(context, quarter, config, None, reports, landing, units) for quarter in quarters]
    if not warehouse.file.exists():
        raise dg.Failure(
            f"Brak hurtowni {warehouse.file}: najpierw wczytaj dane i przelicz wskaźniki (ingest, indicators_job).")
    parts = [UNITS, CONSOLIDATED_PART] if config.rewrite_units and len(quarters) > 1 else [ALL_PARTS]
    with contextlib.ExitStack() as stack:
        printer = None
        if config.with_pdf:
            settings = config.settings()
            printer = stack.enter_context(pdf.printer(parallel=settings.pdf_parallel_pages,
                                                      timeout=settings.pdf_timeout_seconds))
        try:  # one read-only connection for every quarter (opening one costs more than a quarter's queries)
            conn = stack.enter_context(queries.read_only(warehouse.file))
        except queries.WarehouseBusy as error:
            raise dg.Failure(str(error)) from error
        workbooks = stack.enter_context(WorkbookWriter())  # a consolidated workbook of many units: another core
        written: dict[str, QuarterFiles | dict] = {}
        for part in parts:
            if part == CONSOLIDATED_PART and printer is not None:
                printer.drain()  # the units' PDFs get both cores before the consolidated reports are built
            for quarter in quarters:
                earlier = written.get(quarter)
                if isinstance(earlier, dict):  # nothing to write in this quarter (said by its first part)
                    continue
                done = quarter_files(context, quarter, config, conn, reports, landing, units, printer, workbooks,
                                     part)
                written[quarter] = done if earlier is None or isinstance(done, dict) else earlier.add(done)
        if printer is not None:
            printer.drain()
        workbooks.drain()
    return [done if isinstance(done, dict) else quarter_metadata(done, reports)
            for done in (written[quarter] for quarter in quarters)]


# Which reports of a quarter `quarter_files` writes (the covered or rewritten units', the consolidated one).
ALL_PARTS, UNITS, CONSOLIDATED_PART = "all", "units", "consolidated"


@dataclasses.dataclass
class QuarterFiles:
    """The report files written for one quarter and what its materialization metadata says."""
    quarter: str
    covered: list[Unit]
    without_data: list[str]
    missing: list[str]
    settings: ReportSettings
    files: list[ReportFiles]

    def add(self, other: "QuarterFiles") -> "QuarterFiles":
        """This quarter's files followed by another part's, in report order (units, then consolidated)."""
        return dataclasses.replace(self, files=self.files + other.files)


def start_printer_early() -> None:
    """Start the browser of the reports that follow in this process (a correction's batch run: its
    reports step takes it), with the settings `write_quarters` will ask for (reports/config.yaml)."""
    settings = default_settings()
    pdf.start_early(parallel=settings.pdf_parallel_pages, timeout=settings.pdf_timeout_seconds)


def close_printer_early() -> None:
    """Close the browser `start_printer_early` started when no reports follow (failed batch, nothing changed)."""
    pdf.close_early()


def quarter_reports(context, quarter: str, config: ReportFilesConfig, conn, reports: ReportsResource,
                    landing: LandingResource, units: tuple[Unit, ...] | None,
                    printer: PdfPrinter | None = None, workbooks: WorkbookWriter | None = None) -> dict:
    """The reports of one quarter from the read-only connection `conn`; returns the materialization
    metadata of that quarter."""
    done = quarter_files(context, quarter, config, conn, reports, landing, units, printer, workbooks, ALL_PARTS)
    return done if isinstance(done, dict) else quarter_metadata(done, reports)


def quarter_files(context, quarter: str, config: ReportFilesConfig, conn, reports: ReportsResource,
                  landing: LandingResource, units: tuple[Unit, ...] | None, printer: PdfPrinter | None,
                  workbooks: WorkbookWriter | None, part: str) -> QuarterFiles | dict:
    """The `part` of one quarter's reports; the quarter's metadata instead when it has nothing to write."""
    covered = units_in_quarter(units or registry_units(), quarter)
    if config.units:
        unknown = sorted(set(config.units) - {u.key for u in covered})
        if unknown:
            raise dg.Failure(f"Jednostki spoza okresu {quarter} lub rejestru: {', '.join(unknown)}.")
        covered = [u for u in covered if u.key in config.units]
    if not covered:
        context.log.info(f"{quarter}: żadna jednostka nie realizuje projektu w tym kwartale — brak raportów.")
        return {"raporty": 0, "kwartał": quarter}
    try:
        covered, without_data = split_units_with_data(conn, quarter, covered)
        if without_data and part != CONSOLIDATED_PART:
            context.log.info(f"{quarter}: bez danych za kwartał — bez raportu: {', '.join(without_data)}.")
        if not covered:
            return {"raporty": 0, "kwartał": quarter, "bez danych (bez raportu)": ", ".join(without_data)}
        # the units' part reads only the rewritten units' rows: a unit's report is built from its own
        # rows alone (ReportInputs.for_unit), so it is the same as from every unit's inputs (tested)
        read = [u for u in covered if u.key in config.rewrite_units] if part == UNITS else covered
        inputs = queries.load_report_inputs(conn, quarter, read)
    except queries.ReportQueryError as error:
        raise dg.Failure(str(error)) from error
    inputs.landing_problems = landing_problem_rows(landing.folder, units or registry_units(), read)
    if inputs.missing and part != CONSOLIDATED_PART:
        context.log.warning(
            f"{quarter}: w hurtowni brak tabel {', '.join(inputs.missing)} — odpowiadające im części raportów "
            "będą puste; uruchom indicators_job.")
    settings = config.settings()
    rewritten = [u.key for u in covered if u.key in config.rewrite_units] if config.rewrite_units else None
    if part == CONSOLIDATED_PART:
        rewritten = []
    whom = [count(len(covered), "jednostki", "jednostek", "jednostek")] if rewritten is None else [f"jednostek {', '.join(rewritten)}"] if rewritten \
        else []
    if part != UNITS:
        whom.append("zbiorczy")
    context.log.info(f"{quarter_label(quarter)}: raporty dla {' i '.join(whom)}.")
    files = write_quarter_reports(inputs, reports.folder, settings, with_pdf=config.with_pdf, only_units=rewritten,
                                  printer=printer, workbooks=workbooks, consolidated=part != UNITS)
    return QuarterFiles(quarter, covered, without_data, inputs.missing, settings, files)


def quarter_metadata(done: QuarterFiles, reports: ReportsResource) -> dict:
    """The materialization metadata of one quarter's written reports."""
    files = done.files
    metadata: dict = {
        "kwartał": done.quarter,
        "folder": dg.MetadataValue.path(str(reports.folder / done.quarter)),
        "raporty": len(files),
        "pliki": sum(len(f.paths) for f in files),
        "jednostki": ", ".join(u.key for u in done.covered),
        "ukryte komórki (kategorie wrażliwe)": sum(f.suppressed_cells for f in files),
        "próg ukrywania": done.settings.suppression_threshold,
        "podsumowanie": dg.MetadataValue.md(_summary_markdown(files)),
        "pliki raportów": dg.MetadataValue.md(_files_markdown(files, reports.base_url, reports.folder)),
        "brakujące tabele": ", ".join(done.missing) or "—",
        "bez danych (bez raportu)": ", ".join(done.without_data) or "—",
    }
    for f in files:
        for path in f.paths:
            metadata[f"{f.unit_key} ({path.suffix[1:].upper()})"] = dg.MetadataValue.url(
                report_url(reports.base_url, reports.folder, path))
    return metadata


# ---------------------------------------------------------------------------------------------
# Schedule


def closed_quarter(day) -> str:
    """The last quarter that ended before `day`."""
    return quarter_of(quarter_start(quarter_of(day)) - timedelta(days=1))


def evaluate_report_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource,
                             partitions_def: dg.PartitionsDefinition | None, units: tuple[Unit, ...] | None,
                             deadline_days: int = DEADLINE_DAYS):
    when = context.scheduled_execution_time or datetime.now(ZoneInfo(TIMEZONE))
    today = when.astimezone(ZoneInfo(TIMEZONE)).date() if when.tzinfo else when.date()
    quarter = closed_quarter(today)
    key = quarter_to_partition_key(quarter)
    if partitions_def is not None and key not in partitions_def.get_partition_keys(
            current_time=when if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition) else None):
        return dg.SkipReason(f"{quarter}: kwartał poza okresem projektów — brak raportu.")
    expected = units_in_quarter(units or registry_units(), quarter)
    if not expected:
        return dg.SkipReason(f"{quarter}: żadna jednostka nie realizuje projektu w tym kwartale.")
    if not warehouse.file.exists():
        return dg.SkipReason(f"{quarter}: hurtownia {warehouse.file} jeszcze nie istnieje.")
    try:
        with queries.read_only(warehouse.file, wait_seconds=5) as conn:
            arrivals = queries.quarter_arrivals(conn, quarter)
    except queries.WarehouseBusy as error:
        return dg.SkipReason(f"{quarter}: {error} Następna ocena spróbuje ponownie.")
    arrived = {u.key: arrivals[u.key] for u in expected if u.key in arrivals}
    missing = [u.key for u in expected if u.key not in arrivals]
    days_after = (today - quarter_end(quarter)).days
    if not arrived:
        return dg.SkipReason(f"{quarter}: nie dotarł jeszcze żaden plik za ten kwartał (dzień {days_after} po "
                             "zakończeniu kwartału).")
    if missing and days_after < deadline_days:
        deadline = quarter_end(quarter) + timedelta(days=deadline_days)
        return dg.SkipReason(
            f"{quarter}: czekam na pliki jednostek: {', '.join(missing)} (dotarły: {', '.join(arrived)}). "
            f"Po {pl_date(deadline)} raporty powstaną z danymi, które są.")
    last_load = max(a["last_loaded_at"] for a in arrived.values())
    stale = []
    for table in queries.SOURCE_TABLES:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(["report", table]))
        if event is None or datetime.fromtimestamp(event.timestamp) < last_load:
            stale.append(table)
    if stale:
        return dg.SkipReason(
            f"{quarter}: pliki wczytano {pl_datetime(last_load)}, ale tabele raportowe nie zostały od tego czasu "
            f"przeliczone ({', '.join('report.' + t for t in stale)}) — uruchom indicators_job.")
    fingerprint = hashlib.sha256(
        "|".join(f"{unit}={arrived[unit]['fingerprint']}" for unit in sorted(arrived)).encode()).hexdigest()[:12]
    return dg.RunRequest(
        partition_key=key,
        run_key=f"raporty-{quarter}-{fingerprint}",  # a corrected file changes the key: reports are redone
        tags={"cus/quarter": quarter, "cus/missing_units": ",".join(missing) or "-"},
    )


def build_report_schedules(reports_job, units: tuple[Unit, ...] | None = None) -> list:
    partitions_def = getattr(reports_job, "partitions_def", None)

    @dg.schedule(
        name="quarterly_reports_schedule",
        cron_schedule="0 6 * * *",
        execution_timezone=TIMEZONE,
        job=reports_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Codziennie o 6:00 sprawdza ostatni zamknięty kwartał: gdy dotarły pliki wszystkich jednostek (albo minęło "
            f"{DEADLINE_DAYS} dni od końca kwartału) i wskaźniki przeliczono po ich wczytaniu, uruchamia raporty "
            "kwartalne; poprawiony plik powoduje ponowne wygenerowanie."
        ),
    )
    def quarterly_reports_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        return evaluate_report_schedule(context, warehouse, partitions_def, units)

    return [quarterly_reports_schedule]
